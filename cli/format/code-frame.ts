// The source excerpt under a `pretty` diagnostic, rustc style: one line of context either side of
// the range's first line, carets under the range, a gutter as wide as the largest line number shown.

import type { Range } from '../../compiler/diagnostics.js';
import { printableLine } from './style.js';

export interface FramePaint {
  gutter(text: string): string;
  marker(text: string): string;
}

export interface CodeFrame {
  /** Digits of the largest line number shown: the header's `-->` and the notes align to it. */
  width: number;
  lines: string[];
}

/** Undefined when the range's first line is not in `source` (a stale or foreign range). */
export function codeFrame(source: string, range: Range, paint: FramePaint): CodeFrame | undefined {
  const lines = splitLines(source);
  const target = range.start.line;
  // A parser's "unexpected end of file" points at the empty line after the final newline.
  if (target === lines.length + 1 && source.endsWith('\n')) lines.push('');
  if (!Number.isInteger(target) || target < 1 || target > lines.length) return undefined;

  const from = Math.max(1, target - 1);
  const to = Math.min(lines.length, target + 1);
  const width = String(to).length;
  const row = (label: string, text: string): string =>
    text === '' ? paint.gutter(`${label} |`) : `${paint.gutter(`${label} |`)} ${text}`;

  const out = [row(' '.repeat(width), '')];
  for (let n = from; n <= to; n++) {
    const line = lines[n - 1] ?? '';
    out.push(row(String(n).padStart(width), printableLine(line)));
    if (n === target) {
      const { pad, carets } = underline(line, range);
      out.push(row(' '.repeat(width), pad + paint.marker(carets)));
    }
  }
  out.push(row(' '.repeat(width), ''));
  return { width, lines: out };
}

/**
 * Carets from the start column to the range's end on the same line, or to the end of the line when
 * the range goes on (at least one caret). Columns count UTF-16 units, a tab being one column; the
 * padding repeats the line's tabs so the carets sit under the text whatever the tab width.
 */
function underline(line: string, range: Range): { pad: string; carets: string } {
  const start = Math.max(1, range.start.column);
  const lineEnd = line.length + 1; // the column just after the last character
  const end = range.end.line === range.start.line ? Math.min(range.end.column, lineEnd) : lineEnd;
  const before = line.slice(0, start - 1).replace(/[^\t]/g, ' ');
  const pad = before + ' '.repeat(start - 1 - before.length);
  return { pad, carets: '^'.repeat(Math.max(1, end - start)) };
}

/** Lines without their terminators; a final newline does not open another line. */
function splitLines(source: string): string[] {
  const lines = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
