// The raw disk's GPT layout, in the cOS order: BIOS boot, EFI system, OEM, RECOVERY, STATE,
// PERSISTENT. Pure arithmetic in whole MiB (every partition 1 MiB-aligned). Sizes the manifest
// states are checked against the disk by `validate`, before anything is built; RECOVERY and
// STATE sizes it leaves out are chosen when the image is built, from its size, with room to
// spare — so a disk made of chosen sizes never fails for want of space in a partition. GUIDs
// and filesystem UUIDs are derived from the medium's identity and SOURCE_DATE_EPOCH, so two
// builds of one image give the same bytes and two different derivatives share no identifier.

import { createHash } from 'node:crypto';
import type { Build, Labels } from '../../compiler/normalize/build.js';
import type { Firmware, RawOptions } from '../../compiler/normalize/targets.js';
import { formatSize, parseSize } from '../../compiler/units.js';
import { TargetError, type TargetFinding } from '../target.js';

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
  /** Undefined while the image's size is not known (a plan made only to be shown), for what is chosen from it. */
  startMiB: number | undefined;
  sizeMiB: number | undefined;
}

export interface DiskLayout {
  sizeMiB: number;
  partitions: Partition[];
}

/** The disk as the manifest states it, in whole MiB; `recoveryMiB` and `stateMiB` undefined when chosen from the image. */
export interface DiskSpec {
  sizeMiB: number;
  /** Both or one, in the order bios, uefi. */
  firmware: Firmware[];
  oemMiB: number;
  recoveryMiB: number | undefined;
  stateMiB: number | undefined;
  persistentMiB: number | 'rest';
}

/** What the layout needs to know of the built image. */
export interface ImageFacts {
  /** Its files' size (the Engine's image size: the layers unpacked, an upper bound). */
  bytes: number;
  /** The system image is then an ext2 filesystem of the files, not the squashfs (plan.ts). */
  toolkit: boolean;
}

export const BIOS_BOOT_MiB = 1;
export const EFI_MiB = 64;
/** The EFI system partition's FAT label, as cOS names it. */
export const EFI_LABEL = 'COS_GRUB';
/** The primary GPT and alignment before the first partition; the backup GPT after the last. */
const TABLES_MiB = 2;
/** Where the findings about partition sizes point. */
export const PARTITIONS_POINTER = '/targets/raw/partitions';

/** The partitions before RECOVERY and STATE whose sizes never depend on the image. */
function fixedParts(spec: DiskSpec): [string, number][] {
  return [
    ...(spec.firmware.includes('bios') ? [['bios', BIOS_BOOT_MiB] as [string, number]] : []),
    ...(spec.firmware.includes('uefi') ? [['efi', EFI_MiB] as [string, number]] : []),
    ['oem', spec.oemMiB],
  ];
}

function listed(parts: readonly [string, number][]): string {
  return parts.map(([name, n]) => `${name} ${formatSize(n * MiB)}`).join(' + ');
}

// ---------------------------------------------------------------------------------------------
// Sizes chosen from the image

/**
 * At most how large the xz squashfs of the image's files gets: the files themselves (data that
 * does not compress is stored as it is) and its tables. Typical root filesystems compress to a
 * third; the room left over is what keeps a chosen size from ever being too small.
 */
export function squashfsMiB(image: ImageFacts): number {
  const files = Math.ceil(image.bytes / MiB);
  return files + Math.ceil(files / 64) + 16;
}

/** The ext2 system image a toolkit boots: the files at 4 KiB blocks (small files waste most of their last one) and inode tables. */
export function activeImageNeedMiB(image: ImageFacts): number {
  return Math.ceil((Math.ceil(image.bytes / MiB) * 5) / 4) + 64;
}

/** A partition whose ext3 filesystem holds `contentMiB`: metadata, the journal tune2fs adds (64 MiB below 16 GiB), slack; whole 64 MiB. */
export function filesystemMiB(contentMiB: number): number {
  return Math.ceil((contentMiB + Math.ceil(contentMiB / 32) + 80) / 64) * 64;
}

/** What a partition of `partMiB` holds: the inverse of filesystemMiB, rounded down. */
export function capacityMiB(partMiB: number): number {
  return Math.max(0, Math.floor(((partMiB - 80) * 32) / 33));
}

/**
 * With a toolkit the system image is an ext2 filesystem of fixed size: a third of what STATE
 * holds, so the active image, the passive one an upgrade keeps, and the transition image it
 * writes all fit.
 */
export function activeImageMiB(stateMiB: number): number {
  return Math.floor(capacityMiB(stateMiB) / 3);
}

/** RECOVERY when the manifest gives no size: the recovery squashfs. */
export function chosenRecoveryMiB(image: ImageFacts): number {
  return filesystemMiB(squashfsMiB(image));
}

/** STATE when the manifest gives no size: the active image and room for the passive one (and, with a toolkit, the transition image). */
export function chosenStateMiB(image: ImageFacts): number {
  return image.toolkit ? filesystemMiB(3 * activeImageNeedMiB(image)) : filesystemMiB(2 * squashfsMiB(image));
}

// ---------------------------------------------------------------------------------------------
// The manifest's sizes, checked without the image

/** A size the manifest states, in whole MiB; a finding at `pointer` when it is not whole. */
function wholeMiB(text: string, pointer: string, what: string, findings: TargetFinding[]): number | undefined {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new Error(`not a size: ${text} (the schema accepts only sizes)`);
  if (bytes % MiB === 0) return bytes / MiB;
  findings.push({
    code: 'targets/invalid-option',
    pointer,
    message: `${what} ${text} is not a whole number of MiB: partitions are MiB-aligned`,
    hint: `write it in MiB, e.g. \`${formatSize(Math.ceil(bytes / MiB) * MiB)}\``,
  });
  return undefined;
}

/**
 * The disk `raw` describes, with `size` (`targets.raw.size`, or the OVA's `diskSize`) and the
 * firmware it boots; or the findings that keep it from being made: sizes that are not whole MiB,
 * and stated sizes that cannot fit the disk whatever the image, each at its own line.
 */
export function diskSpec(
  raw: RawOptions,
  size: { text: string; pointer: string },
  firmware: readonly Firmware[],
  disk = 'disk',
): { spec: DiskSpec | undefined; findings: TargetFinding[] } {
  const findings: TargetFinding[] = [];
  const p = raw.partitions;
  const at = (name: string) => `${PARTITIONS_POINTER}/${name}`;
  const sizeMiB = wholeMiB(size.text, size.pointer, `the ${disk} size`, findings);
  const oemMiB = wholeMiB(p.oem, at('oem'), 'partition oem', findings);
  const recoveryMiB = p.recovery === undefined ? undefined : wholeMiB(p.recovery, at('recovery'), 'partition recovery', findings);
  const stateMiB = p.state === undefined ? undefined : wholeMiB(p.state, at('state'), 'partition state', findings);
  const persistentMiB = p.persistent === 'rest' ? 'rest' : wholeMiB(p.persistent, at('persistent'), 'partition persistent', findings);
  if (findings.length > 0 || sizeMiB === undefined || oemMiB === undefined || persistentMiB === undefined) return { spec: undefined, findings };
  const spec: DiskSpec = { sizeMiB, firmware: (['bios', 'uefi'] as const).filter((f) => firmware.includes(f)), oemMiB, recoveryMiB, stateMiB, persistentMiB };
  const misfit = statedMisfit(spec, size.pointer, disk);
  return misfit ? { spec: undefined, findings: [misfit] } : { spec, findings: [] };
}

/**
 * The first stated size that cannot fit, in disk order, counting 1 MiB for each size left to
 * the image (none can be smaller): at its line, or at the disk's size when only sizes left to
 * the image overflow it.
 */
function statedMisfit(spec: DiskSpec, sizePointer: string, name: string): TargetFinding | undefined {
  const disk = `${formatSize(spec.sizeMiB * MiB)} ${name}`;
  const fixed = fixedParts(spec);
  const before = fixed.map(([name, n]) => `${name} ${formatSize(n * MiB)}`);
  let used = TABLES_MiB + fixed.reduce((sum, [, n]) => sum + n, 0);
  const tables = `${TABLES_MiB}MiB for the partition tables`;
  if (used > spec.sizeMiB) {
    return {
      code: 'targets/raw-too-small',
      pointer: `${PARTITIONS_POINTER}/oem`,
      message: `partition oem ${formatSize(spec.oemMiB * MiB)} does not fit the ${disk}: ${before.join(' + ')} and ${tables} make ${formatSize(used * MiB)}`,
      hint: 'make the disk larger or this partition smaller',
    };
  }
  const rest: [string, number | undefined][] = [
    ['recovery', spec.recoveryMiB],
    ['state', spec.stateMiB],
    ['persistent', spec.persistentMiB === 'rest' ? undefined : spec.persistentMiB],
  ];
  for (const [name, stated] of rest) {
    const n = stated ?? 1;
    if (used + n > spec.sizeMiB) {
      const others = `${before.join(' + ')} and ${tables}`;
      if (stated === undefined) {
        return {
          code: 'targets/raw-too-small',
          pointer: sizePointer,
          message: `the ${disk} has no room left for partition ${name}: ${others} take all of it`,
          hint: 'make the disk larger or the stated partitions smaller',
        };
      }
      return {
        code: 'targets/raw-too-small',
        pointer: `${PARTITIONS_POINTER}/${name}`,
        message: `partition ${name} ${formatSize(n * MiB)} does not fit the ${disk}: ${others} leave ${spec.sizeMiB === used ? 'nothing' : formatSize((spec.sizeMiB - used) * MiB)}`,
        hint: 'make the disk larger or this partition smaller',
      };
    }
    used += n;
    before.push(stated === undefined ? `${name} (at least 1MiB)` : `${name} ${formatSize(n * MiB)}`);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The layout, once the image is known

/**
 * The partitions of a disk whose stated sizes passed `diskSpec`, RECOVERY and STATE chosen from
 * `image` where the manifest leaves them out (unknown without it: a plan made only to be shown).
 * Throws TargetError, at the option to change, when the image does not fit.
 */
export function diskLayout(spec: DiskSpec, labels: Labels, image: ImageFacts | undefined, sizePointer: string, name = 'disk'): DiskLayout {
  const recoveryMiB = spec.recoveryMiB ?? (image ? chosenRecoveryMiB(image) : undefined);
  const stateMiB = spec.stateMiB ?? (image ? chosenStateMiB(image) : undefined);
  if (image?.toolkit && spec.stateMiB !== undefined) {
    const files = Math.ceil(image.bytes / MiB);
    if (activeImageMiB(spec.stateMiB) < files) {
      throw new TargetError({
        code: 'targets/raw-too-small',
        pointer: `${PARTITIONS_POINTER}/state`,
        message: `partition state ${formatSize(spec.stateMiB * MiB)} leaves the system image ${activeImageMiB(spec.stateMiB)}MiB (a third, beside the passive and transition images), and the image's files take ${files}MiB`,
        hint: `leave \`state\` out to have it chosen from the image, or make it at least ${formatSize(chosenStateMiB(image) * MiB)}`,
      });
    }
  }
  const fixed = fixedParts(spec);
  const persistentMin = spec.persistentMiB === 'rest' ? 1 : spec.persistentMiB;
  if (recoveryMiB !== undefined && stateMiB !== undefined) {
    const needed = TABLES_MiB + fixed.reduce((sum, [, n]) => sum + n, 0) + recoveryMiB + stateMiB + persistentMin;
    if (needed > spec.sizeMiB) {
      const chosen = [
        ...(spec.recoveryMiB === undefined ? [`recovery ${formatSize(recoveryMiB * MiB)}`] : []),
        ...(spec.stateMiB === undefined ? [`state ${formatSize(stateMiB * MiB)}`] : []),
      ];
      const parts = `${listed(fixed)} + recovery ${formatSize(recoveryMiB * MiB)} + state ${formatSize(stateMiB * MiB)} + persistent ${spec.persistentMiB === 'rest' ? 'at least 1MiB' : formatSize(persistentMin * MiB)} + ${TABLES_MiB}MiB for the partition tables`;
      throw new TargetError({
        code: 'targets/raw-too-small',
        pointer: sizePointer,
        message: `the ${formatSize(spec.sizeMiB * MiB)} ${name} cannot hold this image: ${parts} make ${formatSize(needed * MiB)}, with ${chosen.join(' and ')} chosen for its ${Math.ceil(image!.bytes / MiB)}MiB of files`,
        hint: `make the ${name} at least ${formatSize(needed * MiB)}, or state smaller \`targets.raw.partitions\` (the image must still fit them)`,
      });
    }
  }
  const wanted: Omit<Partition, 'number' | 'startMiB'>[] = [
    ...(spec.firmware.includes('bios') ? [{ role: 'bios' as const, type: 'EF02', name: 'bios', label: undefined, sizeMiB: BIOS_BOOT_MiB }] : []),
    ...(spec.firmware.includes('uefi') ? [{ role: 'efi' as const, type: 'EF00', name: 'efi', label: EFI_LABEL, sizeMiB: EFI_MiB }] : []),
    { role: 'oem', type: '8300', name: 'oem', label: labels.oem, sizeMiB: spec.oemMiB },
    { role: 'recovery', type: '8300', name: 'recovery', label: labels.recovery, sizeMiB: recoveryMiB },
    { role: 'state', type: '8300', name: 'state', label: labels.state, sizeMiB: stateMiB },
  ];
  const used = wanted.reduce<number | undefined>((sum, w) => (sum === undefined || w.sizeMiB === undefined ? undefined : sum + w.sizeMiB), TABLES_MiB);
  const persistentMiB = spec.persistentMiB !== 'rest' ? spec.persistentMiB : used === undefined ? undefined : spec.sizeMiB - used;
  wanted.push({ role: 'persistent', type: '8300', name: 'persistent', label: labels.persistent, sizeMiB: persistentMiB });
  let start: number | undefined = TABLES_MiB / 2;
  const partitions = wanted.map((w, i) => {
    const part = { ...w, number: i + 1, startMiB: start };
    start = start === undefined || w.sizeMiB === undefined ? undefined : start + w.sizeMiB;
    return part;
  });
  return { sizeMiB: spec.sizeMiB, partitions };
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
