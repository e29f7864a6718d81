// `boot.cmdline` and `boot.console` end up on one kernel command line (upstreams' arguments
// included), written by derivc as one GRUB word. The kernel keeps at most COMMAND_LINE_SIZE - 1
// bytes of it (2048 on x86 and arm64): beyond that, arguments are cut off silently at boot, and
// past GRUB's 8 KiB token limit the whole bootargs.cfg no longer parses.

import type { Diagnostic } from '../../diagnostics.js';
import { obj, strings } from '../../data.js';
import { finding, type Rule } from '../context.js';

/** COMMAND_LINE_SIZE - 1 on x86 and arm64: what the kernel reads of its command line. */
export const KERNEL_CMDLINE_MAX = 2047;
/**
 * Kept free for what others put on the same line: derivc's own arguments (root=, rd.cos.*, panic,
 * selinux, fsck…, at most ~320 bytes with the longest labels and image paths; a test keeps this
 * honest), GRUB's `BOOT_IMAGE=…` and what a toolkit's grub.cfg adds.
 */
export const KERNEL_CMDLINE_RESERVED = 512;

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** The bytes the manifest's own arguments take: each item and its separating space. */
export function manifestArgsBytes(cmdline: readonly string[], console: readonly string[]): number {
  return [...cmdline, ...console.map((c) => `console=${c}`)].reduce((sum, a) => sum + bytes(a) + 1, 0);
}

export const kernelCmdlineRules: Rule = (ctx) => {
  const boot = obj(ctx.manifest['boot']);
  const own = strings(boot?.['cmdline']);
  const cmdline = [...(ctx.upstream?.kernelArgs ?? []), ...own];
  const console = boot?.['console'] !== undefined ? strings(boot['console']) : (ctx.upstream?.console ?? ['tty1', 'ttyS0']);
  const used = manifestArgsBytes(cmdline, console);
  const budget = KERNEL_CMDLINE_MAX - KERNEL_CMDLINE_RESERVED;
  if (used <= budget) return [];
  const out: Diagnostic[] = [];
  const inherited = ctx.upstream?.kernelArgs.length ? ` (the upstream derivatives' arguments included)` : '';
  out.push(
    finding(
      ctx,
      'boot/cmdline-too-long',
      own.length ? '/boot/cmdline' : '/boot/console',
      `the kernel arguments take ${used} bytes${inherited}; at most ${budget} fit: the kernel reads ${KERNEL_CMDLINE_MAX} bytes of its command line and ${KERNEL_CMDLINE_RESERVED} are kept for the boot loader's, the toolkit's and derivc's own arguments`,
      {
        at: 'key',
        hint: 'drop arguments the kernel does not need, or move settings into files (sysctl, modprobe.d) instead',
      },
    ),
  );
  return out;
};
