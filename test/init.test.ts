// derivc init scaffolds a manifest that validates under --strict, for every family, and never
// overwrites one; `derivc build`'s default output (.derivc/) is ignored by git from the start.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../compiler/family.js';
import { defaultOutDir } from '../cli/commands/build.js';
import { nameFrom } from '../cli/commands/init.js';
import { runCli } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('derivc init', () => {
  for (const family of FAMILIES) {
    it(`scaffolds a ${family} manifest that validates under --strict`, () => {
      const root = mkdtempSync(join(tmpdir(), 'derivc-init-'));
      scratch.push(root);
      const dir = join(root, 'Acme OS');
      expect(runCli(['init', dir, '--family', family]).code).toBe(0);
      expect(readFileSync(join(dir, 'derivative.yaml'), 'utf8')).toContain('name: acme-os\n');
      expect(JSON.parse(readFileSync(join(dir, 'derivative.schema.json'), 'utf8')).$id).toMatch(/derivative\.schema\.json$/);
      expect(runCli(['validate', '--strict', dir])).toMatchObject({ code: 0, stdout: 'no problems\n' });
      // A second init refuses: the manifest is the user's now.
      expect(runCli(['init', dir]).code).toBe(1);
    });
  }

  it('refuses an unknown family', () => {
    expect(runCli(['init', tmpdir(), '--family', 'gentoo']).code).toBe(3);
  });

  it('derives a valid name from any directory name', () => {
    expect(nameFrom('/x/My Derivative!')).toBe('my-derivative');
    expect(nameFrom('/x/---')).toBe('my-derivative');
  });
});

describe('derivc init and .gitignore', () => {
  function tempDir(): string {
    const root = mkdtempSync(join(tmpdir(), 'derivc-init-ignore-'));
    scratch.push(root);
    return root;
  }

  /** The paths git ignores, of those given (git check-ignore exits 1 when it ignores none). */
  function gitIgnores(repo: string, paths: string[]): string[] {
    const r = spawnSync('git', ['-C', repo, 'check-ignore', '--', ...paths], { encoding: 'utf8' });
    if (r.status !== 0 && r.status !== 1) throw new Error(`git check-ignore: ${r.stderr}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('writes a .gitignore holding .derivc/, so git ignores what derivc build writes there', () => {
    const dir = join(tempDir(), 'acme');
    execFileSync('git', ['init', '-q', dir]);
    const r = runCli(['init', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      `wrote ${join(dir, 'derivative.yaml')} (and derivative.schema.json for editors); wrote ${join(dir, '.gitignore')} (.derivc/, derivc build's output); next: derivc validate ${join(dir, 'derivative.yaml')}\n`,
    );
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('.derivc/\n');
    // `derivc build`'s default output directory is .derivc/NAME (cli/commands/build.ts).
    expect(gitIgnores(dir, [`${defaultOutDir('acme')}/Dockerfile`, 'derivative.yaml', 'derivative.schema.json'])).toEqual(['.derivc/acme/Dockerfile']);
  });

  it('appends .derivc/ to an existing .gitignore, keeping its lines, and says so', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.gitignore'), '# mine\n*.iso\n!keep.iso'); // no final newline
    const r = runCli(['init', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`; appended .derivc/ (derivc build's output) to ${join(dir, '.gitignore')}; next: `);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('# mine\n*.iso\n!keep.iso\n.derivc/\n');
  });

  for (const line of ['.derivc/', '.derivc', '/.derivc/', '  /.derivc  ']) {
    it(`leaves a .gitignore that ignores .derivc already (\`${line}\`) as it is`, () => {
      const dir = tempDir();
      const text = `out/\r\n${line}\r\n`;
      writeFileSync(join(dir, '.gitignore'), text);
      const r = runCli(['init', dir]);
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('.gitignore');
      expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe(text);
    });
  }

  it('does not take a negated or longer line for one that ignores .derivc/', () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.gitignore'), '!.derivc/\n.derivc-old/\n');
    expect(runCli(['init', dir]).code).toBe(0);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('!.derivc/\n.derivc-old/\n.derivc/\n');
  });

  it('leaves a symlinked .gitignore and its target alone, and says what to do', () => {
    const dir = tempDir();
    const target = join(dir, 'elsewhere');
    writeFileSync(target, 'x\n');
    mkdirSync(join(dir, 'os'));
    symlinkSync(target, join(dir, 'os', '.gitignore'));
    const r = runCli(['init', join(dir, 'os')]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`left ${join(dir, 'os', '.gitignore')} alone (not a regular file): add .derivc/ to your ignore rules; `);
    expect(readFileSync(target, 'utf8')).toBe('x\n');
  });

  it('does the same with --from Dockerfile', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'Dockerfile'), 'FROM registry.opensuse.org/opensuse/leap:15.5\nRUN zypper -n in vim\n');
    const r = runCli(['init', dir, '--from', join(dir, 'Dockerfile')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`; wrote ${join(dir, '.gitignore')} (.derivc/, derivc build's output); next: `);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('.derivc/\n');
  });

  it('touches no .gitignore when it refuses to overwrite a manifest', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'derivative.yaml'), 'mine\n');
    expect(runCli(['init', dir]).code).toBe(1);
    expect(() => readFileSync(join(dir, '.gitignore'))).toThrow(/ENOENT/);
  });
});
