// Readers for generated text, each written from the target language's own rules (not from
// derivc's quoting code), so tests can check that what derivc writes reads back as meant:
// Docker's double-quoted words, GRUB double-quoted strings, POSIX sh sourcing, Dockerfile shape.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileParser, Keyword, type Instruction } from 'dockerfile-ast';
import { expect, type TestContext } from 'vitest';

/**
 * One double-quoted Dockerfile word (LABEL/ARG values), as BuildKit's shell lexer reads it:
 * `\` escapes only `"`, `$` and `\` (any other backslash stays); an unescaped `$` would expand
 * a variable, so it is an error here. Returns the value and what follows the closing quote.
 */
export function dockerQuoted(raw: string): { value: string; rest: string } {
  if (raw[0] !== '"') throw new Error(`not a double-quoted word: ${raw}`);
  let value = '';
  for (let i = 1; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') return { value, rest: raw.slice(i + 1) };
    if (c === '$') throw new Error(`unescaped $ (a variable) in ${raw}`);
    if (c === '\\' && i + 1 < raw.length && '"$\\'.includes(raw[i + 1]!)) {
      value += raw[++i];
      continue;
    }
    value += c;
  }
  throw new Error(`unterminated double-quoted word: ${raw}`);
}

/** `"key"="value"` (one LABEL or ARG pair, the only form derivc writes) → [key, value]. */
export function dockerPair(raw: string): [string, string] {
  const key = raw.startsWith('"') ? dockerQuoted(raw) : { value: raw.slice(0, raw.indexOf('=')), rest: raw.slice(raw.indexOf('=')) };
  if (!key.rest.startsWith('=')) throw new Error(`no = after the key in ${raw}`);
  const value = dockerQuoted(key.rest.slice(1));
  if (value.rest !== '') throw new Error(`text after the value in ${raw}: ${value.rest}`);
  return [key.value, value.value];
}

const KEYWORDS = new Set<string>(Object.values(Keyword));

export interface ParsedDockerfile {
  instructions: Instruction[];
  keywords: string[];
}

/**
 * Parses with dockerfile-ast and checks the shape derivc promises: no parser directive (the
 * header comment must not read as one), every non-comment line one known instruction (so no
 * value continued a line or started a new instruction), every `[`-argument valid JSON.
 */
export function parseDockerfile(text: string): ParsedDockerfile {
  const d = DockerfileParser.parse(text);
  if (d.getDirectives().length) throw new Error('the Dockerfile starts with a parser directive');
  const instructions = d.getInstructions();
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  if (instructions.length !== lines.length) throw new Error(`${lines.length} instruction lines but ${instructions.length} instructions`);
  for (const [i, ins] of instructions.entries()) {
    const r = ins.getRange();
    if (r.start.line !== r.end.line) throw new Error(`instruction spans lines ${r.start.line}-${r.end.line}: ${ins.toString()}`);
    if (!KEYWORDS.has(ins.getKeyword())) throw new Error(`unknown instruction ${ins.getKeyword()}`);
    if (!lines[i]!.startsWith(`${ins.getKeyword()} `)) throw new Error(`line ${lines[i]} is not instruction ${ins.getKeyword()}`);
    const args = ins.getRawArgumentsContent() ?? '';
    if (args.startsWith('[')) execArgs(ins);
  }
  return { instructions, keywords: instructions.map((i) => i.getKeyword()) };
}

/** The exec-form arguments as Docker reads them (JSON), cross-checked with dockerfile-ast's view. */
export function execArgs(ins: Instruction): string[] {
  const raw = ins.getRawArgumentsContent() ?? '';
  const parsed: unknown = JSON.parse(raw);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`not a JSON string array: ${raw}`);
  const json = ins as Instruction & { getJSONStrings?(): unknown[]; getClosingBracket?(): unknown };
  // dockerfile-ast must see the same exec form: one JSON string per argument, a closing bracket.
  if (json.getJSONStrings && (json.getJSONStrings().length !== parsed.length || !json.getClosingBracket!()))
    throw new Error(`dockerfile-ast reads ${raw} differently`);
  return parsed as string[];
}

/**
 * A GRUB double-quoted string body, by GRUB's lexer rules: `\` escapes `$`, `"`, `\` (and
 * newline); any other backslash stays literal; `$name` / `${name}` is a variable reference,
 * collected in `vars`. Reads up to the closing quote, which must end the input.
 */
export function grubDoubleQuoted(raw: string): { value: string; vars: string[] } {
  let value = '';
  const vars: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '"') {
      if (i !== raw.length - 1) throw new Error(`text after the closing quote: ${raw.slice(i)}`);
      return { value, vars };
    }
    if (c === '\\' && i + 1 < raw.length && '$"\\\n'.includes(raw[i + 1]!)) {
      if (raw[i + 1] !== '\n') value += raw[i + 1];
      i++;
      continue;
    }
    if (c === '$') {
      const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[#?@*])\}|([A-Za-z_][A-Za-z0-9_]*|[0-9]+|[#?@*]))/.exec(raw.slice(i));
      if (!m) throw new Error(`a $ that is no variable in ${raw}`);
      vars.push(m[1] ?? m[2]!);
      value += `\u0000${m[1] ?? m[2]}\u0000`;
      i += m[0].length - 1;
      continue;
    }
    value += c;
  }
  throw new Error(`unterminated GRUB string: ${raw}`);
}

/** `grub-script-check` when installed: the real GRUB parser. */
export function grubScriptCheck(script: string): { available: boolean; ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-grub-'));
  try {
    const file = join(dir, 'check.cfg');
    writeFileSync(file, script);
    const r = spawnSync('grub-script-check', [file], { encoding: 'utf8' });
    if (r.error) return { available: false, ok: false, output: String(r.error) };
    return { available: true, ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sources `text` with a real /bin/sh and returns each variable's value (NUL-separated on the way back). */
export function sourceWithSh(text: string, keys: readonly string[]): Record<string, string> {
  for (const k of keys) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`not a variable name: ${k}`);
  const dir = mkdtempSync(join(tmpdir(), 'derivc-sh-'));
  try {
    const file = join(dir, 'env');
    writeFileSync(file, text);
    const script = `. "$1" || exit 3; printf '%s\\0' ${keys.map((k) => `"$${k}"`).join(' ')}`;
    const r = spawnSync('/bin/sh', ['-c', script, 'sh', file], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
    if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${r.stderr}`);
    const values = r.stdout.split('\u0000').slice(0, -1);
    return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a script with a real /bin/sh and returns its stdout (UTF-8). */
export function sh(script: string): string {
  const r = spawnSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  if (r.status !== 0) throw new Error(`sh failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Asserts that GRUB's own parser accepts `script`. Without grub-script-check the test skips —
 * except under DERIVC_E2E=1, where a missing tool fails it.
 */
export function checkGrub(ctx: TestContext, script: string): void {
  const r = grubScriptCheck(script);
  if (!r.available) {
    if (process.env['DERIVC_E2E'] === '1') throw new Error('grub-script-check is missing (install grub-common): DERIVC_E2E=1 requires it');
    ctx.skip();
  }
  expect(r.ok, `${r.output}\n${script}`).toBe(true);
}
