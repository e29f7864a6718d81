// Code frames of long lines: a manifest can be one 4 MiB line, and each of its diagnostics gets a
// frame. A line wider than MAX_FRAME_COLUMNS shows a window around the range, marked with `…`.

import { describe, expect, it } from 'vitest';
import { MAX_FRAME_COLUMNS, codeFrame } from '../../cli/format/code-frame.js';

const plain = { gutter: (t: string) => t, marker: (t: string) => t };
const at = (line: number, column: number, endColumn = column + 1) => ({ start: { line, column }, end: { line, column: endColumn } });

describe('code frame of a long line', () => {
  const long = 'a: ' + 'x'.repeat(100_000) + ' key: 1 ' + 'y'.repeat(100_000);
  const source = `first\n${long}\nlast\n`;

  it('shows the columns around the range, with carets under it', () => {
    const column = long.indexOf('key') + 1;
    const frame = codeFrame(source, at(2, column, column + 3), plain)!;
    expect(frame.lines).toEqual([
      '  |',
      '1 | first',
      `2 | …${'x'.repeat(39)} key: 1 ${'y'.repeat(MAX_FRAME_COLUMNS - 47)}…`,
      `  |  ${' '.repeat(40)}^^^`,
      '3 | last',
      '  |',
    ]);
  });

  it('cuts only the end when the range is near the start', () => {
    const frame = codeFrame(source, at(2, 1, 2), plain)!;
    expect(frame.lines[2]).toBe(`2 | a: ${'x'.repeat(MAX_FRAME_COLUMNS - 3)}…`);
    expect(frame.lines[3]).toBe('  | ^');
  });

  it('underlines a range that runs past the window up to its edge', () => {
    const frame = codeFrame(source, at(2, 1, 50_000), plain)!;
    expect(frame.lines[3]).toBe(`  | ${'^'.repeat(MAX_FRAME_COLUMNS)}`);
  });

  it('frames each source by its own lines, however the calls alternate', () => {
    expect(codeFrame('a\nb\n', at(2, 1), plain)!.lines[2]).toBe('2 | b');
    expect(codeFrame('c\nd\n', at(1, 1), plain)!.lines[1]).toBe('1 | c');
    expect(codeFrame('a\nb\n', at(1, 1), plain)!.lines[1]).toBe('1 | a');
  });
});
