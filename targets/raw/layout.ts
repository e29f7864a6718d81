// The raw disk's GPT layout, in the cOS order: BIOS boot, EFI system, OEM, RECOVERY, STATE,
// PERSISTENT. Pure arithmetic in whole MiB (every partition 1 MiB-aligned); GUIDs and
// filesystem UUIDs are derived from the medium's identity and SOURCE_DATE_EPOCH, so two builds
// of one image give the same bytes and two different derivatives do not share identifiers.

import { createHash } from 'node:crypto';
import type { Build } from '../../compiler/normalize/build.js';
import { formatSize, parseSize } from '../../compiler/units.js';
import { TargetError } from '../target.js';
import type { RawFirmware, RawOptions } from './options.js';

const MiB = 2 ** 20;

export type PartitionRole = 'bios' | 'efi' | 'oem' | 'recovery' | 'state' | 'persistent';

export interface Partition {
  role: PartitionRole;
  /** 1-based GPT partition number. */
  number: number;
  /** sgdisk type code. */
  type: string;
  /** GPT partition name (not the filesystem label). */
  name: string;
  /** Filesystem label; undefined for the BIOS boot partition (no filesystem). */
  label: string | undefined;
  startMiB: number;
  sizeMiB: number;
}

export interface DiskLayout {
  sizeMiB: number;
  partitions: Partition[];
}

/** Sizes when the manifest gives none: fit the default 8 GiB disk with room for one upgrade on STATE. */
export const PARTITION_DEFAULTS = { oem: '64MiB', recovery: '2GiB', state: '4GiB', persistent: 'rest' } as const;
export const DISK_DEFAULT_SIZE = '8GiB';
export const BIOS_BOOT_MiB = 1;
export const EFI_MiB = 64;
/** The EFI system partition's FAT label, as cOS names it. */
export const EFI_LABEL = 'COS_GRUB';
/** The primary GPT and alignment before the first partition; the backup GPT after the last. */
const HEAD_MiB = 1;
const TAIL_MiB = 1;

function mib(size: string, what: string): number {
  const bytes = parseSize(size);
  if (bytes === undefined) throw new TargetError(`${what} ${size} is not a size`);
  if (bytes % MiB !== 0) throw new TargetError(`${what} ${size} is not a whole number of MiB: partitions are MiB-aligned`);
  return bytes / MiB;
}

export function diskLayout(build: Build, options: RawOptions, firmware: readonly RawFirmware[]): DiskLayout {
  const sizeMiB = mib(options.size ?? DISK_DEFAULT_SIZE, 'targets.raw.size');
  const p = options.partitions ?? {};
  const labels = build.boot.labels;
  const wanted: Omit<Partition, 'number' | 'startMiB'>[] = [
    ...(firmware.includes('bios') ? [{ role: 'bios' as const, type: 'EF02', name: 'bios', label: undefined, sizeMiB: BIOS_BOOT_MiB }] : []),
    ...(firmware.includes('uefi') ? [{ role: 'efi' as const, type: 'EF00', name: 'efi', label: EFI_LABEL, sizeMiB: EFI_MiB }] : []),
    { role: 'oem', type: '8300', name: 'oem', label: labels.oem, sizeMiB: mib(p.oem ?? PARTITION_DEFAULTS.oem, 'targets.raw.partitions.oem') },
    { role: 'recovery', type: '8300', name: 'recovery', label: labels.recovery, sizeMiB: mib(p.recovery ?? PARTITION_DEFAULTS.recovery, 'targets.raw.partitions.recovery') },
    { role: 'state', type: '8300', name: 'state', label: labels.state, sizeMiB: mib(p.state ?? PARTITION_DEFAULTS.state, 'targets.raw.partitions.state') },
  ];
  const fixed = HEAD_MiB + wanted.reduce((sum, part) => sum + part.sizeMiB, 0) + TAIL_MiB;
  const persistent = p.persistent ?? PARTITION_DEFAULTS.persistent;
  const persistentMiB = persistent === 'rest' ? sizeMiB - fixed : mib(persistent, 'targets.raw.partitions.persistent');
  if (persistentMiB < 1 || fixed + persistentMiB > sizeMiB) {
    const parts = wanted.map((w) => `${w.name} ${formatSize(w.sizeMiB * MiB)}`).join(' + ');
    throw new TargetError(
      `the partitions do not fit a ${formatSize(sizeMiB * MiB)} disk: ${parts} + persistent ${persistent === 'rest' ? 'at least 1MiB' : persistent} + 2MiB for the partition tables; make \`targets.raw.size\` larger or the partitions smaller`,
    );
  }
  wanted.push({ role: 'persistent', type: '8300', name: 'persistent', label: labels.persistent, sizeMiB: persistentMiB });
  let start = HEAD_MiB;
  const partitions = wanted.map((w, i) => {
    const part = { ...w, number: i + 1, startMiB: start };
    start += w.sizeMiB;
    return part;
  });
  return { sizeMiB, partitions };
}

/**
 * A version-4-shaped UUID from a hash of the medium's identity, the epoch and what it names:
 * fixed for a given image, different between derivatives and versions.
 */
export function derivedUuid(build: Pick<Build, 'name' | 'version'>, epoch: number, what: string): string {
  const h = createHash('sha256').update(`derivc raw\0${build.name}\0${build.version}\0${epoch}\0${what}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x40;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A FAT volume serial (8 hex digits) from the same hash. */
export function derivedFatSerial(build: Pick<Build, 'name' | 'version'>, epoch: number): string {
  return derivedUuid(build, epoch, 'efi-serial').replace(/-/g, '').slice(0, 8);
}
