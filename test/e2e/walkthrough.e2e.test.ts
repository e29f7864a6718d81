// docs/walkthrough.md, executed as a new user would: every block it marks (test/support/
// walkthrough.ts) in order, in a fresh temporary directory, each `sh walkthrough` block by
// `bash -euo pipefail` with `derivc` on PATH as a link to this checkout's dist/derivc.mjs (what
// its install block does). One test per block, named by its step's heading and line, so a failure
// names the step; a step after a failed one fails as not run. The end: the ISO exists, `derivc
// test` exited 0, and each run's result.json says passed.
//
// It builds an image and an ISO and boots it (minutes), so it runs only under DERIVC_E2E=1, where
// anything missing fails it; without, it says it is skipped and why.

import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { VERSION } from '../../cli/version.js';
import { aptPackages, derivcCommands, parseWalkthrough, type Block } from '../support/walkthrough.js';
import { ensureDebianBase } from './fixtures.js';
import { e2eEngine, e2eRequired } from './require.js';

const DOC = 'docs/walkthrough.md';
const CLI = resolve('dist/derivc.mjs');
/** A step's bound: the image build's apt is most of it on a cold Engine cache. */
const STEP_TIMEOUT_MS = 30 * 60_000;

const walkthrough = parseWalkthrough(readFileSync(DOC, 'utf8'), DOC);
const required = e2eRequired();
if (!required) console.warn(`e2e skipped: ${DOC} is executed only under DERIVC_E2E=1 (it builds an image and an ISO and boots it: minutes)`);
else if (!existsSync(CLI)) throw new Error(`${CLI} is missing: \`npm run build\` first (DERIVC_E2E=1: end-to-end tests must run, not skip)`);
const engine = required ? await e2eEngine() : undefined;

// Made only when the walkthrough runs: a skipped suite runs no afterAll to remove it.
const root = required ? mkdtempSync(join(tmpdir(), 'derivc-e2e-walkthrough-')) : '/nonexistent';
/** Where the walkthrough starts, empty, as a reader's directory would be. */
const home = join(root, 'home');
const bin = join(root, 'bin');
const env = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, NO_COLOR: '1' };

interface Ran {
  block: Block;
  /** The directory the block ran in. */
  cwd: string;
  exitCode: number;
  output: string;
}

const name = (b: Block) => `step «${b.step.title}» (${DOC}:${b.line})`;

describe.skipIf(!required)(`${DOC}, executed step by step`, () => {
  let cwd = home;
  let broken: string | undefined;
  const ran: Ran[] = [];
  beforeAll(() => {
    mkdirSync(home);
    mkdirSync(bin);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** Runs one block as the reader's terminal would, and notes the directory it ends in. */
  async function runBlock(block: Block): Promise<void> {
    const script = join(root, `line-${block.line}.sh`);
    const pwdFile = join(root, `line-${block.line}.pwd`);
    writeFileSync(script, `${block.text}pwd >${JSON.stringify(pwdFile)}\n`);
    console.log(`== ${name(block)} in ${cwd}\n${block.text.trimEnd()}`);
    const started = performance.now();
    const r = await execa('bash', ['-euo', 'pipefail', script], {
      cwd,
      env,
      stdin: 'ignore',
      all: true,
      reject: false,
      timeout: STEP_TIMEOUT_MS,
      forceKillAfterDelay: 10_000,
    });
    const output = String(r.all ?? '');
    console.log(`${output}\n== ${name(block)}: exit ${r.exitCode ?? r.signal} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    ran.push({ block, cwd, exitCode: r.exitCode ?? -1, output });
    if (r.exitCode !== 0) {
      const tail = output.trimEnd().split('\n').slice(-40).join('\n');
      throw new Error(`${name(block)} failed (${r.timedOut ? 'timed out' : `exit ${r.exitCode ?? r.signal}`}); the end of its output:\n${tail}`);
    }
    cwd = readFileSync(pwdFile, 'utf8').trimEnd();
  }

  const steps: Record<Block['role'], ((block: Block) => Promise<void>) | undefined> = {
    // Installing packages is CI's job; the walkthrough's line must name only what is there.
    packages: async (block) => {
      const packages = aptPackages(block.text);
      expect(packages.length).toBeGreaterThan(0);
      const missing: string[] = [];
      for (const p of packages) if ((await execa('dpkg', ['-s', p], { reject: false })).exitCode !== 0) missing.push(p);
      expect(missing, `not installed here: apt-get install -y ${missing.join(' ')}`).toEqual([]);
    },
    // The block links dist/derivc.mjs onto PATH; the test does the same into its own bin/.
    install: async (block) => {
      expect(block.text).toContain('dist/derivc.mjs');
      symlinkSync(CLI, join(bin, 'derivc'));
      expect((await execa('derivc', ['--version'], { env })).stdout).toBe(VERSION);
    },
    file: async (block) => {
      const target = join(home, block.path!);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, block.text);
    },
    run: async (block) => {
      if (!block.text.includes('mmdebstrap')) return runBlock(block);
      // The base image is shared with the other e2e tests, which may be making it right now:
      // under their lock, the walkthrough's own commands make it when it is missing; when it is
      // there, the block still runs and finds it.
      let made = false;
      await ensureDebianBase(engine!, {
        run: async (file) => {
          if (file !== 'mmdebstrap') return; // the block's `docker import` did that part
          await runBlock(block);
          made = true;
        },
      });
      if (!made) await runBlock(block);
    },
    example: undefined,
  };

  for (const block of walkthrough.blocks) {
    const step = steps[block.role];
    if (!step) continue; // examples are not run; test/walkthrough-doc.test.ts checks their commands
    it(
      `${name(block)}: ${block.role}`,
      async () => {
        if (broken) throw new Error(`not run: ${broken} failed`);
        try {
          await step(block);
        } catch (err) {
          broken = name(block);
          throw err;
        }
      },
      STEP_TIMEOUT_MS + 60_000,
    );
  }

  it('ends with the ISO built, `derivc test` passed, and each run reporting passed', () => {
    if (broken) throw new Error(`not run: ${broken} failed`);
    const manifestBlock = walkthrough.blocks.find((b) => b.role === 'file' && b.path!.endsWith('derivative.yaml'))!;
    const manifest = parse(manifestBlock.text) as { metadata: { name: string; version: string } };
    const { name: derivative, version } = manifest.metadata;
    // `derivc test` ran once, in the manifest's folder, and exited 0.
    const tests = ran.filter((r) => derivcCommands(r.block.text).some((argv) => argv[0] === 'test'));
    expect(tests.map((r) => [r.cwd, r.exitCode])).toEqual([[join(home, dirname(manifestBlock.path!)), 0]]);
    const out = join(tests[0]!.cwd, '.derivc', derivative);
    expect(existsSync(join(out, `${derivative}-${version}.iso`))).toBe(true);
    const runs = readdirSync(join(out, 'test'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(runs).toContain('iso-bios');
    for (const run of runs) {
      expect(tests[0]!.output).toMatch(new RegExp(`^PASS ${run}: `, 'm'));
      const result = JSON.parse(readFileSync(join(out, 'test', run, 'result.json'), 'utf8'));
      expect(result).toMatchObject({ name: run, status: 'passed' });
    }
  });
});
