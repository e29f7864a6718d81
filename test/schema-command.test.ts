// `derivc schema --out DIR`: both schemas written next to the manifests that name them
// (`$schema=./derivative.schema.json`), each file whole or not at all; without --out, printed.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandHelp } from '../cli/usage.js';
import { runCli } from './support/cli.js';

let tmp: string;
beforeAll(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-schema-')));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const printed = runCli(['schema']).stdout;
const printedCloudConfig = runCli(['schema', '--cloud-config']).stdout;
const NAMES = ['cloud-config.schema.json', 'derivative.schema.json'];

describe('derivc schema without --out', () => {
  it('prints the manifest schema, or the cloud-config one, and writes nothing', () => {
    const before = fs.readdirSync('.');
    expect(runCli(['schema'])).toEqual({ code: 0, stdout: printed, stderr: '' });
    expect(runCli(['schema', '--cloud-config'])).toEqual({ code: 0, stdout: printedCloudConfig, stderr: '' });
    expect(JSON.parse(printed).$id).toMatch(/\/derivative\.schema\.json$/);
    expect(JSON.parse(printedCloudConfig).$id).toMatch(/\/cloud-config\.schema\.json$/);
    expect(fs.readdirSync('.')).toEqual(before);
  });
});

describe('derivc schema --out DIR', () => {
  it('creates DIR and its parents, writes both schemas as `derivc schema` prints them, and says so on stderr', () => {
    const dir = path.join(tmp, 'new', 'editor');
    const r = runCli(['schema', '--out', dir]);
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `wrote ${dir}/derivative.schema.json\nwrote ${dir}/cloud-config.schema.json\n`,
    });
    expect(fs.readdirSync(dir).sort()).toEqual(NAMES);
    expect(fs.readFileSync(path.join(dir, 'derivative.schema.json'), 'utf8')).toBe(printed);
    expect(fs.readFileSync(path.join(dir, 'cloud-config.schema.json'), 'utf8')).toBe(printedCloudConfig);
  });

  it('takes -o and a DIR relative to the working directory, as compile does', () => {
    const dir = path.relative(process.cwd(), path.join(tmp, 'short'));
    expect(runCli(['schema', '-o', dir]).code).toBe(0);
    expect(fs.readFileSync(path.join(tmp, 'short', 'derivative.schema.json'), 'utf8')).toBe(printed);
  });

  it('leaves files that are up to date untouched (same inode and mtime) and says so', () => {
    const dir = path.join(tmp, 'again');
    runCli(['schema', '--out', dir]);
    const stat = (name: string) => fs.statSync(path.join(dir, name));
    const before = NAMES.map((n) => [stat(n).ino, stat(n).mtimeMs]);
    const r = runCli(['schema', '--out', dir]);
    expect(r).toEqual({
      code: 0,
      stdout: '',
      stderr: `${dir}/derivative.schema.json is up to date\n${dir}/cloud-config.schema.json is up to date\n`,
    });
    expect(NAMES.map((n) => [stat(n).ino, stat(n).mtimeMs])).toEqual(before);
  });

  it('replaces a stale schema by renaming a complete new file over it, keeps the rest of DIR, and leaves no temporary file', () => {
    const dir = path.join(tmp, 'stale');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'derivative.schema.json'), '{"old": true}\n');
    fs.writeFileSync(path.join(dir, 'derivative.yaml'), 'kept\n');
    const oldInode = fs.statSync(path.join(dir, 'derivative.schema.json')).ino;
    const r = runCli(['schema', '--out', dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`wrote ${dir}/derivative.schema.json\n`);
    // A new inode: the old file was never truncated and rewritten in place, where a reader could see half of it.
    expect(fs.statSync(path.join(dir, 'derivative.schema.json')).ino).not.toBe(oldInode);
    expect(fs.readFileSync(path.join(dir, 'derivative.schema.json'), 'utf8')).toBe(printed);
    expect(fs.readFileSync(path.join(dir, 'derivative.yaml'), 'utf8')).toBe('kept\n');
    expect(fs.readdirSync(dir).sort()).toEqual(['cloud-config.schema.json', 'derivative.schema.json', 'derivative.yaml']);
  });

  it('replaces a symlink at a schema name instead of writing through it', () => {
    const dir = path.join(tmp, 'link');
    fs.mkdirSync(dir);
    const victim = path.join(tmp, 'victim.txt');
    fs.writeFileSync(victim, 'not a schema\n');
    fs.symlinkSync(victim, path.join(dir, 'derivative.schema.json'));
    expect(runCli(['schema', '--out', dir]).code).toBe(0);
    expect(fs.readFileSync(victim, 'utf8')).toBe('not a schema\n');
    expect(fs.lstatSync(path.join(dir, 'derivative.schema.json')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dir, 'derivative.schema.json'), 'utf8')).toBe(printed);
  });

  it('writes into the directory a symlink at DIR points to', () => {
    const real = path.join(tmp, 'real-dir');
    fs.mkdirSync(real);
    fs.symlinkSync(real, path.join(tmp, 'dir-link'));
    expect(runCli(['schema', '--out', path.join(tmp, 'dir-link')]).code).toBe(0);
    expect(fs.readdirSync(real).sort()).toEqual(NAMES);
  });
});

describe('derivc schema --out refuses', () => {
  const refused = (argv: string[], stderr: string) => expect(runCli(argv)).toEqual({ code: 1, stdout: '', stderr: `derivc: ${stderr}\n` });

  it('a DIR that is a file, writing nothing', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'mine\n');
    refused(['schema', '--out', file], `-o ${file}: ${file} exists and is not a directory`);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('a DIR below a file, or a symlink at DIR to a file', () => {
    const file = path.join(tmp, 'plain');
    fs.writeFileSync(file, 'mine\n');
    refused(['schema', '--out', path.join(file, 'sub')], `-o ${path.join(file, 'sub')}: ${file} is not a directory`);
    fs.symlinkSync(file, path.join(tmp, 'file-link'));
    const link = path.join(tmp, 'file-link');
    refused(['schema', '--out', link], `-o ${link}: ${link} is a symlink to ${file}, which is not a directory`);
    expect(fs.readFileSync(file, 'utf8')).toBe('mine\n');
  });

  it('a schema name taken by a directory: said in one line, no temporary file left behind', () => {
    const dir = path.join(tmp, 'taken');
    fs.mkdirSync(path.join(dir, 'derivative.schema.json'), { recursive: true });
    refused(['schema', '--out', dir], `cannot write ${dir}/derivative.schema.json: is a directory`);
    expect(fs.readdirSync(dir)).toEqual(['derivative.schema.json']);
  });

  it('--out with --cloud-config, and --out without DIR, as usage errors (exit 3)', () => {
    expect(runCli(['schema', '--cloud-config', '--out', path.join(tmp, 'both')])).toEqual({
      code: 3,
      stdout: '',
      stderr: 'derivc: --out writes both schemas; --cloud-config only chooses what is printed without it\nRun `derivc schema --help` for usage.\n',
    });
    expect(fs.existsSync(path.join(tmp, 'both'))).toBe(false);
    expect(runCli(['schema', '--out'])).toMatchObject({ code: 3, stderr: expect.stringContaining('--out needs a value: --out DIR') });
  });
});

describe('derivc help schema', () => {
  it('shows --out and what it writes', () => {
    const help = runCli(['help', 'schema']);
    expect(help).toEqual({ code: 0, stdout: commandHelp('schema'), stderr: '' });
    expect(help.stdout).toContain('Usage: derivc schema [--cloud-config] [-o DIR]\n');
    expect(help.stdout).toMatch(/ {2}-o, --out DIR +write derivative\.schema\.json and cloud-config\.schema\.json into DIR/);
    expect(runCli(['schema', '--help']).stdout).toBe(help.stdout);
  });
});
