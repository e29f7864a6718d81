// Reads docs/walkthrough.md as a script: its steps (the headings) and the fenced blocks in them
// that a test runs, checks or writes. The info string after a fence's language says which:
//
//   ```sh walkthrough           run, in order, by `bash -euo pipefail`, starting in the directory
//                               the previous run block ended in (one terminal, as the reader has)
//   ```sh walkthrough=packages  not run (a test installs nothing): every package its
//                               `apt-get install` names must be installed
//   ```sh walkthrough=install   not run: the test puts this checkout's dist/derivc.mjs on PATH,
//                               which is what the block does
//   ```sh walkthrough=example   not run (what to do next); its derivc commands are still checked
//   ```yaml file=PATH           written to PATH, relative to the directory the walkthrough starts in
//   ```yaml walkthrough=example not written (a snippet for another file); it must still parse
//
// An `sh` or `yaml` fence without one of these is an error, so a command shown to the reader is
// never left out of the test by accident. Fences in other languages (output) are only shown.

import { posix } from 'node:path';

export type Role = 'run' | 'packages' | 'install' | 'example' | 'file';

export interface Step {
  /** The heading's text, as the reader sees it. */
  title: string;
  /** 1-based line of the heading (0 before the first heading). */
  line: number;
}

export interface Block {
  role: Role;
  /** The fence's language: `sh` or `yaml`. */
  lang: string;
  /** What is between the fences, ending with a newline. */
  text: string;
  /** 1-based line of the opening fence. */
  line: number;
  step: Step;
  /** For `file=`: where the block is written, relative to the walkthrough's starting directory. */
  path?: string;
}

export interface Walkthrough {
  /** The `#` heading. */
  title: string;
  blocks: Block[];
  /** Inline code spans in the prose that are derivc commands (`derivc build --target raw`), with their line. */
  inlineCommands: { text: string; line: number }[];
}

export class WalkthroughError extends Error {}

const FENCE = /^(`{3,}|~{3,})\s*([^`]*)$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const ROLES: Readonly<Record<string, Role>> = {
  walkthrough: 'run',
  'walkthrough=packages': 'packages',
  'walkthrough=install': 'install',
  'walkthrough=example': 'example',
};
const CHECKED_LANGS = new Set(['sh', 'yaml']);

export function parseWalkthrough(markdown: string, file = 'docs/walkthrough.md'): Walkthrough {
  const lines = markdown.split('\n');
  const fail = (line: number, message: string): never => {
    throw new WalkthroughError(`${file}:${line}: ${message}`);
  };
  let title: string | undefined;
  let step: Step = { title: '(before the first heading)', line: 0 };
  const blocks: Block[] = [];
  const inlineCommands: Walkthrough['inlineCommands'] = [];

  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const fence = FENCE.exec(lines[i]!);
    if (!fence) {
      const heading = HEADING.exec(lines[i]!);
      if (heading) {
        if (heading[1] === '#') title ??= heading[2]!;
        else step = { title: heading[2]!, line: lineNo };
      }
      for (const span of lines[i]!.matchAll(/`(derivc [^`]*)`/g)) inlineCommands.push({ text: span[1]!, line: lineNo });
      continue;
    }
    // CommonMark: the block ends at a fence of the same character, at least as long, with no info string.
    const [marker, info] = [fence[1]!, fence[2]!.trim()];
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = FENCE.exec(lines[j]!);
      if (close && close[1]![0] === marker[0] && close[1]!.length >= marker.length && close[2]!.trim() === '') break;
      body.push(lines[j]!);
    }
    if (j === lines.length) fail(lineNo, `the fence opened here is never closed`);
    const [lang = '', ...words] = info.split(/\s+/).filter(Boolean);
    const block = blockOf(lang, words, (message) => fail(lineNo, message));
    if (block) blocks.push({ ...block, lang, text: body.length ? body.join('\n') + '\n' : '', line: lineNo, step });
    i = j;
  }
  if (title === undefined) fail(1, 'no `#` title');
  return { title: title!, blocks, inlineCommands };
}

/** What a fence's info string asks for; undefined for a fence that is only shown. */
function blockOf(lang: string, words: string[], fail: (message: string) => never): Pick<Block, 'role' | 'path'> | undefined {
  if (!CHECKED_LANGS.has(lang)) {
    if (words.some((w) => w.startsWith('walkthrough') || w.startsWith('file='))) fail(`a \`${lang}\` block cannot be run or written; use sh or yaml`);
    return undefined;
  }
  if (words.length !== 1) fail(`a \`${lang}\` block needs exactly one of: ${[...Object.keys(ROLES), 'file=PATH'].join(', ')} (found \`${words.join(' ')}\`)`);
  const [word] = words as [string];
  if (word.startsWith('file=')) {
    const path = word.slice('file='.length);
    // The test writes it under its temporary directory: never outside.
    if (!path || posix.isAbsolute(path) || posix.normalize(path).startsWith('..') || posix.normalize(path) !== path)
      fail(`file=${path}: a relative path inside the walkthrough's directory, without . or .. parts`);
    return { role: 'file', path };
  }
  const role = ROLES[word];
  if (!role) fail(`unknown \`${word}\`; use one of: ${[...Object.keys(ROLES), 'file=PATH'].join(', ')}`);
  if (lang === 'yaml' && role !== 'example') fail(`a yaml block is written (file=PATH) or shown (walkthrough=example), not \`${word}\``);
  return { role: role! };
}

/** One simple command of a shell line: its words, quotes removed. */
export type Words = string[];

const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'do', 'while', 'until', '!', 'time', '{']);

/**
 * The simple commands of a shell script, as far as a static reading can tell: comments dropped,
 * `\` continuations joined, split at `;`, `&&`, `||`, `|` and `&`, quotes removed. Enough for the
 * walkthrough's short commands; a derivc command whose words a static reading cannot know
 * (`$VAR`, `$(…)`, backquotes) is an error rather than a guess.
 */
export function simpleCommands(script: string): Words[] {
  const commands: Words[] = [];
  let words: Words = [];
  let word: string | undefined;
  let dynamic = false;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    while (words.length && KEYWORDS.has(words[0]!)) words.shift();
    if (words[0] === 'derivc' && dynamic) throw new WalkthroughError(`\`${words.join(' ')}\`: a derivc command with $ or \` cannot be checked`);
    if (words.length) commands.push(words);
    words = [];
    dynamic = false;
  };
  const text = script.replace(/\\\n/g, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new WalkthroughError(`unclosed ' in \`${text.slice(i).split('\n')[0]}\``);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let value = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && '"\\$`'.includes(text[i + 1] ?? '')) value += text[++i];
        else {
          if (text[i] === '$' || text[i] === '`') dynamic = true;
          value += text[i];
        }
      }
      if (i >= text.length) throw new WalkthroughError('unclosed " in a shell block');
      word = (word ?? '') + value;
    } else if (c === '\\') {
      word = (word ?? '') + (text[++i] ?? '');
    } else if (c === '#' && word === undefined) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if (c === '&' && (/[<>]$/.test(word ?? '') || text[i + 1] === '>')) {
      word = (word ?? '') + c; // a redirection (`2>&1`, `&>`), not a separator
    } else if (c === '\n' || c === ';' || c === '&' || c === '|') {
      endCommand();
      if ((c === '&' || c === '|') && text[i + 1] === c) i++;
    } else if (c === ' ' || c === '\t') {
      endWord();
    } else {
      if (c === '$' || c === '`') dynamic = true;
      word = (word ?? '') + c;
    }
  }
  endCommand();
  return commands;
}

/** The arguments of every `derivc …` command in a shell script (the words after `derivc`). */
export function derivcCommands(script: string): Words[] {
  return simpleCommands(script)
    .filter((words) => words[0] === 'derivc')
    .map((words) => words.slice(1));
}

/** The packages an `apt-get install` in the block names (its flags left out). */
export function aptPackages(script: string): string[] {
  return simpleCommands(script)
    .map((words) => (words[0] === 'sudo' ? words.slice(1) : words))
    .filter((words) => words[0] === 'apt-get' && words.includes('install'))
    .flatMap((words) => words.slice(words.indexOf('install') + 1).filter((w) => !w.startsWith('-')));
}
