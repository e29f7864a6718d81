// The kernel command line is bounded: the kernel reads 2047 bytes of it, GRUB a word of 8191.
// The manifest's arguments (upstreams' included) get what derivc's own, GRUB's and the toolkit's
// leave free; everything that validates compiles to a bootargs.cfg GRUB parses.

import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { BOOTARGS_PATH } from '../compiler/emit/bootargs.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { KERNEL_CMDLINE_MAX, KERNEL_CMDLINE_RESERVED, manifestArgsBytes } from '../compiler/validate/rules/kernel-cmdline.js';
import { checkGrub } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

const LABELS = { oem: 'O'.repeat(16), state: 'S'.repeat(16), recovery: 'R'.repeat(16), persistent: 'P'.repeat(16) };
const budget = KERNEL_CMDLINE_MAX - KERNEL_CMDLINE_RESERVED;

function manifest(opts: { name?: string; base?: string; toolkit?: boolean; cmdline?: string[]; console?: string[] }): string {
  return [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    `metadata: {name: ${opts.name ?? 'acme'}, version: "1.0"}`,
    `base: ${opts.base ?? '{image: "registry.opensuse.org/opensuse/leap:15.5"}'}`,
    ...(opts.toolkit ? ['toolkit: {source: luet}'] : []),
    'boot:',
    '  selinux: true',
    `  labels: ${JSON.stringify(LABELS)}`,
    ...(opts.console ? [`  console: ${JSON.stringify(opts.console)}`] : []),
    ...(opts.cmdline ? ['  cmdline:', ...opts.cmdline.map((a) => `    - ${a}`)] : []),
    '',
  ].join('\n');
}

function run(files: Record<string, string>, path = 'derivative.yaml') {
  const host = new MemoryHost(files);
  const v = new ValidationSession(host).validate(path);
  const output = v.value.manifest ? compile(v.value.manifest, host, { version: '0.0.0-test' }).value : undefined;
  const bootargs = output?.files.find((f) => f.path === BOOTARGS_PATH)?.content as string | undefined;
  return { diagnostics: v.diagnostics, bootargs };
}

/** Arguments of `n` bytes in all (each `k=vvv…` plus its space). */
function argsOf(n: number): string[] {
  const out: string[] = [];
  for (let i = 0; n > 0; i++) {
    const len = Math.min(n - 1, 100);
    const key = `a${i}=`;
    out.push(key + 'v'.repeat(Math.max(0, len - key.length)));
    n -= out[out.length - 1]!.length + 1;
  }
  return out;
}

describe('the kernel command line', () => {
  it("keeps derivc's own arguments well inside the reserved bytes (longest labels, image paths, selinux, fsck)", () => {
    for (const toolkit of [false, true]) {
      const { bootargs } = run({ 'derivative.yaml': manifest({ toolkit, console: ['tty1'] }) });
      for (const line of bootargs!.match(/kernelcmd="[^"]*"/g)!) {
        // $label, $recoverylabel and $img are the menu entry's: give each 64 bytes.
        const expanded = line.slice('kernelcmd="'.length, -1).replace(/\$(label|recoverylabel|img)\b/g, 'x'.repeat(64));
        const own = expanded.split(' ').filter((a) => a !== 'console=tty1');
        const bytes = own.join(' ').length;
        // 128 bytes stay for GRUB's `BOOT_IMAGE=/boot/vmlinuz ` and a toolkit's additions.
        expect(bytes, `${toolkit ? 'toolkit' : 'bare'}: ${expanded}`).toBeLessThanOrEqual(KERNEL_CMDLINE_RESERVED - 128);
      }
    }
  });

  it('validates and compiles arguments up to the budget, to a bootargs.cfg GRUB parses', (ctx) => {
    const cmdline = argsOf(budget - manifestArgsBytes([], ['tty1', 'ttyS0']));
    expect(manifestArgsBytes(cmdline, ['tty1', 'ttyS0'])).toBe(budget);
    const { diagnostics, bootargs } = run({ 'derivative.yaml': manifest({ cmdline }) });
    expect(diagnostics).toEqual([]);
    checkGrub(ctx, bootargs!);
  });

  it('refuses one byte more, at boot.cmdline', () => {
    const cmdline = argsOf(budget - manifestArgsBytes([], ['tty1', 'ttyS0']) + 1);
    const { diagnostics } = run({ 'derivative.yaml': manifest({ cmdline }) });
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual([['boot/cmdline-too-long', '/boot/cmdline']]);
  });

  it('counts the consoles, at boot.console when they alone are too many', () => {
    const console = Array.from({ length: 200 }, (_, i) => `ttyS${i},115200n8`);
    const { diagnostics } = run({ 'derivative.yaml': manifest({ console }) });
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual([['boot/cmdline-too-long', '/boot/console']]);
  });

  it("counts the upstream chain's arguments, which a downstream carries on", () => {
    const half = argsOf(Math.ceil(budget / 2));
    const files = {
      '.git/HEAD': 'ref: refs/heads/main\n',
      'up/derivative.yaml': manifest({ name: 'up', cmdline: half }),
      'down/derivative.yaml': manifest({ name: 'down', base: '{derivative: ../up/derivative.yaml}', cmdline: half.map((a) => `b${a}`) }),
    };
    expect(run(files, 'up/derivative.yaml').diagnostics).toEqual([]);
    const { diagnostics } = run(files, 'down/derivative.yaml');
    expect(diagnostics.map((d) => [d.code, d.file])).toEqual([['boot/cmdline-too-long', 'down/derivative.yaml']]);
    expect(diagnostics[0]!.message).toContain("upstream derivatives' arguments included");
  });
});
