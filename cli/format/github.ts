// The `github` format: one GitHub Actions workflow command per diagnostic, which the runner turns
// into an annotation on the file and line.

import type { Diagnostic, Severity } from '../../compiler/diagnostics.js';
import type { FormatInput } from './types.js';

const COMMAND: Record<Severity, string> = { error: 'error', warning: 'warning', info: 'notice' };

export function formatGithub(input: FormatInput): string {
  return input.diagnostics.map((d) => githubCommand(d) + '\n').join('');
}

function githubCommand(d: Diagnostic): string {
  const props: [string, string | number][] = [['file', d.file]];
  if (d.range) {
    props.push(['line', d.range.start.line], ['col', d.range.start.column], ['endLine', d.range.end.line], ['endColumn', d.range.end.column]);
  }
  props.push(['title', d.code]);
  const message = d.hint === undefined ? d.message : `${d.message} (hint: ${d.hint})`;
  const list = props.map(([k, v]) => `${k}=${escapeProperty(String(v))}`).join(',');
  return `::${COMMAND[d.severity]} ${list}::${escapeData(message)}`;
}

/** The runner's escaping for a command's message; `%` first, or the other escapes get re-escaped. */
export function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Property values also delimit on `:` and `,`. */
export function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
