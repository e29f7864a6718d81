// A YAML syntax error in words a user understands, at the line of the mistake. The yaml library
// reports what its grammar saw ("Nested mappings are not allowed in compact mappings", at the
// line *before* an over-indented key; "Missing closing quote", at the end of the file); this
// turns each error derivc can meet into what went wrong and where to fix it.

import type { LineCounter, YAMLError } from 'yaml';
import type { ScanFacts } from './yaml-scan.js';

export interface SyntaxProblem {
  start: number;
  end: number;
  message: string;
  hint: string;
}

const GENERIC_HINT = 'check the indentation, quotes and colons around this position';

export function explainSyntaxError(error: YAMLError, text: string, lines: LineCounter, facts: ScanFacts): SyntaxProblem {
  const at = error.pos[0];
  const raw = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
  const view = new Lines(text, lines);
  switch (error.code) {
    case 'TAB_AS_INDENT':
      return { start: at, end: at + 1, message: 'this line is indented with a tab; YAML indents with spaces only', hint: 'replace the tab with spaces' };
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      if (raw.startsWith('A block sequence')) return view.indentation(view.lineOf(at));
      return overIndentedKey(at, view, facts);
    case 'BAD_INDENT':
      if (/^Flow (sequence|map) /.test(raw)) return unclosedFlow(at, raw, view, facts);
      return view.indentation(view.lineOf(at));
    case 'MISSING_CHAR':
      if (raw.startsWith('Missing closing')) return unclosedQuote(at, raw, facts);
      if (/^Flow (sequence|map) /.test(raw)) return unclosedFlow(at, raw, view, facts);
      if (raw === 'Sequence item without - indicator') return view.indentation(view.lineOf(at));
      if (raw.startsWith('Implicit map keys need to be followed')) {
        return {
          start: at,
          end: view.lineEnd(view.lineOf(at)),
          message: 'this line is neither `key: value` nor a list item `- value`',
          hint: 'add `:` after the key, or start the line with `- `',
        };
      }
      if (raw.startsWith('Comments must be separated')) {
        return {
          start: at,
          end: at + 1,
          message: 'a `#` comment needs a space before it',
          hint: 'add a space before `#`, or quote the value if the `#` is part of it',
        };
      }
      if (raw.startsWith('Missing , ')) return { start: at, end: at + 1, message: lowerFirst(raw), hint: 'separate the items with `, `' };
      if (raw.startsWith('Missing directives-end'))
        return {
          start: at,
          end: at + 1,
          message: 'a `%` directive line must be followed by a `---` line',
          hint: 'add `---` after the directives, or remove them',
        };
      if (raw.startsWith('Block collection cannot start'))
        return {
          start: at,
          end: view.lineEnd(view.lineOf(at)),
          message: 'a mapping or list cannot start on the `---` line',
          hint: 'start it on the next line',
        };
      break;
    case 'KEY_OVER_1024_CHARS':
      return { start: at, end: at + 1, message: 'a key cannot be longer than 1024 characters', hint: 'shorten the key' };
    case 'ALIAS_PROPS':
      return {
        start: at,
        end: Math.max(at + 1, error.pos[1]),
        message: 'an alias cannot have a tag or an anchor',
        hint: 'remove the `!tag` or `&anchor` before the alias',
      };
    case 'BAD_DQ_ESCAPE': {
      const escape = /sequence (.*)$/.exec(raw)?.[1] ?? '\\';
      return {
        start: at,
        end: at + escape.length,
        message: `\`${escape}\` is not a valid escape in a "double-quoted" string`,
        hint: 'write a backslash as `\\\\`, or use single quotes, in which a backslash is just a backslash',
      };
    }
    case 'BAD_SCALAR_START': {
      const ch = text[at] ?? '';
      return { start: at, end: at + 1, message: `a value cannot start with \`${ch}\` unless it is quoted`, hint: 'put the value in quotes' };
    }
    case 'BLOCK_IN_FLOW':
      return {
        start: at,
        end: error.pos[1],
        message: 'a `-` list or a `key:` block cannot be written inside `[…]` or `{…}`',
        hint: 'write it in flow style (`[a, b]`, `{k: v}`), or close the brackets first',
      };
  }
  if (error.code === 'UNEXPECTED_TOKEN' && error.pos[1] > at) {
    // `- a` then `b: 1` in the same column: an indentation mistake, whatever the parser calls it.
    const line = view.lineOf(at);
    if (at === view.start(line) + view.shape(line).indent) {
      const explained = view.indentation(line);
      if (!explained.message.startsWith('this line does not fit')) return explained;
    }
    const found = text.slice(at, error.pos[1]).split('\n')[0]!;
    if (found.trim() !== '') return { start: at, end: at + found.length, message: `unexpected \`${clip(found)}\` here`, hint: GENERIC_HINT };
  }
  return { start: at, end: Math.max(at, error.pos[1]), message: lowerFirst(raw), hint: GENERIC_HINT };
}

/** The error to report: the first in the text; at one position, the one that names the cause. */
export function firstSyntaxError<E extends YAMLError>(errors: readonly E[]): E | undefined {
  const rank = (e: YAMLError) =>
    e.message.startsWith('Missing closing') ? 0 : e.code === 'BLOCK_IN_FLOW' || e.message.startsWith('A block sequence may not') ? 1 : 2;
  let best: E | undefined;
  for (const e of errors) if (!best || e.pos[0] < best.pos[0] || (e.pos[0] === best.pos[0] && rank(e) < rank(best))) best = e;
  return best;
}

/**
 * `b: 1` followed by `   c: 2`: YAML reads `1 c` as one key spanning two lines and complains
 * on the first of them. The mistake is the line where the more indented key starts.
 */
function overIndentedKey(at: number, view: Lines, facts: ScanFacts): SyntaxProblem {
  const first = view.lineOf(at);
  const before = view.text(first).slice(0, at - view.start(first));
  // Nothing but indentation before the key: a line without `:` that the next one continues,
  // or a list item where the lines above are keys.
  if (/^[\s-]*$/.test(before)) {
    if (view.shape(first).dash) return view.indentation(first);
    const word = view
      .text(first)
      .trim()
      .replace(/^(- +)+/, '');
    const pair = /^(\S+)\s+(\S.*)$/.exec(word);
    return {
      start: at,
      end: view.lineEnd(first),
      message: `\`${clip(word)}\` has no \`:\`, so YAML reads it and the next line as one key`,
      hint: pair
        ? `write \`${clip(pair[1]!)}: ${clip(pair[2]!)}\` for a key and its value, or \`- ${clip(word)}\` for a list item`
        : `write \`${clip(word)}:\` for a key, or \`- ${clip(word)}\` for a list item`,
    };
  }
  const end = facts.multilineByStart.get(at);
  if (end === undefined) {
    // `a: b: c`: a second `key:` on the line of the first.
    const key = /^[\s-]*([^:]*):/.exec(view.text(first))?.[1]?.trim() ?? '';
    return {
      start: at,
      end: view.lineEnd(first),
      message: `a \`key: value\` cannot be the value of \`${clip(key)}:\` on the same line`,
      hint: `put it on its own line, indented under \`${clip(key)}:\`, or quote the value if \`: \` belongs to it`,
    };
  }
  return view.indentation(view.lineOf(end), first);
}

function unclosedQuote(at: number, raw: string, facts: ScanFacts): SyntaxProblem {
  const quote = raw.includes("'") ? "'" : '"';
  const escaped = quote === '"' ? '`\\"`' : "`''`";
  const start = facts.quotedByEnd.get(at);
  return {
    start: start ?? at,
    end: (start ?? at) + 1,
    message: `the string opened with \`${quote}\` here is never closed`,
    hint: `add the closing \`${quote}\`; inside the string, write a \`${quote}\` as ${escaped}`,
  };
}

function unclosedFlow(at: number, raw: string, view: Lines, facts: ScanFacts): SyntaxProblem {
  const open = [...facts.unclosedFlow].reverse().find((o) => o <= at);
  const bracket = raw.startsWith('Flow map ') ? '{' : '[';
  const close = bracket === '{' ? '}' : ']';
  if (open === undefined) return { start: at, end: at + 1, message: `a \`${bracket}\` is not closed before this line`, hint: `close it with \`${close}\`` };
  return {
    start: open,
    end: open + 1,
    message: `the ${bracket === '{' ? 'mapping' : 'list'} opened with \`${bracket}\` here is not closed before line ${view.lineOf(at)}`,
    hint: `close it with \`${close}\`; a line that continues it must be indented more than the key it belongs to`,
  };
}

interface LineShape {
  line: number;
  /** 0-based column of the first non-space character. */
  indent: number;
  /** 0-based column after any `- ` item indicators: where a key in this line starts. */
  content: number;
  dash: boolean;
}

/** The text seen as lines, for reasoning about indentation. */
class Lines {
  constructor(
    private readonly all: string,
    private readonly counter: LineCounter,
  ) {}

  lineOf(offset: number): number {
    return this.counter.linePos(offset).line;
  }

  start(line: number): number {
    return this.counter.lineStarts[line - 1] ?? this.all.length;
  }

  text(line: number): string {
    const next = this.counter.lineStarts[line];
    return this.all.slice(this.start(line), next === undefined ? this.all.length : next).replace(/\r?\n$/, '');
  }

  lineEnd(line: number): number {
    return this.start(line) + this.text(line).trimEnd().length;
  }

  shape(line: number): LineShape {
    const t = this.text(line);
    const indent = t.length - t.trimStart().length;
    const items = /^(?:-(?: +|$))+/.exec(t.slice(indent))?.[0] ?? '';
    return { line, indent, content: indent + items.length, dash: items.length > 0 };
  }

  private isContent(line: number): boolean {
    const t = this.text(line).trim();
    return t !== '' && !t.startsWith('#');
  }

  previousContent(line: number): number | undefined {
    for (let n = line - 1; n >= 1; n--) if (this.isContent(n)) return n;
    return undefined;
  }

  nextContent(line: number): number | undefined {
    for (let n = line + 1; n <= this.counter.lineStarts.length; n++) if (this.isContent(n)) return n;
    return undefined;
  }

  /** `line` does not line up with `against` (default: the content line above it). */
  indentation(line: number, against = this.previousContent(line)): SyntaxProblem {
    const here = this.shape(line);
    const start = this.start(line) + here.indent;
    const end = this.lineEnd(line);
    if (against === undefined) return { start, end, message: 'this line is indented, but nothing above it opens a block', hint: 'start it in column 1' };
    const above = this.shape(against);
    if (here.dash && !above.dash && here.indent === above.indent) {
      return {
        start,
        end,
        message: `a list item cannot start in the same column as the key on line ${against}`,
        hint: `to make it the value of a key, leave nothing after that key's \`:\` and indent the item under it`,
      };
    }
    if (!here.dash && above.dash && here.indent === above.indent) {
      return {
        start,
        end,
        message: `a key cannot start in the same column as the list item on line ${against}`,
        hint: `indent it to column ${above.content + 1} to add it to that item${or(this.parents(against, above.indent), ', or move it to ')}`,
      };
    }
    const expected = here.dash && above.dash ? above.indent : above.content;
    const alternatives = this.parents(against, expected);
    const where = `move it to column ${expected + 1} (like line ${against})${or(alternatives, ', or to ', ' if it belongs there')}`;
    if (here.indent > expected) {
      return {
        start,
        end,
        message: `this line is indented more than line ${against} (column ${here.indent + 1}, expected ${expected + 1})`,
        hint: `the items of one mapping or list start in the same column: ${where}`,
      };
    }
    if (here.indent < expected) {
      return {
        start,
        end,
        message: `this line is indented less than line ${against} (column ${here.indent + 1}, expected ${expected + 1})`,
        hint: `the items of one mapping or list start in the same column: ${where}`,
      };
    }
    return {
      start,
      end,
      message: 'this line does not fit the indentation of the lines above it',
      hint: `the items of one mapping or list start in the same column: ${where}`,
    };
  }

  /** "column 1 (like line 1)" for up to two enclosing mappings left of `column`, nearest first. */
  private parents(from: number, column: number): string {
    const found: string[] = [];
    let limit = column;
    for (let n = from; n >= 1 && found.length < 2 && limit > 0; n--) {
      if (!this.isContent(n)) continue;
      const s = this.shape(n);
      if (s.indent >= limit) continue;
      if (!s.dash) found.push(`column ${s.indent + 1} (like line ${n})`);
      limit = s.indent;
    }
    return found.join(' or ');
  }
}

function or(text: string, before: string, after = ''): string {
  return text ? before + text + after : '';
}

function clip(s: string): string {
  return s.length > 40 ? s.slice(0, 39) + '…' : s;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
