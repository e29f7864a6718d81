// npm run bench:fleet — what BuildKit, registries and fleets save, each figure a ratio of a
// baseline measured in the same run. Needs a running Engine with BuildKit and the
// local/debian:bookworm base (test/e2e/fixtures.ts makes it). Takes several minutes.
//
// (a) One package added to the bare Debian example, rebuilt with BuildKit's cache mounts, against
//     the cold build: the Engine's cache mounts are emptied first, the cold build misses every
//     layer (a build argument of its own), and the rebuild finds the package manager's downloads
//     and lists in the cache mounts. Aim ≤ 0.25.
// (b) A cold build of the bare example on a fresh engine (a second dockerd with its own data root,
//     which has only the base image) with `--cache-from` a registry, against the same cold build
//     without: the first engine builds it with `--cache-to` the registry first (a loopback
//     docker-registry with TLS from a test CA and htpasswd auth, test/e2e/infra.ts), the fresh
//     engine builds without cache, everything it built is pruned, then it builds with
//     `--cache-from`. Needs root (dockerd, bridges, iptables). Aim ≤ 0.30.
// (c) Six derivatives of one shared base built by one `derivc build DIR --jobs 2` against six
//     `derivc build` runs one by one (bench/fleet-jobs.mjs). Aim ≤ 0.7.
//
//   node bench/fleet.mjs [a|b|c]…   (no argument: every figure)

import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import { benchC, detailC, rowC } from './fleet-jobs.mjs';
import { bundle } from './bundle.mjs';

const cli = resolve('dist/derivc.mjs');
const run = `${process.pid}-${Date.now()}`;

function timed(args, env = {}) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`derivc ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return ms;
}

/** What apt says it fetched, summed over a build log ("Fetched 1,234 kB in 2s"). */
function aptFetched(log) {
  const unit = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
  return [...log.matchAll(/^Fetched ([\d,.]+) (B|kB|MB|GB) in /gm)].reduce((n, m) => n + Number(m[1].replace(/,/g, '')) * unit[m[2]], 0);
}

/** Empties BuildKit's cache mounts (only those: layers and other builds' cache stay). */
function pruneCacheMounts() {
  const docker = new Docker();
  return new Promise((ok, fail) =>
    docker.modem.dial(
      { path: '/build/prune?', method: 'POST', options: { filters: { type: ['exec.cachemount'] } }, statusCodes: { 200: true, 500: 'server error' } },
      (err) => (err ? fail(err) : ok()),
    ),
  );
}

async function benchA() {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-fleet-a-'));
  const manifest = join(dir, 'derivative.yaml');
  const out = join(dir, 'out');
  cpSync('examples/debian-bare', dir, { recursive: true });
  const text = readFileSync(manifest, 'utf8')
    .replace(/^(\s+name:) .*$/m, `$1 bench-a-${run}`)
    .replace(/^(\s+version:) .*$/m, '$1 "1"');
  writeFileSync(manifest, `${text}\nbuild:\n  args:\n    DERIVC_BENCH_RUN: "${run}"\n`);
  const build = () => timed(['build', '--quiet', '--builder', 'buildkit', '--target', 'none', manifest, '-o', out]);
  try {
    await pruneCacheMounts();
    const cold = build();
    const coldFetched = aptFetched(readFileSync(join(out, 'build.log'), 'utf8'));
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(/^(\s+)- openssh-server\b(.*)$/m, '$1- openssh-server$2\n$1- less'));
    const added = build();
    const addedFetched = aptFetched(readFileSync(join(out, 'build.log'), 'utf8'));
    return { cold, added, coldFetched, addedFetched };
  } finally {
    spawnSync('docker', ['image', 'rm', '-f', `derivc.local/bench-a-${run}:1`], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  }
}

/** test/e2e/infra.ts (registry, second engine), bundled as build.js bundles the CLI: it is TypeScript. */
async function loadInfra() {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-infra-'));
  const outfile = join(dir, 'infra.mjs');
  await bundle('test/e2e/infra.ts', outfile, {
    external: ['*.node'],
    define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function benchB() {
  const infra = await loadInfra();
  const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-fleet-b-'));
  const manifest = join(dir, 'derivative.yaml');
  const tag = `derivc.local/bench-b-${run}:1`;
  cpSync('examples/debian-bare', dir, { recursive: true });
  writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}\nbuild:\n  tags: ["${tag}"]\n`);
  const config = join(dir, 'docker-config');
  const ca = await infra.makeTestCa();
  let registry;
  let second;
  let cacheRef;
  try {
    [registry, second] = await Promise.all([infra.startRegistry(ca, { byName: true }), infra.startSecondEngine()]);
    await second.loadImage('local/debian:bookworm');
    await registry.login(config);
    cacheRef = `${registry.address}/bench/cache:${run}`;
    const build = (out, env, ...flags) =>
      timed(['build', '--quiet', '--builder', 'buildkit', '--target', 'none', manifest, '-o', join(dir, out), ...flags], { DOCKER_CONFIG: config, ...env });
    const first = build('out-first', {}, '--cache-to', cacheRef);
    const fresh = { DOCKER_HOST: second.host };
    const cold = build('out-cold', fresh);
    const coldFetched = aptFetched(readFileSync(join(dir, 'out-cold', 'build.log'), 'utf8'));
    // The fresh engine forgets what it built: the image, and every build cache record and cache mount.
    execFileSync('docker', ['-H', second.host, 'image', 'rm', '-f', tag], { stdio: 'ignore' });
    execFileSync('docker', ['-H', second.host, 'builder', 'prune', '-af'], { stdio: 'ignore' });
    const cached = build('out-cached', fresh, '--cache-from', cacheRef);
    const cachedLog = readFileSync(join(dir, 'out-cached', 'build.log'), 'utf8');
    return {
      first,
      cold,
      cached,
      coldFetched,
      cachedFetched: aptFetched(cachedLog),
      importedCache: cachedLog.includes(`importing cache manifest from ${cacheRef}`),
    };
  } finally {
    spawnSync('docker', ['image', 'rm', '-f', tag, ...(cacheRef ? [cacheRef] : [])], { stdio: 'ignore' });
    await second?.stop();
    await registry?.stop();
    ca.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
for (const f of wanted) if (!['a', 'b', 'c'].includes(f)) throw new Error(`unknown figure ${f}: a, b or c`);
const runs = (f) => wanted.length === 0 || wanted.includes(f);
const a = runs('a') ? await benchA() : undefined;
const b = runs('b') ? await benchB() : undefined;
const c = runs('c') ? await benchC() : undefined;
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
console.log(
  `derivc fleet bench — ${new Date().toISOString()}, node ${process.version}, Docker ${execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim()}`,
);
console.log('| figure | baseline | measured | apt fetched (baseline → measured) | ratio | aim |');
console.log('|---|---|---|---|---|---|');
if (a)
  console.log(
    `| (a) one package added to examples/debian-bare, BuildKit with cache mounts, vs its cold build | ${(a.cold / 1000).toFixed(1)} s | ${(a.added / 1000).toFixed(1)} s | ${mb(a.coldFetched)} → ${mb(a.addedFetched)} | ${(a.added / a.cold).toFixed(3)} | ≤ 0.25 |`,
  );
if (b) {
  console.log(
    `| (b) cold build of examples/debian-bare on a fresh engine with --cache-from the registry, vs without | ${(b.cold / 1000).toFixed(1)} s | ${(b.cached / 1000).toFixed(1)} s | ${mb(b.coldFetched)} → ${mb(b.cachedFetched)} | ${(b.cached / b.cold).toFixed(3)} | ≤ 0.30 |`,
  );
  console.log(
    `\n(b): the first engine's build with --cache-to and the push took ${(b.first / 1000).toFixed(1)} s; the cached build ${b.importedCache ? 'imported' : 'did NOT import'} the registry's cache manifest.`,
  );
}
if (c) {
  console.log(rowC(c));
  console.log(`\n${detailC(c)}`);
}
