// A raw disk whose partitions the manifest does not size, for real: the bare Debian example with
// `targets: {raw: {size: 4GiB}}` alone (the default 2 + 4 GiB of a fixed layout would not fit)
// builds — RECOVERY and STATE sized from the built image, PERSISTENT the rest of the 4 GiB — and
// `derivc test --media raw` boots it under SeaBIOS and OVMF to `login:`. Under DERIVC_E2E=1 a
// missing Engine or tool fails this suite.

import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../targets/io/engine.js';
import { chosenRecoveryMiB, chosenStateMiB } from '../../targets/raw/layout.js';
import { runCliAsync } from '../support/cli.js';
import { ensureDebianBase } from './fixtures.js';
import { e2eEngine, requireTool } from './require.js';

const TOOLS = [
  'sqfstar',
  'genext2fs',
  'tune2fs',
  'mkfs.ext4',
  'sgdisk',
  'grub-mkimage',
  'mkfs.fat',
  'mcopy',
  'qemu-system-x86_64',
  '/usr/lib/grub/i386-pc',
  '/usr/lib/grub/x86_64-efi',
  '/usr/share/OVMF/OVMF_CODE_4M.fd',
];

const engine = await e2eEngine();
const tools = await Promise.all(TOOLS.map((t) => requireTool(t)));
const ready = engine !== undefined && tools.every((t) => t !== undefined);

const RAW = 'derivc-debian-12.0.1.raw';
const IMAGE = 'derivc.local/derivc-debian:12.0.1';
const MiB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-raw-sizing-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!ready)('a 4 GiB raw disk with the partitions chosen from the image (real Engine, tools and QEMU)', () => {
  const cli = { docker: () => engine as DockerEngine, env: { PATH: process.env['PATH'] ?? '' } };
  const manifest = join(dir, 'example', 'derivative.yaml');
  const out = join(dir, 'out');
  let run: { code: number; stderr: string };

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    cpSync('examples/debian-bare', join(dir, 'example'), { recursive: true });
    const text = readFileSync(manifest, 'utf8');
    const sized = text.replace(/^targets:\n(?: .*\n)*/m, 'targets:\n  raw:\n    size: 4GiB\n');
    expect(sized).not.toBe(text);
    expect(sized).not.toMatch(/partitions/);
    writeFileSync(manifest, sized);
    // `derivc test` builds the missing disk (and the image, unless another test built it already), then boots it.
    run = await runCliAsync(['test', manifest, '-o', out, '--media', 'raw'], cli);
  }, 2_400_000);

  it('validates: the stated size alone cannot be wrong before the image is built', async () => {
    expect((await runCliAsync(['validate', manifest], cli)).code).toBe(0);
  });

  it('builds a 4 GiB disk whose RECOVERY and STATE are sized from the built image, PERSISTENT taking the rest', async () => {
    expect(run.stderr).toContain(`raw: ${join(out, RAW)} (`);
    const disk = join(out, RAW);
    expect(statSync(disk).size).toBe(4 * 1024 * MiB);
    expect((await execa('sgdisk', ['-v', disk])).stdout).toContain('No problems found.');
    const bytes = (await engine!.imageSize!(IMAGE))!;
    const image = { bytes, toolkit: false };
    const sizes = Object.fromEntries(
      [...(await execa('sgdisk', ['-p', disk])).stdout.matchAll(/^\s+\d+\s+(\d+)\s+(\d+)\s+\S+ \S+\s+\S+\s+(\S+)$/gm)].map((m) => [
        m[3]!,
        ((Number(m[2]) - Number(m[1]) + 1) * 512) / MiB,
      ]),
    );
    expect(sizes).toEqual({
      bios: 1,
      efi: 64,
      oem: 64,
      recovery: chosenRecoveryMiB(image),
      state: chosenStateMiB(image),
      persistent: 4096 - 2 - 1 - 64 - 64 - chosenRecoveryMiB(image) - chosenStateMiB(image),
    });
    console.log(`image ${Math.ceil(bytes / MiB)} MiB → recovery ${sizes['recovery']} MiB, state ${sizes['state']} MiB, persistent ${sizes['persistent']} MiB`);
  }, 300_000);

  it('boots under BIOS and UEFI to `login:`', () => {
    expect(run.stderr).toMatch(/^PASS raw-bios: `login:` \d+\.\d s$/m);
    expect(run.stderr).toMatch(/^PASS raw-uefi: `login:` \d+\.\d s$/m);
    expect(run.code).toBe(0);
  });
});
