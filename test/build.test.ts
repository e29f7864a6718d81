// derivc build against a recording fake Engine: what is built, in which order, when nothing is,
// and how failures are reported at the manifest line that caused them. The real Engine is
// exercised by test/e2e/build.e2e.test.ts.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeEngine } from './support/fake-engine.js';
import { runCliAsync } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'derivc-build-'));
  scratch.push(d);
  return d;
}

const HEAD = 'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\n';
function manifest(dir: string, body: string, name = 'derivative.yaml'): string {
  writeFileSync(join(dir, name), HEAD.replace('acme', name === 'derivative.yaml' ? 'acme' : name.replace('.yaml', '')) + body);
  return join(dir, name);
}
const BASE = 'base: {image: "local/debian:bookworm", family: debian}\nsystem: {hostname: acme}\npackages: {install: [curl, nosuchpkg]}\n';

describe('derivc build', () => {
  it('compiles, streams the context, tags and labels the image, and checks the contract', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.stderr).toMatch(/built derivc\.local\/acme:1\.0 \(0{12}, build [0-9a-f]{12}\)\n$/);
    expect(r.code).toBe(0);
    const [b] = engine.builds;
    expect(b!.tags).toEqual(['derivc.local/acme:1.0']);
    expect(b!.platform).toBe('linux/amd64');
    expect(engine.images.get('derivc.local/acme:1.0')?.['derivc.build-id']).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The context is a tar of the compiled directory: the Dockerfile is in it, derivc.json is not.
    expect(b!.context.includes(Buffer.from('Dockerfile'))).toBe(true);
    expect(b!.context.includes(Buffer.from('"buildId"'))).toBe(false);
    expect(readFileSync(join(dir, 'out', 'build.log'), 'utf8')).toContain('Step 1/1 : FROM x');
  });

  it('keeps DIR locked while it builds, and sends only the files it compiled', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    let lockedWhileBuilding = false;
    const build = engine.build.bind(engine);
    engine.build = (request, onEvent, signal) => {
      lockedWhileBuilding = existsSync(join(dir, '.out.derivc-lock'));
      return build(request, onEvent, signal);
    };
    mkdirSync(join(dir, 'out', 'rootfs', 'etc', 'sudoers.d'), { recursive: true });
    writeFileSync(join(dir, 'out', 'rootfs', 'etc', 'sudoers.d', 'x'), 'ALL ALL=(ALL) NOPASSWD: ALL\n');
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.code).toBe(0);
    expect(lockedWhileBuilding).toBe(true);
    expect(existsSync(join(dir, '.out.derivc-lock'))).toBe(false);
    expect(engine.builds[0]!.context.includes(Buffer.from('sudoers.d'))).toBe(false);
    expect(engine.builds[0]!.context.includes(Buffer.from('rootfs/etc/hostname'))).toBe(true);
    expect(r.stderr).toContain(
      `${join(dir, 'out')}/rootfs/etc/sudoers.d/x is not a file derivc wrote (not in derivc.json): kept, never sent to the build; remove it`,
    );
  });

  it('does nothing when an image with the same build ID exists', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const path = manifest(dir, BASE);
    await runCliAsync(['build', path, '-o', join(dir, 'out')], { docker: () => engine });
    const started = performance.now();
    const r = await runCliAsync(['build', path, '-o', join(dir, 'out')], { docker: () => engine });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r).toMatchObject({ code: 0, stderr: expect.stringMatching(/^up to date: derivc\.local\/acme:1\.0/) });
    expect(engine.builds).toHaveLength(1);
    // One setting changed: a new build ID, so it builds again.
    writeFileSync(path, readFileSync(path, 'utf8').replace('hostname: acme', 'hostname: acme2'));
    expect((await runCliAsync(['build', path, '-o', join(dir, 'out')], { docker: () => engine })).code).toBe(0);
    expect(engine.builds).toHaveLength(2);
  });

  it('builds an upstream derivative first, and only when it is missing or stale', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.files.set('/usr/bin/luet', { kind: 'file', size: 1, mode: 0o755 });
    manifest(dir, 'base: {image: "local/debian:bookworm", family: debian}\ntoolkit: {source: luet, repository: quay.io/acme/repo}\n', 'up.yaml');
    const down = manifest(dir, 'base: {derivative: up.yaml}\nsystem: {hostname: edge}\n');
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const first = await runCliAsync(['build', down], { docker: () => engine });
      expect(first.stderr).not.toContain('error');
      expect(first.code).toBe(0);
      expect(engine.builds.map((b) => b.tags[0])).toEqual(['derivc.local/up:1.0', 'derivc.local/acme:1.0']);
      writeFileSync(down, readFileSync(down, 'utf8').replace('edge', 'edge2'));
      expect((await runCliAsync(['build', down], { docker: () => engine })).code).toBe(0);
      expect(engine.builds.map((b) => b.tags[0])).toEqual(['derivc.local/up:1.0', 'derivc.local/acme:1.0', 'derivc.local/acme:1.0']);
    } finally {
      process.chdir(cwd);
    }
  });

  it('says how to start the Engine when it is unreachable', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.reachable = false;
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/engine-unreachable]: cannot reach the Docker Engine at unix:///fake/docker.sock: connect ENOENT /fake/docker.sock');
    expect(r.stderr).toContain('start it: `dockerd &`');
  });

  it('reports a package that does not exist at its line in the manifest', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    // The fake numbers steps like the Engine: step 3 is the packages RUN of this Dockerfile.
    engine.script = [
      { kind: 'step', index: 3, total: 9, instruction: 'RUN …' },
      { kind: 'output', text: 'Reading package lists...\nE: Unable to locate package nosuchpkg\n' },
      { kind: 'error', message: "The command '/bin/sh -c …' returned a non-zero code: 100", code: 100 },
    ];
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/package-not-found]: package `nosuchpkg` does not exist in the repositories the image uses');
    expect(r.stderr).toMatch(/--> .*derivative\.yaml:6:28/);
  });

  it('a base image that is not on the machine and cannot be pulled is reported at base.image', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.script = [
      { kind: 'step', index: 1, total: 9, instruction: 'FROM local/debian:bookworm' },
      { kind: 'error', message: "pull access denied for local/debian, repository does not exist or may require 'docker login'" },
    ];
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/base-image-missing]: base image `local/debian:bookworm` is not on this machine and could not be pulled');
    expect(r.stderr).toMatch(/--> .*derivative\.yaml:4:15/);
  });

  it('a full disk says so', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.script = [
      { kind: 'step', index: 3, total: 9, instruction: 'RUN …' },
      { kind: 'error', message: 'failed to copy files: write /var/lib/docker/tmp/x: no space left on device' },
    ];
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.stderr).toContain('error[build/no-space]: the build ran out of disk space in step "packages"');
    expect(r.stderr).toContain('docker builder prune');
  });

  it('Ctrl-C cancels the build cleanly: nothing tagged, exit 1', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const abort = new AbortController();
    engine.script = [
      { kind: 'step', index: 3, total: 9, instruction: 'RUN …' },
      { kind: 'output', text: '<wait>\n' },
    ];
    setTimeout(() => abort.abort(), 5);
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine, signal: abort.signal });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('build cancelled; no image was tagged');
    expect(engine.images.size).toBe(0);
  });

  it('fails when the built image breaks the contract, naming what is missing', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.files.delete('/boot/initrd-6.1.0');
    const r = await runCliAsync(['build', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error[build/contract]: the built image breaks the derivative contract: /boot/initrd (the initrd the boot loader loads) is missing or does not resolve',
    );
  });

  it('--json prints one JSON object per event and the result', async () => {
    const dir = temp();
    const r = await runCliAsync(['build', '--json', manifest(dir, BASE), '-o', join(dir, 'out')], { docker: () => new FakeEngine() });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ kind: 'step', index: 1, total: 1 });
    expect(lines.at(-1)).toMatchObject({ kind: 'result', built: true, tags: ['derivc.local/acme:1.0'] });
  });
});
