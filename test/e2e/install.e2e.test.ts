// The README's install section, run as written: its `derivc-install-git` and
// `derivc-install-tarball` blocks and its `derivc-ci` workflow steps, against a temporary clone of
// HEAD — the placeholder URL becomes that clone's git+file:// URL, /path/to/derivc its path, #REF
// its commit — each into its own empty npm prefix; then the installed `derivc` prints its version
// and validates an example.
//
// Slow and online by nature: every install runs `npm ci` or npm's own install of the
// devDependencies from the registry (the build needs esbuild) and the build itself, a few minutes
// each (about ten minutes for the three on two busy cores), so it runs only under DERIVC_E2E=1
// (.ci/run); elsewhere it says why it skips.

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fence } from '../support/markdown.js';
import { e2eRequired, requireTool } from './require.js';

const ROOT = resolve('.');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
/** Each install clones or packs, fetches ~200 devDependencies (from npm's cache when it has them) and builds. */
const INSTALL_TIMEOUT = 15 * 60_000;

const required = e2eRequired();
if (!required) console.warn('e2e skipped: the README install test installs from the npm registry and takes minutes (set DERIVC_E2E=1 to run it)');
const tools = required ? [await requireTool('git'), await requireTool('npm')] : [];

let tmp: string;
let clone: string;
let head: string;

/** A block's commands: comments dropped, the README's placeholders replaced, each command once. */
function commands(block: string): string[] {
  const placeholders: [string, string][] = [
    ['https://HOST/OWNER/derivc.git', `file://${clone}`],
    ['/path/to/derivc', clone],
    ['#REF', `#${head}`],
  ];
  const lines = block
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean)
    .map((l) => placeholders.reduce((text, [from, to]) => text.split(from).join(to), l));
  // A placeholder left over would send a command to a host that is not there.
  for (const l of lines) expect(l, 'a placeholder the test does not know').not.toMatch(/HOST|OWNER|\bREF\b/);
  return [...new Set(lines)];
}

/** Runs the commands in one shell (a `cd` carries on), with npm's global prefix at `prefix` and its bin first on PATH. */
async function runInstall(lines: string[], prefix: string, cwd: string, extra: Record<string, string> = {}) {
  mkdirSync(prefix, { recursive: true });
  const env = {
    ...process.env,
    ...extra,
    npm_config_prefix: prefix,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    PATH: `${join(prefix, 'bin')}:${process.env['PATH'] ?? ''}`,
  };
  const r = await execa('sh', ['-ec', lines.join('\n')], { cwd, env, extendEnv: false, reject: false, stdin: 'ignore', timeout: INSTALL_TIMEOUT });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, env };
}

/** An empty directory in the test's temporary one. */
function workDir(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  return dir;
}

/** The installed derivc: its version, a validated example, and no node_modules of its own. */
function checkInstalled(prefix: string, env: NodeJS.ProcessEnv) {
  const derivc = join(prefix, 'bin', 'derivc');
  expect(spawnSync(derivc, ['--version'], { env, encoding: 'utf8' })).toMatchObject({ status: 0, stdout: `${version}\n` });
  expect(spawnSync(derivc, ['validate', '--strict', join(clone, 'examples/opensuse-luet')], { env, encoding: 'utf8' })).toMatchObject({
    status: 0,
    stdout: 'no problems\n',
  });
  expect(existsSync(join(prefix, 'lib', 'node_modules', 'derivc', 'dist', 'derivc.mjs'))).toBe(true);
  expect(existsSync(join(prefix, 'lib', 'node_modules', 'derivc', 'node_modules'))).toBe(false);
}

describe.skipIf(!required || tools.includes(undefined))('the README install section, as written', () => {
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'derivc-e2e-install-'));
    clone = join(tmp, 'derivc');
    head = spawnSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim();
    const git = (args: string[], cwd = tmp) => {
      const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
    };
    git(['clone', '--quiet', '--no-hardlinks', ROOT, clone]);
    // On a branch: npm clones the repository's HEAD.
    git(['checkout', '--quiet', '-B', 'derivc-install-test', head], clone);
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it(
    'packs from a git URL and installs the package file',
    async () => {
      const block = commands(fence(README, 'derivc-install-git').body);
      // The https placeholder and the git+file:// form are one command here.
      expect(block).toEqual([`npm pack git+file://${clone}`, `npm install -g ./derivc-${version}.tgz`, 'derivc --version']);
      const prefix = join(tmp, 'prefix-git');
      const r = await runInstall(block, prefix, workDir('work-git'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trimEnd().split('\n').pop()).toBe(version);
      checkInstalled(prefix, r.env);
    },
    INSTALL_TIMEOUT,
  );

  it(
    'packs in a checkout, installs the package file, and runs it with npx',
    async () => {
      const block = commands(fence(README, 'derivc-install-tarball').body);
      expect(block).toContain(`npm install -g ./derivc-${version}.tgz`);
      const prefix = join(tmp, 'prefix-tarball');
      const r = await runInstall(block, prefix, workDir('work-tarball'));
      expect(r.code, r.stderr).toBe(0);
      // `npx --yes --package … derivc --version`, the block's last line.
      expect(r.stdout.trimEnd().split('\n').pop()).toBe(version);
      checkInstalled(prefix, r.env);
    },
    INSTALL_TIMEOUT,
  );

  it(
    "installs and validates as the CI snippet's steps do (a git URL at a commit)",
    async () => {
      const steps = parse(fence(README, 'derivc-ci').body) as { run?: string }[];
      const block = commands(steps.map((s) => s.run ?? '').join('\n'));
      expect(block).toHaveLength(3);
      expect(block[0]).toContain(`git+file://${clone}#${head}`);
      // The job's workspace: a repository holding a manifest; RUNNER_TEMP as GitHub sets it.
      const workspace = join(tmp, 'workspace');
      cpSync(join(clone, 'examples/opensuse-luet'), workspace, { recursive: true });
      const prefix = join(tmp, 'prefix-ci');
      const r = await runInstall(block, prefix, workspace, { RUNNER_TEMP: workDir('runner-temp') });
      // Its last step, `derivc validate --strict`, exits 0 only on a manifest without findings.
      expect(r.code, r.stderr).toBe(0);
      checkInstalled(prefix, r.env);
    },
    INSTALL_TIMEOUT,
  );
});
