// The raw target against the real Engine and tools: `derivc build --target raw` of the bare
// Debian example, twice — identical bytes — a valid GPT in the cOS order with the labels read
// back by blkid at each partition's offset, STATE and RECOVERY holding the images and GRUB's
// menu, GRUB in the MBR and on the EFI partition; then `derivc test --media raw` boots the disk
// under SeaBIOS and OVMF to `login:`. Under DERIVC_E2E=1 a missing Engine or tool fails it.

import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync } from 'node:fs';
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
  'genext2fs',
  'tune2fs',
  'mkfs.ext4',
  'debugfs',
  'sgdisk',
  'grub-mkimage',
  'mkfs.fat',
  'mcopy',
  'mdir',
  'blkid',
  'grub-fstest',
  'unsquashfs',
  'sha256sum',
  'qemu-system-x86_64',
  '/usr/lib/grub/i386-pc',
  '/usr/lib/grub/x86_64-efi',
  '/usr/share/OVMF/OVMF_CODE_4M.fd',
];

const engine = await e2eEngine();
const tools = await Promise.all(TOOLS.map((t) => requireTool(t)));
const ready = engine !== undefined && tools.every((t) => t !== undefined);

const MANIFEST = 'examples/debian-bare/derivative.yaml';
const RAW = 'derivc-debian-12.0.1.raw';
const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-raw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface GptEntry {
  number: number;
  startSector: number;
  sectors: number;
  code: string;
  name: string;
}

async function gpt(disk: string): Promise<GptEntry[]> {
  const { stdout } = await execa('sgdisk', ['-p', disk]);
  return [...stdout.matchAll(/^\s+(\d+)\s+(\d+)\s+(\d+)\s+\S+ \S+\s+(\S+)\s+(\S+)$/gm)].map((m) => ({
    number: Number(m[1]),
    startSector: Number(m[2]),
    sectors: Number(m[3]) - Number(m[2]) + 1,
    code: m[4]!,
    name: m[5]!,
  }));
}

/** What blkid reads at a byte offset of the disk (low-level probe, no loop device). */
async function probe(disk: string, offset: number): Promise<Record<string, string>> {
  const { stdout } = await execa('blkid', ['-p', '-O', String(offset), '-o', 'export', disk]);
  return Object.fromEntries(stdout.split('\n').map((l) => l.split('=', 2) as [string, string]));
}

describe.skipIf(!ready)('derivc build --target raw, then derivc test --media raw (real Engine, tools and QEMU)', () => {
  const docker = () => engine as DockerEngine;
  const cli = { docker, env: { PATH: process.env['PATH'] ?? '' } };
  const first = join(dir, 'first');
  const second = join(dir, 'second');
  const runs: { code: number; stderr: string }[] = [];

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    // An explicit epoch: other e2e files build the same example at the same time, and a second
    // image of it (same files, a later creation time) would change the default epoch in between.
    const pinned = { ...cli, env: { ...cli.env, SOURCE_DATE_EPOCH: '1700000000' } };
    for (const out of [first, second]) runs.push(await runCliAsync(['build', MANIFEST, '-o', out, '--target', 'raw'], pinned));
  }, 2_400_000);

  it('makes the disk and its checksum, leaves no work directory, and makes the same bytes twice', async () => {
    for (const [i, out] of [first, second].entries()) {
      expect(runs[i]!.stderr).toContain(`raw: ${join(out, RAW)} (`);
      expect(runs[i]!.code).toBe(0);
      expect(
        readdirSync(out)
          .filter((f) => f.startsWith('.derivc-') || f.startsWith('derivc-debian-'))
          .sort(),
      ).toEqual([RAW, `${RAW}.sha256`]);
    }
    await execa('sha256sum', ['--check', '--strict', `${RAW}.sha256`], { cwd: first });
    // Each checksum checks its own disk (above for the first): equal sums, equal bytes.
    await execa('sha256sum', ['--check', '--strict', `${RAW}.sha256`], { cwd: second });
    expect(readFileSync(join(second, `${RAW}.sha256`), 'utf8')).toBe(readFileSync(join(first, `${RAW}.sha256`), 'utf8'));
  }, 300_000);

  it('has a valid GPT in the cOS order, and every filesystem label where its partition starts', async () => {
    const disk = join(first, RAW);
    expect((await execa('sgdisk', ['-v', disk])).stdout).toContain('No problems found.');
    const parts = await gpt(disk);
    expect(parts.map((p) => [p.number, p.code, p.name])).toEqual([
      [1, 'EF02', 'bios'],
      [2, 'EF00', 'efi'],
      [3, '8300', 'oem'],
      [4, '8300', 'recovery'],
      [5, '8300', 'state'],
      [6, '8300', 'persistent'],
    ]);
    for (const p of parts) expect((p.startSector * 512) % MiB).toBe(0);
    const expected: Record<string, [string, string]> = {
      efi: ['vfat', 'COS_GRUB'],
      oem: ['ext4', 'COS_OEM'],
      recovery: ['ext3', 'COS_RECOVERY'],
      state: ['ext3', 'COS_STATE'],
      persistent: ['ext4', 'COS_PERSISTENT'],
    };
    for (const p of parts.filter((x) => x.name !== 'bios')) {
      const found = await probe(disk, p.startSector * 512);
      expect([p.name, found['TYPE'], found['LABEL']]).toEqual([p.name, ...expected[p.name]!]);
    }
  }, 120_000);

  it('carries the system image and GRUB menu on STATE, the recovery squashfs on RECOVERY, GRUB in the MBR and on the ESP', async () => {
    const disk = join(first, RAW);
    const fstest = async (...args: string[]) => (await execa('grub-fstest', [disk, ...args])).stdout;
    expect(await fstest('ls', '(loop0,gpt5)/cOS')).toMatch(/^active\.img\s*$/);
    const menu = await fstest('cat', '(loop0,gpt5)/grub2/grub.cfg');
    expect(menu).toContain('\tloopback loop0 $img\n\tsource (loop0)/etc/cos/bootargs.cfg\n\tlinux (loop0)$kernel $kernelcmd\n');
    expect(await fstest('ls', '(loop0,gpt4)/cOS')).toMatch(/^recovery\.squashfs\s*$/);
    // GRUB itself reads the image's bootargs.cfg through the loop-mounted squashfs (xz, which its squash4 supports).
    const parts = await gpt(disk);
    const state = parts.find((p) => p.name === 'state')!;
    const stateFs = join(dir, 'state.part');
    await execa('dd', [
      `if=${disk}`,
      `of=${stateFs}`,
      'bs=1M',
      `skip=${(state.startSector * 512) / MiB}`,
      `count=${(state.sectors * 512) / MiB}`,
      'conv=sparse',
      'status=none',
    ]);
    const activeImg = join(dir, 'active.img');
    await execa('debugfs', ['-R', `dump /cOS/active.img ${activeImg}`, stateFs]);
    const bootargs = (await execa('grub-fstest', [activeImg, 'cat', '/etc/cos/bootargs.cfg'])).stdout;
    expect(bootargs).toContain('root=live:LABEL=COS_STATE rd.live.dir=/ rd.live.squashimg=$img rd.live.overlay.overlayfs=1');
    expect((await execa('unsquashfs', ['-cat', activeImg, 'etc/hostname'])).stdout).toBe('derivc-debian');
    // BIOS: GRUB's boot.img in the MBR code area pointing at sector 2048, the disk's partition table kept.
    const mbr = Buffer.alloc(512);
    const fd = openSync(disk, 'r');
    readSync(fd, mbr, 0, 512, 0);
    closeSync(fd);
    expect(mbr.readBigUInt64LE(0x5c)).toBe(2048n);
    expect(mbr.subarray(0, 3)).toEqual(readFileSync('/usr/lib/grub/i386-pc/boot.img').subarray(0, 3));
    expect(mbr[450]).toBe(0xee); // the protective MBR's GPT partition type
    // UEFI: the removable-media boot path on the EFI system partition.
    const efi = parts.find((p) => p.name === 'efi')!;
    const esp = (await execa('mdir', ['-i', `${disk}@@${efi.startSector * 512}`, '-b', '::/EFI/BOOT'])).stdout;
    expect(esp).toContain('::/EFI/BOOT/BOOTX64.EFI');
  }, 300_000);

  it('boots under BIOS and UEFI to `login:` through GRUB and the bootargs.cfg inside the image', async () => {
    const r = await runCliAsync(['test', MANIFEST, '-o', first, '--media', 'raw'], cli);
    expect(r.stderr).toMatch(/^PASS raw-bios: `login:` \d+\.\d s$/m);
    expect(r.stderr).toMatch(/^PASS raw-uefi: `login:` \d+\.\d s$/m);
    expect(r.code).toBe(0);
    for (const run of ['raw-bios', 'raw-uefi']) {
      const log = readFileSync(join(first, 'test', run, 'console.log'), 'utf8');
      expect(log).toMatch(
        /Command line: BOOT_IMAGE=\(loop0\)\/boot\/vmlinuz .*root=live:LABEL=COS_STATE rd\.live\.dir=\/ rd\.live\.squashimg=\/cOS\/active\.img/,
      );
    }
  }, 1_200_000);
});
