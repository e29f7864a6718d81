// In-process validation throughput: N distinct manifests (variants of the given examples, spread
// evenly), against parsing the same N with `yaml` alone as the baseline. Prints one JSON line.
// Bundled and run by bench/run.mjs: `throughput.mjs COUNT MANIFEST…`.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { nodeHost } from '../cli/node-host.js';
import type { Host } from '../compiler/host.js';
import { compile } from '../compiler/compile.js';
import { ValidationSession } from '../compiler/validate/index.js';

const [countArg = '1000', ...seeds] = process.argv.slice(2);
const count = Number(countArg);
const texts = seeds.map((s) => readFileSync(s, 'utf8'));

// Distinct manifests: each renames the derivative and bumps its version. A variant lives next to
// its example (a virtual file), so the example's files/oemDir resolve for real.
const variants = new Map<string, Uint8Array>();
for (let i = 0; i < count; i++) {
  const k = i % seeds.length;
  const text = texts[k]!.replace(/^( {2}name: )(\S+)/m, `$1$2-${i}`).replace(/^( {2}version: )(\S+)/m, `$1${i}.0.0`);
  variants.set(join(dirname(seeds[k]!), `variant-${i}.yaml`), new TextEncoder().encode(text));
}

const host: Host = {
  ...nodeHost,
  readFile: (p) => variants.get(p) ?? nodeHost.readFile(p),
  realpath: (p) => (variants.has(p) ? join(nodeHost.realpath(dirname(p))!, p.split('/').pop()!) : nodeHost.realpath(p)),
  kind: (p) => (variants.has(p) ? 'file' : nodeHost.kind(p)),
};

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// Warm both paths once so the figures compare steady states.
const [first] = variants;
new ValidationSession(host).validate(first![0]);
parse(new TextDecoder().decode(first![1]));

// One session, as `derivc validate a.yaml b.yaml …` runs: files the manifests share (an oemDir,
// an upstream) are read once; every manifest itself is parsed, checked and resolved on its own.
let errors = 0;
const validateMs = time(() => {
  const session = new ValidationSession(host);
  for (const name of variants.keys()) errors += session.validate(name).diagnostics.filter((d) => d.severity === 'error').length;
});
// Compile throughput: validate + normalize + emit every variant (nothing written to disk).
let files = 0;
const compileMs = time(() => {
  const session = new ValidationSession(host);
  for (const name of variants.keys()) {
    const manifest = session.validate(name).value.manifest;
    if (manifest) files += compile(manifest, host, { version: 'bench' }).value.files.length;
  }
});
const parseMs = time(() => {
  for (const bytes of variants.values()) parse(new TextDecoder().decode(bytes));
});
console.log(JSON.stringify({ count, errors, files, validateMs, compileMs, parseMs, maxRssKiB: process.resourceUsage().maxRSS }));
