// derivc compile as a user runs it: what reaches the disk, exit codes, and compile-time
// diagnostics at the manifest line that caused them.

import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'derivc-compile-'));
  scratch.push(d);
  return d;
}

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\n';

describe('derivc compile', () => {
  it('writes the build context, and a second run changes nothing', () => {
    const out = join(tempDir(), 'out');
    const first = runCli(['compile', 'examples/debian-bare', '-o', out]);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/^compiled examples\/debian-bare\/derivative\.yaml → .+: 9 written, 0 unchanged, 0 removed \(build sha256:[0-9a-f]{12}…\)\n$/);
    const record = JSON.parse(readFileSync(join(out, 'derivc.json'), 'utf8'));
    expect(record.files.map((f: { path: string }) => f.path)).toContain('Dockerfile');
    expect(statSync(join(out, 'boot/usr/lib/derivc/initrd.sh')).mode & 0o777).toBe(0o755);
    const mtime = statSync(join(out, 'Dockerfile')).mtimeMs;
    expect(runCli(['compile', 'examples/debian-bare', '-o', out]).stderr).toContain(': 0 written, 9 unchanged, 0 removed');
    expect(statSync(join(out, 'Dockerfile')).mtimeMs).toBe(mtime);
    expect(runCli(['compile', '--check', 'examples/debian-bare', '-o', out])).toMatchObject({ code: 0, stdout: '' });
  });

  it('removes what it no longer generates, and only that', () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    writeFileSync(join(dir, 'derivative.yaml'), HEAD + 'system: {hostname: acme}\nupgrade: {image: registry.example.com/acme/os}\n');
    expect(runCli(['compile', dir, '-o', out]).code).toBe(0);
    expect(existsSync(join(out, 'rootfs/etc/cos-upgrade-image'))).toBe(true);
    writeFileSync(join(out, 'NOTES.md'), 'mine\n');
    writeFileSync(join(dir, 'derivative.yaml'), HEAD + 'system: {hostname: acme}\n');
    const r = runCli(['compile', dir, '-o', out]);
    expect(r.stderr).toMatch(/2 removed/);
    expect(existsSync(join(out, 'rootfs/etc/cos-upgrade-image'))).toBe(false);
    expect(existsSync(join(out, 'rootfs/etc/elemental'))).toBe(false);
    expect(readFileSync(join(out, 'NOTES.md'), 'utf8')).toBe('mine\n');
  });

  it('--check exits 2 with a diff when the directory is stale, writing nothing', () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    writeFileSync(join(dir, 'derivative.yaml'), HEAD + 'system: {hostname: acme}\n');
    runCli(['compile', dir, '-o', out]);
    writeFileSync(join(dir, 'derivative.yaml'), HEAD + 'system: {hostname: acme-2}\n');
    const before = readFileSync(join(out, 'Dockerfile'), 'utf8');
    const r = runCli(['compile', '--check', dir, '-o', out]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('--- a/Dockerfile\n+++ b/Dockerfile\n');
    expect(readFileSync(join(out, 'Dockerfile'), 'utf8')).toBe(before);
  });

  it('an invalid manifest writes nothing and exits 1 with the diagnostics on stderr', () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    writeFileSync(join(dir, 'derivative.yaml'), HEAD + 'system: {hostname: -bad-}\n');
    const r = runCli(['compile', dir, '-o', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[system/invalid-hostname]');
    expect(existsSync(out)).toBe(false);
  });

  it('an oemDir file named like a generated one is an error at the oemDir line', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'oem'));
    writeFileSync(join(dir, 'oem', '30_derivc_system.yaml'), 'stages: {boot: [{commands: ["true"]}]}\n');
    writeFileSync(join(dir, 'derivative.yaml'), HEAD + 'toolkit: {source: luet}\nsystem: {hostname: acme}\noemDir: oem\n');
    const r = runCli(['compile', '--format', 'json', dir, '-o', join(dir, 'out')]);
    expect(r.code).toBe(1);
    const [d] = JSON.parse(r.stdout).diagnostics;
    expect(d).toMatchObject({ code: 'compile/oem-conflict', pointer: '/oemDir', range: { start: { line: 7, column: 1 } } });
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('needs -o DIR, and takes one manifest', () => {
    expect(runCli(['compile', 'examples/debian-bare']).code).toBe(3);
    expect(runCli(['compile', 'examples/debian-bare', 'examples/fedora-elemental', '-o', tempDir()]).code).toBe(3);
  });
});
