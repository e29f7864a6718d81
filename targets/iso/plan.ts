// The ISO target's plan: pure data, exactly what `run` executes and `derivc plan` shows.
//
//   1. docker export (created container) → init-layer fix → sqfstar     iso/rootfs.squashfs
//   2. /boot/vmlinuz and /boot/initrd from the image's layers            iso/boot/{vmlinuz,initrd}
//   3. GRUB menu                                                         iso/boot/grub/grub.cfg
//   4. the manifest's overlay, merged over the tree (optional)
//   5. grub-mkrescue (xorriso): El Torito BIOS + EFI system partition, hybrid MBR/GPT
//   6. the EFI image's FAT serial, from SOURCE_DATE_EPOCH (mformat takes it from the clock)
//   7. <name>.iso.sha256, then both renamed into the output directory
//
// Reproducibility: sqfstar gets SOURCE_DATE_EPOCH (creation time; newer file times clamped to it,
// which covers the only non-image times in an export, Docker's init layer), xorriso fixed volume
// dates and file dates, mtools SOURCE_DATE_EPOCH for FAT times, step 6 for the FAT serial.

import type { Build, BuildFacts } from '../../compiler/normalize/build.js';
import type { Firmware, IsoOptions } from '../../compiler/normalize/targets.js';
import { firmwareFindings } from '../firmware.js';
import { isoFileName } from '../media-names.js';
import { publishSteps } from '../publish.js';
import { epochPlaceholder, type PlanStep, type TargetContext, type TargetFinding, type TargetPlan, type ToolRequirement } from '../target.js';
import { grubCfg, SQUASHFS_NAME } from './grub-cfg.js';

/** The ISO tree inside the work directory. */
const TREE = 'iso';
const GRUB_LIB = '/usr/lib/grub';

/** GRUB's platform directory per firmware and architecture, with the Debian package that ships it. */
const PLATFORMS: Record<Build['arch'], Partial<Record<Firmware, ToolRequirement>>> = {
  amd64: {
    bios: { name: `${GRUB_LIB}/i386-pc`, package: 'grub-pc-bin' },
    uefi: { name: `${GRUB_LIB}/x86_64-efi`, package: 'grub-efi-amd64-bin' },
  },
  arm64: {
    uefi: { name: `${GRUB_LIB}/arm64-efi`, package: 'grub-efi-arm64-bin' },
  },
};

/** The ISO 9660 volume dates as `-volume_date uuid` takes them: YYYYMMDDhhmmss and centiseconds, UTC. */
export function isoVolumeDate(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14) + '00';
}

export function validateIso(options: IsoOptions, build: BuildFacts): TargetFinding[] {
  return firmwareFindings(options.firmware, build.arch, '/targets/iso/firmware', 'ISO');
}

export function planIso(build: Build, options: IsoOptions, context: TargetContext): TargetPlan {
  const { label, compression } = options;
  const wanted = new Set(options.firmware);
  const firmware = (['bios', 'uefi'] as const).filter((f) => wanted.has(f));
  // validateIso refused the firmware an architecture has no platform for.
  const platforms = firmware.map((f) => PLATFORMS[build.arch][f]!);
  const iso = isoFileName(build, options);
  const published = publishSteps(iso, iso, context.outDir);
  const epoch = context.sourceDateEpoch;
  const sde = epoch === undefined ? epochPlaceholder('SOURCE_DATE_EPOCH') : String(epoch);
  // Tools see one fixed time zone and locale: output must not depend on the host's settings.
  const env = { SOURCE_DATE_EPOCH: sde, TZ: 'UTC', LC_ALL: 'C' };
  const uefi = wanted.has('uefi');

  const tools: ToolRequirement[] = [
    { name: 'sqfstar', package: 'squashfs-tools' },
    { name: 'grub-mkrescue', package: 'grub-common' },
    { name: 'xorriso', package: 'xorriso' },
    ...(uefi
      ? [
          { name: 'mformat', package: 'mtools' },
          { name: 'mcopy', package: 'mtools' },
        ]
      : []),
    ...platforms,
  ];

  const steps: PlanStep[] = [
    { title: 'make the ISO tree', action: { kind: 'mkdir', path: TREE } },
    {
      title: "stream the image's filesystem into squashfs (docker export → sqfstar, nothing extracted to disk)",
      action: {
        kind: 'exec',
        tool: 'sqfstar',
        // A container export has no entry for / itself: sqfstar would make it 0777.
        args: ['-comp', compression, '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', `${TREE}/${SQUASHFS_NAME}`],
        env,
        stdin: { from: 'image-filesystem', image: context.image, capture: '/boot/' },
      },
    },
    {
      title: 'take the kernel and initrd from the image, following the /boot links',
      action: {
        kind: 'extract',
        image: context.image,
        files: [
          { from: '/boot/vmlinuz', to: `${TREE}/boot/vmlinuz` },
          { from: '/boot/initrd', to: `${TREE}/boot/initrd` },
        ],
      },
    },
    { title: 'write the GRUB menu', action: { kind: 'write', path: `${TREE}/boot/grub/grub.cfg`, content: grubCfg(build, label) } },
    ...(options.overlay !== undefined
      ? [{ title: "merge the manifest's overlay into the ISO tree", action: { kind: 'copy-tree' as const, from: options.overlay, to: TREE } }]
      : []),
    {
      title: `make the hybrid ISO (${firmware.map((f) => f.toUpperCase()).join(' + ')}; CD and USB)`,
      action: {
        kind: 'exec',
        tool: 'grub-mkrescue',
        args: [
          '-o',
          iso,
          // One platform directory limits grub-mkrescue to it; without one it takes every
          // platform installed under /usr/lib/grub (i386-pc and x86_64-efi are required above).
          ...(platforms.length === 1 ? ['--directory', platforms[0]!.name] : []),
          TREE,
          '--',
          '-volid',
          label,
          '-volume_date',
          'uuid',
          epoch === undefined ? epochPlaceholder('SOURCE_DATE_EPOCH as YYYYMMDDhhmmss00') : isoVolumeDate(epoch),
          '-volume_date',
          'all_file_dates',
          `=${sde}`,
        ],
        env,
      },
    },
    ...(uefi
      ? [
          {
            title: "set the EFI boot image's volume serial from SOURCE_DATE_EPOCH",
            action: { kind: 'set-efi-serial' as const, iso, serial: epoch ?? epochPlaceholder('SOURCE_DATE_EPOCH') },
          },
        ]
      : []),
    ...published.steps,
  ];

  return {
    target: 'iso',
    tools,
    workDir: { parent: context.outDir, prefix: '.derivc-iso-' },
    steps,
    outputs: published.outputs,
    sourceDateEpoch: epoch ?? null,
  };
}
