// The output directory under real processes of the built CLI: two derivc processes writing one
// DIR never mix their outputs, and a compile killed with SIGKILL at any instant leaves DIR as its
// old state or its new one — every file's bytes and mode, and the file set — which the next run
// (here `compile --check`) recovers to, leaving nothing behind: no temp tree, no lock.
//
// Two manifests, A and B, each with an overlay of a few hundred files (B changes most of A's,
// drops some and adds others), so that a compile spends a real part of its run writing. The kill
// delays are random over the whole run, or (half of them) over its write, which starts late —
// node starts, validates and compiles first — counted from the moment its lock appears. They come
// from a seeded generator: a failure names its seed (DERIVC_TEST_SEED=… replays it).

import { seededRandom } from '../support/random.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBuiltCli } from './support/built-cli.js';

const OVERLAY_FILES = 300;
const PARALLEL = 20;
const KILLS = 60;
const LANES = 3;

let cli: string;
let root: string;
const manifests: Record<'A' | 'B', string> = { A: '', B: '' };
/** Each manifest's output, compiled alone into a fresh directory. */
const alone: Record<'A' | 'B', Record<string, string>> = { A: {}, B: {} };

function manifest(name: 'A' | 'B'): string {
  const dir = path.join(root, 'repo', name.toLowerCase());
  const files: Record<string, string> = {};
  // A: etc/app/f000…f299. B: f000…f199 changed, f200…f299 gone, etc/extra/g000…g099 new.
  for (let i = 0; i < OVERLAY_FILES; i++) {
    const n = String(i).padStart(3, '0');
    if (name === 'A') files[`etc/app/f${n}.conf`] = `A ${n}\n${'a'.repeat(2000)}\n`;
    else if (i < 200) files[`etc/app/f${n}.conf`] = `B ${n}\n${'b'.repeat(2000)}\n`;
    else files[`etc/extra/g${n}.conf`] = `B extra ${n}\n`;
  }
  // Symlinks, copied as symlinks (never followed): an image path, an absolute target, a dangling
  // one, a link to a folder of the overlay, and a hostile one. B changes or drops each of them, and
  // turns the hostile link into a regular file: written in its place, never through it.
  const links: Record<string, string> =
    name === 'A'
      ? {
          'etc/os-release': '../usr/lib/os-release',
          'etc/localtime': '/usr/share/zoneinfo/UTC',
          'etc/gone': '../nowhere/at/all',
          'opt/current': 'v1',
          'etc/hostile': '../../../../etc/passwd',
        }
      : { 'etc/os-release': '../usr/lib/os-release-b', 'etc/localtime': '/usr/share/zoneinfo/UTC', 'opt/current': 'v2' };
  files[name === 'A' ? 'opt/v1/tool' : 'opt/v2/tool'] = `${name} tool\n`;
  if (name === 'B') files['etc/hostile'] = 'B: a regular file where A has a symlink\n';
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, 'overlay', rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, 'overlay', rel), content);
  }
  for (const [rel, target] of Object.entries(links)) fs.symlinkSync(target, path.join(dir, 'overlay', rel));
  const text = [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    `metadata: { name: race-${name.toLowerCase()}, version: 1.0.0 }`,
    'base: { image: local/debian:bookworm, family: debian }',
    'overlay: overlay',
    '',
  ];
  fs.writeFileSync(path.join(dir, 'derivative.yaml'), text.join('\n'));
  return path.join(dir, 'derivative.yaml');
}

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
}

function start(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  const began = Date.now();
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.once('close', (code) => resolve({ code, stderr, ms: Date.now() - began })));
  return { child, done };
}

const derivc = (args: string[]) => start(args).done;

/** Every entry under `dir`: a file's mode and sha256, a directory's mode, a symlink's target. */
function state(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const st = fs.lstatSync(full);
    const mode = (st.mode & 0o7777).toString(8);
    const rel = path.relative(dir, full);
    if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(full)}`;
    else if (st.isDirectory()) out[rel] = `dir ${mode}`;
    else out[rel] = `file ${mode} ${createHash('sha256').update(fs.readFileSync(full)).digest('hex')}`;
  }
  return out;
}

/** What derivc keeps next to DIR while writing it (temp trees, the lock, half-taken locks). */
function leftovers(parent: string): string[] {
  return fs.readdirSync(parent).filter((n) => n.includes('derivc-'));
}

/** Files of the user's and of other derivc commands, which every write must carry over. */
function addOthers(dir: string): void {
  fs.writeFileSync(path.join(dir, 'NOTES.md'), 'mine\n');
  fs.writeFileSync(path.join(dir, 'build.log'), 'step 1/9\n');
  fs.mkdirSync(path.join(dir, 'test', 'iso-bios'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'test', 'iso-bios', 'result.json'), '{"status":"passed"}\n');
}

beforeAll(async () => {
  cli = requireBuiltCli();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-outdir-'));
  manifests.A = manifest('A');
  manifests.B = manifest('B');
  for (const name of ['A', 'B'] as const) {
    const out = path.join(root, `alone-${name}`, 'out');
    const r = await derivc(['compile', manifests[name], '-o', out]);
    expect(r, r.stderr).toMatchObject({ code: 0 });
    alone[name] = state(out);
  }
  expect(Object.keys(alone.A).length).toBeGreaterThan(OVERLAY_FILES);
  expect(alone.A).not.toEqual(alone.B);
  // The overlay's symlinks are in the output as symlinks, with their text as written.
  expect(alone.A).toMatchObject({
    'overlay/etc/hostile': 'link ../../../../etc/passwd',
    'overlay/opt/current': 'link v1',
    'overlay/etc/gone': 'link ../nowhere/at/all',
  });
  expect(alone.B['overlay/etc/hostile']).toMatch(/^file 644 /);
}, 120_000);

afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

interface Seen {
  /** Killed after its write was done (or not killed at all). */
  completed: number;
  /** Killed while a new tree was being built or swapped in (a temp tree was left). */
  midWrite: number;
  /** Killed holding the lock, outside a write. */
  lockHeld: number;
  /** Killed before it took the lock. */
  before: number;
}

/** When `lock` first exists (Date.now()), or undefined if the process ends first. */
function lockAppears(lock: string, done: Promise<Run>): Promise<number | undefined> {
  return new Promise((resolve) => {
    let over = false;
    void done.then(() => (over = true));
    const poll = setInterval(() => {
      if (fs.existsSync(lock)) resolve(Date.now());
      else if (over) resolve(undefined);
      else return;
      clearInterval(poll);
    }, 1);
  });
}

/** `kills` compiles into one DIR, alternating A and B, each killed after a random delay; checks each outcome. */
async function killLane(lane: number, kills: number, next: () => number, full: Record<'A' | 'B', Record<string, string>>, seedLabel: string): Promise<Seen> {
  const parent = path.join(root, `kill-${lane}`);
  const out = path.join(parent, 'out');
  // How long a whole compile from one state to the other takes here, and how long its write (from
  // the moment the lock appears) lasts: half the kills spread over the whole run, half over the write.
  expect((await derivc(['compile', manifests.A, '-o', out])).code).toBe(0);
  addOthers(out);
  const lock = path.join(parent, '.out.derivc-lock');
  let slowest = 0;
  let writeSpan = 0;
  for (const name of ['B', 'A'] as const) {
    const { done } = start(['compile', manifests[name], '-o', out]);
    const locked = await lockAppears(lock, done);
    const r = await done;
    slowest = Math.max(slowest, r.ms);
    if (locked !== undefined) writeSpan = Math.max(writeSpan, Date.now() - locked);
  }
  expect(state(out)).toEqual(full.A);
  expect(writeSpan, 'the lock was seen while a compile wrote').toBeGreaterThan(0);

  let current: 'A' | 'B' = 'A';
  const seen: Seen = { completed: 0, midWrite: 0, lockHeld: 0, before: 0 };
  for (let i = 0; i < kills; i++) {
    const target: 'A' | 'B' = current === 'A' ? 'B' : 'A';
    const { child, done } = start(['compile', manifests[target], '-o', out]);
    let finished: Run | undefined;
    let label: string;
    if (next() < 0.5) {
      const delay = next() * slowest * 1.1;
      label = `${seedLabel}, kill ${i} after ${delay.toFixed(0)} ms of the run (${slowest} ms), ${current} → ${target}`;
      finished = await Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), delay))]);
    } else {
      const delay = next() * writeSpan * 1.1;
      label = `${seedLabel}, kill ${i} ${delay.toFixed(0)} ms into the write (${writeSpan} ms), ${current} → ${target}`;
      await lockAppears(lock, done);
      finished = await Promise.race([done, new Promise<undefined>((r) => setTimeout(() => r(undefined), delay))]);
    }
    child.kill('SIGKILL');
    await done;

    // As the kill left it: DIR is old or new, or absent with the old state intact beside it.
    const aside = leftovers(parent);
    const midWrite = aside.some((n) => /derivc-(new|old)$/.test(n));
    const left = fs.existsSync(out) ? state(out) : undefined;
    if (left) expect([full[current], full[target]], label).toContainEqual(left);
    else expect(state(path.join(parent, '.out.derivc-old')), label).toEqual(full[current]);
    if (midWrite) seen.midWrite++;
    else if (aside.length) seen.lockHeld++;
    else if (finished?.code === 0 || isDeepStrictEqual(left, full[target])) seen.completed++;
    else seen.before++;

    // The next run recovers, says so, and leaves nothing behind.
    const check = await derivc(['compile', '--check', manifests[target], '-o', out]);
    expect([0, 2], `${label}: ${check.stderr}`).toContain(check.code);
    expect(state(out), label).toEqual(check.code === 0 ? full[target] : full[current]);
    expect(leftovers(parent), label).toEqual([]);
    if (midWrite) expect(check.stderr, label).toMatch(/^derivc: (restored|removed) /m);
    if (aside.some((n) => n.endsWith('derivc-lock'))) expect(check.stderr, label).toContain('which is no longer running');
    if (check.code === 0) current = target;
  }
  return seen;
}

describe('derivc compile -o DIR, as separate processes', () => {
  it(`${PARALLEL} compiles of two manifests into one DIR at once: DIR ends as exactly one of the two complete states`, async () => {
    const parent = path.join(root, 'race');
    const out = path.join(parent, 'out');
    const runs = await Promise.all(Array.from({ length: PARALLEL }, (_, i) => derivc(['compile', manifests[i % 2 ? 'B' : 'A'], '-o', out])));
    expect(
      runs.filter((r) => r.code !== 0).map((r) => r.stderr),
      'every compile waits for the one before it, then succeeds',
    ).toEqual([]);
    const final = state(out);
    expect([alone.A, alone.B]).toContainEqual(final);
    expect(leftovers(parent)).toEqual([]);
  }, 300_000);

  it(`${KILLS} compiles killed with SIGKILL at a random instant: DIR is always the old or the new state, and the next run leaves nothing behind`, async () => {
    const seed = Number(process.env['DERIVC_TEST_SEED'] ?? Date.now() % 2 ** 31);
    const full = { A: {} as Record<string, string>, B: {} as Record<string, string> };
    for (const name of ['A', 'B'] as const) {
      const ref = path.join(root, `full-${name}`);
      fs.cpSync(path.join(root, `alone-${name}`, 'out'), ref, { recursive: true, verbatimSymlinks: true });
      addOthers(ref);
      full[name] = state(ref);
    }
    // A few DIRs killed in parallel (each its own sequence of kills): the same number of kills in less time.
    const lanes = await Promise.all(
      Array.from({ length: LANES }, (_, lane) => killLane(lane, KILLS / LANES, seededRandom(seed + lane), full, `seed ${seed}, lane ${lane}`)),
    );
    const seen = lanes.reduce((a, b) => ({
      completed: a.completed + b.completed,
      midWrite: a.midWrite + b.midWrite,
      lockHeld: a.lockHeld + b.lockHeld,
      before: a.before + b.before,
    }));
    // The kills did land before, inside and after writes (else this proved little).
    expect(seen.midWrite, `seed ${seed}: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(3);
    expect(seen.before + seen.lockHeld, `seed ${seed}: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(1);
    expect(seen.completed, `seed ${seed}: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(1);
  }, 600_000);
});
