// A GPT disk laid out the way a toolkit's installer leaves it, made from file trees without loop
// devices, mounts or root, as derivc's raw target makes its own (targets/raw/plan.ts): each
// filesystem is filled offline as a file (genext2fs, mksquashfs, mkfs.fat + mcopy), written into
// the disk at its offset, and GRUB goes in for both firmwares — core.img in the BIOS boot
// partition with boot.img in the MBR (targets/raw/bios-boot.ts), and an EFI image at the
// removable-media path. Test-only: the trees and GRUB's configurations are the era's (grub-eras.ts).

import { copyFile, mkdir, open, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { patchDiskboot, patchMbr, SECTOR } from '../../targets/raw/bios-boot.js';
import { GRUB_BIOS_MODULES, GRUB_EFI_MODULES, GRUB_MODULES } from '../../targets/raw/grub-cfg.js';

const MiB = 2 ** 20;
const BLOCK = 4096;
const GRUB_LIB = '/usr/lib/grub';

/** A file of a tree: text, bytes, a host file copied in, or a symbolic link. */
export type TreeItem = { text: string } | { bytes: Uint8Array } | { copy: string } | { symlink: string };
/** Absolute paths inside a filesystem → what is there. */
export type Tree = Record<string, TreeItem>;

/**
 * Where a GRUB image finds its configuration. `label` unset: the device GRUB was loaded from, as
 * a distribution's monolithic grub.efi reads grub.cfg next to itself; set: an embedded early
 * configuration finds the partition by label, as `grub2-install --boot-directory` leaves it.
 */
export interface GrubPrefix {
  label?: string;
  dir: string;
}

export interface DiskSpec {
  efi: Tree;
  oem: Tree;
  recovery: Tree;
  state: Tree;
  /** Filesystem labels of OEM, RECOVERY, STATE, PERSISTENT and the EFI system partition. */
  labels: { efi: string; oem: string; recovery: string; state: string; persistent: string };
  bios: GrubPrefix;
  uefi: GrubPrefix;
}

/**
 * GRUB's modules the era's configurations use, built into both images: the toolkits' installers
 * copy the module directory next to grub.cfg (grub2-install) or ship a monolithic grub.efi; built
 * in, no module directory is needed, and `insmod` of one finds it loaded.
 */
export const ERA_GRUB_MODULES = [...GRUB_MODULES, 'fat', 'search_fs_uuid', 'loadenv', 'regexp', 'all_video', 'gfxterm', 'font', 'probe', 'gettext'];

/** A GRUB environment block (grub-editenv's format): 1024 bytes, `#`-padded. */
export function grubEnvBlock(vars: readonly (readonly [string, string])[]): Buffer {
  const body = ['# GRUB Environment Block', ...vars.map(([k, v]) => `${k}=${v.replace(/[\\\n]/g, (c) => `\\${c}`)}`)].join('\n') + '\n';
  if (body.length > 1024) throw new Error('a GRUB environment block holds 1024 bytes');
  return Buffer.from(body.padEnd(1024, '#'), 'latin1');
}

async function stage(dir: string, tree: Tree): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [path, item] of Object.entries(tree)) {
    const to = join(dir, path);
    await mkdir(dirname(to), { recursive: true });
    if ('text' in item) await writeFile(to, item.text);
    else if ('bytes' in item) await writeFile(to, item.bytes);
    else if ('copy' in item) await copyFile(item.copy, to);
    else await symlink(item.symlink, to);
  }
}

async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += Math.ceil((await stat(join(entry.parentPath, entry.name))).size / BLOCK) * BLOCK;
  }
  return total;
}

const run = (file: string, args: readonly string[]) => execa(file, args, { stdin: 'ignore', env: { LC_ALL: 'C', TZ: 'UTC' } });

/** An ext2 filesystem of `tree`, with room for its metadata; its size in whole MiB. */
export async function ext2(work: string, name: string, tree: Tree, label: string): Promise<{ file: string; sizeMiB: number }> {
  const dir = join(work, `${name}.tree`);
  await stage(dir, tree);
  const sizeMiB = Math.ceil(((await treeBytes(dir)) * 1.05) / MiB) + 4;
  const file = join(work, `${name}.ext2`);
  await run('genext2fs', ['-B', String(BLOCK), '-b', String((sizeMiB * MiB) / BLOCK), '-N', '128', '-m', '0', '-L', label, '-d', dir, file]);
  await rm(dir, { recursive: true, force: true });
  return { file, sizeMiB };
}

/** A squashfs of `tree` (data uncompressed: the kernel and initrd are compressed already, and GRUB's squash4 reads it as well). */
export async function squashfs(work: string, name: string, tree: Tree): Promise<string> {
  const dir = join(work, `${name}.tree`);
  await stage(dir, tree);
  const file = join(work, `${name}.squashfs`);
  await run('mksquashfs', [dir, file, '-noappend', '-no-xattrs', '-all-root', '-noD', '-noF', '-quiet', '-no-progress']);
  await rm(dir, { recursive: true, force: true });
  return file;
}

function earlyConfig(prefix: GrubPrefix): string | undefined {
  return prefix.label === undefined ? undefined : `search --no-floppy --label --set=root ${prefix.label}\nset prefix=($root)${prefix.dir}\n`;
}

async function grubImage(work: string, format: 'i386-pc' | 'x86_64-efi', prefix: GrubPrefix, out: string): Promise<void> {
  const early = earlyConfig(prefix);
  const cfg = join(work, `${format}.cfg`);
  if (early) await writeFile(cfg, early);
  const platform = format === 'i386-pc' ? GRUB_BIOS_MODULES : GRUB_EFI_MODULES;
  await run('grub-mkimage', [
    '-O',
    format,
    '-d',
    `${GRUB_LIB}/${format}`,
    '-o',
    out,
    '-p',
    prefix.dir,
    ...(early ? ['-c', cfg] : []),
    ...platform,
    ...ERA_GRUB_MODULES,
  ]);
}

async function fat(work: string, tree: Tree, label: string, efiBinary: string): Promise<{ file: string; sizeMiB: number }> {
  const file = join(work, 'efi.fat');
  const sizeMiB = 64;
  await run('mkfs.fat', ['-C', '-F', '32', '-n', label, file, String(sizeMiB * 1024)]);
  const items: [string, TreeItem][] = [['/EFI/BOOT/BOOTX64.EFI', { copy: efiBinary }], ...Object.entries(tree)];
  const dirs = new Set<string>();
  for (const [path] of items) for (let d = dirname(path); d !== '/'; d = dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort()) await run('mmd', ['-i', file, `::${d}`]);
  const src = join(work, 'efi.item');
  for (const [path, item] of items) {
    if ('symlink' in item) throw new Error('FAT has no symbolic links');
    if ('copy' in item) await copyFile(item.copy, src);
    else await writeFile(src, 'text' in item ? item.text : item.bytes);
    await run('mcopy', ['-i', file, src, `::${path}`]);
  }
  await rm(src, { force: true });
  return { file, sizeMiB };
}

export interface Disk {
  path: string;
  /** Where OEM's /grubenv block is, in bytes from the start of the disk: rewritten to pick the next entry. */
  grubenvOffset: number;
}

/** Makes the disk in `work` (the trees' big files are copied, then the staged copies removed). */
export async function makeDisk(work: string, spec: DiskSpec): Promise<Disk> {
  await mkdir(work, { recursive: true });
  const core = join(work, 'core.img');
  const efiImage = join(work, 'BOOTX64.EFI');
  await grubImage(work, 'i386-pc', spec.bios, core);
  await grubImage(work, 'x86_64-efi', spec.uefi, efiImage);
  const coreMiB = Math.ceil((await stat(core)).size / MiB);
  const parts: { name: string; type: string; file: string; sizeMiB: number }[] = [
    { name: 'bios', type: 'EF02', file: core, sizeMiB: Math.max(1, coreMiB) },
    { name: 'efi', type: 'EF00', ...(await fat(work, spec.efi, spec.labels.efi, efiImage)) },
    // OEM's /grubenv, where the toolkits keep `next_entry` (setGrubenv rewrites it in place).
    { name: 'oem', type: '8300', ...(await ext2(work, 'oem', { ...spec.oem, '/grubenv': { bytes: grubEnvBlock([]) } }, spec.labels.oem)) },
    { name: 'recovery', type: '8300', ...(await ext2(work, 'recovery', spec.recovery, spec.labels.recovery)) },
    { name: 'state', type: '8300', ...(await ext2(work, 'state', spec.state, spec.labels.state)) },
    { name: 'persistent', type: '8300', ...(await ext2(work, 'persistent', {}, spec.labels.persistent)) },
  ];
  const path = join(work, 'disk.raw');
  const sizeMiB = parts.reduce((sum, p) => sum + p.sizeMiB, 2);
  await run('truncate', ['-s', `${sizeMiB}M`, path]);
  let start = 1;
  const starts: number[] = [];
  const sgdisk: string[] = [];
  for (const [i, p] of parts.entries()) {
    starts.push(start);
    sgdisk.push('-n', `${i + 1}:${start * 2048}:+${p.sizeMiB}M`, '-t', `${i + 1}:${p.type}`, '-c', `${i + 1}:${p.name}`);
    start += p.sizeMiB;
  }
  await run('sgdisk', [...sgdisk, path]);
  for (const [i, p] of parts.entries()) {
    await run('dd', [`if=${p.file}`, `of=${path}`, 'bs=1M', `seek=${starts[i]}`, 'conv=notrunc,sparse', 'status=none']);
  }
  // BIOS: boot.img in the MBR pointing at core.img in the BIOS boot partition (what grub-bios-setup writes).
  const disk = await open(path, 'r+');
  try {
    const read = async (at: number) => {
      const b = Buffer.alloc(SECTOR);
      await disk.read(b, 0, SECTOR, at);
      return b;
    };
    const coreLba = starts[0]! * 2048;
    const bootImg = (await readFile(`${GRUB_LIB}/i386-pc/boot.img`)).subarray(0, SECTOR);
    await disk.write(patchMbr(await read(0), bootImg, coreLba), 0, SECTOR, 0);
    await disk.write(patchDiskboot(await read(coreLba * SECTOR), coreLba, parts[0]!.sizeMiB * 2048), 0, SECTOR, coreLba * SECTOR);
  } finally {
    await disk.close();
  }
  const oem = parts.findIndex((p) => p.name === 'oem');
  const oemFs = await readFile(parts[oem]!.file);
  const at = oemFs.indexOf('# GRUB Environment Block\n');
  if (at < 0 || at % BLOCK !== 0 || oemFs.indexOf('# GRUB Environment Block\n', at + 1) >= 0)
    throw new Error("OEM's /grubenv is not one whole block of its filesystem");
  for (const p of parts.slice(1)) await rm(p.file, { force: true });
  await rm(core, { force: true });
  await rm(efiImage, { force: true });
  return { path, grubenvOffset: starts[oem]! * MiB + at };
}

/** Rewrites OEM's /grubenv in place: what GRUB reads at the next boot (QEMU runs with snapshot=on, so the disk keeps only this). */
export async function setGrubenv(disk: Disk, vars: readonly (readonly [string, string])[]): Promise<void> {
  const f = await open(disk.path, 'r+');
  try {
    await f.write(grubEnvBlock(vars), 0, 1024, disk.grubenvOffset);
  } finally {
    await f.close();
  }
}
