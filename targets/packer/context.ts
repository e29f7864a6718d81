// What every builder's template is made from: the manifest's `targets.packer`, the media it
// starts from (named as the iso and raw targets publish them), and the defaults of each option.

import type { Build } from '../../compiler/normalize/build.js';
import type { PackerTarget } from '../../compiler/generated/manifest-types.js';
import { parseSize } from '../../compiler/units.js';
import { isoFileName, mediaBaseName, rawFileName } from '../media-names.js';
import { TargetError } from '../target.js';

export type BuilderName = PackerTarget['builders'][number];

/** Every builder, in the order files, plan steps and README sections follow (not the manifest's). */
export const BUILDER_NAMES: readonly BuilderName[] = ['qemu', 'virtualbox-iso', 'vmware-iso', 'amazon-ebs', 'googlecompute', 'azure-arm'];

/** `targets.packer`, with what the templates need of `targets.iso` and `targets.raw` (absent: their defaults). */
export interface PackerOptions extends Partial<Omit<PackerTarget, 'builders'>> {
  builders?: BuilderName[];
  media?: {
    iso?: { name?: string; firmware?: ('bios' | 'uefi')[] };
    raw?: { format?: 'raw' | 'qcow2'; size?: string };
  };
}

export const PACKER_DEFAULTS = {
  /** `--target packer` for a manifest without `targets.packer`: a local QEMU build. */
  builders: ['qemu'] as BuilderName[],
  cpus: 2,
  memory: '2GiB',
  /** The raw target's default size: the disk the derivative's layout is made for. */
  diskSize: '8GiB',
  headless: true,
  isoFirmware: ['bios', 'uefi'] as ('bios' | 'uefi')[],
};

/**
 * From a builder's directory (`<outDir>/packer/<builder>/`, where Packer runs) to the output
 * directory the iso and raw targets publish into.
 */
export const TO_MEDIA = '../../';

/** The media a template names; paths are relative to the builder's directory. */
export interface Media {
  /** `<name>-<version>`: VM, image and object names. */
  base: string;
  /** The ISO's file name, and its path (checked against `<path>.sha256`). */
  isoName: string;
  iso: string;
  isoFirmware: ('bios' | 'uefi')[];
  /** `<name>-<version>.raw` (or `.qcow2`): the installed disk the cloud images are imported from. */
  diskName: string;
  disk: string;
  diskFormat: 'raw' | 'qcow2';
  diskBytes: number;
}

export interface TemplateContext {
  build: Build;
  options: PackerOptions;
  media: Media;
}

export function templateContext(build: Build, options: PackerOptions): TemplateContext {
  const raw = options.media?.raw ?? {};
  const diskFormat = raw.format ?? 'raw';
  const isoName = isoFileName(build, options.media?.iso ?? {});
  const diskName = rawFileName(build, { format: diskFormat });
  return {
    build,
    options,
    media: {
      base: mediaBaseName(build),
      isoName,
      iso: `${TO_MEDIA}${isoName}`,
      isoFirmware: options.media?.iso?.firmware ?? PACKER_DEFAULTS.isoFirmware,
      diskName,
      disk: `${TO_MEDIA}${diskName}`,
      diskFormat,
      diskBytes: bytes(raw.size ?? PACKER_DEFAULTS.diskSize),
    },
  };
}

/** A manifest size in bytes (validated already: a malformed one is a bug). */
export function bytes(size: string): number {
  const n = parseSize(size);
  if (n === undefined) throw new Error(`not a size: ${size}`);
  return n;
}

/** Whole MiB, rounded up (VM memory, local disk sizes). */
export function mebibytes(size: string): number {
  return Math.ceil(bytes(size) / 2 ** 20);
}

/** Whole GiB, rounded up (cloud volume sizes). */
export function gibibytes(n: number): number {
  return Math.ceil(n / 2 ** 30);
}

/** A cloud disk size in GiB: the manifest's, or the imported disk's; never smaller than the disk. */
export function cloudDiskGiB(media: Media, size: string | number | undefined, option: string): number {
  const disk = gibibytes(media.diskBytes);
  if (size === undefined) return disk;
  const gib = typeof size === 'number' ? size : gibibytes(bytes(size));
  if (gib < disk) throw new TargetError(`\`${option}\` (${gib} GiB) is smaller than the disk it is made from (${media.diskName}, ${disk} GiB)`);
  return gib;
}
