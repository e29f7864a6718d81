// Reads a Dockerfile the way `docker build` would pick the image it produces: the last stage,
// the chain of earlier stages it is built `FROM`, and the build arguments in scope for each
// instruction. dockerfile-ast parses; this module decides what Docker would expand.

import { DockerfileParser, type Instruction } from 'dockerfile-ast';

export interface DockerInstruction {
  /** 1-based line of the keyword. */
  line: number;
  keyword: string;
  /** The arguments as Docker reads them: continuation lines joined, comment lines dropped. */
  text: string;
  node: Instruction;
  /** Index of the stage the instruction belongs to; -1 before the first FROM. */
  stage: number;
}

export interface Stage {
  index: number;
  /** `AS name`, lowercased as Docker compares them. */
  name: string | undefined;
  /** The FROM reference as written. */
  from: string;
  line: number;
  instructions: DockerInstruction[];
}

export interface ParsedDockerfile {
  /** Instructions before the first FROM (global ARGs). */
  preamble: DockerInstruction[];
  stages: Stage[];
  all: DockerInstruction[];
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const doc = DockerfileParser.parse(text);
  const escape = doc.getEscapeCharacter();
  const lines = text.split(/\r?\n/);
  const preamble: DockerInstruction[] = [];
  const stages: Stage[] = [];
  const all: DockerInstruction[] = [];
  for (const node of doc.getInstructions()) {
    const keyword = node.getKeyword().toUpperCase();
    const range = node.getRange();
    const ins: DockerInstruction = {
      line: range.start.line + 1,
      keyword,
      text: joinedArguments(lines, node, escape),
      node,
      stage: stages.length - 1,
    };
    if (keyword === 'FROM') {
      const words = ins.text.split(/\s+/).filter((w) => w && !w.startsWith('--'));
      const as = words.length >= 3 && words[1]!.toLowerCase() === 'as' ? words[2]!.toLowerCase() : undefined;
      stages.push({ index: stages.length, name: as, from: words[0] ?? '', line: ins.line, instructions: [] });
      ins.stage = stages.length - 1;
    }
    all.push(ins);
    if (ins.stage < 0) preamble.push(ins);
    else stages[ins.stage]!.instructions.push(ins);
  }
  return { preamble, stages, all };
}

/** Docker's line joining: the escape character before a newline continues the line; comment and blank lines inside are dropped. */
function joinedArguments(lines: string[], node: Instruction, escape: string): string {
  const range = node.getRange();
  const first = node.getInstructionRange().end;
  let out = '';
  for (let l = range.start.line; l <= range.end.line; l++) {
    let line = lines[l] ?? '';
    if (l === range.start.line) line = line.slice(first.character);
    else if (/^\s*#/.test(line) || /^\s*$/.test(line)) continue;
    if (l === range.end.line) line = line.slice(0, l === range.start.line ? range.end.character - first.character : range.end.character);
    const continued = line.replace(/\s+$/, '').endsWith(escape) && l < range.end.line;
    out += continued ? line.replace(/\s+$/, '').slice(0, -escape.length) : line;
  }
  return out.trim();
}

/** Variables in scope: a name with `undefined` is declared (`ARG X`) but has no value. */
export type Scope = Map<string, string | undefined>;

export interface Expansion {
  value: string;
  /** Variables that were referenced but have no value (Docker expands them to nothing). */
  unresolved: string[];
}

/** Docker's word expansion: `$X`, `${X}`, `${X:-word}`, `${X:+word}`; `\$` stays a literal `$`. */
export function expand(text: string, scope: Scope, escape = '\\'): Expansion {
  const unresolved: string[] = [];
  const value = expandInto(text, scope, escape, unresolved);
  return { value, unresolved: [...new Set(unresolved)] };
}

function expandInto(text: string, scope: Scope, escape: string, unresolved: string[]): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === escape && text[i + 1] === '$') {
      out += '$';
      i++;
      continue;
    }
    if (c !== '$') {
      out += c;
      continue;
    }
    // A bounded window: a hostile line of `${` without `}` must not cost quadratic time.
    const window = text.slice(i, i + 4096);
    const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])((?:[^{}]|\{[^{}]*\})*))?\}/.exec(window);
    const bare = braced ? undefined : /^\$([A-Za-z_][A-Za-z0-9_]*)/.exec(window);
    const m = braced ?? bare;
    if (!m) {
      out += c;
      continue;
    }
    const name = m[1]!;
    const value = scope.get(name);
    const set = value !== undefined && value !== '';
    const op = braced?.[2];
    if (op?.endsWith('-')) out += set ? value : expandInto(braced![3] ?? '', scope, escape, unresolved);
    else if (op?.endsWith('+')) out += set ? expandInto(braced![3] ?? '', scope, escape, unresolved) : '';
    else {
      if (value === undefined) unresolved.push(name);
      out += value ?? '';
    }
    i += m[0].length - 1;
  }
  return out;
}

/** Build arguments Docker defines by itself for the platform being built. */
export function platformArgs(platform: string): Scope {
  const [os, arch] = platform.split('/') as [string, string];
  return new Map([
    ['TARGETPLATFORM', platform],
    ['TARGETOS', os],
    ['TARGETARCH', arch],
    ['TARGETVARIANT', ''],
    ['BUILDPLATFORM', platform],
    ['BUILDOS', os],
    ['BUILDARCH', arch],
  ]);
}
