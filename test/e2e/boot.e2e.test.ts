// derivc test for real: the bare Debian example's ISO (built by `derivc test` itself when
// missing) boots under SeaBIOS and under OVMF in QEMU (software emulation) to `login:` on the
// serial console; a manifest whose expect string never appears fails with the console tail in
// the report. No QEMU is left running either way. Under DERIVC_E2E=1 a missing QEMU, OVMF or
// Engine fails this suite instead of skipping it.

import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../targets/io/engine.js';
import { runCliAsync } from '../support/cli.js';
import { ensureDebianBase } from './fixtures.js';
import { e2eEngine, requireTool } from './require.js';

const qemu = await requireTool('qemu-system-x86_64');
const ovmfCode = await requireTool('/usr/share/OVMF/OVMF_CODE_4M.fd');
const ovmfVars = await requireTool('/usr/share/OVMF/OVMF_VARS_4M.fd');
const engine = await e2eEngine();

const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-boot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const out = join(dir, 'out');

/** Processes whose command line mentions this run's output folder: QEMUs derivc failed to kill. */
function leftovers(): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmd.includes(out) && pid !== String(process.pid)) found.push(`${pid}: ${cmd}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe.skipIf(!qemu || !ovmfCode || !ovmfVars || !engine)('derivc test (real QEMU)', () => {
  const docker = () => engine as DockerEngine;
  // QEMU and the media tools are found on the CLI's PATH.
  const cli = { docker, env: { PATH: process.env['PATH'] ?? '' } };
  // The example as it is (its image and ISO are shared with anything else that builds it), in a
  // folder of its own so a changed copy can sit next to it.
  const manifest = join(dir, 'example', 'derivative.yaml');
  const never = join(dir, 'never', 'derivative.yaml');
  const NEVER = 'derivc-e2e: this line is never printed';

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    cpSync('examples/debian-bare', join(dir, 'example'), { recursive: true });
    mkdirSync(join(dir, 'never'));
    // Same name and version: same medium path in `out`, so the ISO built for the first test is reused.
    writeFileSync(never, readFileSync(manifest, 'utf8').replace(/^tests:[\s\S]*$/m, `tests:\n  boot:\n    expect: ["${NEVER}"]\n    timeout: 60s\n`));
  }, 900_000);

  it('builds the missing ISO, boots it under BIOS and UEFI to `login:` on the serial console, and reports it', async () => {
    const r = await runCliAsync(['test', manifest, '-o', out], cli);
    expect(r.stderr).toMatch(/^PASS iso-bios: `login:` \d+\.\d s$/m);
    expect(r.stderr).toMatch(/^PASS iso-uefi: `login:` \d+\.\d s$/m);
    expect(r.code).toBe(0);
    for (const [run, firmwareLine] of [
      ['iso-bios', /SeaBIOS/],
      ['iso-uefi', /BdsDxe|UEFI/],
    ] as const) {
      const result = readJson(join(out, 'test', run, 'result.json'));
      expect(result).toMatchObject({ status: 'passed', expect: [{ text: 'login:', atMs: expect.any(Number) }] });
      console.log(`${run}: login: after ${(result.expect[0].atMs / 1000).toFixed(1)} s`);
      const log = readFileSync(join(out, 'test', run, 'console.log'), 'utf8');
      expect(log).toMatch(firmwareLine);
      // The kernel speaks on the serial line because the ISO's command line says so.
      expect(log).toMatch(/Command line: .*root=live:CDLABEL=\S+ .*console=ttyS0/);
      expect(log).toContain('login:');
    }
    const junit = readFileSync(join(out, 'test', 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="derivc test" tests="2" failures="0" errors="0"/);
    expect(leftovers()).toEqual([]);
  }, 2_400_000);

  it('an expect string that never appears fails the run, with the console tail on stderr and in the reports', async () => {
    const r = await runCliAsync(['test', never, '-o', out, '--firmware', 'bios'], cli);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`FAIL iso-bios: timed out after 60.0 s waiting for \`${NEVER}\``);
    const tail = [...r.stderr.matchAll(/^ {2}\| (.*)$/gm)].map((m) => m[1]!);
    expect(tail.length).toBeGreaterThanOrEqual(5);
    expect(tail.length).toBeLessThanOrEqual(30);
    const result = readJson(join(out, 'test', 'iso-bios', 'result.json'));
    expect(result).toMatchObject({ status: 'failed', reason: 'timeout', expect: [{ text: NEVER, matched: false }] });
    expect(result.consoleTail).toEqual(tail);
    const junit = readFileSync(join(out, 'test', 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<testsuites name="derivc test" tests="1" failures="1" errors="0"/);
    expect(junit).toContain('--- console tail ---');
    expect(leftovers()).toEqual([]);
  }, 600_000);
});
