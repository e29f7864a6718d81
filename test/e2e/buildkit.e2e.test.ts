// derivc build through the real Engine's BuildKit: the bare Debian example with its progress as
// events; a package from a private apt repository (basic authentication, served on the Docker
// bridge) installed with the password from DERIVC_SECRET_*, which is then nowhere in the image's
// layers, the output directory, the log or plan; and, with one package added, a rebuild that
// downloads only that package (the package manager's cache mounts). Under DERIVC_E2E=1 a missing
// Engine or dpkg-deb fails this suite.

import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { execa } from 'execa';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent, DockerEngine } from '../../targets/io/engine.js';
import { runCli, runCliAsync } from '../support/cli.js';
import { makeDeb, serveWithBasicAuth, writeFlatRepo, type AptRepo } from './apt-repo.js';
import { ensureDebianBase } from './fixtures.js';
import { e2eEngine, requireTool } from './require.js';

const engine = await e2eEngine();
const dpkgDeb = engine ? await requireTool('dpkg-deb') : undefined;
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-buildkit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = `${process.pid}-${Date.now()}`;
const SECRET = `derivc-e2e-secret-${run}-${Math.random().toString(36).slice(2)}`;
const pkgA = `derivc-e2e-a-${run}`;
const pkgB = `derivc-e2e-b-${run}`;
const manifest = join(dir, 'derivative.yaml');
const tag = `derivc.local/e2e-bk-${run}:1`;

/** Every entry name of every layer of `docker save IMAGE`, and whether `needle` occurs anywhere in its bytes. */
async function scanSaved(image: string, needle: string): Promise<{ names: string[]; found: boolean }> {
  const save = execa('docker', ['save', image], { buffer: false, encoding: 'buffer' });
  const names: string[] = [];
  const want = Buffer.from(needle);
  let found = false;
  let carry = Buffer.alloc(0);
  const look = (chunk: Buffer) => {
    const window = Buffer.concat([carry, chunk]);
    if (window.includes(want)) found = true;
    carry = window.subarray(Math.max(0, window.length - want.length + 1));
  };
  const outer = tar.extract();
  (save.stdout as Readable).pipe(outer as unknown as NodeJS.WritableStream);
  for await (const entry of outer) {
    if (!entry.header.name.endsWith('layer.tar')) {
      for await (const chunk of entry) look(chunk as Buffer);
      continue;
    }
    const inner = tar.extract();
    const listing = (async () => {
      for await (const e of inner) {
        names.push(e.header.name);
        for await (const chunk of e) look(chunk as Buffer);
      }
    })();
    for await (const chunk of entry) {
      look(chunk as Buffer);
      if (!inner.write(chunk)) await new Promise<void>((resolve) => inner.once('drain', () => resolve()));
    }
    (inner as unknown as NodeJS.WritableStream).end();
    await listing;
  }
  await save;
  return { names, found };
}

/** Every file under `root`, read whole. */
function everyFile(root: string): string {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'latin1'))
    .join('\n');
}

/** apt's "Need to get X/Y of archives." (or "X of archives.") lines of a build log. */
const needToGet = (log: string) => [...log.matchAll(/^Need to get ([^ ]+ [kMG]?B)(?:\/[^ ]+ [kMG]?B)? of archives\.$/gm)].map((m) => m[1]);

describe.skipIf(!engine || !dpkgDeb)('derivc build with BuildKit (real Engine)', () => {
  const docker = () => engine as DockerEngine;
  const out = join(dir, 'out');
  const env = { DERIVC_SECRET_E2E: SECRET };
  const build = (args: string[] = []) => runCliAsync(['build', manifest, '-o', out, '--target', 'none', '--builder', 'buildkit', ...args], { docker, env });
  let repo: AptRepo;
  const debRequests = (since: number) => repo.requests.slice(since).filter((r) => r.path.endsWith('.deb'));

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    const repoDir = join(dir, 'repo');
    mkdirSync(repoDir);
    await makeDeb(repoDir, pkgA, 600_000);
    await makeDeb(repoDir, pkgB, 300_000);
    writeFlatRepo(repoDir, [
      { name: pkgA, file: `${pkgA}_1.0_all.deb` },
      { name: pkgB, file: `${pkgB}_1.0_all.deb` },
    ]);
    // Build containers reach the host at the default bridge's gateway.
    const gateway = (await execa('docker', ['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}'])).stdout.trim();
    repo = await serveWithBasicAuth(repoDir, gateway, 'ci', SECRET);
    cpSync('examples/debian-bare', dir, { recursive: true });
    const text = readFileSync(manifest, 'utf8')
      .replace(/^(\s+name:) .*$/m, `$1 e2e-bk-${run}`)
      .replace(/^(\s+version:) .*$/m, '$1 "1"');
    // A build argument of its own: every RUN's cache key is new, the first build is cold.
    writeFileSync(manifest, `${text}\nbuild:\n  args:\n    DERIVC_E2E_RUN: "${run}"\n`);
  }, 900_000);

  afterAll(async () => {
    await repo?.close();
    await execa('docker', ['image', 'rm', '-f', tag], { reject: false });
  });

  it('builds the bare example through BuildKit, its progress as step, cache and output events', async () => {
    const r = await build(['--json']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BuildEvent | { kind: 'result'; built: boolean });
    const steps = events.flatMap((e) => (e.kind === 'step' ? [e] : []));
    expect(steps[0]).toMatchObject({ index: 1, instruction: 'FROM local/debian:bookworm' });
    expect(steps.filter((s) => s.instruction.startsWith('RUN --mount=type=cache,id=derivc-debian-var-cache-apt'))).toHaveLength(2);
    expect(steps.map((s) => s.index)).toEqual([...steps.map((s) => s.index)].sort((a, b) => a - b));
    expect(events.some((e) => e.kind === 'output' && /^Setting up openssh-server/m.test(e.text))).toBe(true);
    expect(events.at(-1)).toMatchObject({ kind: 'result', built: true, tags: [tag] });
    const log = readFileSync(join(out, 'build.log'), 'utf8');
    expect(log).toMatch(/^Step \d+\/\d+ : RUN --mount=type=cache,id=derivc-debian-var-cache-apt/m);
    expect(log).toMatch(/^derivc: kernel /m);
    // The cache stayed in the cache: no download, no package list in any layer.
    const { names } = await scanSaved(tag, SECRET);
    expect(
      names.filter((n) =>
        /^var\/cache\/apt\/.+\.(deb|bin)$|^var\/cache\/apt\/derivc-archives|^var\/lib\/apt\/lists\/[^/]+_(Packages|InRelease|Release)/.test(n),
      ),
    ).toEqual([]);
  }, 1_200_000);

  it('installs a package from a repository with basic authentication; the password is in no layer, file, log or plan', async () => {
    const since = repo.requests.length;
    writeFileSync(
      manifest,
      readFileSync(manifest, 'utf8')
        .replace(/^(\s+)- openssh-server\b.*$/m, `$1- openssh-server\n$1- ${pkgA}`)
        .replace(
          /^packages:$/m,
          `packages:\n  repositories:\n    - name: private\n      url: "${repo.url}"\n      gpgCheck: false\n      auth: {username: ci, env: DERIVC_SECRET_E2E}`,
        ),
    );
    const r = await build();
    expect(r.stderr).not.toMatch(/^error/m);
    expect(r.code).toBe(0);
    const stats = await engine!.statPaths(tag, [`/usr/share/${pkgA}/payload`, '/etc/apt/auth.conf.d/derivc-private.conf']);
    expect(stats.get(`/usr/share/${pkgA}/payload`)).toMatchObject({ kind: 'file', size: 600_000 });
    expect(stats.get('/etc/apt/auth.conf.d/derivc-private.conf')).toBeUndefined();
    // apt authenticated with what derivc served it, and got the package.
    expect(debRequests(since).filter((q) => q.status === 200)).toEqual([
      { path: `/${pkgA}_1.0_all.deb`, authorized: true, status: 200, bytes: expect.any(Number) },
    ]);
    expect(repo.requests.slice(since).every((q) => q.authorized || q.status === 401)).toBe(true);

    const saved = await scanSaved(tag, SECRET);
    expect(saved.names.length).toBeGreaterThan(1000);
    expect(saved.found).toBe(false);
    expect(everyFile(out)).not.toContain(SECRET);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const plan = runCli(['plan', manifest], { env });
    expect(plan.stdout).toContain('with BuildKit: credentials of private (from env DERIVC_SECRET_E2E) as secret mounts');
    expect(plan.stdout + plan.stderr).not.toContain(SECRET);
  }, 1_200_000);

  it('with one package added, the rebuild downloads only that package: the rest comes from the cache mounts', async () => {
    const before = readFileSync(join(out, 'build.log'), 'utf8');
    const since = repo.requests.length;
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace(new RegExp(`^(\\s+)- ${pkgA}$`, 'm'), `$1- ${pkgA}\n$1- ${pkgB}`));
    const r = await build();
    expect(r.code).toBe(0);
    const debs = debRequests(since).filter((q) => q.status === 200);
    expect(debs.map((d) => d.path)).toEqual([`/${pkgB}_1.0_all.deb`]);
    const after = readFileSync(join(out, 'build.log'), 'utf8');
    const served = (from: number, to?: number) => repo.requests.slice(from, to).reduce((n, q) => n + q.bytes, 0);
    console.log(
      `private repository: ${served(0, since)} bytes served for the build with ${pkgA}, ${served(since)} for the rebuild with ${pkgB} added; ` +
        `apt "Need to get" before: ${needToGet(before).join(', ')}; after: ${needToGet(after).join(', ')}`,
    );
    expect(served(since)).toBeLessThan(served(0, since));
    const stats = await engine!.statPaths(tag, [`/usr/share/${pkgA}/payload`, `/usr/share/${pkgB}/payload`]);
    expect([...stats.values()].map((s) => s?.kind)).toEqual(['file', 'file']);
  }, 1_200_000);
});
