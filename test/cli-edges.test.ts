// The CLI at its edges: a reader that goes away (`derivc schema | head -1`), an empty FILE
// argument, and symlink loops wherever a manifest names a path. Each once ended in a stack trace,
// a nameless `-->`, or "does not exist".

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationSession } from '../compiler/validate/index.js';
import { runCli } from './support/cli.js';
import { MemoryHost } from './support/memory-host.js';

const MANIFEST =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata:\n  name: acme-os\n  version: 1.0.0\nbase:\n  image: registry.opensuse.org/opensuse/leap:15.5\n';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-edges-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('a closed stdout or stderr', () => {
  let bin: string;
  beforeAll(async () => {
    // The real executable (cli/bin.ts owns the process streams), bundled by `npm run build`'s own script.
    const built = spawnSync(process.execPath, ['build.js', '--outdir', path.join(tmp, 'dist')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`node build.js failed: ${built.stderr}`);
    bin = path.join(tmp, 'dist', 'derivc.mjs');
  });

  /** Runs derivc with one of its output pipes closed before it writes; what the other one got, and the exit code. */
  function withClosed(stream: 'stdout' | 'stderr', args: string[], cwd = tmp): Promise<{ code: number | null; other: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd });
      child[stream].destroy();
      let other = '';
      child[stream === 'stdout' ? 'stderr' : 'stdout'].on('data', (b: Buffer) => void (other += b.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, other }));
    });
  }

  it('`derivc schema | head -1` and `derivc explain | head -1` end quietly', async () => {
    for (const command of ['schema', 'explain']) {
      const { code, other } = await withClosed('stdout', [command]);
      expect(other).toBe('');
      expect(code).toBe(0);
    }
  });

  it('every command that writes a lot ends quietly, with its own exit code', async () => {
    fs.writeFileSync(path.join(tmp, 'plan.yaml'), MANIFEST);
    fs.writeFileSync(path.join(tmp, 'other.yaml'), MANIFEST.replace('1.0.0', '2.0.0'));
    fs.writeFileSync(path.join(tmp, 'lint.yaml'), MANIFEST + 'colour: red\n');
    const cases: [string[], number][] = [
      [['help'], 0],
      [['help', 'build'], 0],
      [['schema', '--cloud-config'], 0],
      [['plan', 'plan.yaml', '--format', 'json'], 0],
      [['plan', 'plan.yaml'], 0],
      [['validate', '--format', 'sarif', 'lint.yaml'], 1],
      [['diff', 'plan.yaml', 'other.yaml'], 2],
      [['diff', '--format', 'github', 'plan.yaml', 'other.yaml'], 2],
    ];
    for (const [args, expected] of cases) {
      const { code, other } = await withClosed('stdout', args);
      expect({ args, other, code }).toEqual({ args, other: '', code: expected });
    }
  });

  it('`compile --check` with a stale DIR prints its diff into a closed pipe quietly', async () => {
    fs.writeFileSync(path.join(tmp, 'check.yaml'), MANIFEST);
    const { code, other } = await withClosed('stdout', ['compile', 'check.yaml', '-o', 'never-written', '--check']);
    expect(code).toBe(2);
    expect(other).toBe('never-written is stale: run `derivc compile check.yaml -o never-written`\n');
  });

  it('`cd os && derivc validate --format github` annotates os/derivative.yaml (paths from the git work tree root)', async () => {
    const repo = path.join(tmp, 'repo');
    fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
    fs.mkdirSync(path.join(repo, 'os'));
    fs.writeFileSync(path.join(repo, 'os', 'derivative.yaml'), MANIFEST + 'colour: red\n');
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'inherit'], cwd: path.join(repo, 'os') });
        let out = '';
        child.stdout.on('data', (b: Buffer) => void (out += b.toString()));
        child.on('error', reject);
        child.on('close', () => resolve(out));
      });
    expect(await run(['validate', '--format', 'github'])).toMatch(/^::error file=os\/derivative\.yaml,line=8,col=1,/);
    const sarif = JSON.parse(await run(['validate', '--format', 'sarif']));
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual({ uri: 'os/derivative.yaml', uriBaseId: '%SRCROOT%' });
    expect(await run(['validate', '--format', 'github', '--root', '.'])).toMatch(/^::error file=derivative\.yaml,line=8,/);
  });

  it('`derivc validate bad.yaml | head -1` keeps its exit code, without a stack trace', async () => {
    fs.writeFileSync(path.join(tmp, 'bad.yaml'), MANIFEST + 'colour: red\n');
    const { code, other } = await withClosed('stdout', ['validate', 'bad.yaml']);
    expect(other).toBe('');
    expect(code).toBe(1);
  });

  it('a closed stderr ends quietly too', async () => {
    fs.writeFileSync(path.join(tmp, 'good.yaml'), MANIFEST);
    const { code, other } = await withClosed('stderr', ['compile', 'good.yaml', '-o', 'out']);
    expect(other).toBe('');
    expect(code).toBe(0);
    expect(fs.existsSync(path.join(tmp, 'out', 'Dockerfile'))).toBe(true);
  });
});

describe('an empty FILE argument', () => {
  it('is a usage error naming the mistake, for validate and compile', () => {
    for (const argv of [
      ['validate', ''],
      ['compile', '', '-o', 'out'],
      ['validate', 'derivative.yaml', ''],
    ]) {
      const r = runCli(argv);
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`derivc: a FILE argument is empty; name a manifest such as \`derivative.yaml\`\nRun \`derivc ${argv[0]} --help\` for usage.\n`);
    }
  });
});

describe('symlink loops', () => {
  /** A folder with a manifest (plus `extra`), where `loop` links to itself. */
  function project(name: string, extra: string, setup: (dir: string) => void = () => {}): string {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'derivative.yaml'), MANIFEST + extra);
    fs.symlinkSync('loop', path.join(dir, 'loop'));
    setup(dir);
    return path.join(dir, 'derivative.yaml');
  }

  const validate = (file: string) => runCli(['validate', '--format', 'json', file]);
  const only = (file: string) => JSON.parse(validate(file).stdout).diagnostics.map((d: { code: string; message: string }) => `${d.code}: ${d.message}`);

  it('as the manifest', () => {
    const file = path.join(project('manifest', ''), '..', 'loop');
    expect(only(file)).toEqual([`io/unreadable: \`${file}\` is a symlink loop`]);
  });

  it('as the upstream manifest', () => {
    const file = project('upstream', '', (dir) =>
      fs.writeFileSync(path.join(dir, 'derivative.yaml'), MANIFEST.replace('  image: registry.opensuse.org/opensuse/leap:15.5\n', '  derivative: loop\n')),
    );
    expect(only(file)).toEqual([`path/symlink-loop: upstream manifest \`loop\` is a symlink loop (looked for ${path.join(path.dirname(file), 'loop')})`]);
  });

  it('as a files[].source, an oemDir and an overlay', () => {
    const file = project('local', 'toolkit:\n  source: luet\nfiles:\n  - path: /etc/motd\n    source: loop/motd\noemDir: loop\noverlay: loop\n');
    expect(only(file)).toEqual([
      'path/symlink-loop: `loop/motd` is a symlink loop: a link on the way points back at itself',
      'path/symlink-loop: `loop` is a symlink loop: a link on the way points back at itself',
      'path/symlink-loop: `loop` is a symlink loop: a link on the way points back at itself',
    ]);
  });

  it('inside targets.iso.overlay, whose links are followed', () => {
    const file = project('entries', 'targets:\n  iso:\n    overlay: tree\n', (dir) => {
      fs.mkdirSync(path.join(dir, 'tree'));
      fs.symlinkSync('a', path.join(dir, 'tree', 'b'));
      fs.symlinkSync('b', path.join(dir, 'tree', 'a'));
    });
    expect(only(file)).toEqual([
      'path/symlink-loop: `a` in `tree` is a symlink loop: a link on the way points back at itself',
      'path/symlink-loop: `b` in `tree` is a symlink loop: a link on the way points back at itself',
    ]);
  });

  it('inside an overlay or oemDir folder: symlinks like any other, copied as symlinks and never followed', () => {
    const file = project('copied', 'toolkit:\n  source: luet\noemDir: oem\noverlay: tree\n', (dir) => {
      for (const sub of ['oem', 'tree']) {
        fs.mkdirSync(path.join(dir, sub));
        fs.symlinkSync('a.yaml', path.join(dir, sub, 'b.yaml'));
        fs.symlinkSync('b.yaml', path.join(dir, sub, 'a.yaml'));
      }
    });
    expect(only(file)).toEqual([]);
  });

  it('in the in-memory host of the tests, as on disk', () => {
    const host = new MemoryHost({ 'd/derivative.yaml': MANIFEST + 'targets:\n  iso:\n    overlay: tree\n', 'd/tree/etc/motd': 'hi\n' });
    host.loop('d/tree/etc/loop');
    const { diagnostics } = new ValidationSession(host).validate('d/derivative.yaml');
    expect(diagnostics.map((d) => d.message)).toEqual(['`etc/loop` in `tree` is a symlink loop: a link on the way points back at itself']);
  });
});
