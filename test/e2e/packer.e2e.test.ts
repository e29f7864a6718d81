// The packer target against the real Packer (Debian's `packer`, 1.6.6 in bookworm): derivc writes
// the templates of every golden case (every builder, with every option and with none, each
// toolkit era's installer, and the examples) into a real output directory, and `packer validate`
// accepts each builder directory (without plugins.pkr.hcl, which Packer 1.6 does not know).
//
// Full validation, not -syntax-only: -syntax-only does not even check attribute names, and full
// validation needs no network here — every credential and site variable gets a placeholder on the
// command line (derivc writes none), and the ISO builders read `<iso>.sha256` (not the ISO), so a
// placeholder checksum file stands where `derivc build --target iso` puts the real one. Where the
// host allows it, Packer runs in an empty network namespace (`unshare -n`), which proves that.
// `packer fmt -check` agrees with derivc's formatting, and `packer console` reads every string
// hclString quotes back as written. Under DERIVC_E2E=1 a missing `packer` fails this suite.

import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../../cli/node-host.js';
import { normalize } from '../../compiler/normalize/index.js';
import { targetsOf } from '../../compiler/normalize/targets.js';
import { hclString } from '../../compiler/quote.js';
import { ValidationSession } from '../../compiler/validate/index.js';
import { nodeTargetIO } from '../../targets/io/target-io.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { runTarget } from '../../targets/actions.js';
import { PLUGINS_FILE } from '../../targets/packer/plugins.js';
import { planOne } from '../support/targets.js';
import { hclText } from '../support/hcl-read.js';
import { requireTool } from './require.js';

const packer = await requireTool('packer');
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-packer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Packer's own state (plugins, checkpoint) stays in the test directory; no update check. */
const ENV = { HOME: join(dir, 'home'), CHECKPOINT_DISABLE: '1', PACKER_NO_COLOR: '1', PATH: process.env['PATH'] ?? '' };
/** An empty network namespace when the host allows one: validation cannot reach any cloud. */
const offline = packer ? (await execa('unshare', ['-n', 'true'], { reject: false })).exitCode === 0 : false;

async function runPacker(args: string[], cwd: string, input?: string) {
  const [file, argv] = offline ? ['unshare', ['-n', 'packer', ...args]] : ['packer', args];
  return execa(file, argv, { cwd, env: ENV, extendEnv: false, reject: false, ...(input !== undefined ? { input } : { stdin: 'ignore' as const }) });
}

const CASES = [
  'examples/debian-bare',
  'examples/opensuse-luet',
  'test/packer-golden/every-builder',
  'test/packer-golden/defaults',
  'test/packer-golden/kairos',
  'test/packer-golden/elemental-v1',
];

/**
 * Packer 1.6.6 does not know `required_plugins`: it validates a copy of the builder directory
 * without plugins.pkr.hcl, at the same depth (so `../../<media>` still names the output directory).
 */
function withoutPlugins(builderDir: string): string {
  const copy = join(builderDir, '..', '..', 'packer-1.6', basename(builderDir));
  mkdirSync(copy, { recursive: true });
  for (const f of readdirSync(builderDir).filter((n) => n.endsWith('.pkr.hcl') && n !== PLUGINS_FILE)) copyFileSync(join(builderDir, f), join(copy, f));
  return copy;
}

/** The one warning Packer gives for a template that starts from derivc's raw disk (it has no checksum file). */
const NO_CHECKSUM_WARNING =
  /^Warning: A checksum of 'none' was specified\. Since ISO files are so big,\na checksum is highly recommended\.\n\n {2}on qemu\.pkr\.hcl line \d+:\n {2}\(source code not available\)\n*$/;

/** The published packer directory of a manifest, made the way `derivc build --target packer` makes it. */
async function generate(manifestDir: string): Promise<string> {
  const r = new ValidationSession(nodeHost).validate(join(manifestDir, 'derivative.yaml'));
  const v = r.value.manifest!;
  const out = join(dir, manifestDir.replace(/\//g, '_'));
  mkdirSync(out, { recursive: true });
  const engine = {} as DockerEngine; // the packer target never asks the Engine anything
  const plan = planOne('packer', normalize(v, nodeHost).value, targetsOf(v), { image: 'unused', imageBytes: undefined, outDir: out, sourceDateEpoch: 0 });
  await runTarget(plan, nodeTargetIO(engine, { env: {} }));
  // What `derivc build --target iso` publishes next to it; validation reads the checksum file only.
  for (const line of readFileSync(join(out, 'packer', 'README.md'), 'utf8').matchAll(/^Needs `([^`]+\.iso)` and/gm))
    writeFileSync(join(out, `${line[1]}.sha256`), `${'0'.repeat(64)}  ${line[1]}\n`);
  return join(out, 'packer');
}

/** `-var name=placeholder` for every variable a builder directory declares. */
function placeholders(builderDir: string, accountFile: string): string[] {
  const names = [...readFileSync(join(builderDir, 'variables.pkr.hcl'), 'utf8').matchAll(/^variable "([a-z0-9_]+)"/gm)].map((m) => m[1]!);
  // A key file must exist (Packer reads it); any other placeholder is distinctive, since Packer masks sensitive values wherever they appear in its output.
  return names.flatMap((n) => ['-var', `${n}=${n === 'gcp_account_file' ? accountFile : `placeholder-${n.replace(/_/g, '-')}`}`]);
}

describe.skipIf(!packer)('Debian packer validate accepts the templates (full validation, placeholders for every variable)', () => {
  const accountFile = join(dir, 'service-account.json');
  writeFileSync(
    accountFile,
    JSON.stringify({
      type: 'service_account',
      project_id: 'placeholder-project',
      private_key_id: '0',
      private_key: '-----BEGIN PRIVATE KEY-----\nplaceholder\n-----END PRIVATE KEY-----\n',
      client_email: 'placeholder@placeholder-project.iam.gserviceaccount.com',
      client_id: '0',
    }),
  );

  it('runs Packer without network where the host allows it', async () => {
    const version = await execa('packer', ['version'], { env: ENV, extendEnv: false });
    console.info(
      `${version.stdout.split('\n')[0]}; validation ${offline ? 'in an empty network namespace' : 'with the host network (unshare -n is not allowed here)'}`,
    );
    expect(version.stdout).toMatch(/^Packer v\d+\.\d+\.\d+/);
  });

  for (const c of CASES) {
    it(`${c}: every builder directory validates and is formatted as packer fmt formats it`, async () => {
      const root = await generate(c);
      const builders = readdirSync(root, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
      expect(builders.length).toBeGreaterThan(0);
      for (const b of builders) {
        const cwd = join(root, b);
        expect(readdirSync(cwd)).toContain(PLUGINS_FILE);
        const copy = withoutPlugins(cwd);
        const validate = await runPacker(['validate', ...placeholders(copy, accountFile), '.'], copy);
        const out = validate.stdout + validate.stderr;
        const fromDisk = /^\s*disk_image\s+= true$/m.test(readFileSync(join(cwd, `${b}.pkr.hcl`), 'utf8'));
        expect({ builder: b, code: validate.exitCode, out: fromDisk && NO_CHECKSUM_WARNING.test(out) ? '' : out }).toEqual({ builder: b, code: 0, out: '' });
        // fmt parses plugins.pkr.hcl too: only validation needs the copy.
        const fmt = await runPacker(['fmt', '-check', '.'], cwd);
        expect({ builder: b, code: fmt.exitCode, out: fmt.stdout + fmt.stderr }).toEqual({ builder: b, code: 0, out: '' });
      }
    }, 300_000);
  }

  it('an unset credential stops Packer: nothing in the files stands in for it', async () => {
    const root = await generate('test/packer-golden/defaults');
    const r = await runPacker(['validate', '.'], withoutPlugins(join(root, 'amazon-ebs')));
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).toContain('Unset variable "aws_secret_key"');
  }, 120_000);

  it('reads every string hclString quotes back as written (packer console)', async () => {
    const values = fc.sample(hclText, { seed: 6, numRuns: 300 });
    const work = join(dir, 'console');
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'strings.pkr.hcl'), values.map((s, i) => `variable "s${i}" {\n  type    = string\n  default = ${hclString(s)}\n}\n`).join('\n'));
    const r = await runPacker(['console', '.'], work, `jsonencode([${values.map((_, i) => `var.s${i}`).join(', ')}])\n`);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout.trim())).toEqual(values);
  }, 120_000);
});
