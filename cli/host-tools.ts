// The host programs and files derivc's targets run or read, the Debian packages that provide them,
// and a probe that finds them. `derivc doctor` reports them; missing-tool diagnostics and the e2e
// helpers name the package from the same table, so there is one place to keep it right.

import * as path from 'node:path';
import { execa } from 'execa';
import { findOnPath, probeFile } from '../targets/io/host-lookup.js';

export { findOnPath, probeFile };

/** What needs a requirement: derivc itself needs only the Docker Engine; these are per feature. */
export type NeededFor = 'iso' | 'iso, raw' | 'raw' | 'raw, ova' | 'test' | 'packer' | 'base images';

export interface HostRequirement {
  /** A program looked up on PATH, or an absolute path for a file or directory. */
  name: string;
  /** The Debian package that provides it. */
  package: string;
  neededFor: NeededFor;
  /** For a program: the arguments that make it print its version (and do nothing else). */
  versionArgs?: readonly string[];
}

// Grouped as doctor prints them. The GRUB platform directories are checked separately from
// grub-mkrescue: grub-common alone gives a grub-mkrescue that cannot make a BIOS+UEFI hybrid ISO.
export const HOST_REQUIREMENTS: readonly HostRequirement[] = [
  { name: 'xorriso', package: 'xorriso', neededFor: 'iso', versionArgs: ['-version'] },
  { name: 'grub-mkrescue', package: 'grub-common', neededFor: 'iso', versionArgs: ['--version'] },
  { name: '/usr/lib/grub/i386-pc', package: 'grub-pc-bin', neededFor: 'iso, raw' },
  { name: '/usr/lib/grub/x86_64-efi', package: 'grub-efi-amd64-bin', neededFor: 'iso, raw' },
  { name: 'sqfstar', package: 'squashfs-tools', neededFor: 'iso, raw', versionArgs: ['-version'] },
  { name: 'mksquashfs', package: 'squashfs-tools', neededFor: 'iso', versionArgs: ['-version'] },
  { name: 'tar2sqfs', package: 'squashfs-tools-ng', neededFor: 'iso', versionArgs: ['--version'] },
  { name: 'mformat', package: 'mtools', neededFor: 'iso', versionArgs: ['--version'] },
  { name: 'mcopy', package: 'mtools', neededFor: 'iso, raw', versionArgs: ['--version'] },
  { name: 'mmd', package: 'mtools', neededFor: 'raw', versionArgs: ['--version'] },
  { name: 'mlabel', package: 'mtools', neededFor: 'raw', versionArgs: ['--version'] },
  { name: 'mkfs.fat', package: 'dosfstools', neededFor: 'raw', versionArgs: ['--help'] },
  { name: 'grub-mkimage', package: 'grub-common', neededFor: 'raw', versionArgs: ['--version'] },
  { name: '/usr/lib/grub/i386-pc/boot.img', package: 'grub-pc-bin', neededFor: 'raw' },
  { name: 'genext2fs', package: 'genext2fs', neededFor: 'raw', versionArgs: ['--version'] },
  { name: 'mkfs.ext4', package: 'e2fsprogs', neededFor: 'raw', versionArgs: ['-V'] },
  { name: 'tune2fs', package: 'e2fsprogs', neededFor: 'raw' },
  { name: 'sgdisk', package: 'gdisk', neededFor: 'raw', versionArgs: ['--version'] },
  { name: 'qemu-img', package: 'qemu-utils', neededFor: 'raw, ova', versionArgs: ['--version'] },
  { name: 'qemu-system-x86_64', package: 'qemu-system-x86', neededFor: 'test', versionArgs: ['--version'] },
  { name: '/usr/share/OVMF/OVMF_CODE_4M.fd', package: 'ovmf', neededFor: 'test' },
  { name: '/usr/share/OVMF/OVMF_VARS_4M.fd', package: 'ovmf', neededFor: 'test' },
  { name: 'packer', package: 'packer', neededFor: 'packer', versionArgs: ['version'] },
  { name: 'mmdebstrap', package: 'mmdebstrap', neededFor: 'base images', versionArgs: ['--version'] },
];

export interface ToolStatus {
  found: boolean;
  /** As the tool prints it, when it printed one. */
  version?: string;
}

/** How doctor looks at the host; tests pass a fake. */
export interface HostProbe {
  tool(name: string, args: readonly string[]): Promise<ToolStatus>;
  file(absolutePath: string): Promise<boolean>;
}

const PROBE_TIMEOUT_MS = 5000;

/**
 * Runs `name args` (no shell) and reads a version from what it prints. A tool that runs but
 * fails or hangs on its version flag is still found: only "cannot be executed" means missing.
 */
export async function probeTool(name: string, args: readonly string[]): Promise<ToolStatus> {
  const result = await execa(name, args, {
    reject: false,
    timeout: PROBE_TIMEOUT_MS,
    stdin: 'ignore',
    // Plain English output; packer would otherwise phone home to check for updates.
    env: { LC_ALL: 'C', CHECKPOINT_DISABLE: '1' },
  });
  if (result.code === 'ENOENT' || result.code === 'EACCES') return { found: false };
  const version = versionIn(String(result.stdout ?? '')) ?? versionIn(String(result.stderr ?? ''));
  return version === undefined ? { found: true } : { found: true, version };
}

export const hostProbe: HostProbe = { tool: probeTool, file: probeFile };

/**
 * The first version number in a tool's first lines: `mke2fs 1.47.0 (5-Feb-2023)` → 1.47.0,
 * `grub-mkrescue (GRUB) 2.06-13+deb12u1` → 2.06-13+deb12u1, `Packer v1.6.6` → 1.6.6.
 */
export function versionIn(output: string): string | undefined {
  for (const line of output.split('\n').slice(0, 3)) {
    const match = /(?:^|[\s(])v?(\d+\.\d+[\w.+~:-]*)/.exec(line);
    if (match) return match[1]!.replace(/[.,:-]+$/, '');
  }
  return undefined;
}

/** The Debian package providing a host tool or file, when derivc knows it. */
export function debianPackageOf(name: string): string | undefined {
  return HOST_REQUIREMENTS.find((r) => r.name === name || path.basename(r.name) === name)?.package;
}
