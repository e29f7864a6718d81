// The raw target as a specification: the partition layout (cOS order, MiB-aligned, sizes from
// the manifest or chosen from the image), the checks of stated sizes (validate: at their lines,
// without the image) and of the image against the disk (plan: at `size`), `plan()` as data
// (every tool argument that decides the disk's bytes pinned), GRUB's configuration, the BIOS
// boot sector patches, and the run through a recording fake. The real tools, the labels read
// back with blkid and the QEMU boots are test/e2e/raw.e2e.test.ts and raw-sizing.e2e.test.ts.

import { readFileSync } from 'node:fs';
import { debianPackageOf } from '../cli/host-tools.js';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Targets } from '../compiler/generated/manifest-types.js';
import type { Build } from '../compiler/normalize/build.js';
import { normalize } from '../compiler/normalize/index.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { runTarget } from '../targets/actions.js';
import type { DockerEngine } from '../targets/io/engine.js';
import { patchDiskboot, patchMbr, SECTOR } from '../targets/raw/bios-boot.js';
import { earlyCfg, grubCfg } from '../targets/raw/grub-cfg.js';
import { activeImageMiB, capacityMiB, chosenRecoveryMiB, chosenStateMiB, derivedUuid, diskLayout, filesystemMiB, squashfsMiB } from '../targets/raw/layout.js';
import { planRaw, validateRaw, validDiskSpec } from '../targets/raw/plan.js';
import { TargetError, type PlanStep, type StepAction, type TargetFs, type TargetIO } from '../targets/target.js';
import { FakeEngine } from './support/fake-engine.js';
import { MemoryHost } from './support/memory-host.js';
import { optionsOf } from './support/targets.js';

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';
const EPOCH = 1_700_000_000;
const MiB = 2 ** 20;
/** About the bare Debian example's image (736 MB). */
const IMAGE_BYTES = 700 * MiB;
const CONTEXT = { image: 'derivc.local/acme:1.0', imageBytes: IMAGE_BYTES, outDir: '/out', sourceDateEpoch: EPOCH, earlier: [] };
const FACTS = { name: 'acme', version: '1.0', arch: 'amd64' as const };

function build(body = ''): Build {
  const host = new MemoryHost({ 'derivative.yaml': HEAD + body });
  const r = new ValidationSession(host).validate('derivative.yaml');
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return normalize(r.value.manifest!, host).value;
}

const raw = (stated: NonNullable<Targets['raw']> = {}) => optionsOf('raw', stated);
/** The disk `targets.raw` states (validated). */
const spec = (stated: NonNullable<Targets['raw']> = {}) =>
  validDiskSpec(raw(stated), { text: raw(stated).size, pointer: '/targets/raw/size' }, raw(stated).firmware);
const layoutOf = (stated: NonNullable<Targets['raw']> = {}, image: { bytes: number; toolkit: boolean } | undefined = { bytes: IMAGE_BYTES, toolkit: false }) =>
  diskLayout(spec(stated), build().boot.labels, image, '/targets/raw/size');
const table = (stated?: NonNullable<Targets['raw']>, image?: { bytes: number; toolkit: boolean }) =>
  layoutOf(stated, image).partitions.map((p) => [p.number, p.name, p.type, p.label, p.startMiB, p.sizeMiB]);

type Exec = Extract<StepAction, { kind: 'exec' }>;
const execs = (steps: PlanStep[]) => steps.map((s) => s.action).filter((a): a is Exec => a.kind === 'exec');
const execOf = (steps: PlanStep[], tool: string, last = '') =>
  execs(steps).find((a) => a.tool === tool && (last === '' || a.args.at(-1) === last || a.args.includes(last)))!;

describe('raw disk layout', () => {
  it('is the cOS order: BIOS boot, EFI, OEM, RECOVERY and STATE chosen from the image, PERSISTENT the rest, 1 MiB for each GPT', () => {
    // A 700 MiB image: RECOVERY holds a squashfs of at most 727 MiB, STATE it and room for the passive image.
    expect(squashfsMiB({ bytes: IMAGE_BYTES, toolkit: false })).toBe(727);
    expect(table()).toEqual([
      [1, 'bios', 'EF02', undefined, 1, 1],
      [2, 'efi', 'EF00', 'COS_GRUB', 2, 64],
      [3, 'oem', '8300', 'COS_OEM', 66, 64],
      [4, 'recovery', '8300', 'COS_RECOVERY', 130, 832],
      [5, 'state', '8300', 'COS_STATE', 962, 1600],
      [6, 'persistent', '8300', 'COS_PERSISTENT', 2562, 5629],
    ]);
    expect(layoutOf().sizeMiB).toBe(8192);
  });

  it('chooses sizes that hold what goes in them, with room to spare, whatever the image compresses to', () => {
    for (const mib of [100, 700, 1500, 6000]) {
      for (const toolkit of [false, true]) {
        const image = { bytes: mib * MiB + 12345, toolkit };
        const squashfs = squashfsMiB(image);
        // The squashfs is never larger than the files and its tables (stored uncompressed at worst).
        expect(squashfs).toBeGreaterThan(mib * 1.01);
        expect(capacityMiB(chosenRecoveryMiB(image))).toBeGreaterThanOrEqual(squashfs);
        // STATE: the active image and room for the passive one (with a toolkit, the transition image too).
        if (toolkit) expect(activeImageMiB(chosenStateMiB(image))).toBeGreaterThanOrEqual(Math.ceil(mib * 1.25));
        else expect(capacityMiB(chosenStateMiB(image))).toBeGreaterThanOrEqual(2 * squashfs);
        for (const n of [chosenRecoveryMiB(image), chosenStateMiB(image)]) expect(n % 64).toBe(0);
      }
    }
    // Room for the journal tune2fs adds (64 MiB below 16 GiB) and the filesystem's own tables.
    expect(filesystemMiB(1000) - 1000).toBeGreaterThanOrEqual(64 + 1000 / 100);
  });

  it('fits a 4 GiB disk with sizes chosen for the bare example, PERSISTENT taking the rest', () => {
    expect(table({ size: '4GiB' }).map((p) => [p[1], p[5]])).toEqual([
      ['bios', 1],
      ['efi', 64],
      ['oem', 64],
      ['recovery', 832],
      ['state', 1600],
      ['persistent', 1533],
    ]);
  });

  it('takes sizes and labels from the manifest, and leaves out what the firmware does not need', () => {
    const b = build('boot: {labels: {oem: ACME_OEM, state: ACME_STATE}}\n');
    const layout = diskLayout(
      spec({ size: '4GiB', firmware: ['uefi'], partitions: { oem: '32MiB', recovery: '1GiB', state: '2GiB', persistent: '512MiB' } }),
      b.boot.labels,
      { bytes: IMAGE_BYTES, toolkit: false },
      '/targets/raw/size',
    );
    expect(layout.partitions.map((p) => [p.name, p.label, p.startMiB, p.sizeMiB])).toEqual([
      ['efi', 'COS_GRUB', 1, 64],
      ['oem', 'ACME_OEM', 65, 32],
      ['recovery', 'COS_RECOVERY', 97, 1024],
      ['state', 'ACME_STATE', 1121, 2048],
      ['persistent', 'COS_PERSISTENT', 3169, 512],
    ]);
  });

  it('without the image (a plan only shown), leaves what it would choose unknown and the stated sizes as they are', () => {
    const unknown = diskLayout(spec({ partitions: { recovery: '1GiB' } }), build().boot.labels, undefined, '/targets/raw/size');
    expect(unknown.partitions.map((p) => [p.name, p.startMiB, p.sizeMiB])).toEqual([
      ['bios', 1, 1],
      ['efi', 2, 64],
      ['oem', 66, 64],
      ['recovery', 130, 1024],
      ['state', 1154, undefined],
      ['persistent', undefined, undefined],
    ]);
  });

  it('reports, at plan time and at `size`, an image whose chosen partitions the disk cannot hold', () => {
    const big = { bytes: 2 * 1024 * MiB, toolkit: false };
    const error = (() => {
      try {
        layoutOf({ size: '4GiB' }, big);
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TargetError);
    expect((error as TargetError).finding).toEqual({
      code: 'targets/raw-too-small',
      pointer: '/targets/raw/size',
      message:
        'the 4GiB disk cannot hold this image: bios 1MiB + efi 64MiB + oem 64MiB + recovery 2304MiB + state 4416MiB + persistent at least 1MiB + 2MiB for the partition tables make 6852MiB, with recovery 2304MiB and state 4416MiB chosen for its 2048MiB of files',
      hint: 'make the disk at least 6852MiB, or state smaller `targets.raw.partitions` (the image must still fit them)',
    });
  });

  it("reports, at `state`, a stated STATE whose third cannot hold a toolkit image's files", () => {
    expect(() => layoutOf({ partitions: { state: '1GiB' } }, { bytes: 1024 * MiB, toolkit: true })).toThrow(
      expect.objectContaining({
        finding: expect.objectContaining({
          pointer: '/targets/raw/partitions/state',
          message:
            "partition state 1GiB leaves the system image 305MiB (a third, beside the passive and transition images), and the image's files take 1024MiB",
        }),
      }),
    );
  });

  it('derives identifiers from the medium and the epoch: stable, and different per version and per use', () => {
    const a = derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'disk');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'disk')).toBe(a);
    expect(derivedUuid({ name: 'acme', version: '1.1' }, EPOCH, 'disk')).not.toBe(a);
    expect(derivedUuid({ name: 'acme', version: '1.0' }, EPOCH + 1, 'disk')).not.toBe(a);
    expect(derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'part-state')).not.toBe(a);
  });
});

describe('raw validate()', () => {
  it('accepts the defaults, and sizes the image will choose that the disk can hold at all', () => {
    expect(validateRaw(raw(), FACTS)).toEqual([]);
    expect(validateRaw(raw({ size: '4GiB' }), FACTS)).toEqual([]);
    expect(validateRaw(raw({ size: '8GiB', partitions: { persistent: '4GiB' } }), FACTS)).toEqual([]);
  });

  it('reports a stated partition that cannot fit at its own line, saying what comes before it', () => {
    expect(validateRaw(raw({ size: '4GiB', partitions: { recovery: '2GiB', state: '4GiB' } }), FACTS)).toEqual([
      {
        code: 'targets/raw-too-small',
        pointer: '/targets/raw/partitions/state',
        message:
          'partition state 4GiB does not fit the 4GiB disk: bios 1MiB + efi 64MiB + oem 64MiB + recovery 2GiB and 2MiB for the partition tables leave 1917MiB',
        hint: 'make the disk larger or this partition smaller',
      },
    ]);
    expect(validateRaw(raw({ size: '3GiB', partitions: { persistent: '3GiB' } }), FACTS)).toEqual([
      expect.objectContaining({
        pointer: '/targets/raw/partitions/persistent',
        message:
          'partition persistent 3GiB does not fit the 3GiB disk: bios 1MiB + efi 64MiB + oem 64MiB + recovery (at least 1MiB) + state (at least 1MiB) and 2MiB for the partition tables leave 2939MiB',
      }),
    ]);
    expect(validateRaw(raw({ size: '128MiB' }), FACTS)).toEqual([
      expect.objectContaining({
        pointer: '/targets/raw/partitions/oem',
        message: 'partition oem 64MiB does not fit the 128MiB disk: bios 1MiB + efi 64MiB + oem 64MiB and 2MiB for the partition tables make 131MiB',
      }),
    ]);
    expect(validateRaw(raw({ size: '132MiB' }), FACTS)).toEqual([
      expect.objectContaining({
        pointer: '/targets/raw/size',
        message:
          'the 132MiB disk has no room left for partition state: bios 1MiB + efi 64MiB + oem 64MiB + recovery (at least 1MiB) and 2MiB for the partition tables take all of it',
      }),
    ]);
  });

  it('refuses sizes that are not whole MiB (partitions are MiB-aligned), each at its line', () => {
    expect(validateRaw(raw({ size: '4100000KiB', partitions: { oem: '1500KiB' } }), FACTS)).toEqual([
      {
        code: 'targets/invalid-option',
        pointer: '/targets/raw/size',
        message: 'the disk size 4100000KiB is not a whole number of MiB: partitions are MiB-aligned',
        hint: 'write it in MiB, e.g. `4004MiB`',
      },
      {
        code: 'targets/invalid-option',
        pointer: '/targets/raw/partitions/oem',
        message: 'partition oem 1500KiB is not a whole number of MiB: partitions are MiB-aligned',
        hint: 'write it in MiB, e.g. `2MiB`',
      },
    ]);
  });

  it('refuses BIOS for an arm64 image, at targets.raw.firmware', () => {
    expect(validateRaw(raw(), { ...FACTS, arch: 'arm64' })).toEqual([
      expect.objectContaining({ code: 'targets/unsupported-firmware', pointer: '/targets/raw/firmware' }),
    ]);
    expect(validateRaw(raw({ firmware: ['uefi'] }), { ...FACTS, arch: 'arm64' })).toEqual([]);
  });
});

describe('raw plan()', () => {
  it('streams the image once into an xz squashfs GRUB can read, and links it as the system image without a toolkit', () => {
    const plan = planRaw(build(), raw(), CONTEXT);
    const sqfs = execOf(plan.steps, 'sqfstar');
    expect(sqfs.args).toEqual(['-comp', 'xz', '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', 'stage/recovery/cOS/recovery.squashfs']);
    expect(sqfs.stdin).toEqual({ from: 'image-filesystem', image: 'derivc.local/acme:1.0' });
    expect(execOf(plan.steps, 'ln').args).toEqual(['--', 'stage/recovery/cOS/recovery.squashfs', 'stage/state/cOS/active.img']);
    expect(execs(plan.steps).filter((a) => a.stdin)).toHaveLength(1);
  });

  it('with a toolkit, makes the system image an ext2 filesystem labelled boot.labels.active, a third of what STATE holds', () => {
    const b = { ...build(), runtimeToolkit: true };
    const plan = planRaw(b, raw({ partitions: { state: '3GiB' } }), CONTEXT);
    expect(activeImageMiB(3072)).toBe(967);
    const active = execs(plan.steps).find((a) => a.tool === 'genext2fs' && a.stdin)!;
    expect(active.args).toEqual([
      '-B',
      '4096',
      '-b',
      String((967 * 2 ** 20) / 4096),
      '-i',
      '16384',
      '-m',
      '0',
      '-L',
      'COS_ACTIVE',
      '-a',
      '-',
      'stage/state/cOS/active.img',
    ]);
    expect(execs(plan.steps).some((a) => a.tool === 'ln')).toBe(false);
    // Chosen from the image: three times what its files need at 4 KiB blocks.
    const chosen = execs(planRaw(b, raw(), CONTEXT).steps).find((a) => a.tool === 'genext2fs' && a.stdin)!;
    expect(Number(chosen.args[3]) / 256).toBeGreaterThanOrEqual(700 * 1.25);
  });

  it('fills RECOVERY and STATE offline from the staged trees, files owned by root, with a journal and a derived UUID', () => {
    const plan = planRaw(build(), raw(), CONTEXT);
    expect(execOf(plan.steps, 'genext2fs', 'state.part').args).toEqual([
      '-B',
      '4096',
      '-b',
      String(1600 * 256),
      '-N',
      '64',
      '-m',
      '0',
      '-U',
      '-L',
      'COS_STATE',
      '-d',
      'stage/state',
      'state.part',
    ]);
    expect(execOf(plan.steps, 'tune2fs', 'state.part')).toEqual({
      kind: 'exec',
      tool: 'tune2fs',
      args: ['-j', '-U', derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'fs-state'), 'state.part'],
      env: { SOURCE_DATE_EPOCH: '1700000000', TZ: 'UTC', LC_ALL: 'C', E2FSPROGS_FAKE_TIME: '1700000000' },
    });
    // Every staged path gets the epoch as its time: genext2fs copies file times.
    expect(execOf(plan.steps, 'touch').args).toEqual(
      expect.arrayContaining(['-h', '-d', '@1700000000', 'stage/state/cOS/active.img', 'stage/state/grub2/grub.cfg', 'stage/recovery/cOS/recovery.squashfs']),
    );
    expect(execOf(plan.steps, 'mkfs.ext4', 'oem.part').args).toEqual([
      '-q',
      '-F',
      '-L',
      'COS_OEM',
      '-U',
      derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'fs-oem'),
      '-E',
      `hash_seed=${derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'hash-oem')},root_owner=0:0`,
      'oem.part',
      '64M',
    ]);
  });

  it('puts GRUB on the EFI partition as the removable-media path and in the BIOS boot partition, each with the early configuration built in', () => {
    const plan = planRaw(build(), raw(), CONTEXT);
    const [efi, pc] = execs(plan.steps).filter((a) => a.tool === 'grub-mkimage');
    expect(efi!.args.slice(0, 10)).toEqual(['-O', 'x86_64-efi', '-d', '/usr/lib/grub/x86_64-efi', '-o', 'BOOTX64.EFI', '-p', '/grub2', '-c', 'early.cfg']);
    expect(efi!.args).toEqual(expect.arrayContaining(['part_gpt', 'ext2', 'squash4', 'xzio', 'loopback', 'linux', 'search_label', 'fat']));
    expect(pc!.args.slice(0, 11)).toEqual(['-O', 'i386-pc', '-d', '/usr/lib/grub/i386-pc', '-o', 'core.img', '-p', '/grub2', '-c', 'early.cfg', 'biosdisk']);
    expect(execOf(plan.steps, 'mcopy').args).toEqual(['-i', 'efi.part', 'BOOTX64.EFI', '::/EFI/BOOT/BOOTX64.EFI']);
    // The FAT entry takes the file's time: set to the epoch first (a clock time made builds differ).
    expect(execOf(plan.steps, 'touch', 'BOOTX64.EFI').args).toEqual(['-d', '@1700000000', '--', 'BOOTX64.EFI']);
    expect(execOf(plan.steps, 'mkfs.fat').args).toEqual([
      '-C',
      '-F',
      '32',
      '-n',
      'COS_GRUB',
      '-i',
      expect.stringMatching(/^[0-9a-f]{8}$/),
      'efi.part',
      '65536',
    ]);
    // mkfs.fat dates the label's directory entry by the clock (two builds differed there): mlabel redates it.
    expect(execOf(plan.steps, 'mlabel')).toMatchObject({ args: ['-i', 'efi.part', '::COS_GRUB'], env: { SOURCE_DATE_EPOCH: '1700000000' } });
  });

  it('assembles the disk: sparse file, GPT with fixed GUIDs, every part at its offset, boot.img last, then checksum and rename', () => {
    const plan = planRaw(build(), raw(), CONTEXT);
    const uuid = (what: string) => derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, what);
    expect(execOf(plan.steps, 'truncate').args).toEqual(['-s', '8192M', 'disk.raw']);
    expect(execOf(plan.steps, 'sgdisk').args.slice(0, 10)).toEqual([
      '-U',
      uuid('disk'),
      '-n',
      '1:2048:+1M',
      '-t',
      '1:EF02',
      '-c',
      '1:bios',
      '-u',
      `1:${uuid('part-bios')}`,
    ]);
    expect(
      execs(plan.steps)
        .filter((a) => a.tool === 'dd')
        .map((a) => [a.args[0], a.args[3]]),
    ).toEqual([
      ['if=core.img', 'seek=1'],
      ['if=efi.part', 'seek=2'],
      ['if=oem.part', 'seek=66'],
      ['if=recovery.part', 'seek=130'],
      ['if=state.part', 'seek=962'],
      ['if=persistent.part', 'seek=2562'],
    ]);
    expect(plan.steps.slice(-3).map((s) => s.action)).toEqual([
      { kind: 'install-bios-boot', disk: 'disk.raw', bootImage: '/usr/lib/grub/i386-pc/boot.img', coreLba: 2048, partitionSectors: 2048 },
      { kind: 'checksum', file: 'disk.raw', to: 'acme-1.0.raw.sha256', name: 'acme-1.0.raw' },
      {
        kind: 'publish',
        files: [
          { from: 'disk.raw', to: '/out/acme-1.0.raw' },
          { from: 'acme-1.0.raw.sha256', to: '/out/acme-1.0.raw.sha256' },
        ],
      },
    ]);
    expect(plan.outputs).toEqual(['/out/acme-1.0.raw', '/out/acme-1.0.raw.sha256']);
    expect(plan.workDir).toEqual({ parent: '/out', prefix: '.derivc-raw-' });
  });

  it('converts to qcow2 with qemu-img when asked, and publishes that', () => {
    const plan = planRaw(build(), raw({ format: 'qcow2' }), CONTEXT);
    expect(execOf(plan.steps, 'qemu-img').args).toEqual(['convert', '-f', 'raw', '-O', 'qcow2', 'disk.raw', 'acme-1.0.qcow2']);
    expect(plan.outputs).toEqual(['/out/acme-1.0.qcow2', '/out/acme-1.0.qcow2.sha256']);
    expect(plan.tools).toContainEqual({ name: 'qemu-img', package: 'qemu-utils' });
  });

  it('for UEFI alone: no BIOS boot partition, no core.img, no MBR code', () => {
    const plan = planRaw(build(), raw({ firmware: ['uefi'] }), CONTEXT);
    expect(plan.steps.some((s) => s.action.kind === 'install-bios-boot')).toBe(false);
    expect(execs(plan.steps).filter((a) => a.tool === 'grub-mkimage')).toHaveLength(1);
    expect(plan.tools.map((t) => t.name)).not.toContain('/usr/lib/grub/i386-pc');
  });

  it('boots arm64 from BOOTAA64.EFI', () => {
    const arm = { ...build(), arch: 'arm64' as const };
    expect(execOf(planRaw(arm, raw({ firmware: ['uefi'] }), CONTEXT).steps, 'mcopy').args).toContain('::/EFI/BOOT/BOOTAA64.EFI');
  });

  it('shows placeholders for everything derived from SOURCE_DATE_EPOCH when it is not known yet', () => {
    const plan = planRaw(build(), raw(), { ...CONTEXT, sourceDateEpoch: undefined });
    expect(plan.sourceDateEpoch).toBeNull();
    expect(execOf(plan.steps, 'sgdisk').args[1]).toBe('<UUID of disk from SOURCE_DATE_EPOCH>');
    expect(execOf(plan.steps, 'mkfs.fat').args[6]).toBe('<serial from SOURCE_DATE_EPOCH>');
  });

  it('shows placeholders for the sizes chosen from the image while its size is not known (derivc plan)', () => {
    const plan = planRaw(build(), raw(), { ...CONTEXT, imageBytes: undefined });
    expect(
      execOf(plan.steps, 'sgdisk')
        .args.filter((_, i, a) => a[i - 1] === '-n')
        .slice(3),
    ).toEqual([
      "4:266240:+<MiB of recovery, chosen from the image's size>M",
      "5:<first sector of state, chosen from the image's size>:+<MiB of state, chosen from the image's size>M",
      "6:<first sector of persistent, chosen from the image's size>:+<MiB of persistent, chosen from the image's size>M",
    ]);
    expect(execOf(plan.steps, 'genext2fs', 'recovery.part').args[3]).toBe("<blocks of recovery, chosen from the image's size>");
    // What the manifest states stays as stated.
    expect(
      execOf(planRaw(build(), raw({ partitions: { recovery: '1GiB', state: '2GiB' } }), { ...CONTEXT, imageBytes: undefined }).steps, 'sgdisk').args,
    ).toContain('6:6557696:+4989M');
  });

  it('names the Debian package of every tool, as doctor does, and checks every tool it runs but the Essential ones', () => {
    const plan = planRaw(build(), raw({ format: 'qcow2' }), CONTEXT);
    expect(plan.tools).toEqual(
      expect.arrayContaining([
        { name: 'genext2fs', package: 'genext2fs' },
        { name: 'sgdisk', package: 'gdisk' },
        { name: '/usr/lib/grub/i386-pc/boot.img', package: 'grub-pc-bin' },
      ]),
    );
    for (const t of plan.tools) expect([t.name, debianPackageOf(t.name)]).toEqual([t.name, t.package]);
    const essential = ['ln', 'touch', 'truncate', 'dd'];
    for (const a of execs(plan.steps)) expect(essential.includes(a.tool) || plan.tools.some((t) => t.name === a.tool)).toBe(true);
  });
});

describe('raw GRUB configuration', () => {
  it('finds STATE by label and hands over to its menu', () => {
    expect(earlyCfg(build('boot: {labels: {state: ACME_STATE}}\n'))).toBe(
      'search --no-floppy --label --set=root ACME_STATE\nset prefix=($root)/grub2\nconfigfile ($root)/grub2/grub.cfg\n',
    );
  });

  it('boots each image with the bootargs.cfg inside it: active, passive once there is one, recovery', () => {
    const cfg = grubCfg(build('boot: {grubEntryName: Acme Edge}\n'));
    expect(cfg).toContain(
      'menuentry "Acme Edge" --id active {\n\tsearch --no-floppy --label --set=root COS_STATE\n\tset img=/cOS/active.img\n\tset mode=active\n\tset label=COS_ACTIVE\n\tloopback loop0 $img\n\tsource (loop0)/etc/cos/bootargs.cfg\n\tlinux (loop0)$kernel $kernelcmd\n\tinitrd (loop0)$initramfs\n}',
    );
    // What the Elemental eras' bootargs files read, set once before the entries.
    expect(cfg).toContain(
      'set state_label=COS_STATE\nset oem_label=COS_OEM\nset recovery_label=COS_RECOVERY\nset persistent_label=COS_PERSISTENT\nset snapshotter=loopdevice\n',
    );
    expect(cfg).toContain('if [ -f /cOS/passive.img ]; then\n\tmenuentry "Acme Edge (fallback)" --id passive {');
    expect(cfg).toContain('\tset img=/cOS/recovery.squashfs\n\tset mode=recovery\n\tset recoverylabel=COS_RECOVERY\n');
    expect(cfg).toContain('set default=active\nserial --unit=0 --speed=9600\nterminal_input console serial\nterminal_output console serial\n');
  });

  it("sources the bootargs file the image's toolkit era reads last (Elemental v2: /etc/elemental/bootargs.cfg)", () => {
    const elemental = grubCfg(build('toolkit: {source: image, image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"}\n'));
    expect(elemental.match(/source \(loop0\)\/etc\/elemental\/bootargs\.cfg/g)).toHaveLength(3);
    expect(elemental).not.toContain('/etc/cos/bootargs.cfg');
    const kairos = grubCfg(build('toolkit: {source: image, mode: framework, image: "quay.io/kairos/framework:v2.11.7"}\n'));
    expect(kairos.match(/source \(loop0\)\/etc\/cos\/bootargs\.cfg/g)).toHaveLength(3);
  });
});

describe('BIOS boot sectors', () => {
  const bootImg = new Uint8Array(SECTOR).map((_, i) => (i * 7) & 0xff);
  const mbr = new Uint8Array(SECTOR).map((_, i) => (i >= 440 ? 0xee : 0));

  it("puts boot.img's code in front of the disk's signature and partition table, pointing at core.img", () => {
    const out = patchMbr(mbr, bootImg, 2048);
    expect(Buffer.from(out.subarray(0, 0x5c))).toEqual(Buffer.from(bootImg.subarray(0, 0x5c)));
    expect(Buffer.from(out.subarray(0x5c, 0x64))).toEqual(Buffer.from([0x00, 0x08, 0, 0, 0, 0, 0, 0]));
    expect([out[0x66], out[0x67]]).toEqual([0x90, 0x90]);
    expect(Buffer.from(out.subarray(0x68, 440))).toEqual(Buffer.from(bootImg.subarray(0x68, 440)));
    expect(Buffer.from(out.subarray(440))).toEqual(Buffer.from(mbr.subarray(440)));
  });

  it("points core.img's blocklist at the sectors after its first, and refuses a core.img larger than the partition", () => {
    const first = new Uint8Array(SECTOR);
    new DataView(first.buffer).setUint16(SECTOR - 4, 335, true);
    const out = patchDiskboot(first, 2048, 2048);
    expect(new DataView(out.buffer).getBigUint64(SECTOR - 12, true)).toBe(2049n);
    expect(new DataView(out.buffer).getUint16(SECTOR - 4, true)).toBe(335);
    new DataView(first.buffer).setUint16(SECTOR - 4, 2048, true);
    expect(() => patchDiskboot(first, 2048, 2048)).toThrow("GRUB's core.img (2049 sectors) does not fit the BIOS boot partition (2048 sectors)");
  });

  it('matches the boot.img GRUB ships (its jump over the drive check sits where we patch)', () => {
    const real = readFileSync('/usr/lib/grub/i386-pc/boot.img', { encoding: null });
    expect(real.length).toBe(SECTOR);
    // boot.S: `jmp 3f` (0xeb) over the drive check at 0x66; 0x5c holds kernel_sector (1 by default).
    expect(real[0x66]).toBe(0xeb);
    expect(real.readBigUInt64LE(0x5c)).toBe(1n);
  });
});

describe('raw run()', () => {
  it('runs the plan in order in its work directory, patches the MBR and core.img in place, and publishes only at the end', async () => {
    const plan = planRaw(build(), raw(), CONTEXT);
    const work = '/out/.derivc-raw-1';
    const files = new Map<string, Buffer>([['/usr/lib/grub/i386-pc/boot.img', Buffer.alloc(SECTOR, 0xb0)]]);
    const log: string[] = [];
    const fs: TargetFs = {
      makeTempDir: async () => work,
      mkdir: async () => undefined,
      writeFile: async (f, c) => void files.set(f, Buffer.from(c)),
      copyTree: async () => undefined,
      read: async (f, o, l) => files.get(f)!.subarray(o, o + l),
      patch: async (f, o, b) => void (log.push(`patch @${o}`), Buffer.from(b).copy(files.get(f)!, o)),
      sha256: async (f) => ({ sha256: 'cd'.repeat(32), bytes: files.get(f)!.length }),
      rename: async (from, to) => void (log.push(`rename ${to}`), files.set(to, files.get(from)!)),
      remove: async (p) => void log.push(`remove ${p}`),
    };
    const engine: DockerEngine = Object.assign(new FakeEngine(), {
      exportContainer: async <T>(_image: string, consume: (tar: NodeJS.ReadableStream) => Promise<T>) => consume(Readable.from([Buffer.alloc(1024)])),
      readEntries: async (_image: string, paths: readonly string[]) => new Map(paths.map((p) => [p, undefined])),
    });
    const io: TargetIO = {
      engine,
      fs,
      hasTool: async () => true,
      exec: async (tool, args, opts) => {
        log.push(`${tool} ${args.at(-1)}`);
        expect(opts?.cwd).toBe(work);
        if (opts?.stdin) for await (const _ of opts.stdin) void _;
        if (tool === 'truncate') files.set(`${work}/disk.raw`, Buffer.alloc(3 * 2048 * SECTOR));
        if (tool === 'dd' && args[0] === 'if=core.img') new DataView(files.get(`${work}/disk.raw`)!.buffer).setUint16(2048 * SECTOR + SECTOR - 4, 300, true);
      },
    };
    const artifacts = await runTarget(plan, io);
    expect(artifacts).toEqual([{ path: '/out/acme-1.0.raw', sha256: 'cd'.repeat(32), bytes: 3 * 2048 * SECTOR }]);
    const disk = files.get('/out/acme-1.0.raw')!;
    expect(disk[0]).toBe(0xb0);
    expect(disk.readBigUInt64LE(0x5c)).toBe(2048n);
    expect(disk.readBigUInt64LE(2048 * SECTOR + SECTOR - 12)).toBe(2049n);
    expect(log.slice(0, 2)).toEqual(['sqfstar stage/recovery/cOS/recovery.squashfs', 'ln stage/state/cOS/active.img']);
    expect(log.slice(-7)).toEqual([
      'dd status=none',
      'patch @0',
      'patch @1048576',
      'remove /out/acme-1.0.raw.sha256',
      'rename /out/acme-1.0.raw',
      'rename /out/acme-1.0.raw.sha256',
      `remove ${work}`,
    ]);
  });
});
