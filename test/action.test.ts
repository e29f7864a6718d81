// The GitHub Action (action.yml) run locally: its `run:` scripts, as the runner runs them, in a
// temporary git repository with a base commit and a head commit — annotations, the SARIF report,
// compile --check of committed outputs, the diff summary, and manifest file names that try to
// reach the shell. The `uses:` steps (setup-node, upload-sarif) are not run; their inputs are checked.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runAction, type ActionFile, type StepResult } from './support/action-runner.js';

const ROOT = path.resolve(__dirname, '..');
const DERIVC = path.join(ROOT, 'dist/derivc.mjs');
const action = parse(fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8')) as ActionFile;
const steps = action.runs.steps;

const MANIFEST = [
  'apiVersion: derivc.dev/v1alpha1',
  'kind: Derivative',
  'metadata: {name: acme, version: "1.0"}',
  'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
  'system: {hostname: acme-box}',
  '',
].join('\n');

/** A directory name a shell would run, split, or glob, with a newline git keeps. */
const HOSTILE = 'we "ird" $(touch pwned) `touch pwned2` ;x*\nline';

describe('action.yml', () => {
  it('is a composite action whose scripts take every input through env:, never ${{ }} in shell text', () => {
    expect(action.runs.using).toBe('composite');
    expect(Object.keys(action.inputs)).toEqual(['manifests', 'strict', 'compile-check', 'output-dir', 'sarif', 'base', 'node-version']);
    expect(action.inputs['manifests']!.default).toBe('**/derivative.yaml');
    expect(action.inputs['compile-check']!.default).toBe('true');
    expect(action.inputs['base']!.default).toBe('${{ github.event.pull_request.base.sha }}');
    for (const step of steps.filter((s) => s.run !== undefined)) {
      expect(step.run, step.name).not.toContain('${{');
      expect(step.shell, step.name).toBe('bash');
      expect(step.run!.startsWith('set -euo pipefail\n'), step.name).toBe(true);
      for (const value of Object.values(step.env ?? {})) expect(value, step.name).toMatch(/^\$\{\{ inputs\.[a-z-]+ \}\}$/);
    }
  });

  it('sets up Node and installs derivc from its own checkout', () => {
    const [node, install] = steps;
    expect(node!.uses).toMatch(/^actions\/setup-node@v\d+$/);
    expect(node!.with).toEqual({ 'node-version': '${{ inputs.node-version }}' });
    expect(install!['working-directory']).toBe('${{ github.action_path }}');
    expect(install!.run).toBe('set -euo pipefail\nnpm ci --ignore-scripts --no-audit --no-fund\nnpm run build\n');
  });
});

describe('the action on a pull request (a temporary repository: base commit, head commit)', () => {
  let repo: string;
  let temp: string;
  let base: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=derivc', '-c', 'user.email=derivc@example.com', '-c', 'commit.gpgsign=false', ...args], {
      cwd: repo,
      encoding: 'utf8',
    });
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), text);
  };
  const compile = (dir: string) =>
    execFileSync('node', [DERIVC, 'compile', '-o', path.join(dir, 'build'), '--', path.join(dir, 'derivative.yaml')], { cwd: repo, stdio: 'pipe' });
  const run = (inputs: Record<string, string> = {}) => {
    fs.rmSync(temp, { recursive: true, force: true });
    fs.mkdirSync(temp);
    return runAction(action, { workspace: repo, actionPath: ROOT, temp, inputs, pullRequestBase: base, skip: ['install'] });
  };
  const step = (results: StepResult[], name: string) => results.find((r) => r.step.name === name)!;

  beforeAll(() => {
    if (!fs.existsSync(DERIVC)) throw new Error('dist/derivc.mjs is missing: run `npm run build` first');
    repo = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-action-')));
    temp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-runner-')));
    git('init', '-q');
    write('os/derivative.yaml', MANIFEST);
    write('lib/derivative.yaml', MANIFEST.replace('name: acme', 'name: lib'));
    write('gone/derivative.yaml', MANIFEST.replace('name: acme', 'name: gone'));
    write(`${HOSTILE}/derivative.yaml`, MANIFEST.replace('name: acme', 'name: weird'));
    write('derivative.yaml', MANIFEST.replace('name: acme', 'name: top'));
    compile('os');
    compile(HOSTILE);
    git('add', '-A');
    git('commit', '-q', '-m', 'base');
    base = git('rev-parse', 'HEAD').trim();
    // The pull request: two manifests change (outputs recompiled), one is deleted.
    write('os/derivative.yaml', MANIFEST.replace('acme-box', 'acme-server'));
    write(`${HOSTILE}/derivative.yaml`, MANIFEST.replace('name: acme', 'name: weird').replace('acme-box', 'weird-box'));
    compile('os');
    compile(HOSTILE);
    fs.rmSync(path.join(repo, 'gone'), { recursive: true });
    git('add', '-A');
    git('commit', '-q', '-m', 'head');
  });
  afterAll(() => {
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(temp, { recursive: true, force: true });
  });

  it('passes: validates, checks the committed outputs, and summarises the changed manifests', () => {
    const { results, summary } = run({ sarif: 'true' });
    expect(results.map((r) => [r.step.name, r.outcome])).toEqual([
      ['Set up Node.js', 'success'],
      ['Install derivc', 'success'],
      ['Find the manifests', 'success'],
      ['SARIF report', 'success'],
      ['Upload SARIF', 'success'],
      ['Validate', 'success'],
      ['Check committed compile outputs', 'success'],
      ['Diff summary', 'success'],
    ]);
    expect(step(results, 'Find the manifests').stdout).toBe('derivc: 4 manifest(s)\n');
    expect(step(results, 'Validate').stdout).toBe('');
    expect(step(results, 'Check committed compile outputs').stdout).toBe('derivc: 2 committed output(s) checked\n');
    expect(step(results, 'Diff summary').stdout).toBe('derivc: 3 of 5 manifest(s) changed their compiled output\n');
    expect(summary.startsWith('# derivc: compiled output since the base\n\n3 of 5 manifest(s) changed their compiled output.\n\n')).toBe(true);
    const titles = summary.match(/^## .*$/gm);
    // The manifests in the tree, then the one deleted since the base; every name as a code span.
    expect(titles).toEqual([
      `## derivc diff: \`os/derivative.yaml\` since \`${base}\``,
      `## derivc diff: \`\`we "ird" $(touch pwned) \`touch pwned2\` ;x*\\u{a}line/derivative.yaml\`\` since \`${base}\``,
      `## derivc diff: \`gone/derivative.yaml\` since \`${base}\``,
    ]);
    // The changes, each in a collapsible diff; derivc.json hidden, as `derivc diff` hides it.
    expect(summary).toContain('| `rootfs/etc/hostname` | modified | +1 −1 |\n');
    expect(summary).toContain('-acme-box\n+acme-server\n');
    expect(summary).toContain('-acme-box\n+weird-box\n');
    expect(summary).toContain('| `Dockerfile` | removed | +0 −');
    expect(summary).not.toContain('`derivc.json` |');
    // No name reached a shell.
    expect(fs.readdirSync(repo).sort()).toEqual(['.git', 'derivative.yaml', 'lib', 'os', HOSTILE]);
    expect(git('status', '--porcelain', '--ignored')).toBe('');
    expect(fs.existsSync(path.join(ROOT, 'pwned'))).toBe(false);
  });

  it('writes a SARIF report and hands it to upload-sarif', () => {
    write('lib/derivative.yaml', MANIFEST.replace('name: acme', 'name: Lib'));
    try {
      const { results, outputs } = run({ sarif: 'true' });
      const sarif = path.join(temp, 'derivc.sarif');
      expect(outputs).toEqual({ 'sarif-file': sarif });
      const upload = step(results, 'Upload SARIF');
      expect(upload.step.uses).toMatch(/^github\/codeql-action\/upload-sarif@v\d+$/);
      expect(upload.with).toEqual({ sarif_file: sarif, category: 'derivc' });
      const report = JSON.parse(fs.readFileSync(sarif, 'utf8')) as {
        version: string;
        runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
      };
      expect(report.version).toBe('2.1.0');
      expect(report.runs[0]!.results.map((r) => [r.ruleId, r.locations[0]!.physicalLocation.artifactLocation.uri])).toEqual([
        ['metadata/invalid-name', 'lib/derivative.yaml'],
      ]);
      // Findings are a report, not a failed SARIF step; the annotations step fails the job.
      expect(step(results, 'SARIF report').outcome).toBe('success');
      expect(step(results, 'Validate').outcome).toBe('failure');
      expect(step(results, 'Validate').stdout).toMatch(
        /^::error file=lib\/derivative\.yaml,line=3,col=\d+,endLine=3,endColumn=\d+,title=metadata\/invalid-name::.+\n$/,
      );
      // The later steps still run.
      expect(step(results, 'Diff summary').outcome).toBe('success');
    } finally {
      git('checkout', '-q', '--', 'lib');
    }
  });

  it('skips SARIF by default, and the diff summary outside a pull request', () => {
    const { results, summary } = run({ base: '' });
    expect(step(results, 'SARIF report').outcome).toBe('skipped');
    expect(step(results, 'Upload SARIF').outcome).toBe('skipped');
    expect(step(results, 'Diff summary').outcome).toBe('skipped');
    expect(summary).toBe('');
  });

  it('fails on stale committed outputs, with an annotation on the manifest whose name is escaped', () => {
    write('os/derivative.yaml', MANIFEST.replace('acme-box', 'acme-stale'));
    write(`${HOSTILE}/derivative.yaml`, MANIFEST.replace('name: acme', 'name: weird').replace('acme-box', 'weird-stale'));
    try {
      const { results } = run({ 'compile-check': 'true' });
      const check = step(results, 'Check committed compile outputs');
      expect(check.outcome).toBe('failure');
      const errors = check.stdout.split('\n').filter((l) => l.startsWith('::error'));
      expect(errors).toEqual([
        '::error file=os/derivative.yaml,title=derivc compile --check::the committed output in os/build is stale: run derivc compile os/derivative.yaml -o os/build and commit it',
        '::error file=we "ird" $(touch pwned) `touch pwned2` ;x*%0Aline/derivative.yaml,title=derivc compile --check::the committed output in we "ird" $(touch pwned) `touch pwned2` ;x*%0Aline/build is stale: run derivc compile we "ird" $(touch pwned) `touch pwned2` ;x*%0Aline/derivative.yaml -o we "ird" $(touch pwned) `touch pwned2` ;x*%0Aline/build and commit it',
      ]);
      // derivc's diff of the outputs is printed with workflow commands stopped, and resumed after.
      const token = /^::stop-commands::([0-9a-f]{32})$/m.exec(check.stdout)![1];
      expect(check.stdout).toContain(`-acme-server\n+acme-stale\n`);
      expect(check.stdout).toContain(`\n::${token}::\n`);
      expect(fs.existsSync(path.join(repo, 'pwned'))).toBe(false);
      // Not asked for: not run.
      expect(step(run({ 'compile-check': 'false' }).results, 'Check committed compile outputs').outcome).toBe('skipped');
    } finally {
      git('checkout', '-q', '--', '.');
    }
  });

  it('fails when no tracked file matches, and honours exclusions', () => {
    const none = run({ manifests: 'nothing/**/derivative.yaml' });
    expect(step(none.results, 'Find the manifests')).toMatchObject({
      outcome: 'failure',
      stdout: '::error title=derivc::no tracked file matches the `manifests` input\n',
    });
    expect(step(none.results, 'Validate').outcome).toBe('skipped');
    const some = run({ manifests: '**/derivative.yaml\n!we*/**\n  !derivative.yaml  \n' });
    expect(step(some.results, 'Find the manifests').stdout).toBe('derivc: 2 manifest(s)\n');
    expect(fs.readFileSync(path.join(temp, 'derivc-manifests'), 'utf8')).toBe('lib/derivative.yaml\0os/derivative.yaml\0');
  });
});
