// The ova target's plan: the raw disk, then the appliance VMware and VirtualBox import:
//
//   1. the raw disk: the one the raw target published in the same run when it is the same disk
//      (`--target raw,ova` makes it once), else made here with the raw target's steps
//   2. qemu-img → streamOptimized VMDK, its random CID replaced by a derived one
//   3. the OVF descriptor (hardware from targets.ova, the VMDK's size filled in at run time)
//   4. the .mf: SHA256 of the descriptor and the disk
//   5. tar (ustar) with the .ovf first, then the .mf, then the disk; fixed owner, mode and times
//   6. <name>-<version>.ova.sha256, both renamed into place

import { join } from 'node:path';
import type { Build, BuildFacts } from '../../compiler/normalize/build.js';
import type { Firmware, OvaOptions, RawOptions } from '../../compiler/normalize/targets.js';
import { formatSize, parseSize } from '../../compiler/units.js';
import { firmwareFindings } from '../firmware.js';
import { mediaBaseName, ovaFileName, rawFileName } from '../media-names.js';
import { publishSteps } from '../publish.js';
import { derivedUuid, diskSpec, type DiskSpec } from '../raw/layout.js';
import { DISK, rawDiskSteps, SIZE_POINTER, validDiskSpec } from '../raw/plan.js';
import { epochPlaceholder, type PlanStep, type TargetContext, type TargetFinding, type TargetPlan, type ToolRequirement } from '../target.js';
import { ovfDescriptor } from './ovf.js';

/** `targets.ova`, and `targets.raw` for the disk inside (its partitions and firmware). */
export interface OvaTargetOptions {
  ova: OvaOptions;
  raw: RawOptions;
}

const MiB = 2 ** 20;

/** The disk inside the appliance: the raw target's, at `diskSize` when given, booting the VM's firmware too. */
function ovaDisk({ ova, raw }: OvaTargetOptions): { size: { text: string; pointer: string }; firmware: Firmware[]; name: string } {
  const firmware = [...new Set<Firmware>([...raw.firmware, ova.firmware])];
  return ova.diskSize !== undefined
    ? { size: { text: ova.diskSize, pointer: '/targets/ova/diskSize' }, firmware, name: 'OVA disk' }
    : { size: { text: raw.size, pointer: SIZE_POINTER }, firmware, name: 'disk' };
}

export function validateOva(options: OvaTargetOptions, build: BuildFacts): TargetFinding[] {
  const { ova } = options;
  const findings: TargetFinding[] = [];
  const memory = parseSize(ova.memory)!;
  if (memory % MiB !== 0) {
    findings.push({
      code: 'targets/invalid-option',
      pointer: '/targets/ova/memory',
      message: `the VM's memory ${ova.memory} is not a whole number of MiB`,
      hint: `write it in MiB, e.g. \`${formatSize(Math.ceil(memory / MiB) * MiB)}\``,
    });
  }
  findings.push(...firmwareFindings([ova.firmware], build.arch, '/targets/ova/firmware', 'VM', true));
  const disk = ovaDisk(options);
  // The disk boots the VM's firmware whatever targets.raw says: only what that adds is the OVA's to report.
  findings.push(
    ...firmwareFindings(
      disk.firmware.filter((f) => f !== ova.firmware),
      build.arch,
      '/targets/raw/firmware',
      'disk',
    ),
  );
  findings.push(...diskSpec(options.raw, disk.size, disk.firmware, disk.name).findings);
  return findings;
}

function sameDisk(a: DiskSpec, b: DiskSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function planOva(build: Build, options: OvaTargetOptions, context: TargetContext): TargetPlan {
  const { ova, raw } = options;
  const disk = ovaDisk(options);
  const spec = validDiskSpec(raw, disk.size, disk.firmware, disk.name);
  const base = mediaBaseName(build);
  const vmdk = `${base}-disk1.vmdk`;
  const ovf = `${base}.ovf`;
  const mf = `${base}.mf`;
  const file = ovaFileName(build);
  const epoch = context.sourceDateEpoch;
  const sde = epoch === undefined ? epochPlaceholder('SOURCE_DATE_EPOCH') : String(epoch);

  // The raw target made this very disk earlier in the run: convert what it published.
  const published = context.earlier.includes('raw') && sameDisk(spec, validDiskSpec(raw, { text: raw.size, pointer: SIZE_POINTER }, raw.firmware));
  const source: { steps: PlanStep[]; tools: ToolRequirement[]; file: string; format: string; what: string } = published
    ? { steps: [], tools: [], file: join(context.outDir, rawFileName(build, raw)), format: raw.format, what: 'the disk the raw target published' }
    : { ...rawDiskSteps(build, spec, context, { pointer: disk.size.pointer, name: disk.name }), file: DISK, format: 'raw', what: 'the disk' };

  // XML-safe, so it survives the escaping and the run finds it.
  const vmdkBytes = `[bytes of ${vmdk}]`;
  const descriptor = ovfDescriptor(
    build,
    { cpus: ova.cpus, memoryMiB: parseSize(ova.memory)! / MiB, firmware: ova.firmware, network: ova.network, osType: ova.osType },
    { href: vmdk, fileBytes: vmdkBytes, capacityBytes: spec.sizeMiB * MiB },
  );
  const end = publishSteps(file, file, context.outDir);

  const steps: PlanStep[] = [
    ...source.steps,
    {
      title: `convert ${source.what} to a streamOptimized VMDK`,
      action: { kind: 'exec', tool: 'qemu-img', args: ['convert', '-f', source.format, '-O', 'vmdk', '-o', 'subformat=streamOptimized', source.file, vmdk] },
    },
    {
      title: "replace the VMDK's random content ID with one derived from SOURCE_DATE_EPOCH",
      action: {
        kind: 'set-vmdk-cid',
        vmdk,
        cid: epoch === undefined ? epochPlaceholder('CID from SOURCE_DATE_EPOCH') : derivedUuid(build, epoch, 'vmdk-cid').slice(0, 8),
      },
    },
    { title: 'write the OVF descriptor', action: { kind: 'write', path: ovf, content: descriptor, sizes: [{ placeholder: vmdkBytes, file: vmdk }] } },
    {
      title: 'write the OVF manifest (SHA256 of the descriptor and the disk)',
      action: { kind: 'ovf-manifest', files: [ovf, vmdk].map((f) => ({ file: f, name: f })), to: mf },
    },
    {
      title: 'pack the appliance: the descriptor first, then the manifest and the disk',
      action: {
        kind: 'exec',
        tool: 'tar',
        args: ['--format=ustar', '--owner=0', '--group=0', '--numeric-owner', '--mode=0644', `--mtime=@${sde}`, '-cf', file, ovf, mf, vmdk],
        env: { TZ: 'UTC', LC_ALL: 'C' },
      },
    },
    ...end.steps,
  ];

  return {
    target: 'ova',
    // tar is Essential in Debian, always there.
    tools: [...source.tools, { name: 'qemu-img', package: 'qemu-utils' }],
    workDir: { parent: context.outDir, prefix: '.derivc-ova-' },
    steps,
    outputs: end.outputs,
    sourceDateEpoch: epoch ?? null,
  };
}
