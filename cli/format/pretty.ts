// The `pretty` format, for people: rustc-style header, location, code frame, `= at:`/`= hint:` notes,
// and a closing summary line.

import type { Diagnostic, Severity } from '../../compiler/diagnostics.js';
import { codeFrame } from './code-frame.js';
import { continued, createStyle, shown, type Style } from './style.js';
import type { FormatInput, FormatOptions } from './types.js';

/** Indent of `-->` and the notes when no code frame sets it (no range, or the file is unreadable). */
const DEFAULT_GUTTER_WIDTH = 2;

export function formatPretty(input: FormatInput, options: FormatOptions): string {
  const style = createStyle(options.color);
  const blocks = input.diagnostics.map((d) => renderDiagnostic(d, input.sources.get(d.file), style));
  blocks.push(style.bold(summary(input.diagnostics)));
  return blocks.join('\n\n') + '\n';
}

function renderDiagnostic(d: Diagnostic, source: string | undefined, style: Style): string {
  const frame =
    d.range && source !== undefined ? codeFrame(source, d.range, { gutter: style.gutter, marker: (t) => style.severity(d.severity, t) }) : undefined;
  const indent = ' '.repeat(frame?.width ?? DEFAULT_GUTTER_WIDTH);
  const where = d.range ? `${d.file}:${d.range.start.line}:${d.range.start.column}` : d.file;
  const note = (label: string, text: string): string =>
    `${indent} ${style.gutter('=')} ${style.bold(label)} ${continued(text, `${indent}   ${' '.repeat(label.length + 1)}`)}`;

  const lines = [
    style.severity(d.severity, `${d.severity}[${shown(d.code)}]`) + style.bold(`: ${continued(d.message, `${indent} `)}`),
    `${indent}${style.gutter('-->')} ${shown(where)}`,
    ...(frame?.lines ?? []),
  ];
  // `""` points at the whole file, which the location line already names.
  if (d.pointer !== '') lines.push(note('at:', d.pointer));
  if (d.hint !== undefined) lines.push(note('hint:', d.hint));
  return lines.join('\n');
}

/** `2 errors, 1 warning`; `no problems` when there is nothing to report. */
export function summary(diagnostics: readonly Diagnostic[]): string {
  const count: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
  for (const d of diagnostics) count[d.severity]++;
  const parts = [plural(count.error, 'error', 'errors'), plural(count.warning, 'warning', 'warnings'), plural(count.info, 'info', 'info')].filter(
    (p) => p !== '',
  );
  return parts.length === 0 ? 'no problems' : parts.join(', ');
}

function plural(n: number, one: string, many: string): string {
  return n === 0 ? '' : `${n} ${n === 1 ? one : many}`;
}
