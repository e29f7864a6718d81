// The diagnostics model shared by every stage. A user mistake is a Diagnostic, never an exception.

import type { DiagnosticCode } from './codes.js';

export type Severity = 'error' | 'warning' | 'info';

/** 1-based line and column, as editors and `file:line:col` links count them. */
export interface Position {
  line: number;
  column: number;
}

export interface Range {
  start: Position;
  end: Position;
}

export interface Diagnostic {
  /** Stable, named by stage (`schema/unknown-key`, `system/plaintext-password`, …): one of compiler/codes.ts. */
  code: DiagnosticCode;
  severity: Severity;
  /** Lowercase; says what is wrong, what was expected, what was found. */
  message: string;
  file: string;
  /** JSON pointer into the document (`""` for the whole file). */
  pointer: string;
  /** Present whenever the file could be read. */
  range?: Range;
  /** How to fix it; `did you mean \`sysctl\`?` for typos. */
  hint?: string;
}

/** What every stage returns. */
export interface Result<T> {
  value: T;
  diagnostics: Diagnostic[];
}

const severityRank: Record<Severity, number> = { error: 2, warning: 1, info: 0 };

/** True when a diagnostic fails the run: errors always, warnings too under `--strict`. */
export function isFailing(d: Diagnostic, strict: boolean): boolean {
  return severityRank[d.severity] >= (strict ? severityRank.warning : severityRank.error);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Stable order: file, then position, then code — so output never depends on rule order. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      cmp(a.file, b.file) ||
      (a.range?.start.line ?? 0) - (b.range?.start.line ?? 0) ||
      (a.range?.start.column ?? 0) - (b.range?.start.column ?? 0) ||
      cmp(a.code, b.code) ||
      cmp(a.pointer, b.pointer) ||
      cmp(a.message, b.message),
  );
}

/**
 * Drops repeats: the same finding about the same node. A node reached through YAML aliases has
 * one place but several pointers; it reports once. Findings at the same place about different
 * keys or entries (two missing keys, two ignored files) all stay.
 */
export function dedupeDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const exact = new Set<string>();
  const firstPointer = new Map<string, string>();
  return diagnostics.filter((d) => {
    const r = d.range;
    const where = r ? `${r.start.line}:${r.start.column}-${r.end.line}:${r.end.column}` : d.pointer;
    const last = d.pointer.slice(d.pointer.lastIndexOf('/') + 1);
    const place = [d.file, d.code, where, last].join('\0');
    const seenAt = firstPointer.get(place);
    // Same node through another alias path: a repeat whatever its message says.
    if (seenAt !== undefined && seenAt !== d.pointer) return false;
    firstPointer.set(place, d.pointer);
    const key = [place, d.pointer, d.message].join('\0');
    if (exact.has(key)) return false;
    exact.add(key);
    return true;
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
