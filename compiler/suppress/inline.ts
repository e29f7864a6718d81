// `# derivc-ignore CODE[, CODE…]: reason` comments in a YAML file, found by the YAML lexer (so a
// `#` inside a block scalar or a quoted string is never one). A comment alone on its line applies
// to the next line that is not itself a comment line: stacked suppressions share one target.

import { CST, Lexer, Parser } from 'yaml';

export interface InlineSuppression {
  /** 1-based line of the comment, and where its text starts and ends (for the diagnostic's range). */
  line: number;
  column: number;
  endColumn: number;
  /** The line whose diagnostics it suppresses. */
  target: number;
  codes: string[];
  /** The text after the colon; undefined when there is none. */
  reason: string | undefined;
}

const MARKER = /^#\s*derivc-ignore(?=\s|:|$)(.*)$/;

export function inlineSuppressions(text: string): InlineSuppression[] {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  // Comments alone on their line: their line numbers, and the derivc-ignore ones among them.
  const commentLines = new Set<number>();
  const found: Omit<InlineSuppression, 'target'>[] = [];
  // The parser only counts offsets here; the lexer alone does not say where a lexeme starts.
  const parser = new Parser();
  for (const lexeme of new Lexer().lex(text)) {
    const at = parser.offset;
    if (CST.tokenType(lexeme) === 'comment') {
      const line = lineOf(at);
      const before = text.slice(lineStarts[line - 1], at);
      if (before.trim() === '') {
        commentLines.add(line);
        const m = MARKER.exec(lexeme.trimEnd());
        if (m) {
          const rest = m[1]!;
          const colon = rest.indexOf(':');
          const codes = (colon < 0 ? rest : rest.slice(0, colon)).split(/[\s,]+/).filter(Boolean);
          const reason = colon < 0 ? undefined : rest.slice(colon + 1).trim() || undefined;
          const column = at - lineStarts[line - 1]! + 1;
          found.push({ line, column, endColumn: column + lexeme.trimEnd().length, codes, reason });
        }
      }
    }
    for (const _ of parser.next(lexeme)) void _;
  }
  return found.map((s) => {
    let target = s.line + 1;
    while (commentLines.has(target)) target++;
    return { ...s, target };
  });
}
