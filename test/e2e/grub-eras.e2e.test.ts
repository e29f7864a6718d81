// Proof by GRUB, per toolkit era: no toolkit image can be pulled here, but GRUB can run each era's
// real boot configuration. For every era under ../shared/reference/toolkit-boot/, a manifest of
// that era (a distinctive `boot.cmdline`, two consoles, selinux on) is compiled, and a disk laid
// out as that era's installer leaves it (its grub.cfg where its GRUB reads it, its env files,
// labels and image paths; grub-eras.ts says which file comes from where) carries system images
// holding the bare example's kernel and initrd and the bootargs file the era's GRUB sources last,
// as derivc leaves it: derivc's own (bare, cOS) or the toolkit's with derivc's block appended.
// Each entry — active, passive, recovery, picked with `next_entry` in OEM's /grubenv as the
// toolkits themselves pick one — boots under SeaBIOS and OVMF until the kernel prints its
// `Command line:` (before any init runs), then QEMU is killed. The line must carry the era's own
// arguments and the manifest's, the manifest's winning. Under DERIVC_E2E=1 a missing tool, Engine
// or reference file fails the suite.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../../cli/node-host.js';
import { compile } from '../../compiler/compile.js';
import { bootargs, bootargsAppendix, bootFileOf } from '../../compiler/emit/bootargs.js';
import type { Build } from '../../compiler/normalize/build.js';
import { ValidationSession } from '../../compiler/validate/index.js';
import type { Firmware } from '../../compiler/normalize/targets.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { bootAndCheck } from '../../targets/io/qemu.js';
import { runCliAsync } from '../support/cli.js';
import { ensureDebianBase } from './fixtures.js';
import { ext2, makeDisk, setGrubenv, squashfs, type Disk, type Tree } from './grub-disk.js';
import { ENTRY_KINDS, ERAS, eraManifest, REFERENCE, type Era, type EraImages } from './grub-eras.js';
import { e2eEngine, requireTool } from './require.js';

const TOOLS = [
  'genext2fs',
  'mksquashfs',
  'sgdisk',
  'grub-mkimage',
  'mkfs.fat',
  'mmd',
  'mcopy',
  'truncate',
  'dd',
  'qemu-system-x86_64',
  '/usr/lib/grub/i386-pc/boot.img',
  '/usr/lib/grub/x86_64-efi',
  '/usr/share/OVMF/OVMF_CODE_4M.fd',
  '/usr/share/OVMF/OVMF_VARS_4M.fd',
  join(REFERENCE, 'README.md'),
];

const engine = await e2eEngine();
const tools = await Promise.all(TOOLS.map((t) => requireTool(t)));
const ready = engine !== undefined && tools.every((t) => t !== undefined);

/** The bare example: its image has the kernel and initrd (built here when no other test has yet). */
const EXAMPLE = 'examples/debian-bare/derivative.yaml';
const EXAMPLE_IMAGE = 'derivc.local/derivc-debian:12.0.1';
const FIRMWARE: readonly Firmware[] = ['bios', 'uefi'];
/** From QEMU's start to the kernel's command line: firmware, GRUB reading ~50 MB through a loop device, the kernel up to its serial console, all emulated. */
const BOOT_TIMEOUT_MS = 180_000;

const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-grub-eras-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The Build of the era's manifest, compiled as `derivc build` would (errors fail; warnings such as an assumed version are fine). */
function compileEra(era: Era): Build {
  const path = join(dir, `${era.name}.yaml`);
  writeFileSync(path, eraManifest(era));
  const v = new ValidationSession(nodeHost).validate(path);
  const errors = v.diagnostics.filter((d) => d.severity === 'error');
  if (!v.value.manifest || errors.length)
    throw new Error(`${era.name}: the manifest does not validate:\n${errors.map((d) => `${d.code}: ${d.message}`).join('\n')}`);
  const c = compile(v.value.manifest, nodeHost, { version: '0.0.0-test' });
  const failed = c.diagnostics.filter((d) => d.severity === 'error');
  if (failed.length) throw new Error(`${era.name}: the manifest does not compile:\n${failed.map((d) => `${d.code}: ${d.message}`).join('\n')}`);
  return c.value.build;
}

/**
 * The bootargs file the era's GRUB sources last, as derivc leaves it in the image: its own
 * complete file (bare and cOS), or the toolkit's file with derivc's block appended as
 * /usr/lib/derivc/bootargs-append.sh appends it (a newline first when the file lacks its last).
 */
function imageBootargs(era: Era, build: Build): string {
  const file = bootFileOf(build.era?.boot);
  expect(file.path).toBe(era.toolkitBootargs.path);
  if (file.mode === 'complete') return bootargs(build);
  const own = era.toolkitBootargs.text();
  const appendix = bootargsAppendix(build);
  expect(appendix).not.toBe('');
  return `${own}${own === '' || own.endsWith('\n') ? '' : '\n'}${appendix}`;
}

/** What the manifest's `boot` puts on every entry's command line (eraManifest). */
function manifestArgs(era: Era): string[] {
  return ['console=tty1', 'console=ttyS0,115200', 'security=selinux', 'selinux=1', `derivc.proof=${era.name}`];
}

/** The kernel's `Command line:` as the serial console showed it, split into arguments. */
function commandLine(consoleTail: string): string[] {
  const m = consoleTail.match(/Command line: (.*)\n/);
  if (!m) throw new Error(`no \`Command line:\` on the console:\n${consoleTail.slice(-2000)}`);
  return m[1]!.trim().split(/\s+/);
}

/** Processes whose command line mentions this run's folder: QEMUs left running. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p) && p !== String(process.pid))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(dir)) found.push(`${pid}: ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const timings: { run: string; ms: number }[] = [];
/** Each boot's command line, for the log: what was proven, readable without rerunning. */
const proofs: string[] = [];
afterAll(() => {
  if (timings.length === 0) return;
  const total = timings.reduce((s, t) => s + t.ms, 0);
  console.log(
    `grub eras: ${timings.length} steps in ${(total / 1000).toFixed(1)} s\n${timings.map((t) => `  ${t.run}: ${(t.ms / 1000).toFixed(1)} s`).join('\n')}`,
  );
  console.log(`grub eras: the kernel command lines read\n${proofs.map((p) => `  ${p}`).join('\n')}`);
});

async function timed<T>(run: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings.push({ run, ms: performance.now() - started });
  }
}

describe.skipIf(!ready)('each toolkit era boots the kernel command line its own GRUB configuration builds (real GRUB, SeaBIOS, OVMF)', () => {
  const files = { kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd'), osRelease: '' };

  beforeAll(async () => {
    const docker = engine as DockerEngine;
    if (!(await docker.imageLabels(EXAMPLE_IMAGE))) {
      await ensureDebianBase(docker);
      const r = await runCliAsync(['build', EXAMPLE, '-o', join(dir, 'example'), '--target', 'none'], {
        docker: () => docker,
        env: { PATH: process.env['PATH'] ?? '' },
      });
      if (r.code !== 0) throw new Error(`derivc build ${EXAMPLE} failed:\n${r.stderr}`);
    }
    const read = await docker.readFiles!(EXAMPLE_IMAGE, ['/boot/vmlinuz', '/boot/initrd', '/usr/lib/os-release']);
    const need = (path: string) => read.get(path) ?? expect.fail(`${EXAMPLE_IMAGE} has no ${path}`);
    writeFileSync(files.kernel, need('/boot/vmlinuz'));
    writeFileSync(files.initrd, need('/boot/initrd'));
    files.osRelease = new TextDecoder().decode(need('/usr/lib/os-release'));
  }, 2_400_000);

  describe.each(ERAS.map((era) => [era.name, era] as const))('%s', (_, era) => {
    const work = join(dir, era.name);
    let disk: Disk;
    let bootFile: string;

    beforeAll(async () => {
      const build = compileEra(era);
      expect(build.era?.boot).toBe(era.boot);
      bootFile = imageBootargs(era, build);
      disk = await timed(`${era.name}: disk`, async () => {
        const tree: Tree = {
          '/boot/vmlinuz': { copy: files.kernel },
          '/boot/initrd': { copy: files.initrd },
          '/etc/os-release': { text: files.osRelease },
          ...era.imageExtras(files.osRelease),
          [era.toolkitBootargs.path]: { text: bootFile },
        };
        const images: EraImages = {
          active: (await ext2(work, 'active', tree, 'COS_ACTIVE')).file,
          passive: (await ext2(work, 'passive', tree, 'COS_PASSIVE')).file,
          recovery: era.recovery === 'squashfs' ? await squashfs(work, 'recovery', tree) : (await ext2(work, 'recovery', tree, 'COS_SYSTEM')).file,
          kernel: files.kernel,
          initrd: files.initrd,
          bootargs: bootFile,
        };
        const made = await makeDisk(work, era.layout(images));
        for (const image of [images.active, images.passive, images.recovery]) await rm(image, { force: true });
        return made;
      });
    }, 300_000);

    afterAll(() => rmSync(work, { recursive: true, force: true }));

    // Elemental v1.3 and v2 install GRUB for UEFI only: under BIOS, a core.img of the harness's
    // (grub-eras.ts `bios`) reads the same grub.cfg from the EFI partition.
    const runs = ENTRY_KINDS.flatMap((kind) =>
      FIRMWARE.map(
        (firmware) =>
          [`${kind} entry under ${firmware}${era.installs[firmware] ? '' : " (the harness's GRUB: the era installs none for it)"}`, kind, firmware] as const,
      ),
    );
    it.each(runs)('boots the %s', async (_, kind, firmware) => {
      const entry = era.entries[kind];
      // `timeout=0`: the menu is not waited on (it would be 10 s in every era); set from /grubenv as
      // any GRUB variable can be (Kairos's install.grub_options writes it there).
      await setGrubenv(disk, [
        ['next_entry', entry.id],
        ['timeout', '0'],
      ]);
      const consoleFile = join(work, `${kind}-${firmware}.log`);
      const result = await timed(`${era.name}: ${kind} ${firmware}`, () =>
        bootAndCheck({
          media: 'raw',
          path: disk.path,
          firmware,
          consoleFile,
          memory: '512M',
          cpus: 1,
          // The whole line: up to the newline after it. QEMU is killed as soon as it is read.
          check: { expect: ['Command line:', '\n'], forbid: [], timeoutMs: BOOT_TIMEOUT_MS },
        }),
      );
      expect(result.status, `${result.message}\n${result.consoleTail.slice(-3000)}\n${result.qemuOutput}`).toBe('passed');
      const args = commandLine(result.consoleTail);
      // The kernel came from inside the entry's image (or, Elemental v2's recovery, its partition).
      expect(args[0]).toBe(`BOOT_IMAGE=(${entry.device})/boot/vmlinuz`);
      const line = `${era.name} ${kind} ${firmware}: ${args.join(' ')}`;
      proofs.push(line);
      for (const required of entry.required) expect(args, line).toContain(required);
      for (const wanted of manifestArgs(era)) expect(args, line).toContain(wanted);
      // The manifest's settings win where the era's own files set the same key: the kernel takes the
      // last `selinux=`, and the last `console=` becomes /dev/console.
      expect(args.filter((a) => a.startsWith('selinux=')).at(-1), line).toBe('selinux=1');
      expect(args.filter((a) => a.startsWith('console=')).at(-1), line).toBe('console=ttyS0,115200');
    });
  });

  it('leaves no QEMU running', () => {
    expect(leftovers()).toEqual([]);
  });
});
