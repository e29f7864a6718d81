// GRUB on the raw disk, following the cOS boot contract: an early configuration built into the
// GRUB image finds the state partition by label and hands over to /grub2/grub.cfg there; each
// menu entry loop-mounts a system image, sources the bootargs file the image's toolkit era reads
// last (bootFileOf: /etc/cos/bootargs.cfg, or /etc/elemental/bootargs.cfg for Elemental v2) and
// boots `$kernel $kernelcmd` and `$initramfs` from inside it. So the kernel command line stays
// with the image, and an upgrade that replaces the image changes it too. Every variable one of the
// eras' bootargs files reads is set (cOS: img/label/recoverylabel; Elemental: mode and the
// *_label names; v2: snapshotter, root_subpath), and the loop device is `loop0`, which Kairos's
// file names when it reads the image's os-release.
// Labels are schema-checked (`[A-Za-z0-9_-]`); titles go through the quoting module.

import { bootFileOf } from '../../compiler/emit/bootargs.js';
import type { Build } from '../../compiler/normalize/build.js';
import { commentText, grubQuoted } from '../../compiler/quote.js';
import { menuTitle, MENU_TIMEOUT_SECONDS, serialTerminal } from '../iso/grub-cfg.js';

/** Paths on the state and recovery partitions, as cOS names them. */
export const ACTIVE_IMAGE = '/cOS/active.img';
export const PASSIVE_IMAGE = '/cOS/passive.img';
export const RECOVERY_IMAGE = '/cOS/recovery.squashfs';
export const GRUB_DIR = '/grub2';

/** Built into the GRUB images: no module directory is needed on the disk. */
export const GRUB_MODULES = [
  'part_gpt',
  'ext2',
  'squash4',
  'xzio',
  'gzio',
  'loopback',
  'normal',
  'linux',
  'search',
  'search_label',
  'search_fs_file',
  'configfile',
  'test',
  'echo',
  'serial',
  'terminal',
  'sleep',
];
export const GRUB_BIOS_MODULES = ['biosdisk'];
export const GRUB_EFI_MODULES = ['fat', 'all_video', 'efi_gop'];

export function earlyCfg(build: Build): string {
  const state = build.boot.labels.state;
  return [`search --no-floppy --label --set=root ${state}`, `set prefix=($root)${GRUB_DIR}`, `configfile ($root)${GRUB_DIR}/grub.cfg`, ''].join('\n');
}

interface Entry {
  title: string;
  id: 'active' | 'passive' | 'recovery';
  partitionLabel: string;
  image: string;
  /** `label` (the image's filesystem label, cOS) or `recoverylabel` (the recovery partition's). */
  vars: [string, string][];
  /** The image's bootargs file its toolkit era's GRUB reads last. */
  bootFile: string;
}

/** Kairos's bootargs file reads `(loop0)/etc/os-release`: the one loop device name every era accepts. */
const LOOP = 'loop0';

function entry(e: Entry): string[] {
  return [
    `menuentry "${grubQuoted(e.title)}" --id ${e.id} {`,
    `\tsearch --no-floppy --label --set=root ${e.partitionLabel}`,
    `\tset img=${e.image}`,
    `\tset mode=${e.id}`,
    ...e.vars.map(([k, v]) => `\tset ${k}=${v}`),
    `\tloopback ${LOOP} $img`,
    `\tsource (${LOOP})${e.bootFile}`,
    `\tlinux (${LOOP})$kernel $kernelcmd`,
    `\tinitrd (${LOOP})$initramfs`,
    '}',
  ];
}

export function grubCfg(build: Build): string {
  const { labels } = build.boot;
  const serial = serialTerminal(build.boot.console);
  const title = menuTitle(build);
  const bootFile = bootFileOf(build.era?.boot).path;
  return [
    `# derivc: boot menu of ${commentText(build.name)} ${commentText(build.version)} on the raw disk (generated; edit the manifest instead)`,
    `set timeout=${MENU_TIMEOUT_SECONDS}`,
    'set timeout_style=menu',
    'set default=active',
    ...(serial ? [`serial --unit=${serial.unit} --speed=${serial.speed}`, 'terminal_input console serial', 'terminal_output console serial'] : []),
    // What the Elemental eras' bootargs files read (the cOS ones take label/recoverylabel per entry).
    `set state_label=${labels.state}`,
    `set oem_label=${labels.oem}`,
    `set recovery_label=${labels.recovery}`,
    `set persistent_label=${labels.persistent}`,
    'set snapshotter=loopdevice',
    'set root_subpath=',
    '',
    ...entry({ title, id: 'active', partitionLabel: labels.state, image: ACTIVE_IMAGE, vars: [['label', labels.active]], bootFile }),
    '',
    // An upgrade keeps the previous image as passive.img: offered only once there is one.
    `search --no-floppy --label --set=root ${labels.state}`,
    `if [ -f ${PASSIVE_IMAGE} ]; then`,
    ...entry({
      title: `${title} (fallback)`,
      id: 'passive',
      partitionLabel: labels.state,
      image: PASSIVE_IMAGE,
      vars: [['label', labels.passive]],
      bootFile,
    }).map((l) => `\t${l}`),
    'fi',
    '',
    ...entry({
      title: `${title} recovery`,
      id: 'recovery',
      partitionLabel: labels.recovery,
      image: RECOVERY_IMAGE,
      vars: [['recoverylabel', labels.recovery]],
      bootFile,
    }),
    '',
  ].join('\n');
}
