// Hostile input must not make validation slow: every schema pattern answers adversarial strings
// quickly (a ReDoS guard), an oversized file is refused unread, a huge manifest validates in
// seconds, and an oemDir with too many files is cut off with an error.

import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createContext, Script } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES } from '../compiler/parse.js';
import { TREE_LIMITS, ValidationSession } from '../compiler/validate/index.js';
import { runCli } from './support/cli.js';
import { MemoryHost } from './support/memory-host.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'derivc-patterns-'));
  scratch.push(d);
  return d;
}

/** Every `pattern` in a schema (properties, propertyNames, definitions, branches alike). */
function patternsOf(file: string): string[] {
  const found: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    for (const [k, v] of Object.entries(node)) {
      if (k === 'pattern' && typeof v === 'string') found.push(v);
      else walk(v);
    }
  };
  walk(JSON.parse(readFileSync(file, 'utf8')));
  return found;
}

const patterns = [...new Set([...patternsOf('schema/derivative.schema.json'), ...patternsOf('schema/cloud-config.schema.json')])];

// Characters tried against each character class, and as the "invalid" last character.
const CANDIDATES = [...Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)), '\t', '\n', '\u0000', '\u0085', 'é', '\u{1F600}'];
const ENDINGS = ['!', ' ', '\n', '\u0000', '"', '/', ':', '.', '-', '$', '\u{1F600}'];
// Valid openings of the patterns that only start matching after a fixed prefix.
const PREFIXES = [
  '',
  'a',
  '/',
  'a/',
  'a:',
  'a=',
  'a.b/',
  'localhost:5000/',
  'https://',
  'tmpfs:',
  'LABEL=',
  'UUID=',
  'ssh-ed25519 ',
  'ssh-ed25519 AAAA ',
  '$6$',
  '$y$j9T$',
  '$2b$10$',
  'subnet-',
  'net.',
  '1.1.1.1',
  '::',
];
const LIMIT_MS = 50;

/** Up to three characters matching a character class: first, middle and last of the candidates. */
function samples(cls: string): string[] {
  const re = new RegExp(`^${cls}$`, 'u');
  const hits = CANDIDATES.filter((c) => re.test(c));
  return [...new Set([hits[0], hits[Math.floor(hits.length / 2)], hits.at(-1)].filter((c): c is string => c !== undefined))];
}

/** The character classes of a pattern (`[…]`, `\d`, `.`) and the literal characters outside them. */
function tokens(pattern: string): { classes: string[]; literals: string[] } {
  const classes: string[] = [];
  const literals: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '[') {
      let j = i + 1;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      classes.push(pattern.slice(i, j + 1));
      i = j;
    } else if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[dDsSwW]/.test(next)) classes.push(c + next);
      else if (next === 'u') i += pattern[i + 2] === '{' ? pattern.indexOf('}', i) - i - 1 : 4;
      else if (!/[bB]/.test(next)) literals.push(next);
      i++;
    } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(pattern.slice(i))) {
      i = pattern.indexOf('}', i);
    } else if (c === '(' && pattern[i + 1] === '?') {
      i += pattern[i + 2] === '<' ? 3 : 2;
    } else if (c === '.') {
      classes.push('.');
    } else if (!'^$()*+?|'.includes(c)) {
      literals.push(c);
    }
  }
  return { classes, literals: [...new Set(literals)] };
}

/** The repeated units: class samples, literals, sample+literal pairs, `$a`, `${x}`. */
function units(pattern: string): string[] {
  const { classes, literals } = tokens(pattern);
  const chars = [...new Set(classes.flatMap(samples))];
  const pairs = chars.slice(0, 6).flatMap((c) => literals.map((l) => c + l));
  return [...new Set([...chars, ...literals, ...pairs, ...literals.map((l) => l + 'a'), '$a', '${x}', 'a.', 'a-', '0.', '00:'])];
}

function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

// Runs in its own context so that a pattern that backtracks forever is interrupted (V8 checks for
// termination inside regexp backtracking) instead of hanging the test run. Best of three runs per
// input, so a GC pause or a busy core does not count as backtracking.
const probe = new Script(`
  const slow = [];
  for (const s of inputs) {
    let best = Infinity;
    for (let run = 0; run < 3 && best >= limit; run++) {
      const started = now();
      re.test(s);
      best = Math.min(best, now() - started);
    }
    if (best >= limit) slow.push(JSON.stringify(s.slice(0, 40)) + '… (' + s.length + ' chars): ' + Math.round(best) + ' ms');
  }
  JSON.stringify(slow);
`);

/** Inputs `re` needs 50 ms or more for; throws when the whole set takes longer than `budgetMs`. */
function slowInputs(re: RegExp, inputs: string[], budgetMs: number): string[] {
  const context = createContext({ re, inputs, limit: LIMIT_MS, now: () => performance.now() });
  try {
    return JSON.parse(probe.runInContext(context, { timeout: budgetMs }) as string) as string[];
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return [`interrupted after ${budgetMs} ms: catastrophic backtracking`];
    throw e;
  }
}

function adversarialInputs(pattern: string): string[] {
  return PREFIXES.flatMap((prefix) =>
    units(pattern).flatMap((unit) => [
      prefix + repeatTo(unit, 20_000),
      ...ENDINGS.map((end) => prefix + repeatTo(unit, 2_000 - prefix.length - end.length) + end),
    ]),
  );
}

describe('schema patterns resist catastrophic backtracking', () => {
  it('finds the patterns of both schemas', () => {
    expect(patterns.length).toBeGreaterThan(40);
  });

  it('the probe catches exponential and polynomial backtracking', () => {
    for (const evil of ['^(a+)+$', '^(?:[A-Za-z0-9-]*[A-Za-z0-9])*$', '^(?:[a-z0-9]*-?)*$', '^https://(?:[a-z]|\\$[a-z]*)*$']) {
      expect(slowInputs(new RegExp(evil, 'u'), adversarialInputs(evil), 500), evil).not.toEqual([]);
    }
  }, 30_000);

  for (const pattern of patterns) {
    it(
      pattern.length > 70 ? `${pattern.slice(0, 67)}…` : pattern,
      () => {
        expect(slowInputs(new RegExp(pattern, 'u'), adversarialInputs(pattern), 10_000)).toEqual([]);
      },
      30_000,
    );
  }
});

const MINIMAL =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata:\n  name: acme-os\n  version: 1.0.0\nbase:\n  image: registry.opensuse.org/opensuse/leap:15.5\n';

/** A valid manifest padded with a trailing comment to exactly `bytes` bytes. */
function paddedManifest(bytes: number): string {
  const head = MINIMAL + '# ';
  return head + 'x'.repeat(bytes - head.length - 1) + '\n';
}

describe('oversized files', () => {
  it('refuses a manifest over 4 MiB unread, at line 1 column 1', () => {
    const file = join(tempDir(), 'derivative.yaml');
    writeFileSync(file, paddedManifest(MAX_FILE_BYTES + 1));
    const { code, stdout } = runCli(['validate', '--format', 'json', file]);
    expect(code).toBe(1);
    const { diagnostics } = JSON.parse(stdout) as {
      diagnostics: { code: string; message: string; file: string; range: { start: { line: number; column: number } } }[];
    };
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'parse/too-large', file, range: { start: { line: 1, column: 1 } } });
    expect(diagnostics[0]!.message).toBe(`file is ${MAX_FILE_BYTES + 1} bytes; the limit is ${MAX_FILE_BYTES}`);
  });

  it('accepts a manifest of exactly 4 MiB', () => {
    const file = join(tempDir(), 'derivative.yaml');
    writeFileSync(file, paddedManifest(MAX_FILE_BYTES));
    const { code, stdout } = runCli(['validate', '--format', 'json', file]);
    expect(JSON.parse(stdout)).toEqual({ formatVersion: 1, diagnostics: [] });
    expect(code).toBe(0);
  });
});

describe('large manifests', () => {
  it('validates 20,000 packages and 200 rwPaths within 10 s', () => {
    const packages = Array.from({ length: 20_000 }, (_, i) => `    - acme-package-${i}\n`).join('');
    const rwPaths = Array.from({ length: 200 }, (_, i) => `    - /var/lib/acme-${i}\n`).join('');
    const text = `${MINIMAL}toolkit:\n  source: luet\npackages:\n  install:\n${packages}layout:\n  rwPaths:\n${rwPaths}`;
    const host = new MemoryHost({ 'd/derivative.yaml': text });
    const started = performance.now();
    const { diagnostics } = new ValidationSession(host).validate('d/derivative.yaml');
    const ms = performance.now() - started;
    console.log(`validate: 20,000 packages + 200 rwPaths in ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(10_000);
    // The list is over the schema's limit of 5,000: one finding for the list, not one per item.
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual([['schema/too-many-items', '/packages/install']]);
  });
});

describe('oversized folders', () => {
  it('stops reading an oemDir after 10,000 files, with an error', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'oem'));
    for (let i = 0; i <= TREE_LIMITS.maxFiles; i++) writeFileSync(join(dir, 'oem', `${i}.yaml`), '{}\n');
    writeFileSync(join(dir, 'derivative.yaml'), `${MINIMAL}toolkit:\n  source: luet\noemDir: oem\n`);
    const { code, stdout } = runCli(['validate', '--format', 'json', join(dir, 'derivative.yaml')]);
    expect(code).toBe(1);
    const { diagnostics } = JSON.parse(stdout) as { diagnostics: { code: string; pointer: string; message: string }[] };
    expect(diagnostics.map((d) => [d.code, d.pointer, d.message])).toEqual([
      ['path/too-many-files', '/oemDir', '`oem` holds more than 10000 files; derivc reads only the first 10000'],
    ]);
  });
});
