// npm run bench: every figure is a ratio against a baseline measured in the same run, because the
// machines are shared and noisy (absolute times drift; ratios much less).
//   (a) cold `derivc validate` of the largest example, a whole process, vs `node -e 0`
//   (b) 1,000 distinct manifests (variants of the five examples) validated in one process
//       (manifests/s), vs parsing the same 1,000 with `yaml` alone; (b2) the same, largest example only
//   (c) peak memory (max RSS) of the throughput process, vs the max RSS of `node -e 0`
//   (d) cold `derivc compile` of the largest example into a fresh directory, vs `node -e 0`
//   (e) compile throughput: the 1,000 manifests of (b) validated and compiled in one process

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundle } from './bundle.mjs';

const LARGEST = 'examples/opensuse-luet/derivative.yaml';
const EXAMPLES = ['acme-downstream', 'debian-bare', 'fedora-elemental', 'opensuse-luet', 'ubuntu-kairos-framework'].map((e) => `examples/${e}/derivative.yaml`);
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function wall(cmd, args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

// (a) Interleave the two commands so drift hits both alike.
const cold = [];
const coldCompile = [];
const baseline = [];
const outDir = mkdtempSync(join(tmpdir(), 'derivc-bench-out-'));
for (let i = 0; i < RUNS; i++) {
  baseline.push(wall(process.execPath, ['-e', '0']));
  cold.push(wall(process.execPath, ['dist/derivc.mjs', 'validate', '--strict', LARGEST]));
  rmSync(outDir, { recursive: true, force: true });
  coldCompile.push(wall(process.execPath, ['dist/derivc.mjs', 'compile', LARGEST, '-o', outDir]));
}
rmSync(outDir, { recursive: true, force: true });
const coldMs = median(cold);
const compileColdMs = median(coldCompile);
const nodeMs = median(baseline);

// (b)+(c) Bundle the throughput driver like the CLI is bundled, then run it in a fresh process.
const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-'));
try {
  const out = join(dir, 'throughput.mjs');
  await bundle('bench/throughput.ts', out);
  const throughput = (seeds) => {
    const t = JSON.parse(execFileSync(process.execPath, [out, '1000', ...seeds], { encoding: 'utf8' }));
    if (t.errors !== 0) throw new Error(`the variants must be valid, got ${t.errors} errors`);
    return t;
  };
  const t = throughput(EXAMPLES);
  const big = throughput([LARGEST]);
  const nodeRss = JSON.parse(execFileSync(process.execPath, ['-e', 'console.log(JSON.stringify(process.resourceUsage().maxRSS))'], { encoding: 'utf8' }));

  const rate = (x) => `${Math.round((x.count / x.validateMs) * 1000)} manifests/s`;
  const parseRate = (x) => `yaml.parse alone: ${Math.round((x.count / x.parseMs) * 1000)}/s`;
  const rows = [
    ['(a) cold validate, largest example', `${coldMs.toFixed(1)} ms`, `node -e 0: ${nodeMs.toFixed(1)} ms`, (coldMs / nodeMs).toFixed(2), '≤ 3.0 (aim 2.0)'],
    ['(b) 1,000 manifests in one process (five examples)', rate(t), parseRate(t), (t.validateMs / t.parseMs).toFixed(2), 'aim ≥ 5,000/s'],
    ['(b2) 1,000 manifests, largest example only', rate(big), parseRate(big), (big.validateMs / big.parseMs).toFixed(2), ''],
    [
      '(c) peak memory of (b) and (e)',
      `${(t.maxRssKiB / 1024).toFixed(1)} MiB`,
      `node -e 0: ${(nodeRss / 1024).toFixed(1)} MiB`,
      (t.maxRssKiB / nodeRss).toFixed(2),
      '',
    ],
    [
      '(d) cold compile, largest example',
      `${compileColdMs.toFixed(1)} ms`,
      `node -e 0: ${nodeMs.toFixed(1)} ms`,
      (compileColdMs / nodeMs).toFixed(2),
      '≤ 3.5 (aim 2.5)',
    ],
    [
      '(e) 1,000 manifests validated + compiled in one process',
      rate({ count: t.count, validateMs: t.compileMs }),
      parseRate(t),
      (t.compileMs / t.parseMs).toFixed(2),
      '',
    ],
  ];
  console.log(`derivc bench — ${new Date().toISOString()}, node ${process.version}, ${RUNS} runs each for (a), medians`);
  console.log('| figure | measured | baseline (same run) | ratio | target |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  if (coldMs / nodeMs > 3.0) {
    console.error('FAIL: cold validate is above 3.0× node -e 0');
    process.exitCode = 1;
  }
  if (compileColdMs / nodeMs > 3.5) {
    console.error('FAIL: cold compile is above 3.5× node -e 0');
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
