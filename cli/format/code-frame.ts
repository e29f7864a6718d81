// The source excerpt under a `pretty` diagnostic, rustc style: one line of context either side of
// the range's first line, carets under the range, a gutter as wide as the largest line number shown.
// A line longer than a terminal shows a window around the range (a manifest may be one 4 MiB line).

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

/** Columns of a source line shown at most; longer lines show a window around the range. */
export const MAX_FRAME_COLUMNS = 160;
/** Columns kept before the range's start when a long line is cut. */
const LEAD = 40;

/** Undefined when the range's first line is not in `source` (a stale or foreign range). */
export function codeFrame(source: string, range: Range, paint: FramePaint): CodeFrame | undefined {
  const lines = splitLines(source);
  const target = range.start.line;
  // A parser's "unexpected end of file" points at the empty line after the final newline.
  const last = target === lines.length + 1 && source.endsWith('\n') ? '' : undefined;
  const count = lines.length + (last === undefined ? 0 : 1);
  if (!Number.isInteger(target) || target < 1 || target > count) return undefined;

  const from = Math.max(1, target - 1);
  const to = Math.min(count, target + 1);
  const width = String(to).length;
  const row = (label: string, text: string): string => (text === '' ? paint.gutter(`${label} |`) : `${paint.gutter(`${label} |`)} ${text}`);
  // Long lines show the same columns as the target line, so they stay aligned with it.
  const start = Math.max(1, range.start.column);
  const window = (lines[target - 1] ?? '').length > MAX_FRAME_COLUMNS ? Math.max(0, start - 1 - LEAD) : 0;

  const out = [row(' '.repeat(width), '')];
  for (let n = from; n <= to; n++) {
    const line = lines[n - 1] ?? last ?? '';
    out.push(row(String(n).padStart(width), printableLine(cut(line, window))));
    if (n === target) {
      const { pad, carets } = underline(line, range, window);
      out.push(row(' '.repeat(width), pad + paint.marker(carets)));
    }
  }
  out.push(row(' '.repeat(width), ''));
  return { width, lines: out };
}

/** Columns `window` + 1 … of a long `line`, at most MAX_FRAME_COLUMNS of them, `…` where text is left out. */
function cut(line: string, window: number): string {
  if (line.length <= MAX_FRAME_COLUMNS) return line;
  const shown = line.slice(window, window + MAX_FRAME_COLUMNS);
  return (window > 0 ? '…' : '') + shown + (window + MAX_FRAME_COLUMNS < line.length ? '…' : '');
}

/**
 * Carets from the start column to the range's end on the same line, or to the end of the line when
 * the range goes on (at least one caret). Columns count UTF-16 units, a tab being one column; the
 * padding repeats the line's tabs so the carets sit under the text whatever the tab width.
 */
function underline(line: string, range: Range, window: number): { pad: string; carets: string } {
  const start = Math.max(1, range.start.column);
  const shownEnd = Math.min(line.length, window + MAX_FRAME_COLUMNS) + 1; // the column just after the last one shown
  const end = range.end.line === range.start.line ? Math.min(range.end.column, shownEnd) : shownEnd;
  const before = (window > 0 ? ' ' : '') + line.slice(window, start - 1).replace(/[^\t]/g, ' ');
  const pad = before + ' '.repeat(Math.max(0, start - 1 - window + (window > 0 ? 1 : 0) - before.length));
  return { pad, carets: '^'.repeat(Math.max(1, end - start)) };
}

/**
 * Lines without their terminators; a final newline does not open another line. The last source
 * split is kept: a file's diagnostics come one after another, each with a frame.
 */
let lastSplit: { source: string; lines: readonly string[] } | undefined;

function splitLines(source: string): readonly string[] {
  if (lastSplit?.source !== source) {
    const lines = source.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
    if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
    lastSplit = { source, lines };
  }
  return lastSplit.lines;
}
