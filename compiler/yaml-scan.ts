// Text → YAML concrete syntax tree, with the nesting bounded before anything recursive runs.
// yaml's lexer and CST parser are iterative, but its composer (CST → Document) recurses once per
// level: 100,000 nested `[` would overflow the stack. Feeding the parser one lexeme at a time and
// watching its stack stops such input at the level that crosses the limit, in linear time.
// Along the way it keeps the few token positions that error messages need and Nodes do not have.

import { CST, Lexer, Parser, type LineCounter } from 'yaml';

/** Lists and mappings inside each other; manifests use about 8 levels, cloud-config about 10. */
export const MAX_NESTING = 100;

export interface ScanFacts {
  /** Every tag as written (`!!binary`, `!custom`), in text order. */
  tags: { start: number; end: number; source: string }[];
  /** Quoted scalars by end offset → start offset (an unclosed quote is reported where it opens). */
  quotedByEnd: Map<number, number>;
  /** Scalars spanning several lines, by start offset → end offset. */
  multilineByStart: Map<number, number>;
  /** Offsets of `[` / `{` whose collection a less indented line or the end of the text cut off. */
  unclosedFlow: number[];
}

export interface Scan {
  tokens: CST.Token[];
  /** Offset of the token that nests deeper than MAX_NESTING; `tokens` is then incomplete. */
  tooDeepAt?: number;
  facts: ScanFacts;
}

/** The parser's stack holds the document, the open collections and, briefly, one scalar. */
const MAX_STACK = MAX_NESTING + 2;

export function scanYaml(text: string, lines: LineCounter): Scan {
  const parser = new Parser(lines.addNewLine);
  const tokens: CST.Token[] = [];
  const facts: ScanFacts = { tags: [], quotedByEnd: new Map(), multilineByStart: new Map(), unclosedFlow: [] };
  const openFlow: number[] = [];
  let scalarNext = false;
  lines.addNewLine(0);
  for (const lexeme of new Lexer().lex(text)) {
    const at = parser.offset;
    if (scalarNext) {
      // A plain or block scalar's text follows its marker.
      scalarNext = false;
      if (lexeme.includes('\n')) facts.multilineByStart.set(at, at + lexeme.length);
    } else {
      switch (CST.tokenType(lexeme)) {
        case 'scalar':
          scalarNext = true;
          break;
        case 'single-quoted-scalar':
        case 'double-quoted-scalar':
          facts.quotedByEnd.set(at + lexeme.length, at);
          if (lexeme.includes('\n')) facts.multilineByStart.set(at, at + lexeme.length);
          break;
        case 'tag':
          facts.tags.push({ start: at, end: at + lexeme.length, source: lexeme });
          break;
        case 'flow-map-start':
        case 'flow-seq-start':
          openFlow.push(at);
          break;
        case 'flow-map-end':
        case 'flow-seq-end':
          openFlow.pop();
          break;
        case 'flow-error-end':
          for (const open of openFlow.splice(0)) facts.unclosedFlow.push(open);
          break;
      }
    }
    for (const token of parser.next(lexeme)) tokens.push(token);
    if (parser.stack.length > MAX_STACK) return { tokens, tooDeepAt: at, facts };
  }
  for (const token of parser.end()) tokens.push(token);
  for (const open of openFlow) facts.unclosedFlow.push(open);
  return { tokens, facts };
}
