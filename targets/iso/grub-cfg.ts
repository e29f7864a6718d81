// The live ISO's GRUB menu and kernel command line, in the cOS live layout: the squashfs at the
// ISO's root, found by dracut's dmsquash-live through the volume label. Every manifest value goes
// through compiler/quote.ts: GRUB reads each argument back as exactly what the manifest says.

import type { Build } from '../../compiler/normalize/build.js';
import { commentText, grubQuoted, kernelArg } from '../../compiler/quote.js';

/** File name of the image's squashfs at the root of the ISO. */
export const SQUASHFS_NAME = 'rootfs.squashfs';
/** Seconds the menu waits before booting the live entry. */
export const MENU_TIMEOUT_SECONDS = 3;

/**
 * The live kernel command line: dmsquash-live finds the medium by label and boots the squashfs
 * with an overlayfs on top; then the manifest's consoles (in its order: the last is
 * /dev/console) and cmdline; `rd.cos.disable` when a toolkit would otherwise treat the live
 * system as an installed one (as the cOS live ISO does).
 */
export function liveKernelArgs(build: Build, label: string): string[] {
  return [
    `root=live:CDLABEL=${label}`,
    'rd.live.dir=/',
    `rd.live.squashimg=${SQUASHFS_NAME}`,
    'rd.live.overlay.overlayfs=1',
    ...build.boot.console.map((c) => `console=${c}`),
    ...build.boot.cmdline,
    ...(build.runtimeToolkit ? ['rd.cos.disable'] : []),
  ];
}

/** GRUB's serial terminal for the first ttyS console: same unit and speed as the kernel's (9600 when unstated, as the kernel defaults). */
export function serialTerminal(consoles: readonly string[]): { unit: number; speed: number } | undefined {
  for (const c of consoles) {
    const m = /^ttyS(\d+)(?:,(\d+))?/.exec(c);
    if (m) return { unit: Number(m[1]), speed: m[2] ? Number(m[2]) : 9600 };
  }
  return undefined;
}

export function menuTitle(build: Build): string {
  // GRUB_ENTRY_NAME comes from `boot.grubEntryName` or `metadata.osRelease` (validation refuses both).
  return build.boot.grubEntryName ?? build.osRelease.find(([k]) => k === 'GRUB_ENTRY_NAME')?.[1] ?? build.name;
}

export function grubCfg(build: Build, label: string): string {
  const serial = serialTerminal(build.boot.console);
  const args = liveKernelArgs(build, label).map((a) => `"${kernelArg(a)}"`);
  return [
    `# derivc: live boot menu of ${commentText(build.name)} ${commentText(build.version)} (generated; edit the manifest instead)`,
    `set timeout=${MENU_TIMEOUT_SECONDS}`,
    'set timeout_style=menu',
    'set default=0',
    ...(serial
      ? [
          // The menu on the serial line too: a headless machine (and derivc test) sees it.
          `serial --unit=${serial.unit} --speed=${serial.speed}`,
          'terminal_input console serial',
          'terminal_output console serial',
        ]
      : []),
    '',
    `menuentry "${grubQuoted(menuTitle(build))}" {`,
    // Without a video driver, GRUB's EFI loader prints "error: no suitable video mode found".
    '\tinsmod all_video',
    `\tlinux /boot/vmlinuz ${args.join(' ')}`,
    '\tinitrd /boot/initrd',
    '}',
    '',
  ].join('\n');
}
