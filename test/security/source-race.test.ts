// A file the manifest names is swapped for a symlink to an outside file at every moment derivc
// touches it — after validation, between its open and the checks on that open file, between the
// check and the copy, during the copy — and the outside bytes never reach the output directory:
// derivc either copies the file it checked or fails saying the file changed.
//
// The swaps are deterministic: the real node host runs on a copy of node:fs whose openSync runs
// the swap just before or after the n-th open of the file.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHostOn, type HostFs } from '../../cli/node-host.js';
import { runCli } from '../support/cli.js';
import { filesWithSecret, makeRepo, SECRET, swapForSymlink, type Repo } from './fixtures.js';

type Hook = () => void;

/** node:fs, except that opens of files named `name` run `before[n]`/`after[n]` around the n-th. */
function hookedFs(name: string, hooks: { before?: Record<number, Hook>; after?: Record<number, Hook> }, base: HostFs = fs): HostFs {
  let opens = 0;
  const openSync = (p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode | null): number => {
    const n = path.basename(String(p)) === name ? ++opens : 0;
    if (n) hooks.before?.[n]?.();
    const fd = base.openSync(p, flags, mode);
    if (n) hooks.after?.[n]?.();
    return fd;
  };
  return { ...base, openSync };
}

/** Runs `hook` and records that it ran: a case whose swap never happened proves nothing. */
function once(ran: string[], label: string, hook: Hook): Hook {
  return () => {
    ran.push(label);
    hook();
  };
}

let repo: Repo;
afterEach(() => repo.remove());

const SOURCE = 'files:\n  - path: /etc/data.txt\n    source: data.txt';
const INSIDE = 'inside the repository\n';

function compile(f: HostFs) {
  return runCli(['compile', repo.manifest, '-o', repo.out], { host: nodeHostOn(f) });
}

describe('files[].source swapped for a symlink to an outside file', () => {
  it('after validation, before derivc opens it: refused when opened (the open file is outside)', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const ran: string[] = [];
    const r = compile(hookedFs('data.txt', { before: { 1: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'data.txt'), repo.secret)) } }));
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('path/outside-manifest-dir');
    expect(r.stderr).toContain('`data.txt` resolved to `../outside/secret.txt` when derivc opened it');
    expect(filesWithSecret(repo.root).filter((f) => !f.startsWith('outside'))).toEqual([]);
  });

  it('right after the open, before the checks: refused (the name no longer leads to the opened file)', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const ran: string[] = [];
    const r = compile(hookedFs('data.txt', { after: { 1: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'data.txt'), repo.secret)) } }));
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`data.txt` was moved or replaced while derivc opened it');
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('between the check and the copy: the copy fails, nothing of the outside file is written', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const ran: string[] = [];
    const r = compile(hookedFs('data.txt', { before: { 2: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'data.txt'), repo.secret)) } }));
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write files\/etc\/data\.txt: .*changed after derivc checked it/);
    expect(filesWithSecret(repo.out)).toEqual([]);
    expect(fs.existsSync(path.join(repo.out, 'files/etc/data.txt'))).toBe(false);
  });

  it('after the copy opened it again: the checked file is copied, not the outside one', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const ran: string[] = [];
    const r = compile(hookedFs('data.txt', { after: { 2: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'data.txt'), repo.secret)) } }));
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(repo.out, 'files/etc/data.txt'), 'utf8')).toBe(INSIDE);
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('a folder on its path swapped for a symlink to an outside folder: refused when opened', () => {
    repo = makeRepo('files:\n  - path: /etc/data.txt\n    source: sub/data.txt', { 'sub/data.txt': INSIDE });
    fs.writeFileSync(path.join(repo.root, 'outside', 'data.txt'), SECRET);
    const ran: string[] = [];
    const r = compile(
      hookedFs('data.txt', { before: { 1: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'sub'), path.join(repo.root, 'outside'))) } }),
    );
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`sub/data.txt` resolved to `../outside/data.txt` when derivc opened it');
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('swapped before the open and back right after it: refused (the open file is the outside one)', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const file = path.join(repo.dir, 'data.txt');
    const ran: string[] = [];
    const hooks = {
      before: { 1: once(ran, 'swap', () => swapForSymlink(file, repo.secret)) },
      after: { 1: once(ran, 'back', () => (fs.rmSync(file), fs.writeFileSync(file, INSIDE))) },
    };
    const r = compile(hookedFs('data.txt', hooks));
    expect(ran).toEqual(['swap', 'back']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('path/outside-manifest-dir');
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('the same without /proc/self/fd (other systems): the name no longer leads to the open file, refused', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const file = path.join(repo.dir, 'data.txt');
    const ran: string[] = [];
    const noProc: HostFs = {
      ...fs,
      readlinkSync: ((p: fs.PathLike) => {
        if (String(p).startsWith('/proc/')) throw Object.assign(new Error('ENOENT: no /proc here'), { code: 'ENOENT' });
        return fs.readlinkSync(p);
      }) as typeof fs.readlinkSync,
    };
    const hooks = {
      before: { 1: once(ran, 'swap', () => swapForSymlink(file, repo.secret)) },
      after: { 1: once(ran, 'back', () => (fs.rmSync(file), fs.writeFileSync(file, INSIDE))) },
    };
    const r = compile(hookedFs('data.txt', hooks, noProc));
    expect(ran).toEqual(['swap', 'back']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`data.txt` was moved or replaced while derivc opened it');
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('without /proc/self/fd and no swap: compiles as usual', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const noProc: HostFs = {
      ...fs,
      readlinkSync: ((p: fs.PathLike) => {
        if (String(p).startsWith('/proc/')) throw Object.assign(new Error('ENOENT: no /proc here'), { code: 'ENOENT' });
        return fs.readlinkSync(p);
      }) as typeof fs.readlinkSync,
    };
    const r = compile(noProc);
    expect(r.stderr).toContain('compiled');
    expect(fs.readFileSync(path.join(repo.out, 'files/etc/data.txt'), 'utf8')).toBe(INSIDE);
  });
});

describe('files[].source changed in place (same file, other bytes) between the check and the copy', () => {
  it('fails the copy on the digest: the output keeps nothing of it', () => {
    repo = makeRepo(SOURCE, { 'data.txt': INSIDE });
    const ran: string[] = [];
    const r = compile(hookedFs('data.txt', { before: { 2: once(ran, 'rewrite', () => fs.writeFileSync(path.join(repo.dir, 'data.txt'), SECRET)) } }));
    expect(ran).toEqual(['rewrite']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/data\.txt changed after derivc checked it \(it grew: not the 22 bytes with sha256 [0-9a-f]{64}\)/);
    expect(filesWithSecret(repo.out)).toEqual([]);
  });
});

describe('overlay files', () => {
  it('an overlay file swapped for a symlink after validation is refused when opened', () => {
    repo = makeRepo('overlay: ov', { 'ov/etc/app.conf': INSIDE });
    const ran: string[] = [];
    const r = compile(hookedFs('app.conf', { before: { 1: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'ov/etc/app.conf'), repo.secret)) } }));
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`ov/etc/app.conf` resolved to `../outside/secret.txt` when derivc opened it');
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('are opened one at a time: a large tree never holds many descriptors open', () => {
    const files = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`ov/d${i % 7}/f${i}.txt`, `file ${i}\n`]));
    repo = makeRepo('overlay: ov', files);
    let open = 0;
    let most = 0;
    let total = 0;
    const counting: HostFs = {
      ...fs,
      openSync: ((p: fs.PathLike, flags: fs.OpenMode, mode?: fs.Mode | null) => {
        const fd = fs.openSync(p, flags, mode);
        total++;
        most = Math.max(most, ++open);
        return fd;
      }) as typeof fs.openSync,
      closeSync: (fd: number) => {
        open--;
        fs.closeSync(fd);
      },
    };
    const r = compile(counting);
    expect(r.code).toBe(0);
    // Each file opened twice (checked, then copied), each time closed before the next.
    expect(total).toBe(600);
    expect(most).toBe(1);
    expect(open).toBe(0);
  });
});

describe('oemDir files', () => {
  const OEM = 'toolkit:\n  source: base\n  flavor: elemental\n  version: v2.3.2\noemDir: oem';
  const CLOUD_CONFIG = 'name: hello\nstages:\n  boot:\n    - commands: [echo hello]\n';

  it('one swapped for a symlink after validation is refused when opened', () => {
    repo = makeRepo(OEM, { 'oem/10_hello.yaml': CLOUD_CONFIG });
    const ran: string[] = [];
    const r = compile(
      hookedFs('10_hello.yaml', { before: { 1: once(ran, 'swap', () => swapForSymlink(path.join(repo.dir, 'oem/10_hello.yaml'), repo.secret)) } }),
    );
    expect(ran).toEqual(['swap']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('`oem/10_hello.yaml` resolved to `../outside/secret.txt` when derivc opened it');
    expect(filesWithSecret(repo.out)).toEqual([]);
  });

  it('are copied as the bytes read from the checked file', () => {
    repo = makeRepo(OEM, { 'oem/10_hello.yaml': CLOUD_CONFIG });
    const r = compile(fs);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(repo.out, 'rootfs/system/oem/10_hello.yaml'), 'utf8')).toBe(CLOUD_CONFIG);
  });

  it('one grown past the cloud-config size limit after validation is refused', () => {
    repo = makeRepo(OEM, { 'oem/10_hello.yaml': CLOUD_CONFIG });
    const ran: string[] = [];
    const grow = () => fs.appendFileSync(path.join(repo.dir, 'oem/10_hello.yaml'), `# ${'x'.repeat(5 * 2 ** 20)}\n`);
    const r = compile(hookedFs('10_hello.yaml', { before: { 1: once(ran, 'grow', grow) } }));
    expect(ran).toEqual(['grow']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[parse/too-large]: `oem/10_hello.yaml` is 5242940 bytes; the limit is 4194304');
  });
});
