// `derivc fmt`: the canonical form of a manifest. Golden pairs (test/golden-fmt/<case>.input.yaml
// → <case>.expected.yaml); for every example and golden manifest, formatting keeps the data and a
// second run changes nothing, whatever order the keys came in; --check and write mode as the CLI.

import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { isMap } from 'yaml';
import { formatManifest, verbatimDocument } from '../compiler/fmt.js';
import { parseYaml } from '../compiler/parse.js';
import { runCli } from './support/cli.js';

const enc = (s: string) => new TextEncoder().encode(s);
const fmt = (text: string) => formatManifest('derivative.yaml', enc(text));
const data = (text: string) => parseYaml('derivative.yaml', enc(text), { yipOctal: 'stages' }).value.data;

const GOLDEN = 'test/golden-fmt';

/** The property names the manifest schema lists for its objects (upper-case ones name variables in free-form mappings). */
const SCHEMA_KEYS = new Set<string>();
(function collect(node: unknown): void {
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && v && typeof v === 'object') for (const name of Object.keys(v)) if (/^[a-z]/.test(name)) SCHEMA_KEYS.add(name);
    collect(v);
  }
})(JSON.parse(readFileSync('schema/derivative.schema.json', 'utf8')));
const pairs = readdirSync(GOLDEN)
  .filter((f) => f.endsWith('.input.yaml'))
  .map((f) => f.slice(0, -'.input.yaml'.length));

const manifests = [
  ...readdirSync('examples', { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`examples/${d.name}/derivative.yaml`))
    .map((d) => `examples/${d.name}/derivative.yaml`),
  ...readdirSync('test/golden', { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => `test/golden/${d.name}/derivative.yaml`),
].filter((p) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
});

describe('fmt golden pairs', () => {
  it('has cases', () => expect(pairs.length).toBeGreaterThanOrEqual(2));
  for (const name of pairs) {
    it(name, () => {
      const out = fmt(readFileSync(`${GOLDEN}/${name}.input.yaml`, 'utf8'));
      expect(out.diagnostics).toEqual([]);
      expect(out.value).toBe(readFileSync(`${GOLDEN}/${name}.expected.yaml`, 'utf8'));
      expect(fmt(out.value!).value).toBe(out.value);
    });
  }
});

describe('fmt keeps meaning and is idempotent', () => {
  it('covers the examples and golden manifests', () => expect(manifests.length).toBeGreaterThan(20));
  for (const path of manifests) {
    it(path, () => {
      const text = readFileSync(path, 'utf8');
      const once = fmt(text).value!;
      expect(data(once)).toEqual(data(text));
      expect(fmt(once).value).toBe(once);
      expect(once.endsWith('\n') && !once.endsWith('\n\n')).toBe(true);
    });
  }

  it('gives one text whatever order the keys were in (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...manifests), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (path, swaps) => {
        const text = readFileSync(path, 'utf8');
        const doc = verbatimDocument(text);
        // Shuffle the keys of every object the schema describes (free-form mappings such as sysctl keep
        // their order, as written), outside stages, by the generated swaps.
        const shuffle = (node: unknown, inStages: boolean): void => {
          if (!node || typeof node !== 'object') return;
          const n = node as { items?: unknown[] };
          if (isMap(node) && !inStages && node.items.every((p) => SCHEMA_KEYS.has(String((p.key as { value?: unknown }).value)))) {
            for (let i = 0; i < n.items!.length; i++) {
              const j = swaps[i % swaps.length]! % n.items!.length;
              [n.items![i], n.items![j]] = [n.items![j], n.items![i]];
            }
          }
          for (const item of n.items ?? []) {
            const pair = item as { key?: { value?: unknown }; value?: unknown };
            if (pair && typeof pair === 'object' && 'value' in pair && 'key' in pair) shuffle(pair.value, inStages || pair.key?.value === 'stages');
            else shuffle(item, inStages);
          }
        };
        shuffle(doc.contents, false);
        const shuffled = doc.toString({ lineWidth: 0 });
        const a = fmt(text).value!;
        const b = fmt(shuffled).value!;
        expect(data(b)).toEqual(data(text));
        expect(fmt(b).value).toBe(b);
        // Same keys in the same places: only comments and blank lines (which travel with their keys) may differ.
        const bare = (t: string) =>
          t
            .replace(/\s*#.*$/gm, '')
            .replace(/\n+/g, '\n')
            .replace(/^\n/, '');
        expect(bare(b)).toBe(bare(a));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps scalars as written: yip octal under stages, YAML 1.1 booleans, quoting', () => {
    const text = [
      'apiVersion: derivc.dev/v1alpha1',
      'kind: Derivative',
      'metadata: {name: a, version: 1.0.0}',
      'base: {image: "x:1"}',
      'stages:',
      '  boot:',
      '    - files: [{path: /etc/x, permissions: 0644, content: "y"}]',
      "      commands: ['echo 1']",
      '',
    ].join('\n');
    expect(fmt(text).value).toBe(text);
  });

  it('quotes file modes, never `mode` values that are not octal', () => {
    const text =
      "apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nfiles:\n  - mode: '0600'\n    path: /x\ntoolkit:\n  source: image\n  image: x:1\n  mode: framework\n";
    expect(fmt(text).value).toBe(
      'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\ntoolkit:\n  source: image\n  image: x:1\n  mode: framework\nfiles:\n  - path: /x\n    mode: "0600"\n',
    );
  });

  it('leaves the key order of a file with aliases alone (an alias must follow its anchor)', () => {
    const text = 'kind: Derivative\napiVersion: derivc.dev/v1alpha1\nsystem: {hostname: &h acme}\nmetadata: {name: *h, version: 1.0.0}\nbase: {image: "x:1"}\n';
    expect(fmt(text).value).toBe(text);
  });

  it('reports a file that does not parse and formats nothing', () => {
    const r = fmt('a: [\n');
    expect(r.value).toBeUndefined();
    expect(r.diagnostics.map((d) => d.code)).toEqual(['parse/syntax']);
  });
});

describe('derivc fmt', () => {
  let dir: string;
  const setup = (files: Record<string, string>) => {
    dir = mkdtempSync(join(tmpdir(), 'derivc-fmt-'));
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    return dir;
  };
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const messy = readFileSync(`${GOLDEN}/header.input.yaml`, 'utf8');
  const tidy = readFileSync(`${GOLDEN}/header.expected.yaml`, 'utf8');

  it('--check: exit 2 with a unified diff and the command to run, nothing written', () => {
    const d = setup({ 'derivative.yaml': messy });
    const file = join(d, 'derivative.yaml');
    const r = runCli(['fmt', '--check', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`--- a${file}\n+++ b${file}\n@@ -1,9 +1,9 @@\n`);
    expect(r.stdout).toContain('\n-kind: Derivative\n apiVersion: derivc.dev/v1alpha1\n-metadata: {version: 1.0.0, name: acme-os}\n+kind: Derivative\n');
    expect(r.stderr).toBe(`${file} is not formatted: run \`derivc fmt ${file}\`\n`);
    expect(readFileSync(file, 'utf8')).toBe(messy);
  });

  it('--check: exit 0 and silent when the file is canonical', () => {
    const d = setup({ 'derivative.yaml': tidy });
    expect(runCli(['fmt', '--check', d])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('writes the canonical form, keeps the file mode, leaves no temporary file', () => {
    const d = setup({ 'derivative.yaml': messy });
    const file = join(d, 'derivative.yaml');
    chmodSync(file, 0o640);
    const r = runCli(['fmt', file]);
    expect(r).toEqual({ code: 0, stdout: '', stderr: `formatted ${file}\n` });
    expect(readFileSync(file, 'utf8')).toBe(tidy);
    expect(statSync(file).mode & 0o777).toBe(0o640);
    expect(readdirSync(d)).toEqual(['derivative.yaml']);
    expect(runCli(['fmt', file])).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('a file that does not parse: diagnostics, exit 1, nothing written; the other files are still checked', () => {
    const d = setup({ 'bad.yaml': 'a: [\n', 'derivative.yaml': messy });
    const r = runCli(['fmt', '--check', join(d, 'bad.yaml'), d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[parse/syntax]: the list opened with \`[\` here is not closed before line 2\n --> ${join(d, 'bad.yaml')}:1:4\n`);
    expect(r.stderr).toContain('is not formatted');
    expect(readFileSync(join(d, 'bad.yaml'), 'utf8')).toBe('a: [\n');
  });

  it('is in the help', () => {
    const r = runCli(['fmt', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: derivc fmt [FILE…] [--check]\n');
    expect(r.stdout).toMatch(/--check +write nothing; exit 2 with a diff when a file is not formatted/);
  });
});
