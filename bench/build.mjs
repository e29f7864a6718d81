// npm run bench:build — derivc build of the bare Debian example through the real Docker Engine:
// a cold build, an unchanged rebuild and a one-setting rebuild, each as a ratio of the cold build
// measured in the same run. Needs a running Engine and the local/debian:bookworm base
// (test/e2e/fixtures.ts makes it; `derivc doctor` checks the host). Takes a few minutes.

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve('dist/derivc.mjs');
const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-build-'));
const run = `${process.pid}-${Date.now()}`;
const manifest = join(dir, 'derivative.yaml');
cpSync('examples/debian-bare', dir, { recursive: true });
// A unique name and build argument: the cold build misses every cache, and nothing clashes.
const text = readFileSync(manifest, 'utf8')
  .replace(/^(\s+name:) .*$/m, `$1 bench-${run}`)
  .replace(/^(\s+version:) .*$/m, '$1 "1"');
writeFileSync(manifest, `${text}\nbuild:\n  args:\n    DERIVC_BENCH_RUN: "${run}"\n`);

function build() {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, 'build', '--quiet', manifest, '-o', join(dir, 'out')], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`derivc build failed (${r.status}):\n${r.stderr}`);
  return ms;
}

try {
  const cold = build();
  const noop = build();
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('hostname: derivc-debian', 'hostname: derivc-debian-2'));
  const one = build();
  console.log(
    `derivc build bench — ${new Date().toISOString()}, node ${process.version}, Docker ${execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim()}`,
  );
  console.log('| build of examples/debian-bare | time | ratio to the cold build |');
  console.log('|---|---|---|');
  console.log(`| cold (no cache) | ${(cold / 1000).toFixed(1)} s | 1.00 |`);
  console.log(`| unchanged rebuild (no-op) | ${(noop / 1000).toFixed(2)} s | ${(noop / cold).toFixed(4)} |`);
  console.log(`| one setting changed (system.hostname) | ${(one / 1000).toFixed(1)} s | ${(one / cold).toFixed(3)} |`);
} finally {
  spawnSync('docker', ['image', 'rm', '-f', `derivc.local/bench-${run}:1`], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}
