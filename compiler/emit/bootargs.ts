// The kernel arguments of a manifest, where the image's GRUB reads them: the bootargs file that
// GRUB sources last from inside the image (shared/reference/toolkit-boot/README.md). It sets
// `kernel`, `kernelcmd` and `initramfs`; `$img`, `$label` and `$recoverylabel` come from the menu
// entry that sources it. A bare or cOS-era image gets a complete /etc/cos/bootargs.cfg from
// derivc; an Elemental or Kairos toolkit keeps its own file, and derivc appends a block that adds
// the manifest's arguments to the `kernelcmd` the toolkit set (the kernel lets later ones win).
// Manifest values enter only through the quoting module.

import type { Build } from '../normalize/build.js';
import { commentText, grubQuoted, kernelArg, UnquotableError } from '../quote.js';
import { describeEra, type BootEra } from '../toolkit-era.js';
import { generatedBy } from './header.js';

/** The complete bootargs.cfg in the build context (`COPY rootfs/ /` puts it at /etc/cos/bootargs.cfg). */
export const BOOTARGS_PATH = 'rootfs/etc/cos/bootargs.cfg';
/** The block appended to the toolkit's own file, in the image and in the build context. */
export const BOOTARGS_APPENDIX = '/usr/lib/derivc/bootargs-appendix.cfg';
export const BOOTARGS_APPENDIX_PATH = `rootfs${BOOTARGS_APPENDIX}`;
/** The script that appends it at build time, once the toolkit's file exists. */
export const BOOTARGS_APPEND_SCRIPT = '/usr/lib/derivc/bootargs-append.sh';

export interface BootFile {
  /** Absolute path in the image of the bootargs file the era's GRUB sources last. */
  path: string;
  /** `complete`: derivc writes the whole file; `append`: derivc appends its block to the toolkit's. */
  mode: 'complete' | 'append';
}

/** Which file each era's GRUB sources last before `linux`, and whether the toolkit ships it. */
export function bootFileOf(boot: BootEra | undefined): BootFile {
  switch (boot) {
    case undefined:
    case 'cos-v0':
      return { path: '/etc/cos/bootargs.cfg', mode: 'complete' };
    case 'elemental-v1.1':
    case 'elemental-v1.3':
    case 'kairos-v2':
    case 'kairos-v3':
      return { path: '/etc/cos/bootargs.cfg', mode: 'append' };
    // grub.cfg sources /etc/cos/bootargs.cfg, then /etc/elemental/bootargs.cfg: the latter wins,
    // and it is the only one the recovery image's /boot/bootargs.cfg is copied from.
    case 'elemental-v2':
      return { path: '/etc/elemental/bootargs.cfg', mode: 'append' };
  }
}

/** GRUB's lexer refuses a longer word (YYLMAX 8192, its NUL included). */
const GRUB_WORD_MAX = 8191;

/** `kernelcmd="…"` as one GRUB word; validation bounds the arguments far below GRUB's limit. */
function kernelcmd(args: readonly string[]): string {
  const word = `kernelcmd="${args.join(' ')}"`;
  if (new TextEncoder().encode(word).length > GRUB_WORD_MAX)
    throw new UnquotableError(`the kernel command line is longer than a GRUB word may be (${GRUB_WORD_MAX} bytes)`);
  return word;
}

const selinuxArgs = (on: boolean) => (on ? ['security=selinux', 'selinux=1'] : ['selinux=0']);

/** A complete bootargs.cfg: the bare and cOS eras. */
export function bootargs(build: Build): string {
  const b = build.boot;
  const consoles = b.console.map((c) => kernelArg(`console=${c}`));
  const common = [`rd.cos.oemlabel=${grubQuoted(b.labels.oem)}`, 'rd.neednet=1', 'panic=5', ...selinuxArgs(b.selinux)];
  const extra = b.cmdline.map(kernelArg);
  // Both branches of the cOS contract: a squashfs recovery booted by dmsquash-live, or an ext2
  // image on a partition loop-mounted by cos-immutable-rootfs. Without a toolkit in the image
  // there is no cos-immutable-rootfs: dracut's dmsquash-live boots the system image (then a
  // squashfs, see targets/raw) from the state partition instead, under a tmpfs overlay as the
  // ISO does — an immutable root without persistent paths.
  const live = (label: string) => [
    `root=live:LABEL=${label}`,
    'rd.live.dir=/',
    'rd.live.squashimg=$img',
    ...(build.runtimeToolkit ? [] : ['rd.live.overlay.overlayfs=1']),
  ];
  const recovery = [...consoles, ...live('$recoverylabel'), ...common, ...extra];
  const image = build.runtimeToolkit
    ? [...consoles, 'root=LABEL=$label', 'cos-img/filename=$img', ...common, 'fsck.mode=force', 'fsck.repair=yes', ...extra]
    : [...consoles, ...live(grubQuoted(b.labels.state)), ...common, ...extra];
  return [
    generatedBy(build),
    'set kernel=/boot/vmlinuz',
    'if [ -n "$recoverylabel" ]; then',
    `  set ${kernelcmd(recovery)}`,
    'else',
    `  set ${kernelcmd(image)}`,
    'fi',
    'set initramfs=/boot/initrd',
    '',
  ].join('\n');
}

/**
 * The toolkit files that hard-code the OEM partition's label (`COS_OEM`) on the kernel command
 * line, and the argument that names it; the others take it from GRUB variables the installer sets.
 */
const OEM_LABEL_ARG: Partial<Record<BootEra, string>> = {
  'elemental-v1.3': 'elemental.oemlabel',
  'kairos-v2': 'rd.cos.oemlabel',
  'kairos-v3': 'rd.cos.oemlabel',
};

/** The arguments this manifest's block appends: a stated OEM label, consoles, selinux, then `boot.cmdline` (see Build.boot.own). */
export function appendedArgs(build: Build): string[] {
  const own = build.boot.own;
  const oemArg = build.era ? OEM_LABEL_ARG[build.era.boot] : undefined;
  return [
    ...(oemArg && own.oemLabel !== undefined ? [kernelArg(`${oemArg}=${own.oemLabel}`)] : []),
    ...(own.console ?? []).map((c) => kernelArg(`console=${c}`)),
    ...(own.selinux !== undefined ? selinuxArgs(own.selinux) : []),
    ...own.cmdline.map(kernelArg),
  ];
}

/**
 * The block derivc appends to the toolkit's own bootargs file: the manifest's arguments after
 * the `kernelcmd` the toolkit set, for every entry (active, passive, recovery) alike. Empty when
 * the manifest adds none (a downstream that states no boot setting).
 */
export function bootargsAppendix(build: Build): string {
  const args = appendedArgs(build);
  if (args.length === 0) return '';
  const name = `${commentText(build.name)} ${commentText(build.version)}`;
  return [
    `# derivc: begin ${name}`,
    generatedBy(build),
    "# The manifest's kernel arguments after the toolkit's own: the kernel lets later ones win.",
    `set ${kernelcmd(['${kernelcmd}', ...args])}`,
    `# derivc: end ${name}`,
    '',
  ].join('\n');
}

/** What `derivc plan` says about the boot arguments: which file, and what derivc does to it. */
export interface BootArgsPlan {
  /** The bootargs file in the image that the GRUB of the image's era sources last. */
  file: string;
  /**
   * `write`: derivc writes it whole and no toolkit ships one; `replace`: derivc's complete file
   * replaces the one the toolkit ships (cOS era); `append`: derivc's block follows the toolkit's
   * content; `keep`: left as the toolkit and upstream derivatives wrote it (no arguments to add).
   */
  action: 'write' | 'replace' | 'append' | 'keep';
  /** The toolkit era (`Elemental v2.3.2`); null without a toolkit. */
  toolkit: string | null;
}

export function bootArgsPlan(build: Build): BootArgsPlan {
  const file = bootFileOf(build.era?.boot);
  const toolkit = build.era ? describeEra(build.era) : null;
  const action = file.mode === 'complete' ? (toolkit ? 'replace' : 'write') : bootargsAppendix(build) ? 'append' : 'keep';
  return { file: file.path, action, toolkit };
}
