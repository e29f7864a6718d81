// A failing build step, explained at the manifest line that made it: a user's `build.steps` item
// by its name with the output's tail, a repository `disableRepositories` names that the image
// does not have, a package of a per-platform item or the chosen kernel. And the static script
// behind `disableRepositories` for the rpm families, run on a directory of .repo files.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFailure } from '../cli/build/failure.js';
import { instructionOrigins } from '../cli/build/steps.js';
import { compile } from '../compiler/compile.js';
import { DISABLE_REPOSITORIES_SH } from '../compiler/emit/scripts/disable-repositories.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { MemoryHost } from './support/memory-host.js';

function failing(body: string[], instruction: (i: string) => boolean, output: string[]) {
  const text = ['apiVersion: derivc.dev/v1alpha1', 'kind: Derivative', 'metadata: {name: f, version: "1.0"}', 'base: {image: "ubuntu:22.04"}', ...body, ''];
  const host = new MemoryHost({ 'derivative.yaml': text.join('\n') });
  const v = new ValidationSession(host).validate('derivative.yaml').value.manifest!;
  const c = compile(v, host, { version: '0.0.0-test' }).value;
  const origin = instructionOrigins(c).find((o) => instruction(o.instruction));
  expect(origin).toBeDefined();
  const d = buildFailure(v, origin, 'The command returned a non-zero code: 1', output);
  return { code: d.code, message: d.message, pointer: d.pointer, line: d.range?.start.line, hint: d.hint };
}

describe('build failures at the manifest line', () => {
  it('a user step: by its name, at its line, with the last output', () => {
    const d = failing(
      ['build:', '  steps:', '    - name: fetch the agent', '      run: [/bin/true]', '    - name: compile the agent', '      run: "make -C /src"'],
      (i) => i.includes('make -C /src'),
      ['make: *** No rule to make target', 'Error 2'],
    );
    expect(d).toEqual({
      code: 'build/step-failed',
      message: 'build step `compile the agent` failed: The command returned a non-zero code: 1',
      pointer: '/build/steps/1',
      line: 9,
      hint: 'last output:\n  | make: *** No rule to make target\n  | Error 2',
    });
  });

  it('a repository to disable that the image does not have: at its item', () => {
    const d = failing(['packages:', '  disableRepositories: [ubuntu, vendor]'], (i) => i.includes('disable-repositories.sh",'), [
      'derivc: repository ubuntu disabled',
      'derivc: no repository named "vendor" to disable in the image (looked in apt)',
    ]);
    expect(d).toMatchObject({ code: 'build/repository-not-found', pointer: '/packages/disableRepositories/1', line: 6 });
  });

  it('a missing package of a per-platform item, and a missing kernel package: at their lines', () => {
    expect(
      failing(['packages:', '  install:', '    - vim', '    - {name: nosuch-tool, platforms: [linux/amd64]}'], (i) => i.includes('"vim"'), [
        'E: Unable to locate package nosuch-tool',
      ]),
    ).toMatchObject({ code: 'build/package-not-found', pointer: '/packages/install/1', line: 8 });
    expect(
      failing(['packages:', '  kernel: linux-image-nosuch'], (i) => i.includes('"linux-image-nosuch"'), ['E: Unable to locate package linux-image-nosuch']),
    ).toMatchObject({ code: 'build/package-not-found', pointer: '/packages/kernel', line: 6 });
  });
});

describe('disable-repositories.sh (rpm families)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-repos-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'disable.sh');
  writeFileSync(script, DISABLE_REPOSITORIES_SH);
  const run = (...names: string[]) => spawnSync('sh', [script, join(dir, 'repos.d'), ...names], { encoding: 'utf8' });

  it('sets enabled=0 in the named section only, names compared as strings (a dot is no pattern)', () => {
    spawnSync('mkdir', ['-p', join(dir, 'repos.d')]);
    writeFileSync(join(dir, 'repos.d', 'a.repo'), '[repo-oss]\nname=Main\nenabled=1\n\n[repo.x]\nname=X\nenabled = 1\nenabled_metadata=1\n');
    writeFileSync(join(dir, 'repos.d', 'b.repo'), '[repoxx]\nenabled=1\n');
    const r = run('repo.x');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, 'repos.d', 'a.repo'), 'utf8')).toBe('[repo-oss]\nname=Main\nenabled=1\n\n[repo.x]\nenabled=0\nname=X\nenabled_metadata=1\n');
    expect(readFileSync(join(dir, 'repos.d', 'b.repo'), 'utf8')).toBe('[repoxx]\nenabled=1\n');
  });

  it('fails on a name that matches nothing, naming it', () => {
    const r = run('repo-oss', 'repo-nosuch');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('derivc: no repository named "repo-nosuch" to disable in the image');
  });
});
