// --cache-to and --cache-from between two engines, through a registry: the bare example is built
// on the first engine with `--cache-to` the loopback registry (TLS from a test CA, htpasswd auth,
// the credentials in a docker config of the test's own), then built on the second engine — the
// fresh runner, which has only the base image — with `--cache-from` that image. Every step there
// but FROM is CACHED (BuildKit pulled the layers instead of running apt and dracut), the image is the one
// the first engine built (same build ID), and nothing was pushed anywhere but the registry.
// Gated like the other e2e tests: under DERIVC_E2E=1 a missing piece fails.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_ID_LABEL } from '../../compiler/emit/dockerfile.js';
import { lazyEngine } from '../../targets/io/lazy-engine.js';
import { runCliAsync } from '../support/cli.js';
import { DEBIAN_BASE, ensureDebianBase } from './fixtures.js';
import { makeTestCa, requireInfra, startRegistry, startSecondEngine, type SecondEngine, type TestCa, type TestRegistry } from './infra.js';
import { e2eEngine } from './require.js';

const engine = await e2eEngine();
const ready = engine !== undefined && (await requireInfra(['ca', 'registry', 'engine']));

const run = `${process.pid}-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-cache-'));
const PATH = process.env['PATH'] ?? '';
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Each step of a `--json` build and whether BuildKit answered it from cache. */
function steps(stdout: string): { index: number; instruction: string; cached: boolean }[] {
  const out: { index: number; instruction: string; cached: boolean }[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const e = JSON.parse(line) as { kind: string; index?: number; instruction?: string };
    if (e.kind === 'step' && !out.some((s) => s.index === e.index)) out.push({ index: e.index!, instruction: e.instruction!, cached: false });
    // BuildKit's `cached` names its step (a FROM may be marked cached after later steps started).
    if (e.kind === 'cached') for (const s of out) if (s.index === e.index) s.cached = true;
  }
  return out;
}

describe.skipIf(!ready)('--cache-to a registry on one engine, --cache-from it on a fresh one', () => {
  let ca: TestCa;
  let registry: TestRegistry;
  let second: SecondEngine;
  let config: string;
  let manifest: string;
  let cacheRef: string;
  const tag = `derivc.local/e2e-cache-${run}:1`;
  const timings: string[] = [];
  let firstBuildId: string | undefined;

  beforeAll(async () => {
    const started = performance.now();
    await ensureDebianBase(engine!);
    ca = await makeTestCa();
    // byName: Docker 20.10's BuildKit would talk plain HTTP to a registry named 127.0.0.1 (infra.ts).
    [registry, second] = await Promise.all([startRegistry(ca, { byName: true }), startSecondEngine()]);
    // The fresh runner gets the base image as an air-gapped engine would: the registry cache
    // holds the derivative's layers, not the FROM image.
    await second.loadImage(DEBIAN_BASE);
    config = join(dir, 'docker-config');
    await registry.login(config);
    const at = join(dir, 'example');
    cpSync('examples/debian-bare', at, { recursive: true });
    manifest = join(at, 'derivative.yaml');
    writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}\nbuild:\n  tags: ["${tag}"]\n`);
    cacheRef = `${registry.address}/derivc-e2e/cache-{name}:${run}`;
    timings.push(`fixtures ${seconds(performance.now() - started)}`);
  }, 900_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', tag, cacheRef.replace('{name}', 'derivc-debian')], { reject: false });
    try {
      await Promise.all([second?.stop(), registry?.stop()]);
    } finally {
      ca?.remove();
      rmSync(dir, { recursive: true, force: true });
      console.log(`cache-from e2e: ${timings.join(', ')}`);
    }
  }, 120_000);

  it('--cache-to builds with inline cache on the first engine and pushes the image to the registry with the docker config credentials', async () => {
    const env = { PATH, DOCKER_CONFIG: config };
    const started = performance.now();
    const r = await runCliAsync(['build', manifest, '-o', join(dir, 'out-first'), '--target', 'none', '--builder', 'buildkit', '--cache-to', cacheRef], {
      env,
      docker: () => lazyEngine(env),
    });
    timings.push(`first engine build + push ${seconds(performance.now() - started)}`);
    expect(r.stderr).toContain(`built ${tag} (`);
    const pushed = cacheRef.replace('{name}', 'derivc-debian');
    expect(r.stderr).toMatch(new RegExp(`cache: pushed ${pushed.replace(/[.]/g, '\\.')} \\(sha256:[0-9a-f]{12}…\\)`));
    expect(r.code).toBe(0);
    // The registry took the manifest from the test's user.
    expect(registry.logTail(2000)).toMatch(new RegExp(`PUT /v2/derivc-e2e/cache-derivc-debian/manifests/${run}`));
    firstBuildId = (await engine!.imageLabels(tag))?.[BUILD_ID_LABEL];
    expect(firstBuildId).toMatch(/^sha256:[0-9a-f]{64}$/);
  }, 1_800_000);

  it('--cache-from on the fresh engine: every step is CACHED, apt and dracut do not run, the image has the same build ID', async () => {
    expect(firstBuildId, 'the first engine built the image').toBeDefined();
    const env = { ...second.env(), PATH, DOCKER_CONFIG: config };
    const out = join(dir, 'out-second');
    const started = performance.now();
    const r = await runCliAsync(['build', manifest, '-o', out, '--target', 'none', '--builder', 'buildkit', '--json', '--cache-from', cacheRef], {
      env,
      docker: () => lazyEngine(env),
    });
    timings.push(`fresh engine build with --cache-from ${seconds(performance.now() - started)}`);
    expect(r.code, r.stderr).toBe(0);
    const all = steps(r.stdout);
    // The Dockerfile's RUN steps: the boot glue, the packages, the initrd — each one pulled.
    const runs = all.filter((s) => s.instruction.startsWith('RUN'));
    expect(runs.length).toBeGreaterThanOrEqual(3);
    const log = readFileSync(join(out, 'build.log'), 'utf8');
    // Every step but FROM (the base image, loaded beforehand) answered from the cache; else the log says why.
    expect(
      all.filter((s) => !s.cached && !s.instruction.startsWith('FROM')).map((s) => s.index),
      log.split('\n').slice(0, 40).join('\n'),
    ).toEqual([]);
    expect(log).toContain(`importing cache manifest from ${cacheRef.replace('{name}', 'derivc-debian')}`);
    expect(r.stdout + r.stderr).not.toContain('build/cache-from-unused');
    // Nothing ran: no apt download, no package set up, no initrd made.
    expect(log).not.toMatch(/^Fetched [\d,.]+ [kMG]?B in /m);
    expect(log).not.toMatch(/^Setting up /m);
    expect(log).not.toMatch(/Creating image file/);
    // The same image: the first engine's build ID, on the second engine only under this tag.
    const fresh = lazyEngine(second.env());
    expect((await fresh.imageLabels(tag))?.[BUILD_ID_LABEL]).toBe(firstBuildId);
    // BuildKit read the cache over TLS with the session's credentials (the registry answers
    // nothing without them): containerd's client — BuildKit's, not the Engine's own pull —
    // resolved the tag with HEAD and fetched the layers.
    const served = registry.logTail(4000);
    expect(served).toMatch(new RegExp(`"HEAD /v2/derivc-e2e/cache-derivc-debian/manifests/${run} HTTP/1.1" 200`));
    expect(served).toMatch(/"GET \/v2\/derivc-e2e\/cache-derivc-debian\/blobs\/sha256:[0-9a-f]{64} HTTP\/1\.1" 200 \d+ "" "containerd\//);
  }, 1_800_000);
});
