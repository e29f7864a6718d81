// A manifest from a pull request reads nothing outside its repository, and no code frame prints a
// file that derivc did not read as YAML: the CI job's environment, /etc/passwd and ~/.bashrc stay
// out of the log whatever `base.derivative` or the manifest's own name says.

import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'derivc-host-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A secret in a file outside every repository below: no output may ever contain it. */
const SECRET = 'CI_TOKEN=s3cr3t-value-never-printed';
const outsideFile = join(root, 'outside.yaml');
writeFileSync(outsideFile, `apiVersion: derivc.dev/v1alpha1\n${SECRET}: [\n`);

const HEADER = 'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: down, version: "1.0"}\n';
const UPSTREAM = 'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: up, version: "1.0"}\nbase: {image: "local/debian:bookworm"}\n';

let n = 0;
/** A fresh directory; with `git`, a repository root (a `.git` directory is all derivc looks for). */
function repo(git: boolean): string {
  const dir = join(root, `repo-${n++}`);
  mkdirSync(dir, { recursive: true });
  if (git) mkdirSync(join(dir, '.git'));
  return dir;
}

function validate(path: string) {
  const r = runCli(['validate', path]);
  expect(r.stdout + r.stderr).not.toContain('s3cr3t');
  return r;
}

describe('base.derivative stays inside the repository', () => {
  it.each([
    ['/proc/self/environ', '../../../../../../../../proc/self/environ'],
    ['/etc/passwd', '../../../../../../../../etc/passwd'],
  ])('refuses %s by `..` at the reference, without reading it', (_name, ref) => {
    const dir = repo(true);
    writeFileSync(join(dir, 'derivative.yaml'), `${HEADER}base:\n  derivative: ${ref}\n`);
    const r = validate(join(dir, 'derivative.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[base/derivative-outside-repository]');
    expect(r.stdout).toContain('derivative.yaml:5:15');
    // The CI job's environment would show up as `PATH=` lines in a code frame.
    expect(r.stdout).not.toMatch(/PATH=|root:x:0:0/);
  });

  it('refuses a symlink inside the repository that leads out of it', () => {
    const dir = repo(true);
    symlinkSync(outsideFile, join(dir, 'up.yaml'));
    writeFileSync(join(dir, 'derivative.yaml'), `${HEADER}base:\n  derivative: up.yaml\n`);
    const r = validate(join(dir, 'derivative.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[base/derivative-outside-repository]');
  });

  it('accepts an upstream elsewhere in the same git work tree', () => {
    const dir = repo(true);
    mkdirSync(join(dir, 'base'));
    mkdirSync(join(dir, 'edge'));
    writeFileSync(join(dir, 'base', 'derivative.yaml'), UPSTREAM);
    writeFileSync(join(dir, 'edge', 'derivative.yaml'), `${HEADER}base:\n  derivative: ../base/derivative.yaml\n`);
    const r = validate(join(dir, 'edge', 'derivative.yaml'));
    expect(r.stdout).toBe('no problems\n');
    expect(r.code).toBe(0);
  });

  it('treats the `.git` file of a worktree or submodule as a repository root', () => {
    const dir = repo(false);
    writeFileSync(join(dir, '.git'), 'gitdir: /elsewhere/.git/worktrees/x\n');
    mkdirSync(join(dir, 'base'));
    mkdirSync(join(dir, 'edge'));
    writeFileSync(join(dir, 'base', 'derivative.yaml'), UPSTREAM);
    writeFileSync(join(dir, 'edge', 'derivative.yaml'), `${HEADER}base:\n  derivative: ../base/derivative.yaml\n`);
    expect(validate(join(dir, 'edge', 'derivative.yaml')).code).toBe(0);
  });

  it("outside any git work tree, the repository is the manifest's own directory", () => {
    const dir = repo(false);
    mkdirSync(join(dir, 'edge'));
    writeFileSync(join(dir, 'derivative.yaml'), UPSTREAM);
    writeFileSync(join(dir, 'edge', 'derivative.yaml'), `${HEADER}base:\n  derivative: ../derivative.yaml\n`);
    const r = validate(join(dir, 'edge', 'derivative.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[base/derivative-outside-repository]');
  });
});

describe('the manifest named on the command line', () => {
  it('is not read when it is a symlink out of its repository', () => {
    const dir = repo(true);
    symlinkSync(outsideFile, join(dir, 'derivative.yaml'));
    const r = validate(join(dir, 'derivative.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[io/outside-repository]');
  });

  it('is read through a symlink that stays inside the repository', () => {
    const dir = repo(true);
    writeFileSync(join(dir, 'real.yaml'), UPSTREAM);
    symlinkSync('real.yaml', join(dir, 'derivative.yaml'));
    expect(validate(join(dir, 'derivative.yaml')).code).toBe(0);
  });
});

describe('code frames', () => {
  it('never show the lines of a file that is neither named .yaml nor a YAML mapping', () => {
    const dir = repo(true);
    writeFileSync(join(dir, 'notes.txt'), 'LINE_ONE_OF_NOTES\nLINE_TWO\n');
    writeFileSync(join(dir, 'derivative.yaml'), `${HEADER}base:\n  derivative: notes.txt\n`);
    const r = validate(join(dir, 'derivative.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('notes.txt');
    expect(r.stdout).not.toContain('LINE_ONE_OF_NOTES');
  });

  it('still show a manifest with a syntax error', () => {
    const dir = repo(true);
    writeFileSync(join(dir, 'derivative.yaml'), `${HEADER}base: [\n`);
    const r = validate(join(dir, 'derivative.yaml'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/\| base: \[/);
  });
});
