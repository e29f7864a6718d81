// Compile memory does not grow with the size of the files a manifest names: the real CLI
// (dist/derivc.mjs, built by `npm run build`, as `npm test` does first) compiles a manifest with a
// 10 MiB and one with a 100 MiB source, and the child's peak RSS differs by less than a small
// constant — holding the file once would add 90 MiB. The V8 heap is capped too, so a compiler that
// spells a file out (as JSON numbers, ~80x its size, as derivc once did) dies instead of
// swapping the CI machine.

import { CLI, requireBuiltCli } from './support/built-cli.js';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo, type Repo } from './fixtures.js';

const MiB = 2 ** 20;
/** Peak RSS may differ by this much between the two runs (allocator noise); the file would add 90 MiB. */
const RSS_SLACK = 16 * MiB;
/** Far below what holding a 100 MiB file in the heap (or spelling a 10 MiB one out) would need. */
const HEAP_CAP_MIB = 64;

const repos: Repo[] = [];
let reporter: string;

beforeAll(() => {
  // Measuring an old bundle would prove nothing about the code under test.
  requireBuiltCli();
  reporter = path.join(fs.mkdtempSync(path.join(process.env['TMPDIR'] ?? '/tmp', 'derivc-rss-')), 'report-rss.cjs');
  fs.writeFileSync(reporter, "process.on('exit', () => process.stderr.write(`derivc-test-max-rss ${process.resourceUsage().maxRSS * 1024}\\n`));\n");
});

afterAll(() => {
  for (const r of repos) r.remove();
  if (reporter) fs.rmSync(path.dirname(reporter), { recursive: true, force: true });
});

/** Compiles a manifest naming a `size`-byte source with the real CLI; its peak RSS in bytes. */
function compileWithSource(size: number): { rss: number; sha256: string; written: string } {
  const repo = makeRepo('files:\n  - path: /opt/blob.bin\n    source: blob.bin');
  repos.push(repo);
  const block = randomBytes(MiB);
  const hash = createHash('sha256');
  const fd = fs.openSync(path.join(repo.dir, 'blob.bin'), 'w');
  for (let i = 0; i < size / MiB; i++) {
    block.writeUInt32LE(i, 0); // no two blocks alike
    fs.writeSync(fd, block);
    hash.update(block);
  }
  fs.closeSync(fd);

  const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_CAP_MIB}`, '--require', reporter, CLI, 'compile', repo.manifest, '-o', repo.out], {
    encoding: 'utf8',
  });
  expect(r.stderr).toMatch(/^compiled /m);
  expect(r.status).toBe(0);
  const rss = /^derivc-test-max-rss (\d+)$/m.exec(r.stderr);
  if (!rss) throw new Error(`no peak RSS reported:\n${r.stderr}`);
  return { rss: Number(rss[1]), sha256: hash.digest('hex'), written: path.join(repo.out, 'files/opt/blob.bin') };
}

function digestOf(file: string): string {
  const hash = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(MiB);
  for (let n; (n = fs.readSync(fd, buffer)) > 0;) hash.update(buffer.subarray(0, n));
  fs.closeSync(fd);
  return hash.digest('hex');
}

describe('compile memory', () => {
  it('does not grow with the size of a files[].source (10 MiB vs 100 MiB)', () => {
    const small = compileWithSource(10 * MiB);
    const large = compileWithSource(100 * MiB);
    // Both copied whole, byte for byte.
    expect(digestOf(small.written)).toBe(small.sha256);
    expect(digestOf(large.written)).toBe(large.sha256);
    const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
    console.log(`peak RSS: 10 MiB source ${mib(small.rss)}, 100 MiB source ${mib(large.rss)}`);
    expect(large.rss - small.rss, `peak RSS ${mib(small.rss)} → ${mib(large.rss)}`).toBeLessThan(RSS_SLACK);
  }, 120_000);
});
