// derivc build DIR --jobs 2 --json on the real Docker Engine: a repository of four manifests, a
// chain (base ← mid ← leaf) and one on its own (solo), built in one run, upstreams first, each
// downstream on its upstream's layers; an unchanged rerun builds nothing; a failing manifest
// added with --keep-going fails, what is built from it is skipped, the rest stays up to date.
// It runs dist/derivc.mjs as a user's shell would. Under DERIVC_E2E=1 a missing Engine fails it.
//
// Time (2 shared cores, BuildKit): not measured yet; expected ~2.5 min with the base's layers
// cached, ~4 min cold. Every derivative rebuilds its initrd (dracut, ~65 s), so the chain costs
// three initrds one after another; solo is base with another
// hostname and name, so its package and initrd layers are base's, and it costs no extra time.
// Nothing in the base carries a build argument of its own: after the first run its heavy layers
// come from the Engine's cache. mid and leaf are built from a new base image each run (its
// labels name the run), so they always miss it.

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILD_ID_LABEL } from '../../compiler/emit/dockerfile.js';
import { DEBIAN_BASE, ensureDebianBase } from './fixtures.js';
import { e2eEngine } from './require.js';

const CLI = resolve('dist/derivc.mjs');
const engine = await e2eEngine();
if (engine && !existsSync(CLI)) throw new Error(`${CLI} is missing: \`npm run build\` first`);

// Unique names per run: tags never clash with other runs, and cleanup removes only these.
const run = `${process.pid}-${Date.now()}`;
const ROLES = ['base', 'mid', 'leaf', 'solo', 'broken', 'after-broken'] as const;
type Role = (typeof ROLES)[number];
const nameOf = (role: Role) => `e2e-fleet-${role}-${run}`;
const tagOf = (role: Role) => `derivc.local/${nameOf(role)}:1`;
const manifestOf = (role: Role) => `${role}/derivative.yaml`;

const root = mkdtempSync(join(tmpdir(), 'derivc-e2e-fleet-'));
/** The repository: upstreams are read from inside it only. Outputs go to its .derivc/NAME. */
const repo = join(root, 'repo');

function write(role: Role, base: string, rest = ''): void {
  mkdirSync(join(repo, role), { recursive: true });
  writeFileSync(
    join(repo, manifestOf(role)),
    `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata:\n  name: ${nameOf(role)}\n  version: "1"\nbase:\n${base}\n${rest}`,
  );
}

const onDebian = `  image: ${DEBIAN_BASE}\n  family: debian`;
const on = (upstream: Role) => `  derivative: ../${manifestOf(upstream)}`;

interface Summary {
  manifest: string;
  name: string | null;
  tag: string | null;
  result: string;
  reason?: string;
  seconds: number | null;
}
interface Fleet {
  code: number;
  stderr: string;
  ms: number;
  /** `kind: result` lines, in the order they were printed. */
  results: { manifest: string; image: string; buildId: string; tags: string[]; built: boolean }[];
  /** The summary line's rows by manifest path. */
  summary: Map<string, Summary>;
}

/** `derivc build . --jobs 2 --json [extra]` in the repository; stdout must be JSON lines only. */
async function buildFleet(...extra: string[]): Promise<Fleet> {
  const started = performance.now();
  const r = await execa(process.execPath, [CLI, 'build', '.', '--jobs', '2', '--json', ...extra], {
    cwd: repo,
    reject: false,
    env: { NO_COLOR: '1' },
  });
  const ms = performance.now() - started;
  const lines = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { kind?: string; [key: string]: unknown });
  const summaries = lines.filter((l) => l.kind === 'summary');
  expect(summaries, r.stderr).toHaveLength(1);
  expect(lines.at(-1)?.kind).toBe('summary');
  const rows = (summaries[0] as unknown as { manifests: Summary[] }).manifests;
  return {
    code: r.exitCode ?? -1,
    stderr: r.stderr,
    ms,
    results: lines.filter((l) => l.kind === 'result') as unknown as Fleet['results'],
    summary: new Map(rows.map((m) => [m.manifest, m])),
  };
}

interface Inspected {
  Id: string;
  Created: string;
  Config: { Labels: Record<string, string> | null };
  RootFS: { Layers: string[] };
}

async function inspect(role: Role): Promise<Inspected> {
  const r = await execa('docker', ['image', 'inspect', tagOf(role)]);
  return (JSON.parse(r.stdout) as Inspected[])[0]!;
}

describe.skipIf(!engine)('derivc build DIR --jobs 2 (a fleet, real Engine)', () => {
  const built = new Map<Role, Inspected>();

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    mkdirSync(join(repo, '.git'), { recursive: true });
    write('base', onDebian);
    write('mid', on('base'), 'system:\n  hostname: fleet-mid\n');
    write('leaf', on('mid'), 'system:\n  hostname: fleet-leaf\n');
    write('solo', onDebian, 'system:\n  hostname: fleet-solo\n');
  }, 900_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', ...ROLES.map(tagOf)], { reject: false });
    rmSync(root, { recursive: true, force: true });
  });

  it('builds all four in one run: 4 built, upstreams first, every image with its build ID', async () => {
    const r = await buildFleet();
    console.log(`fleet of four, --jobs 2: ${(r.ms / 1000).toFixed(1)} s`);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.summary.entries()].map(([m, s]) => [m, s.tag, s.result]).sort()).toEqual(
      (['base', 'leaf', 'mid', 'solo'] as const).map((role) => [manifestOf(role), tagOf(role), 'built']),
    );

    // The result lines: one per manifest, the chain's in chain order.
    const order = r.results.map((l) => l.manifest);
    expect([...order].sort()).toEqual(['base', 'leaf', 'mid', 'solo'].map((d) => `${d}/derivative.yaml`));
    expect(order.indexOf(manifestOf('base'))).toBeLessThan(order.indexOf(manifestOf('mid')));
    expect(order.indexOf(manifestOf('mid'))).toBeLessThan(order.indexOf(manifestOf('leaf')));

    for (const role of ['base', 'mid', 'leaf', 'solo'] as const) {
      const image = await inspect(role);
      const result = r.results.find((l) => l.manifest === manifestOf(role))!;
      expect(result).toMatchObject({ built: true, tags: [tagOf(role)], image: image.Id });
      expect(image.Config.Labels?.[BUILD_ID_LABEL]).toBe(result.buildId);
      built.set(role, image);
    }
  }, 1_800_000);

  it('each downstream is built on its upstream: its layers start with the upstream image, made before it', () => {
    const [base, mid, leaf] = (['base', 'mid', 'leaf'] as const).map((role) => built.get(role)!);
    expect(built.size).toBe(4);
    for (const [up, down] of [
      [base!, mid!],
      [mid!, leaf!],
    ] as const) {
      expect(down.RootFS.Layers.length).toBeGreaterThan(up.RootFS.Layers.length);
      expect(down.RootFS.Layers.slice(0, up.RootFS.Layers.length)).toEqual(up.RootFS.Layers);
      expect(Date.parse(up.Created)).toBeLessThan(Date.parse(down.Created));
    }
  });

  it('solo and base both start from the Debian image; solo is not built on base', async () => {
    const debian = (JSON.parse((await execa('docker', ['image', 'inspect', DEBIAN_BASE])).stdout) as Inspected[])[0]!.RootFS.Layers;
    const [base, solo] = [built.get('base')!, built.get('solo')!];
    for (const image of [base, solo]) expect(image.RootFS.Layers.slice(0, debian.length)).toEqual(debian);
    expect(solo.RootFS.Layers.slice(0, base.RootFS.Layers.length)).not.toEqual(base.RootFS.Layers);
  });

  it('an unchanged rerun builds nothing: all up-to-date, same images, in seconds', async () => {
    const r = await buildFleet();
    expect(r.code, r.stderr).toBe(0);
    expect([...r.summary.values()].map((s) => s.result)).toEqual(['up-to-date', 'up-to-date', 'up-to-date', 'up-to-date']);
    expect(r.results.map((l) => l.built)).toEqual([false, false, false, false]);
    for (const role of ['base', 'mid', 'leaf', 'solo'] as const) expect((await inspect(role)).Id).toBe(built.get(role)!.Id);
    console.log(`unchanged rerun: ${(r.ms / 1000).toFixed(1)} s`);
    expect(r.ms).toBeLessThan(10_000);
  }, 120_000);

  it('with --keep-going a failing manifest fails, what is built from it is skipped, the rest is up to date; exit 1', async () => {
    write('broken', on('base'), 'build:\n  steps:\n    - name: fail on purpose\n      run: exit 1\n');
    write('after-broken', on('broken'), 'system:\n  hostname: fleet-after-broken\n');
    const r = await buildFleet('--keep-going');
    expect(r.code, r.stderr).toBe(1);
    expect(Object.fromEntries([...r.summary].map(([m, s]) => [m, s.reason === undefined ? s.result : `${s.result}: ${s.reason}`]))).toEqual({
      [manifestOf('base')]: 'up-to-date',
      [manifestOf('mid')]: 'up-to-date',
      [manifestOf('leaf')]: 'up-to-date',
      [manifestOf('solo')]: 'up-to-date',
      [manifestOf('broken')]: 'failed',
      [manifestOf('after-broken')]: `skipped: upstream ${nameOf('broken')} failed`,
    });
    expect(r.stderr).toContain('error[build/step-failed]: build step `fail on purpose` failed');
    // Neither was tagged; the others are the images built first.
    for (const role of ['broken', 'after-broken'] as const)
      expect((await execa('docker', ['image', 'inspect', tagOf(role)], { reject: false })).exitCode).toBe(1);
    for (const role of ['base', 'mid', 'leaf', 'solo'] as const) expect((await inspect(role)).Id).toBe(built.get(role)!.Id);
  }, 600_000);
});
