// bench:fleet (c) — a fleet of six derivatives sharing one base, built by one
// `derivc build DIR --jobs 2` against building them one by one (six `derivc build` runs), as a
// ratio measured in the same run. Aim ≤ 0.7.
//
// The base is built first and timed in neither figure. Each measurement gives the six a build
// argument of its own, so both miss the layer cache for the six and reuse the base image. Needs
// `npm run build`, a running Engine and the local/debian:bookworm base (test/e2e/fixtures.ts makes
// it). Runs alone too: `node bench/fleet-jobs.mjs` (about ten minutes on two cores).

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const cli = resolve('dist/derivc.mjs');
const SIX = [1, 2, 3, 4, 5, 6];

/** Milliseconds `derivc ARGS` took in `cwd`, and its stdout; throws when it fails. */
function timed(args, cwd) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`derivc ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/**
 * Builds the base, then the six one by one, then all six with --jobs 2. Returns milliseconds:
 * `oneByOne` and `jobs2` (the two figures), each build of the one-by-one runs, and each
 * manifest's time in the --jobs 2 run (its summary line).
 */
export async function benchC() {
  const run = `${process.pid}-${Date.now()}`;
  const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-fleet-c-'));
  const name = (n) => `bench-c-${n}-${run}`;
  const manifest = (header, rest) => `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata:\n  name: ${header}\n  version: "1"\n${rest}`;
  /** The six, downstream of the base, with `arg` as their build argument: a new value misses their cache. */
  const writeSix = (arg) => {
    for (const n of SIX) {
      mkdirSync(join(dir, 'six', `d${n}`), { recursive: true });
      writeFileSync(
        join(dir, 'six', `d${n}`, 'derivative.yaml'),
        manifest(
          name(`d${n}`),
          `base:\n  derivative: ../../base/derivative.yaml\nsystem:\n  hostname: bench-c-d${n}\nfiles:\n  - path: /etc/bench-c\n    content: "derivative ${n}\\n"\nbuild:\n  args:\n    DERIVC_BENCH_RUN: "${arg}"\n`,
        ),
      );
    }
  };
  try {
    mkdirSync(join(dir, '.git')); // the repository: upstreams are read from inside it only
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'derivative.yaml'), manifest(name('base'), 'base:\n  image: local/debian:bookworm\n  family: debian\n'));
    const base = timed(['build', '--quiet', 'base/derivative.yaml'], dir).ms;

    writeSix(`${run}-one-by-one`);
    const oneByOneEach = SIX.map((n) => timed(['build', '--quiet', `six/d${n}/derivative.yaml`], dir).ms);

    writeSix(`${run}-jobs-2`);
    const jobs = timed(['build', '--json', '--jobs', '2', 'six'], dir);
    const summary = jobs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((l) => l.kind === 'summary');
    const six = summary.manifests.filter((m) => m.manifest.startsWith('six/'));
    if (six.length !== 6 || six.some((m) => m.result !== 'built')) throw new Error(`the --jobs 2 run did not build all six:\n${JSON.stringify(summary)}`);
    return {
      base,
      oneByOne: oneByOneEach.reduce((a, b) => a + b, 0),
      oneByOneEach,
      jobs2: jobs.ms,
      jobs2Each: six.map((m) => m.seconds * 1000),
    };
  } finally {
    spawnSync('docker', ['image', 'rm', '-f', ...['base', ...SIX.map((n) => `d${n}`)].map((n) => `derivc.local/${name(n)}:1`)], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** (c)'s row of bench:fleet's table (columns: figure, baseline, measured, apt fetched, ratio, aim). */
export function rowC(c) {
  return `| (c) six derivatives of one shared base, one \`derivc build DIR --jobs 2\` vs six \`derivc build\` one by one | ${s(c.oneByOne)} | ${s(c.jobs2)} | — | ${(c.jobs2 / c.oneByOne).toFixed(3)} | ≤ 0.7 |`;
}

/** Where (c)'s time went: each build one by one, each manifest side by side, the untimed base. */
export function detailC(c) {
  return [
    `(c) base (untimed) ${s(c.base)}; one by one: ${c.oneByOneEach.map(s).join(', ')}`,
    `(c) --jobs 2, each manifest's time in the summary: ${c.jobs2Each.map(s).join(', ')}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  const c = await benchC();
  console.log(
    `derivc fleet bench (c) — ${new Date().toISOString()}, node ${process.version}, Docker ${execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim()}, ${cpus().length} cores, load before ${load}`,
  );
  console.log('| figure | baseline | measured | apt fetched (baseline → measured) | ratio | aim |');
  console.log('|---|---|---|---|---|---|');
  console.log(rowC(c));
  console.log(detailC(c));
}
