// In-process validation throughput: N distinct manifests (variants of the largest example),
// against the same N parsed by `yaml` alone as the baseline. Prints one JSON line.
// Bundled and run by bench/run.mjs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { nodeHost } from '../cli/node-host.js';
import type { Host } from '../compiler/host.js';
import { ValidationSession } from '../compiler/validate/index.js';

const [manifestPath = 'examples/opensuse-luet/derivative.yaml', countArg = '1000'] = process.argv.slice(2);
const count = Number(countArg);
const text = readFileSync(manifestPath, 'utf8');

// Distinct manifests: each renames the derivative, bumps its version and changes a hostname.
const variants = Array.from({ length: count }, (_, i) =>
  new TextEncoder().encode(
    text
      .replace(/^(  name: )(\S+)/m, `$1$2-${i}`)
      .replace(/^(  version: )(\S+)/m, `$1${i}.0.0`)
      .replace(/^(  hostname: )(\S+)/m, `$1host-${i}`),
  ),
);
const names = variants.map((_, i) => join(manifestPath, '..', `variant-${i}.yaml`));

/** Serves the variants next to the real manifest, so its files/oemDir resolve for real. */
const host: Host = {
  ...nodeHost,
  readFile: (p) => {
    const i = names.indexOf(p);
    return i >= 0 ? variants[i] : nodeHost.readFile(p);
  },
  realpath: (p) => (names.includes(p) ? join(nodeHost.realpath(join(p, '..'))!, p.split('/').pop()!) : nodeHost.realpath(p)),
  kind: (p) => (names.includes(p) ? 'file' : nodeHost.kind(p)),
};

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// Warm both paths once so the figures compare steady states.
new ValidationSession(host).validate(names[0]!);
parse(new TextDecoder().decode(variants[0]!));

let errors = 0;
const validateMs = time(() => {
  for (const name of names) errors += new ValidationSession(host).validate(name).diagnostics.filter((d) => d.severity === 'error').length;
});
const parseMs = time(() => {
  for (const v of variants) parse(new TextDecoder().decode(v));
});
const usage = process.resourceUsage();
console.log(JSON.stringify({ count, errors, validateMs, parseMs, maxRssKiB: usage.maxRSS, heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 }));
