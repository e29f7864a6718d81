// The `json` format: exactly one versioned JSON object for machines. Each diagnostic is copied
// field by field, so the key order is the documented one and nothing internal leaks out.

import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { FormatInput } from './types.js';

/** Bumped on any incompatible change to the shape below. */
export const JSON_FORMAT_VERSION = 1;

export function formatJson(input: FormatInput): string {
  return JSON.stringify({ formatVersion: JSON_FORMAT_VERSION, diagnostics: input.diagnostics.map(toJson) }) + '\n';
}

function toJson(d: Diagnostic): Record<string, unknown> {
  const out: Record<string, unknown> = {
    code: d.code,
    severity: d.severity,
    message: d.message,
    file: d.file,
    pointer: d.pointer,
  };
  if (d.range) {
    out.range = {
      start: { line: d.range.start.line, column: d.range.start.column },
      end: { line: d.range.end.line, column: d.range.end.column },
    };
  }
  if (d.hint !== undefined) out.hint = d.hint;
  return out;
}
