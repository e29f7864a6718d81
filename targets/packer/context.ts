// What every builder's template is made from: the manifest's `targets.packer`, the media it
// starts from (named as the iso and raw targets publish them), and the defaults of each option.

import type { Build, BuildFacts } from '../../compiler/normalize/build.js';
import type { Firmware, IsoOptions, PackerOptions, RawOptions } from '../../compiler/normalize/targets.js';
import { parseSize } from '../../compiler/units.js';
import { isoFileName, mediaBaseName, rawFileName } from '../media-names.js';
import type { TargetFinding } from '../target.js';
import { needsUefi } from './builders/install.js';

export type BuilderName = PackerOptions['builders'][number];

/** Every builder, in the order files, plan steps and README sections follow (not the manifest's). */
export const BUILDER_NAMES: readonly BuilderName[] = ['qemu', 'virtualbox-iso', 'vmware-iso', 'amazon-ebs', 'googlecompute', 'azure-arm'];

/** `targets.packer`, and the `targets.iso` and `targets.raw` of the media its templates start from (defaults applied). */
export interface PackerTargetOptions {
  packer: PackerOptions;
  iso: IsoOptions;
  raw: RawOptions;
}

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
  isoFirmware: Firmware[];
  /** `<name>-<version>.raw` (or `.qcow2`): the installed disk the cloud images are imported from. */
  diskName: string;
  disk: string;
  diskFormat: 'raw' | 'qcow2';
  diskFirmware: Firmware[];
  /** `targets.raw.size`, as the manifest writes it, and in bytes. */
  diskSize: string;
  diskBytes: number;
}

export interface TemplateContext {
  build: Build;
  options: PackerOptions;
  media: Media;
}

export function templateContext(build: Build, { packer, iso, raw }: PackerTargetOptions): TemplateContext {
  const isoName = isoFileName(build, iso);
  const diskName = rawFileName(build, raw);
  return {
    build,
    options: packer,
    media: {
      base: mediaBaseName(build),
      isoName,
      iso: `${TO_MEDIA}${isoName}`,
      isoFirmware: [...iso.firmware],
      diskName,
      disk: `${TO_MEDIA}${diskName}`,
      diskFormat: raw.format,
      diskFirmware: [...raw.firmware],
      diskSize: raw.size,
      diskBytes: bytes(raw.size),
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

/** A cloud disk size in GiB: the manifest's (validated: never smaller than the disk), or the imported disk's. */
export function cloudDiskGiB(media: Media, size: string | number | undefined): number {
  if (size === undefined) return gibibytes(media.diskBytes);
  return typeof size === 'number' ? size : gibibytes(bytes(size));
}

/** What is wrong with `targets.packer` for this image and these media, at each option's line. */
export function validatePacker(options: PackerTargetOptions, build: BuildFacts): TargetFinding[] {
  const findings: TargetFinding[] = [];
  const { packer } = options;
  const at = (path: string) => `/targets/packer/${path}`;
  if (build.arch !== 'amd64')
    findings.push({
      code: 'targets/unsupported-arch',
      pointer: '/targets/packer',
      message: `the packer target writes templates for amd64 images; this one is ${build.arch}`,
      hint: 'leave `targets.packer` out of an arm64 derivative',
    });
  const wanted = new Set(packer.builders);
  const disk = { name: rawFileName(build, options.raw), gib: gibibytes(bytes(options.raw.size)) };
  const cloudDisk = (builder: BuilderName, size: string | number | undefined, pointer: string) => {
    if (!wanted.has(builder) || size === undefined) return;
    const gib = typeof size === 'number' ? size : gibibytes(bytes(size));
    if (gib < disk.gib)
      findings.push({
        code: 'targets/invalid-option',
        pointer,
        message: `${gib} GiB is smaller than the disk the image is made from (${disk.name}, ${disk.gib} GiB)`,
        hint: `give at least ${disk.gib} GiB, or leave it out to take the disk's size`,
      });
  };
  cloudDisk('amazon-ebs', packer.amazonEbs.volumeSize, at('amazonEbs/volumeSize'));
  cloudDisk('googlecompute', packer.googlecompute.diskSize, at('googlecompute/diskSize'));
  cloudDisk('azure-arm', packer.azureArm.osDiskSizeGb, at('azureArm/osDiskSizeGb'));
  const volumeType = packer.amazonEbs.volumeType;
  if (wanted.has('amazon-ebs') && (volumeType === 'st1' || volumeType === 'sc1')) {
    findings.push({
      code: 'targets/invalid-option',
      pointer: at('amazonEbs/volumeType'),
      message: `an ${volumeType} volume cannot be a boot volume on EC2`,
      hint: 'use gp3, gp2, io1, io2 or standard',
    });
  }
  const vbox = packer.virtualboxIso.firmware;
  const needed = vbox === 'efi' ? 'uefi' : 'bios';
  if (wanted.has('virtualbox-iso') && vbox !== undefined && !options.iso.firmware.includes(needed)) {
    findings.push({
      code: 'targets/invalid-option',
      pointer: at('virtualboxIso/firmware'),
      message: `virtualbox-iso boots with ${vbox === 'efi' ? 'UEFI' : 'BIOS'} firmware, and the ISO is made for ${options.iso.firmware.join(' and ')} only`,
      hint: `add \`${needed}\` to \`targets.iso.firmware\`, or change this`,
    });
  }
  findings.push(...localBuilderFindings(options, build));
  return findings;
}

const FROM_ISO: readonly BuilderName[] = ['virtualbox-iso', 'vmware-iso'];

/** What keeps a local builder (qemu, virtualbox-iso, vmware-iso) from making a disk that boots. */
function localBuilderFindings({ packer, iso, raw }: PackerTargetOptions, build: BuildFacts): TargetFinding[] {
  const local = packer.builders.filter((b) => b === 'qemu' || FROM_ISO.includes(b));
  if (local.length === 0) return [];
  const findings: TargetFinding[] = [];
  if (build.passwordUsers !== undefined && build.passwordUsers.length === 0)
    findings.push({
      code: 'targets/packer-no-login',
      pointer: '/system/users',
      message: `packer logs in to the ${local.join(', ')} VM over SSH with a password, and no user of this derivative has a \`passwordHash\``,
      hint: 'add a user with a `passwordHash` (root, or a user with passwordless sudo) to `system.users`',
    });
  if (build.runtimeToolkit === false)
    for (const b of local.filter((x) => FROM_ISO.includes(x)))
      findings.push({
        code: 'targets/packer-no-installer',
        pointer: '/targets/packer/builders',
        message: `${b} installs from the live ISO, and a bare derivative has no installer: the VM's disk would stay empty`,
        hint: 'use the qemu builder (it starts from the raw disk) or the ova target (a VM made from the raw disk), or give the derivative a toolkit',
      });
  const vmDisk = packer.qemu.diskSize;
  if (build.runtimeToolkit === false && local.includes('qemu') && vmDisk !== undefined && bytes(vmDisk) < bytes(raw.size))
    findings.push({
      code: 'targets/invalid-option',
      pointer: '/targets/packer/qemu/diskSize',
      message: `${vmDisk} is smaller than the raw disk the qemu VM of a bare derivative starts from (${raw.size})`,
      hint: `give at least ${raw.size}, or leave it out to take the raw disk's size`,
    });
  if (needsUefi(build)) {
    const era = `Elemental ${build.era!.version} installs for UEFI only`;
    if (!iso.firmware.includes('uefi'))
      findings.push({
        code: 'targets/invalid-option',
        pointer: '/targets/iso/firmware',
        message: `${era}, and the ISO the packer VM boots is made for ${iso.firmware.join(' and ')} only`,
        hint: 'add `uefi` to `targets.iso.firmware`',
      });
    if (local.includes('virtualbox-iso') && packer.virtualboxIso.firmware === 'bios')
      findings.push({
        code: 'targets/invalid-option',
        pointer: '/targets/packer/virtualboxIso/firmware',
        message: `${era}, and this VM boots with BIOS`,
        hint: 'use `efi`, or leave it out',
      });
  }
  return findings;
}
