// The raw target's plan: a GPT disk in the cOS layout, made without loop devices, mounts or
// root — every filesystem is filled offline as a file, then written into the disk at its offset:
//
//   1. docker export → sqfstar (xz: GRUB's squash4 reads xz, not zstd)    RECOVERY:/cOS/recovery.squashfs
//   2. the system image: that squashfs again without a toolkit (dracut's   STATE:/cOS/active.img
//      dmsquash-live boots it), or an ext2 image labelled boot.labels.active from a second
//      export with one (cos-immutable-rootfs mounts it, as the cOS installer lays it out)
//   3. GRUB menu (bootargs.cfg from inside the image) + early config    STATE:/grub2/grub.cfg
//   4. RECOVERY and STATE: genext2fs from the staged trees, then a journal (tune2fs -j)
//   5. OEM and PERSISTENT: empty ext4 (mkfs.ext4)
//   6. EFI system partition: FAT with GRUB's EFI image as the removable-media boot path
//   7. GRUB core.img for BIOS; the disk: truncate, sgdisk with fixed GUIDs, dd every part in,
//      boot.img into the MBR
//   8. qcow2 (qemu-img) when asked, checksum, rename into place
//
// Sizes: what `targets.raw` states, validated without the image (validateRaw); RECOVERY and STATE
// it leaves out chosen from the built image's size (layout.ts). Without that size (derivc plan)
// the plan shows placeholders for what depends on it.
//
// Reproducibility: SOURCE_DATE_EPOCH for genext2fs and mtools, E2FSPROGS_FAKE_TIME for e2fsprogs,
// every staged file's times set to the epoch, GUIDs/UUIDs/FAT serial derived (layout.ts).

import type { Build, BuildFacts } from '../../compiler/normalize/build.js';
import type { Firmware, RawOptions } from '../../compiler/normalize/targets.js';
import { firmwareFindings } from '../firmware.js';
import { rawFileName } from '../media-names.js';
import { publishSteps } from '../publish.js';
import { epochPlaceholder, type PlanStep, type TargetContext, type TargetFinding, type TargetPlan, type ToolRequirement } from '../target.js';
import { earlyCfg, grubCfg, GRUB_BIOS_MODULES, GRUB_DIR, GRUB_EFI_MODULES, GRUB_MODULES } from './grub-cfg.js';
import { activeImageMiB, derivedFatSerial, derivedUuid, diskLayout, diskSpec, EFI_LABEL, type DiskSpec, type Partition } from './layout.js';

const GRUB_LIB = '/usr/lib/grub';
const BLOCK = 4096;
const MiB = 2 ** 20;

/** GRUB per firmware and architecture: platform directory (and its Debian package), EFI boot file. */
const PLATFORMS: Record<Build['arch'], Partial<Record<Firmware, { format: string; dir: ToolRequirement; efiFile?: string }>>> = {
  amd64: {
    bios: { format: 'i386-pc', dir: { name: `${GRUB_LIB}/i386-pc`, package: 'grub-pc-bin' } },
    uefi: { format: 'x86_64-efi', dir: { name: `${GRUB_LIB}/x86_64-efi`, package: 'grub-efi-amd64-bin' }, efiFile: 'BOOTX64.EFI' },
  },
  arm64: {
    uefi: { format: 'arm64-efi', dir: { name: `${GRUB_LIB}/arm64-efi`, package: 'grub-efi-arm64-bin' }, efiFile: 'BOOTAA64.EFI' },
  },
};

/** The staged trees that become the RECOVERY and STATE filesystems. */
const STAGE = { recovery: 'stage/recovery', state: 'stage/state' };

function part(layout: Partition[], role: Partition['role']): Partition | undefined {
  return layout.find((p) => p.role === role);
}

/** The disk file every raw-based target finishes in its work directory. */
export const DISK = 'disk.raw';
/** Where findings about the raw disk's size point. */
export const SIZE_POINTER = '/targets/raw/size';

/** The steps that leave a finished raw disk at DISK in the work directory, and the tools they need. */
export interface RawDisk {
  steps: PlanStep[];
  tools: ToolRequirement[];
  sizeMiB: number;
}

export function validateRaw(options: RawOptions, build: BuildFacts): TargetFinding[] {
  return [
    ...firmwareFindings(options.firmware, build.arch, '/targets/raw/firmware', 'disk'),
    ...diskSpec(options, { text: options.size, pointer: SIZE_POINTER }, options.firmware).findings,
  ];
}

/** The disk of options that passed validation (a finding here is a bug: validate reports them). */
export function validDiskSpec(options: RawOptions, size: { text: string; pointer: string }, firmware: readonly Firmware[], name?: string): DiskSpec {
  const { spec, findings } = diskSpec(options, size, firmware, name);
  if (!spec) throw new Error(`the raw disk was planned with options that fail validation: ${findings.map((f) => f.message).join('; ')}`);
  return spec;
}

export function planRaw(build: Build, options: RawOptions, context: TargetContext): TargetPlan {
  const medium = rawFileName(build, options);
  const disk = rawDiskSteps(build, validDiskSpec(options, { text: options.size, pointer: SIZE_POINTER }, options.firmware), context, {
    pointer: SIZE_POINTER,
    name: 'disk',
  });
  const qcow2 = options.format === 'qcow2';
  const published = publishSteps(qcow2 ? medium : DISK, medium, context.outDir);
  return {
    target: 'raw',
    tools: [...disk.tools, ...(qcow2 ? [{ name: 'qemu-img', package: 'qemu-utils' }] : [])],
    workDir: { parent: context.outDir, prefix: '.derivc-raw-' },
    steps: [
      ...disk.steps,
      ...(qcow2
        ? [{ title: 'convert to qcow2', action: { kind: 'exec' as const, tool: 'qemu-img', args: ['convert', '-f', 'raw', '-O', 'qcow2', DISK, medium] } }]
        : []),
      ...published.steps,
    ],
    outputs: published.outputs,
    sourceDateEpoch: context.sourceDateEpoch ?? null,
  };
}

/** A size in the plan: the number, or a placeholder while the image's size is unknown. */
function shown(n: number | undefined, what: string): string {
  return n === undefined ? `<${what}, chosen from the image's size>` : String(n);
}

/**
 * The steps that make the disk `spec` describes; sizes it leaves to the image are chosen from
 * context.imageBytes (TargetError at the disk's size, `size.pointer`, when the image does not fit).
 */
export function rawDiskSteps(build: Build, spec: DiskSpec, context: TargetContext, size: { pointer: string; name: string }): RawDisk {
  const firmware = spec.firmware;
  // validateRaw refused the firmware an architecture has no platform for.
  const platforms = firmware.map((f) => [f, PLATFORMS[build.arch][f]!] as const);
  const image = context.imageBytes === undefined ? undefined : { bytes: context.imageBytes, toolkit: build.runtimeToolkit };
  const layout = diskLayout(spec, build.boot.labels, image, size.pointer, size.name);
  const partitions = layout.partitions;
  const state = part(partitions, 'state')!;
  const recovery = part(partitions, 'recovery')!;
  const labels = build.boot.labels;

  const epoch = context.sourceDateEpoch;
  const sde = epoch === undefined ? epochPlaceholder('SOURCE_DATE_EPOCH') : String(epoch);
  const uuid = (what: string) => (epoch === undefined ? epochPlaceholder(`UUID of ${what} from SOURCE_DATE_EPOCH`) : derivedUuid(build, epoch, what));
  // Tools see one fixed time zone and locale; e2fsprogs takes its clock from E2FSPROGS_FAKE_TIME.
  const env = { SOURCE_DATE_EPOCH: sde, TZ: 'UTC', LC_ALL: 'C' };
  const e2env = { ...env, E2FSPROGS_FAKE_TIME: sde };
  const disk = DISK;
  const fromImage = { from: 'image-filesystem' as const, image: context.image };

  const tools: ToolRequirement[] = [
    { name: 'sqfstar', package: 'squashfs-tools' },
    { name: 'genext2fs', package: 'genext2fs' },
    { name: 'tune2fs', package: 'e2fsprogs' },
    { name: 'mkfs.ext4', package: 'e2fsprogs' },
    { name: 'sgdisk', package: 'gdisk' },
    { name: 'grub-mkimage', package: 'grub-common' },
    ...(firmware.includes('uefi')
      ? [
          { name: 'mkfs.fat', package: 'dosfstools' },
          { name: 'mlabel', package: 'mtools' },
          { name: 'mmd', package: 'mtools' },
          { name: 'mcopy', package: 'mtools' },
        ]
      : []),
    ...platforms.map(([, p]) => p.dir),
    ...(firmware.includes('bios') ? [{ name: `${GRUB_LIB}/i386-pc/boot.img`, package: 'grub-pc-bin' }] : []),
    // ln, touch, truncate and dd are coreutils: Essential in Debian, always there.
  ];

  const staged = [
    STAGE.recovery,
    `${STAGE.recovery}/cOS`,
    `${STAGE.recovery}/cOS/recovery.squashfs`,
    STAGE.state,
    `${STAGE.state}/cOS`,
    `${STAGE.state}/cOS/active.img`,
    `${STAGE.state}${GRUB_DIR}`,
    `${STAGE.state}${GRUB_DIR}/grub.cfg`,
  ];

  const activeMiB = state.sizeMiB === undefined ? undefined : activeImageMiB(state.sizeMiB);
  const blocks = (mib: number | undefined, what: string) => shown(mib === undefined ? undefined : (mib * MiB) / BLOCK, `blocks of ${what}`);
  const systemImage: PlanStep = build.runtimeToolkit
    ? {
        title: `stream the image's filesystem into the ext2 system image labelled ${labels.active} (${shown(activeMiB, 'size')} MiB, a third of what STATE holds)`,
        action: {
          kind: 'exec',
          tool: 'genext2fs',
          args: [
            '-B',
            String(BLOCK),
            '-b',
            blocks(activeMiB, 'the system image'),
            '-i',
            '16384',
            '-m',
            '0',
            '-L',
            labels.active,
            '-a',
            '-',
            `${STAGE.state}/cOS/active.img`,
          ],
          env,
          stdin: fromImage,
        },
      }
    : {
        title: 'the same squashfs is the system image (no toolkit: dracut dmsquash-live boots it)',
        action: { kind: 'exec', tool: 'ln', args: ['--', `${STAGE.recovery}/cOS/recovery.squashfs`, `${STAGE.state}/cOS/active.img`] },
      };

  const filled = (p: Partition, from: string): PlanStep[] => [
    {
      title: `make the ${p.name} filesystem (ext2 labelled ${p.label}) from ${from}/`,
      action: {
        kind: 'exec',
        tool: 'genext2fs',
        args: ['-B', String(BLOCK), '-b', blocks(p.sizeMiB, p.name), '-N', '64', '-m', '0', '-U', '-L', p.label!, '-d', from, `${p.name}.part`],
        env,
      },
    },
    {
      title: `give the ${p.name} filesystem a journal and its UUID`,
      action: { kind: 'exec', tool: 'tune2fs', args: ['-j', '-U', uuid(`fs-${p.name}`), `${p.name}.part`], env: e2env },
    },
  ];
  const empty = (p: Partition): PlanStep => ({
    title: `make the empty ${p.name} filesystem (ext4 labelled ${p.label})`,
    action: {
      kind: 'exec',
      tool: 'mkfs.ext4',
      args: [
        '-q',
        '-F',
        '-L',
        p.label!,
        '-U',
        uuid(`fs-${p.name}`),
        '-E',
        `hash_seed=${uuid(`hash-${p.name}`)},root_owner=0:0`,
        `${p.name}.part`,
        `${shown(p.sizeMiB, `MiB of ${p.name}`)}M`,
      ],
      env: e2env,
    },
  });

  const efi = part(partitions, 'efi');
  const uefi = platforms.find(([f]) => f === 'uefi')?.[1];
  const efiSteps: PlanStep[] =
    efi && uefi
      ? [
          {
            title: `build GRUB for UEFI (${uefi.format}) with its early configuration and modules inside`,
            action: {
              kind: 'exec',
              tool: 'grub-mkimage',
              args: ['-O', uefi.format, '-d', uefi.dir.name, '-o', uefi.efiFile!, '-p', GRUB_DIR, '-c', 'early.cfg', ...GRUB_MODULES, ...GRUB_EFI_MODULES],
              env,
            },
          },
          // mcopy gives the FAT entry the file's own time, which is the build's clock until set.
          {
            title: `give ${uefi.efiFile} the SOURCE_DATE_EPOCH time`,
            action: { kind: 'exec', tool: 'touch', args: ['-d', `@${sde}`, '--', uefi.efiFile!], env },
          },
          {
            title: `make the EFI system partition (FAT32 labelled ${EFI_LABEL})`,
            action: {
              kind: 'exec',
              tool: 'mkfs.fat',
              args: [
                '-C',
                '-F',
                '32',
                '-n',
                EFI_LABEL,
                '-i',
                epoch === undefined ? epochPlaceholder('serial from SOURCE_DATE_EPOCH') : derivedFatSerial(build, epoch),
                'efi.part',
                String(efi.sizeMiB! * 1024),
              ],
              env,
            },
          },
          // mkfs.fat dates the root directory's label entry by the clock; mlabel rewrites it at SOURCE_DATE_EPOCH.
          {
            title: 'date the volume label entry from SOURCE_DATE_EPOCH',
            action: { kind: 'exec', tool: 'mlabel', args: ['-i', 'efi.part', `::${EFI_LABEL}`], env },
          },
          { title: 'the removable-media boot path', action: { kind: 'exec', tool: 'mmd', args: ['-i', 'efi.part', '::/EFI', '::/EFI/BOOT'], env } },
          {
            title: `GRUB as /EFI/BOOT/${uefi.efiFile}`,
            action: { kind: 'exec', tool: 'mcopy', args: ['-i', 'efi.part', uefi.efiFile!, `::/EFI/BOOT/${uefi.efiFile}`], env },
          },
        ]
      : [];

  const bios = part(partitions, 'bios');
  const pc = platforms.find(([f]) => f === 'bios')?.[1];
  const biosSteps: PlanStep[] =
    bios && pc
      ? [
          {
            title: `build GRUB's core.img for BIOS (${pc.format}) with its early configuration and modules inside`,
            action: {
              kind: 'exec',
              tool: 'grub-mkimage',
              args: ['-O', pc.format, '-d', pc.dir.name, '-o', 'core.img', '-p', GRUB_DIR, '-c', 'early.cfg', ...GRUB_BIOS_MODULES, ...GRUB_MODULES],
              env,
            },
          },
        ]
      : [];

  const sectors = (mib: number | undefined, what: string) => shown(mib === undefined ? undefined : mib * 2048, `first sector of ${what}`);
  const sgdiskArgs = [
    '-U',
    uuid('disk'),
    ...partitions.flatMap((p) => [
      `-n`,
      `${p.number}:${sectors(p.startMiB, p.name)}:+${shown(p.sizeMiB, `MiB of ${p.name}`)}M`,
      '-t',
      `${p.number}:${p.type}`,
      '-c',
      `${p.number}:${p.name}`,
      '-u',
      `${p.number}:${uuid(`part-${p.name}`)}`,
    ]),
    disk,
  ];
  const partFile = (p: Partition) => (p.role === 'bios' ? 'core.img' : `${p.name}.part`);

  const steps: PlanStep[] = [
    { title: 'stage the recovery partition', action: { kind: 'mkdir', path: `${STAGE.recovery}/cOS` } },
    { title: 'stage the state partition', action: { kind: 'mkdir', path: `${STAGE.state}/cOS` } },
    {
      title: "stream the image's filesystem into the recovery squashfs (docker export → sqfstar, nothing extracted to disk)",
      action: {
        kind: 'exec',
        tool: 'sqfstar',
        args: ['-comp', 'xz', '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', `${STAGE.recovery}/cOS/recovery.squashfs`],
        env,
        stdin: fromImage,
      },
    },
    systemImage,
    {
      title: 'write the GRUB menu (each entry boots with the bootargs.cfg inside its image)',
      action: { kind: 'write', path: `${STAGE.state}${GRUB_DIR}/grub.cfg`, content: grubCfg(build) },
    },
    { title: `write GRUB's early configuration (find ${labels.state}, then its menu)`, action: { kind: 'write', path: 'early.cfg', content: earlyCfg(build) } },
    {
      title: 'give every staged file and directory the SOURCE_DATE_EPOCH time',
      action: { kind: 'exec', tool: 'touch', args: ['-h', '-d', `@${sde}`, '--', ...staged], env },
    },
    ...filled(recovery, STAGE.recovery),
    ...filled(state, STAGE.state),
    empty(part(partitions, 'oem')!),
    empty(part(partitions, 'persistent')!),
    ...efiSteps,
    ...biosSteps,
    { title: `make the ${layout.sizeMiB} MiB disk file (sparse)`, action: { kind: 'exec', tool: 'truncate', args: ['-s', `${layout.sizeMiB}M`, disk] } },
    {
      title: `write the GPT: ${partitions.map((p) => `${p.number} ${p.name} ${p.sizeMiB ?? '…'} MiB`).join(', ')}`,
      action: { kind: 'exec', tool: 'sgdisk', args: sgdiskArgs, env },
    },
    ...partitions.map((p) => ({
      title: `write ${partFile(p)} into partition ${p.number} (${p.name}) at ${p.startMiB ?? '…'} MiB`,
      action: {
        kind: 'exec' as const,
        tool: 'dd',
        args: [`if=${partFile(p)}`, `of=${disk}`, 'bs=1M', `seek=${shown(p.startMiB, `MiB before ${p.name}`)}`, 'conv=notrunc,sparse', 'status=none'],
      },
    })),
    ...(bios
      ? [
          {
            title: 'make the disk boot under BIOS (GRUB boot.img in the MBR)',
            action: {
              kind: 'install-bios-boot' as const,
              disk,
              bootImage: `${GRUB_LIB}/i386-pc/boot.img`,
              coreLba: bios.startMiB! * 2048,
              partitionSectors: bios.sizeMiB! * 2048,
            },
          },
        ]
      : []),
  ];

  return { steps, tools, sizeMiB: layout.sizeMiB };
}
