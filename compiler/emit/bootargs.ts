// /etc/cos/bootargs.cfg: the GRUB script fragment GRUB sources from inside the image. It sets
// `kernel`, `kernelcmd` and `initramfs`; `$img`, `$label` and `$recoverylabel` come from the menu
// entry that sources it (the toolkit's grub.cfg, or the raw target's). Manifest values enter only through the quoting module.

import type { Build } from '../normalize/build.js';
import { grubQuoted, kernelArg, UnquotableError } from '../quote.js';
import { generatedBy } from './header.js';

export const BOOTARGS_PATH = 'rootfs/etc/cos/bootargs.cfg';

/** GRUB's lexer refuses a longer word (YYLMAX 8192, its NUL included). */
const GRUB_WORD_MAX = 8191;

/** `kernelcmd="…"` as one GRUB word; validation bounds the arguments far below GRUB's limit. */
function kernelcmd(args: readonly string[]): string {
  const word = `kernelcmd="${args.join(' ')}"`;
  if (new TextEncoder().encode(word).length > GRUB_WORD_MAX)
    throw new UnquotableError(`the kernel command line is longer than a GRUB word may be (${GRUB_WORD_MAX} bytes)`);
  return word;
}

export function bootargs(build: Build): string {
  const b = build.boot;
  const consoles = b.console.map((c) => kernelArg(`console=${c}`));
  const selinux = b.selinux ? ['security=selinux', 'selinux=1'] : ['selinux=0'];
  const common = [`rd.cos.oemlabel=${grubQuoted(b.labels.oem)}`, 'rd.neednet=1', 'panic=5', ...selinux];
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
