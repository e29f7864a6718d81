// The ova target's plan: the raw disk (same steps as the raw target, in this work directory),
// then the appliance VMware and VirtualBox import:
//
//   1. the raw disk (targets/raw), firmware including the VM's
//   2. qemu-img → streamOptimized VMDK, its random CID replaced by a derived one
//   3. the OVF descriptor (hardware from targets.ova, the VMDK's size filled in at run time)
//   4. the .mf: SHA256 of the descriptor and the disk
//   5. tar (ustar) with the .ovf first, then the .mf, then the disk; fixed owner, mode and times
//   6. <name>-<version>.ova.sha256, both renamed into place

import { join } from 'node:path';
import type { OvaTarget, RawTarget } from '../../compiler/generated/manifest-types.js';
import type { Build } from '../../compiler/normalize/build.js';
import { parseSize } from '../../compiler/units.js';
import { mediaBaseName, ovaFileName } from '../media-names.js';
import { derivedUuid } from '../raw/layout.js';
import { RAW_DEFAULT_FIRMWARE } from '../raw/options.js';
import { DISK, rawDiskSteps } from '../raw/plan.js';
import { epochPlaceholder, TargetError, type PlanStep, type TargetContext, type TargetPlan } from '../target.js';
import { ovfDescriptor } from './ovf.js';

/** `targets.ova`, and `targets.raw` for the disk inside (its partitions and firmware). */
export interface OvaOptions {
  ova: OvaTarget;
  raw: RawTarget;
}

export const OVA_DEFAULTS = { cpus: 2, memory: '2GiB', firmware: 'bios' as const, network: 'nat' as const, osType: 'otherLinux64Guest' };
const MiB = 2 ** 20;

export function planOva(build: Build, options: OvaOptions, context: TargetContext): TargetPlan {
  const ova = options.ova;
  const firmware = ova.firmware ?? OVA_DEFAULTS.firmware;
  const memory = parseSize(ova.memory ?? OVA_DEFAULTS.memory)!;
  if (memory % MiB !== 0) throw new TargetError(`targets.ova.memory ${ova.memory} is not a whole number of MiB`);
  // The disk boots the firmware the VM has, whatever else targets.raw asks for.
  const rawFirmware = [...new Set([...(options.raw.firmware ?? RAW_DEFAULT_FIRMWARE), firmware])] as NonNullable<RawTarget['firmware']>;
  const raw: RawTarget = { ...options.raw, firmware: rawFirmware, ...(ova.diskSize !== undefined ? { size: ova.diskSize } : {}) };
  const disk = rawDiskSteps(build, raw, context);

  const base = mediaBaseName(build);
  const vmdk = `${base}-disk1.vmdk`;
  const ovf = `${base}.ovf`;
  const mf = `${base}.mf`;
  const file = ovaFileName(build);
  const sum = `${file}.sha256`;
  const epoch = context.sourceDateEpoch;
  const sde = epoch === undefined ? epochPlaceholder('SOURCE_DATE_EPOCH') : String(epoch);
  // XML-safe, so it survives the escaping and the run finds it.
  const vmdkBytes = `[bytes of ${vmdk}]`;
  const descriptor = ovfDescriptor(
    build,
    { cpus: ova.cpus ?? OVA_DEFAULTS.cpus, memoryMiB: memory / MiB, firmware, network: ova.network ?? OVA_DEFAULTS.network, osType: ova.osType ?? OVA_DEFAULTS.osType },
    { href: vmdk, fileBytes: vmdkBytes, capacityBytes: disk.sizeMiB * MiB },
  );

  const steps: PlanStep[] = [
    ...disk.steps,
    { title: 'convert the disk to a streamOptimized VMDK', action: { kind: 'exec', tool: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', DISK, vmdk] } },
    { title: "replace the VMDK's random content ID with one derived from SOURCE_DATE_EPOCH", action: { kind: 'set-vmdk-cid', vmdk, cid: epoch === undefined ? epochPlaceholder('CID from SOURCE_DATE_EPOCH') : derivedUuid(build, epoch, 'vmdk-cid').slice(0, 8) } },
    { title: 'write the OVF descriptor', action: { kind: 'write', path: ovf, content: descriptor, sizes: [{ placeholder: vmdkBytes, file: vmdk }] } },
    { title: 'write the OVF manifest (SHA256 of the descriptor and the disk)', action: { kind: 'ovf-manifest', files: [ovf, vmdk].map((f) => ({ file: f, name: f })), to: mf } },
    {
      title: 'pack the appliance: the descriptor first, then the manifest and the disk',
      action: { kind: 'exec', tool: 'tar', args: ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mode=0644', `--mtime=@${sde}`, '-cf', file, ovf, mf, vmdk], env: { TZ: 'UTC', LC_ALL: 'C' } },
    },
    { title: 'checksum', action: { kind: 'checksum', file, to: sum, name: file } },
    {
      title: 'rename into place',
      action: {
        kind: 'publish',
        files: [
          { from: file, to: join(context.outDir, file) },
          { from: sum, to: join(context.outDir, sum) },
        ],
      },
    },
  ];

  return {
    target: 'ova',
    // tar is Essential in Debian, always there.
    tools: [...disk.tools, { name: 'qemu-img', package: 'qemu-utils' }],
    workDir: { parent: context.outDir, prefix: '.derivc-ova-' },
    steps,
    outputs: [join(context.outDir, file), join(context.outDir, sum)],
    sourceDateEpoch: epoch ?? null,
  };
}
