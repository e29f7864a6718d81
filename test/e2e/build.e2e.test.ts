// derivc build against the real Docker Engine: the bare Debian example builds, the image
// carries the contract, an unchanged rebuild does nothing, a one-setting rebuild is cheap, and
// the errors users hit read well. Under DERIVC_E2E=1 a missing Engine fails this suite.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../targets/io/engine.js';
import { lazyEngine } from '../../targets/io/lazy-engine.js';
import { runCliAsync } from '../support/cli.js';
import { ensureDebianBase } from './fixtures.js';
import { e2eEngine } from './require.js';

const engine = await e2eEngine();
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A copy of the example with a unique name and build argument: the first build is truly cold
// (a build argument changes every RUN's cache key) and its tags never clash with other runs.
const run = `${process.pid}-${Date.now()}`;
const manifest = join(dir, 'derivative.yaml');
const tag = `derivc.local/e2e-${run}:1`;

describe.skipIf(!engine)('derivc build (real Engine)', () => {
  const docker = () => engine as DockerEngine;
  // The image only: the example's `targets` are made by the media e2e tests.
  const build = (file = manifest) => runCliAsync(['build', file, '-o', join(dir, 'out'), '--target', 'none'], { docker });
  let coldMs = 0;

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    cpSync('examples/debian-bare', dir, { recursive: true });
    const text = readFileSync(manifest, 'utf8')
      .replace(/^(\s+name:) .*$/m, `$1 e2e-${run}`)
      .replace(/^(\s+version:) .*$/m, '$1 "1"');
    writeFileSync(manifest, `${text}\nbuild:\n  args:\n    DERIVC_E2E_RUN: "${run}"\n`);
  }, 900_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', tag], { reject: false });
  });

  it('builds the bare Debian example from the local base image', async () => {
    const started = performance.now();
    const r = await build();
    coldMs = performance.now() - started;
    expect(r.stderr).toMatch(new RegExp(`built ${tag.replace(/[.]/g, '\\.')} \\(`));
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'build.log'), 'utf8')).toContain('derivc: kernel ');
  }, 1_200_000);

  it('the image shows the contract: hostname, enabled services, kernel and initrd links', async () => {
    const e = engine!;
    expect(new TextDecoder().decode(await e.readFile(tag, '/etc/hostname'))).toBe('derivc-debian\n');
    const stats = await e.statPaths(tag, ['/boot/vmlinuz', '/boot/initrd', '/system/oem', '/etc/cos/bootargs.cfg']);
    expect(stats.get('/boot/vmlinuz')).toMatchObject({ kind: 'symlink', linkTarget: expect.stringMatching(/^vmlinuz-6\./) });
    expect(stats.get('/boot/initrd')).toMatchObject({ kind: 'symlink', linkTarget: expect.stringMatching(/^initrd-6\./) });
    const inContainer = await execa('docker', [
      'run',
      '--rm',
      '--entrypoint',
      '/bin/sh',
      tag,
      '-c',
      'systemctl is-enabled ssh.service serial-getty@ttyS0.service; test -s "$(readlink -f /boot/initrd)" && test -s "$(readlink -f /boot/vmlinuz)" && echo links-resolve; id -nG debian',
    ]);
    expect(inContainer.stdout.split('\n')).toEqual(['enabled', 'enabled', 'links-resolve', 'debian adm']);
  }, 120_000);

  it('an unchanged rebuild does nothing, in under a second', async () => {
    const started = performance.now();
    const r = await build();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r).toMatchObject({ code: 0, stderr: expect.stringMatching(/^up to date: /) });
  }, 60_000);

  it('a one-setting rebuild reuses the package layers: under 30% of the cold build', async () => {
    writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('hostname: derivc-debian', 'hostname: derivc-debian-2'));
    const started = performance.now();
    const r = await build();
    const ms = performance.now() - started;
    expect(r.code).toBe(0);
    expect(new TextDecoder().decode(await engine!.readFile(tag, '/etc/hostname'))).toBe('derivc-debian-2\n');
    console.log(`cold build ${(coldMs / 1000).toFixed(1)} s, one-setting rebuild ${(ms / 1000).toFixed(1)} s (${((ms / coldMs) * 100).toFixed(1)}%)`);
    expect(ms / coldMs).toBeLessThan(0.3);
  }, 600_000);

  it('a package that does not exist fails at its line in the manifest', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(manifest, 'utf8').replace(/^(\s+)- openssh-server\b.*$/m, '$1- openssh-server\n$1- derivc-no-such-package'));
    const r = await runCliAsync(['build', bad, '-o', join(dir, 'out-bad'), '--target', 'none'], { docker });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/package-not-found]: package `derivc-no-such-package` does not exist');
    const line =
      readFileSync(bad, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('derivc-no-such-package')) + 1;
    expect(r.stderr).toMatch(new RegExp(`--> .*bad\\.yaml:${line}:`));
  }, 600_000);

  it('an Engine that is not there is an error that says how to start one', async () => {
    const absent = lazyEngine({ DOCKER_HOST: 'unix:///nonexistent.sock' });
    const r = await runCliAsync(['build', manifest, '-o', join(dir, 'out'), '--target', 'none'], { docker: () => absent });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/engine-unreachable]: cannot reach the Docker Engine at unix:///nonexistent.sock');
    expect(r.stderr).toContain('`dockerd &`');
  }, 60_000);
});
