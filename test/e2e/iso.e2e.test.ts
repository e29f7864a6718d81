// The ISO target against the real Engine and tools: `derivc build --target iso` of the bare
// Debian example, twice — byte-identical ISOs — with the cOS live layout, the volume label, the
// live command line, and a squashfs that holds the image's own files (not Docker's init-layer
// stubs). Booting it is test/e2e/boot.e2e.test.ts's job. Under DERIVC_E2E=1 a missing Engine or
// tool fails this suite.

import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../targets/io/engine.js';
import { runCliAsync } from '../support/cli.js';
import { ensureDebianBase } from './fixtures.js';
import { e2eEngine, requireTool } from './require.js';

const TOOLS = [
  'sqfstar',
  'grub-mkrescue',
  'xorriso',
  'mformat',
  'mcopy',
  '/usr/lib/grub/i386-pc',
  '/usr/lib/grub/x86_64-efi',
  'unsquashfs',
  'cmp',
  'sha256sum',
];

const engine = await e2eEngine();
const tools = engine ? await Promise.all(TOOLS.map((t) => requireTool(t))) : [];
const ready = engine !== undefined && tools.every((t) => t !== undefined);

const MANIFEST = 'examples/debian-bare/derivative.yaml';
const TAG = 'derivc.local/derivc-debian:12.0.1';
const ISO = 'derivc-debian-12.0.1.iso';
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-iso-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe.skipIf(!ready)('derivc build --target iso (real Engine and tools)', () => {
  const docker = () => engine as DockerEngine;
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  const runs: { code: number; stderr: string; ms: number }[] = [];

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    for (const out of [first, second]) {
      const started = performance.now();
      const r = await runCliAsync(['build', MANIFEST, '-o', out, '--target', 'iso'], { docker, env: { PATH: process.env['PATH'] ?? '' } });
      runs.push({ code: r.code, stderr: r.stderr, ms: performance.now() - started });
    }
  }, 1_800_000);

  it('makes the ISO and its checksum, and leaves no work directory behind', async () => {
    for (const [i, out] of [first, second].entries()) {
      expect(runs[i]!.stderr).toContain(`iso: ${join(out, ISO)} (`);
      expect(runs[i]!.code).toBe(0);
      expect(
        readdirSync(out)
          .filter((f) => f.startsWith('.derivc-iso-') || f.endsWith('.iso') || f.endsWith('.sha256'))
          .sort(),
      ).toEqual([ISO, `${ISO}.sha256`]);
      // sha256sum format: the file checks itself.
      await execa('sha256sum', ['--check', '--strict', `${ISO}.sha256`], { cwd: out });
    }
    expect(readFileSync(join(first, `${ISO}.sha256`), 'utf8')).toBe(`${await sha256(join(first, ISO))}  ${ISO}\n`);
  });

  it('is reproducible: two builds of the same image give byte-identical ISOs', async () => {
    const cmp = await execa('cmp', [join(first, ISO), join(second, ISO)], { reject: false });
    expect(cmp.stdout + cmp.stderr).toBe('');
    expect(cmp.exitCode).toBe(0);
  });

  it('has the cOS live layout, a hybrid BIOS + UEFI boot, and the volume label', async () => {
    const iso = join(first, ISO);
    const found = await execa('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']);
    const files = found.stdout.split('\n').map((l) => l.replace(/^'(.*)'$/, '$1'));
    for (const f of ['/rootfs.squashfs', '/boot/vmlinuz', '/boot/initrd', '/boot/grub/grub.cfg', '/boot/grub/i386-pc/eltorito.img', '/efi.img'])
      expect(files).toContain(f);
    const pvd = await execa('xorriso', ['-indev', iso, '-pvd_info']);
    expect(pvd.stdout).toMatch(/^Volume Id\s*: COS_LIVE$/m);
    const boot = await execa('xorriso', ['-indev', iso, '-report_el_torito', 'plain']);
    expect(boot.stdout).toMatch(/El Torito boot img :\s+1\s+BIOS/);
    expect(boot.stdout).toMatch(/El Torito boot img :\s+2\s+UEFI/);
    const system = await execa('xorriso', ['-indev', iso, '-report_system_area', 'plain']);
    // Bootable from a USB stick too: an MBR (GRUB's hybrid boot code) and a GPT with the EFI partition.
    expect(system.stdout).toMatch(/^System area summary: MBR .*grub2-mbr.* GPT/m);
  });

  it('boots the squashfs by label with the manifest consoles, and carries the image kernel and initrd', async () => {
    const iso = join(first, ISO);
    const tree = join(dir, 'tree');
    await execa('xorriso', [
      '-osirrox',
      'on',
      '-indev',
      iso,
      '-extract',
      '/boot',
      join(tree, 'boot'),
      '-extract',
      '/rootfs.squashfs',
      join(tree, 'rootfs.squashfs'),
    ]);
    const cfg = readFileSync(join(tree, 'boot/grub/grub.cfg'), 'utf8');
    expect(cfg).toContain(
      'linux /boot/vmlinuz "root=live:CDLABEL=COS_LIVE" "rd.live.dir=/" "rd.live.squashimg=rootfs.squashfs" "rd.live.overlay.overlayfs=1" "console=tty1" "console=ttyS0"\n',
    );
    expect(cfg).toContain('serial --unit=0');
    expect(cfg).toMatch(/^set timeout=3$/m);
    const image = await engine!.readFiles!(TAG, ['/boot/vmlinuz', '/boot/initrd']);
    expect(readFileSync(join(tree, 'boot/vmlinuz')).equals(Buffer.from(image.get('/boot/vmlinuz')!))).toBe(true);
    expect(readFileSync(join(tree, 'boot/initrd')).equals(Buffer.from(image.get('/boot/initrd')!))).toBe(true);
  }, 120_000);

  it("holds the image's filesystem: its own /etc/hostname, no /.dockerenv, / owned by root and not world-writable", async () => {
    const squashfs = join(dir, 'tree', 'rootfs.squashfs');
    const listing = (await execa('unsquashfs', ['-lls', '-d', '', squashfs])).stdout.split('\n');
    const entry = (p: string) => listing.find((l) => l.endsWith(` ${p}`) || l.includes(` ${p} -> `));
    expect(entry('/.dockerenv')).toBeUndefined();
    expect(listing[0]).toMatch(/^drwxr-xr-x root\/root .* $/); // the root directory (sqfstar's default would be 0777)
    expect(entry('/etc/hostname')).toMatch(/^-rw-r--r-- root\/root /);
    expect((await execa('unsquashfs', ['-cat', squashfs, 'etc/hostname'])).stdout).toBe('derivc-debian');
    expect(entry('/dev/console') ?? '').not.toMatch(/^-/); // never Docker's empty regular file
    expect(entry('/usr/bin/bash')).toMatch(/^-rwxr-xr-x root\/root /);
  }, 120_000);
});
