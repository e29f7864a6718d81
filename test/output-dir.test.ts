// The output directory (`-o DIR`): DIR is only ever its old or its new state (also when a write is
// killed at any step, once the next run has recovered), one process at a time writes it, derivc
// replaces or removes only what it provably wrote, reports what it did not write, and refuses
// directories it must not use — with nothing written.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, type GeneratedFile } from '../compiler/emit/types.js';
import { listingEntry } from '../compiler/output-listing.js';
import { inOutputNamespace } from '../compiler/output-path.js';
import { checkOutputDir, openOutputDir, OutputDirError, writeOutputDir, type OutputDirOptions } from '../cli/output-dir.js';
import { ownerEntryName } from '../cli/output-lock.js';
import { checkGenerated } from '../cli/output-plan.js';
import { unifiedDiff } from '../cli/unified-diff.js';
import { compiled, goldenCases } from './golden/harness.js';
import { runCli } from './support/cli.js';

let tmp: string;
let dir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-out-'));
  dir = path.join(tmp, 'out');
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const file = (p: string, content: string | Uint8Array, mode = 0o644): GeneratedFile => ({ path: p, content, mode });
const sha256 = (content: string | Uint8Array) => createHash('sha256').update(content).digest('hex');

/** The file set plus the derivc.json listing it, as the compiler emits it. */
function withManifest(files: GeneratedFile[]): GeneratedFile[] {
  const listing = { files: files.map(listingEntry) };
  return [...files, file(MANIFEST_FILE, `${JSON.stringify(listing)}\n`)];
}

const at = (p: string) => path.join(dir, p);
const read = (p: string) => fs.readFileSync(at(p), 'utf8');
const modeOf = (p: string) => fs.statSync(at(p)).mode & 0o7777;

/** Everything under `root` (lstat, not following symlinks): type, bytes, mode, inode, mtime. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      const st = fs.lstatSync(full);
      const rel = path.relative(root, full);
      if (st.isSymbolicLink()) out[rel] = `link ${fs.readlinkSync(full)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${st.mode & 0o7777}`;
        walk(full);
      } else out[rel] = `file ${st.mode & 0o7777} ${st.ino} ${st.mtimeMs} ${fs.readFileSync(full).toString('base64')}`;
    }
  };
  walk(root);
  return out;
}

/** What a state is made of: every entry's kind, mode and bytes (not inodes or times). */
function state(root: string): Record<string, string> {
  return Object.fromEntries(Object.entries(snapshot(root)).map(([p, d]) => [p, d.startsWith('file') ? d.replace(/^file (\d+) \S+ \S+ /, 'file $1 ') : d]));
}

/** What derivc keeps next to (or in) DIR while it writes: nothing of it may stay after a run. */
function leftovers(root: string): string[] {
  return Object.keys(snapshot(root)).filter((p) => /derivc-(new|old|lock|tmp)/.test(p));
}

/** Backdates every file so that any rewrite would show as a new mtime (no reliance on the clock's resolution). */
function backdate(root: string): void {
  for (const [rel, desc] of Object.entries(snapshot(root))) if (desc.startsWith('file')) fs.utimesSync(path.join(root, rel), 1e9, 1e9);
}

const BASE = [
  file('Dockerfile', 'FROM scratch\n'),
  file('rootfs/etc/cos/bootargs.cfg', 'set kernel=/boot/vmlinuz\n'),
  file('files/run.sh', '#!/bin/sh\n', 0o755),
];

describe('writeOutputDir', () => {
  it('writes a fresh tree, creating DIR and parent directories, with the exact modes', () => {
    dir = path.join(tmp, 'a', 'b', 'out');
    const files = withManifest([...BASE, file('files/shared', 'x', 0o666), file('files/blob.bin', new Uint8Array([0, 255, 1]))]);
    const report = writeOutputDir(dir, files);
    expect(report).toEqual({ written: files.map((f) => f.path).sort(), unchanged: [], removed: [], kept: [], unlisted: [] });
    expect(read('rootfs/etc/cos/bootargs.cfg')).toBe('set kernel=/boot/vmlinuz\n');
    expect([...fs.readFileSync(at('files/blob.bin'))]).toEqual([0, 255, 1]);
    expect(modeOf('files/run.sh')).toBe(0o755);
    expect(modeOf('files/shared')).toBe(0o666); // not reduced by the umask
    expect(modeOf('Dockerfile')).toBe(0o644);
    expect(leftovers(tmp)).toEqual([]);
  });

  it('rewrites only the changed file; the others keep inode and mtime', () => {
    writeOutputDir(dir, withManifest(BASE));
    backdate(dir);
    const before = snapshot(dir);
    const changed = BASE.map((f) => (f.path === 'Dockerfile' ? file('Dockerfile', 'FROM alpine\n') : f));
    const report = writeOutputDir(dir, withManifest(changed));
    expect(report).toMatchObject({ written: ['Dockerfile', MANIFEST_FILE], unchanged: ['files/run.sh', 'rootfs/etc/cos/bootargs.cfg'], removed: [] });
    const after = snapshot(dir);
    expect(after['files/run.sh']).toBe(before['files/run.sh']);
    expect(after['rootfs/etc/cos/bootargs.cfg']).toBe(before['rootfs/etc/cos/bootargs.cfg']);
    expect(after['Dockerfile']).not.toBe(before['Dockerfile']);
    expect(read('Dockerfile')).toBe('FROM alpine\n');
    expect(leftovers(tmp)).toEqual([]);
  });

  it('leaves a fully up-to-date directory completely untouched, DIR itself included', () => {
    writeOutputDir(dir, withManifest(BASE));
    backdate(dir);
    const before = snapshot(dir);
    const inode = fs.statSync(dir).ino;
    expect(writeOutputDir(dir, withManifest(BASE))).toMatchObject({ written: [], unchanged: [...BASE.map((f) => f.path), MANIFEST_FILE].sort(), removed: [] });
    expect(snapshot(dir)).toEqual(before);
    expect(fs.statSync(dir).ino).toBe(inode);
  });

  it('applies a mode-only change', () => {
    writeOutputDir(dir, withManifest(BASE));
    const files = withManifest(BASE.map((f) => (f.path === 'Dockerfile' ? file(f.path, f.content as string, 0o600) : f)));
    expect(writeOutputDir(dir, files).written).toEqual(['Dockerfile', MANIFEST_FILE]);
    expect(modeOf('Dockerfile')).toBe(0o600);
    expect(read('Dockerfile')).toBe('FROM scratch\n');
  });

  it('replaces a generated file edited by hand (derivc.json lists it), and says so', () => {
    writeOutputDir(dir, withManifest(BASE));
    fs.writeFileSync(at('Dockerfile'), 'FROM scratch\nRUN my-change\n');
    const notes: string[] = [];
    expect(writeOutputDir(dir, withManifest(BASE), { note: (l) => notes.push(l) }).written).toEqual(['Dockerfile']);
    expect(read('Dockerfile')).toBe('FROM scratch\n');
    expect(notes).toEqual([`replaced ${dir}/Dockerfile, which had been changed since derivc wrote it (derivc.json records other bytes)`]);
  });

  it('carries everything it does not own into the new DIR as it was: same files (inode, mtime), symlinks, empty directories, modes', () => {
    writeOutputDir(dir, withManifest(BASE));
    fs.writeFileSync(at('build.log'), 'log');
    fs.writeFileSync(at('acme-1.0.iso'), 'iso');
    fs.mkdirSync(at('test/iso-bios'), { recursive: true });
    fs.writeFileSync(at('test/iso-bios/console.log'), 'boot');
    fs.mkdirSync(at('empty'), { mode: 0o700 });
    fs.chmodSync(at('empty'), 0o700);
    fs.symlinkSync('/etc/passwd', at('passwd-link'));
    fs.chmodSync(dir, 0o750);
    backdate(dir);
    const before = snapshot(dir);
    const inode = fs.statSync(dir).ino;

    writeOutputDir(dir, withManifest(BASE.map((f) => (f.path === 'Dockerfile' ? file('Dockerfile', 'FROM alpine\n') : f))));

    const after = snapshot(dir);
    for (const p of ['build.log', 'acme-1.0.iso', 'test', 'test/iso-bios', 'test/iso-bios/console.log', 'empty', 'passwd-link', 'files/run.sh'])
      expect(after[p], p).toBe(before[p]);
    expect(fs.statSync(dir).mode & 0o7777).toBe(0o750);
    expect(fs.statSync(dir).ino).not.toBe(inode); // replaced as a whole
    expect(leftovers(tmp)).toEqual([]);
  });

  describe('removal of stale files', () => {
    it('removes what the old derivc.json listed, still as derivc wrote it, and the directories that emptied', () => {
      writeOutputDir(dir, withManifest([...BASE, file('rootfs/sub/deep/old.txt', 'old\n'), file('files/keep/old.txt', 'old\n')]));
      fs.writeFileSync(at('user.txt'), 'mine');
      fs.writeFileSync(at('files/keep/user.txt'), 'mine');
      fs.mkdirSync(at('empty-before'));
      const report = writeOutputDir(dir, withManifest(BASE));
      expect(report.removed).toEqual(['files/keep/old.txt', 'rootfs/sub/deep/old.txt']);
      expect(fs.existsSync(at('rootfs/sub'))).toBe(false);
      expect(read('user.txt')).toBe('mine');
      expect(read('files/keep/user.txt')).toBe('mine');
      expect(fs.existsSync(at('files/keep/old.txt'))).toBe(false);
      expect(fs.statSync(at('empty-before')).isDirectory()).toBe(true);
    });

    it('lets a new file take the place of a removed directory, and the other way round', () => {
      writeOutputDir(dir, withManifest([file('files/a/b', '1'), file('files/c', '2')]));
      const report = writeOutputDir(dir, withManifest([file('files/a', '3'), file('files/c/d', '4')]));
      expect(report.removed).toEqual(['files/a/b', 'files/c']);
      expect(read('files/a')).toBe('3');
      expect(read('files/c/d')).toBe('4');
    });

    it('keeps, and reports, a stale file that was changed since derivc wrote it', () => {
      writeOutputDir(dir, withManifest([...BASE, file('files/old.conf', 'derivc wrote this\n')]));
      fs.writeFileSync(at('files/old.conf'), 'edited by hand\n');
      const notes: string[] = [];
      const report = writeOutputDir(dir, withManifest(BASE), { note: (l) => notes.push(l) });
      expect(report).toMatchObject({ removed: [], kept: ['files/old.conf'] });
      expect(read('files/old.conf')).toBe('edited by hand\n');
      expect(notes).toEqual([`kept ${dir}/files/old.conf: derivc wrote it and no longer generates it, but it was changed since; remove it by hand`]);
      // No longer listed: from now on it is a file derivc did not write.
      expect(writeOutputDir(dir, withManifest(BASE)).unlisted).toEqual(['files/old.conf']);
    });

    it('a forged derivc.json cannot make derivc delete or overwrite anything outside its namespace', () => {
      const victim = path.join(tmp, 'victim.txt');
      fs.writeFileSync(victim, 'outside');
      fs.mkdirSync(dir);
      fs.writeFileSync(at('NOTES.md'), 'mine\n');
      fs.writeFileSync(at('derivative.yaml'), 'apiVersion: x\n');
      fs.mkdirSync(at('config'));
      fs.writeFileSync(at('config/app.ini'), 'a=1\n');
      fs.mkdirSync(at('files/dir'), { recursive: true });
      fs.symlinkSync(victim, at('files/link'));
      const forged = [
        { path: '../victim.txt', sha256: sha256('outside'), mode: '0644' },
        { path: victim, sha256: sha256('outside'), mode: '0644' },
        { path: '.git/config', sha256: sha256(''), mode: '0644' },
        { path: 'NOTES.md', sha256: sha256('mine\n'), mode: '0644' }, // the right digest, outside the namespace
        { path: 'derivative.yaml', sha256: sha256('apiVersion: x\n'), mode: '0644' },
        { path: 'config/app.ini', sha256: sha256('a=1\n'), mode: '0644' },
        { path: 'files/../NOTES.md', sha256: sha256('mine\n'), mode: '0644' },
        { path: 'files/link', sha256: sha256('outside'), mode: '0644' }, // a symlink, not a file derivc wrote
        { path: 'files/dir', sha256: sha256(''), mode: '0644' },
        { path: 'derivc.json', sha256: sha256(''), mode: '0644' },
      ];
      fs.writeFileSync(at(MANIFEST_FILE), JSON.stringify({ files: forged }));
      const notes: string[] = [];
      const report = writeOutputDir(dir, withManifest(BASE), { note: (l) => notes.push(l) });
      expect(report.removed).toEqual([]);
      expect(fs.readFileSync(victim, 'utf8')).toBe('outside');
      expect(read('NOTES.md')).toBe('mine\n');
      expect(read('derivative.yaml')).toBe('apiVersion: x\n');
      expect(read('config/app.ini')).toBe('a=1\n');
      expect(fs.readlinkSync(at('files/link'))).toBe(victim);
      expect(fs.statSync(at('files/dir')).isDirectory()).toBe(true);
      expect(report.unlisted).toEqual(['files/link']);
      expect(notes.filter((n) => n.startsWith('ignored an entry'))).toHaveLength(8);
    });

    it('removes nothing when there is no old derivc.json', () => {
      fs.mkdirSync(path.join(dir, 'files'), { recursive: true });
      fs.writeFileSync(at('files/old.txt'), 'old');
      expect(writeOutputDir(dir, withManifest(BASE))).toMatchObject({ removed: [], unlisted: ['files/old.txt'] });
      expect(read('files/old.txt')).toBe('old');
    });

    it.each([
      ['unparsable', '{"files": [', 'not a listing derivc writes (not JSON)'],
      ['of the wrong shape', '{"files": "old.txt"}', 'not a listing derivc writes (no `files` list)'],
    ])('refuses to replace a derivc.json that is %s, writing nothing', (_, manifest, why) => {
      fs.mkdirSync(dir);
      fs.writeFileSync(at(MANIFEST_FILE), manifest);
      const before = snapshot(tmp);
      expect(() => writeOutputDir(dir, withManifest(BASE))).toThrow(
        `refusing to write ${dir} (nothing written):\n  "derivc.json": ${why}; derivc does not overwrite it — remove it if nothing of yours is in ${dir}`,
      );
      expect(snapshot(tmp)).toEqual(before);
    });
  });

  describe('files derivc did not write', () => {
    it('refuses to overwrite one at a path derivc generates, naming it, and writes nothing', () => {
      fs.mkdirSync(path.join(dir, 'rootfs/etc/cos'), { recursive: true });
      fs.writeFileSync(at('Dockerfile'), 'FROM my-own\n');
      fs.writeFileSync(at('rootfs/etc/cos/bootargs.cfg'), 'mine\n');
      const before = snapshot(tmp);
      expect(() => writeOutputDir(dir, withManifest(BASE))).toThrow(
        `refusing to write ${dir} (nothing written):\n` +
          '  "Dockerfile": exists, but derivc did not write it (derivc.json does not list it); derivc does not overwrite it — move it away\n' +
          '  "rootfs/etc/cos/bootargs.cfg": exists, but derivc did not write it (derivc.json does not list it); derivc does not overwrite it — move it away',
      );
      expect(snapshot(tmp)).toEqual(before);
    });

    it('takes over one that already holds exactly the generated bytes and mode', () => {
      fs.mkdirSync(dir);
      fs.writeFileSync(at('Dockerfile'), 'FROM scratch\n');
      fs.chmodSync(at('Dockerfile'), 0o644);
      expect(writeOutputDir(dir, withManifest(BASE)).unchanged).toEqual(['Dockerfile']);
    });

    it('keeps and reports files in its namespace that derivc.json does not list', () => {
      writeOutputDir(dir, withManifest(BASE));
      fs.mkdirSync(at('rootfs/etc/sudoers.d'), { recursive: true });
      fs.writeFileSync(at('rootfs/etc/sudoers.d/x'), 'ALL ALL=(ALL) NOPASSWD: ALL\n');
      const notes: string[] = [];
      const report = writeOutputDir(dir, withManifest([...BASE, file('files/new', 'n')]), { note: (l) => notes.push(l) });
      expect(report.unlisted).toEqual(['rootfs/etc/sudoers.d/x']);
      expect(read('rootfs/etc/sudoers.d/x')).toBe('ALL ALL=(ALL) NOPASSWD: ALL\n');
      expect(notes).toEqual([`${dir}/rootfs/etc/sudoers.d/x is not a file derivc wrote (not in derivc.json): kept, never sent to the build; remove it`]);
    });

    it('refuses a file or symlink where derivc needs a directory, and a directory where it writes a file', () => {
      const outside = path.join(tmp, 'outside');
      fs.mkdirSync(outside);
      fs.mkdirSync(path.join(dir, 'files', 'real'), { recursive: true });
      fs.symlinkSync(outside, at('rootfs'));
      fs.symlinkSync(at('files/real'), at('files/alias'));
      fs.writeFileSync(at('boot'), 'a file');
      fs.mkdirSync(at('Dockerfile'));
      const before = snapshot(tmp);
      expect(() => writeOutputDir(dir, withManifest([...BASE, file('files/alias/x', 'x'), file('boot/x', 'x')]))).toThrow(
        `refusing to write ${dir} (nothing written):\n` +
          '  "Dockerfile": a directory derivc did not write is where derivc writes a file; move it away\n' +
          '  "boot": a file derivc did not write is where "boot/x" needs a directory; move it away\n' +
          '  "files/alias": a symlink derivc did not write is where "files/alias/x" needs a directory; move it away\n' +
          '  "rootfs": a symlink derivc did not write is where "rootfs/etc/cos/bootargs.cfg" needs a directory; move it away',
      );
      expect(() => checkOutputDir(dir, withManifest(BASE))).toThrow(OutputDirError);
      expect(snapshot(tmp)).toEqual(before);
      expect(fs.readdirSync(outside)).toEqual([]);
    });

    it('refuses a special file it cannot carry over', () => {
      fs.mkdirSync(dir);
      execFileSync('mkfifo', [at('pipe')]);
      expect(() => writeOutputDir(dir, withManifest(BASE))).toThrow(
        '"pipe": a special file (fifo, socket or device) that derivc cannot carry into the new output; move it away',
      );
      expect(fs.readdirSync(dir)).toEqual(['pipe']);
    });
  });

  describe('refused generated paths', () => {
    it.each([
      '../x',
      '/etc/x',
      'files/../../x',
      'files//b',
      './x',
      'files/',
      '',
      'files\\..\\x',
      'files/x.derivc-tmp',
      'notes.txt',
      '.git/config',
      'test/junit.xml',
    ])('refuses %j and writes nothing', (bad) => {
      fs.mkdirSync(dir);
      fs.writeFileSync(at('marker'), 'm');
      const before = snapshot(tmp);
      expect(() => writeOutputDir(dir, withManifest([file('files/ok.txt', 'ok'), file(bad, 'evil')]))).toThrow(OutputDirError);
      expect(snapshot(tmp)).toEqual(before);
    });

    it('refuses before creating DIR', () => {
      expect(() => writeOutputDir(dir, withManifest([file('../x', 'evil')]))).toThrow(OutputDirError);
      expect(fs.existsSync(dir)).toBe(false);
    });

    it("refuses duplicate paths, a path that is also another path's directory, a bad mode, and a derivc.json that does not list exactly what is written", () => {
      expect(() => writeOutputDir(dir, withManifest([file('files/a', '1'), file('files/a', '2')]))).toThrow(/twice/);
      expect(() => writeOutputDir(dir, withManifest([file('files/a', '1'), file('files/a/b', '2')]))).toThrow(OutputDirError);
      expect(() => writeOutputDir(dir, withManifest([file('files/a', '1', 0o10000)]))).toThrow(/mode/);
      expect(() => writeOutputDir(dir, [file('files/a', '1')])).toThrow('"derivc.json": missing from the generated files');
      const lying = withManifest([file('files/a', '1')]).map((f) => (f.path === 'files/a' ? file('files/a', '2') : f));
      expect(() => writeOutputDir(dir, lying)).toThrow('"derivc.json": does not list exactly the generated files with their sha256 and mode');
      expect(fs.existsSync(dir)).toBe(false);
    });
  });

  it("every file the compiler generates is in derivc's namespace, with a derivc.json listing exactly them", () => {
    for (const c of goldenCases()) {
      const output = compiled(c.manifest);
      expect(
        output.files.filter((f) => !inOutputNamespace(f.path)).map((f) => f.path),
        c.name,
      ).toEqual([]);
      expect(() => checkGenerated(output.files), c.name).not.toThrow();
    }
  });

  it('a failure while writing leaves DIR exactly as it was, and nothing next to it', () => {
    writeOutputDir(dir, withManifest(BASE));
    fs.writeFileSync(at('user.txt'), 'mine');
    const before = snapshot(tmp);
    let files = 0;
    const onStep = (step: string) => {
      if (step === 'tree:file' && ++files === 2) throw new OutputDirError('cannot write out/files/b: no space left on device');
    };
    const next = withManifest([...BASE, file('files/a', 'a'), file('files/b', 'b'), file('files/c', 'c')]);
    expect(() => writeOutputDir(dir, next, { onStep })).toThrow('cannot write out/files/b: no space left on device');
    expect(snapshot(tmp)).toEqual(before);
  });
});

describe('checkOutputDir', () => {
  const LINES = '1\n2\n3\n4\n5\n6\n7\n8\n9\n';
  const OLD = [file('files/a.txt', LINES), file('files/run.sh', '#!/bin/sh\n'), file('files/gone.txt', 'bye\n'), file('files/blob', new Uint8Array([0xff, 1]))];

  it('is up to date right after a write', () => {
    writeOutputDir(dir, withManifest(OLD));
    expect(checkOutputDir(dir, withManifest(OLD))).toEqual({ stale: false, diff: '' });
  });

  it('describes every change as a sorted unified diff, and writes nothing', () => {
    writeOutputDir(dir, withManifest(OLD));
    fs.writeFileSync(at('user.txt'), 'not derivc\n');
    backdate(dir);
    const before = snapshot(tmp);
    const NEW = [
      file('files/a.txt', LINES.replace('5\n', 'five\n')),
      file('files/run.sh', '#!/bin/sh\n', 0o755),
      file('files/blob', new Uint8Array([0xff, 2])),
      file('files/new/file.txt', 'hello\nworld'),
    ];
    const oldManifest = withManifest(OLD).at(-1)!.content as string;
    const newManifest = withManifest(NEW).at(-1)!.content as string;
    const { stale, diff } = checkOutputDir(dir, withManifest(NEW));
    expect(stale).toBe(true);
    expect(diff).toBe(
      [
        '--- a/derivc.json',
        '+++ b/derivc.json',
        '@@ -1,1 +1,1 @@',
        `-${oldManifest.trimEnd()}`,
        `+${newManifest.trimEnd()}`,
        '--- a/files/a.txt',
        '+++ b/files/a.txt',
        '@@ -2,7 +2,7 @@',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        'Binary files a/files/blob and b/files/blob differ',
        '--- a/files/gone.txt',
        '+++ /dev/null',
        '@@ -1,1 +0,0 @@',
        '-bye',
        '--- /dev/null',
        '+++ b/files/new/file.txt',
        '@@ -0,0 +1,2 @@',
        '+hello',
        '+world',
        '\\ No newline at end of file',
        'mode 100644 → 100755 files/run.sh',
        '',
      ].join('\n'),
    );
    expect(snapshot(tmp)).toEqual(before);
  });

  it('reports files in its namespace that derivc.json does not list, and stale files changed since', () => {
    writeOutputDir(dir, withManifest([...OLD, file('files/old.conf', 'derivc\n')]));
    fs.mkdirSync(at('rootfs/etc/sudoers.d'), { recursive: true });
    fs.writeFileSync(at('rootfs/etc/sudoers.d/x'), 'ALL ALL=(ALL) NOPASSWD: ALL\n');
    fs.writeFileSync(at('files/old.conf'), 'edited\n');
    fs.writeFileSync(at('build.log'), 'not reported: not in the namespace');
    fs.writeFileSync(at('acme-1.0.iso'), 'iso');
    const before = snapshot(tmp);
    const { stale, diff } = checkOutputDir(dir, withManifest(OLD));
    expect(stale).toBe(true);
    expect(diff.split('\n').filter((l) => !/^[-+@ ]/.test(l))).toEqual([
      'kept files/old.conf: derivc wrote it and no longer generates it, but it was changed since; remove it by hand',
      'unlisted rootfs/etc/sudoers.d/x: not a file derivc wrote (not in derivc.json); never sent to the build; remove it',
      '',
    ]);
    expect(snapshot(tmp)).toEqual(before);
  });

  it('reports everything as new for a DIR that does not exist, creating nothing (not even its parent)', () => {
    const absent = path.join(tmp, 'parent', 'out');
    const { stale, diff } = checkOutputDir(absent, withManifest([file('files/x', 'y\n')]));
    expect(stale).toBe(true);
    expect(diff).toContain('--- /dev/null\n+++ b/files/x\n@@ -0,0 +1,1 @@\n+y\n');
    expect(fs.readdirSync(tmp)).toEqual([]);
  });
});

describe('unifiedDiff', () => {
  it('is empty for equal contents, text or binary', () => {
    expect(unifiedDiff('t', Buffer.from('same\n'), Buffer.from('same\n'))).toBe('');
    expect(unifiedDiff('b', new Uint8Array([0xff]), new Uint8Array([0xff]))).toBe('');
  });

  it('prints a binary entry against /dev/null for an added binary file', () => {
    expect(unifiedDiff('b', null, new Uint8Array([0xc3]))).toBe('Binary files /dev/null and b/b differ\n');
  });
});

describe('a write killed at any step', () => {
  const OLD = withManifest([...BASE, file('files/old-only', 'old'), file('files/changed', 'old'), file('rootfs/deep/gone/x', 'x')]);
  const NEW = withManifest([...BASE, file('files/changed', 'new', 0o600), file('files/new-only', 'new'), file('overlay/a', 'a'), file('overlay/b', 'b')]);
  const DEAD = `4194305.1.${'0'.repeat(8)}-0000-0000-0000-000000000000`; // above any pid_max, and another boot

  /**
   * Writes NEW into `dir` while copying the whole parent directory at each step: each copy is what
   * a SIGKILL at that instant leaves on disk (the copy's lock is then made a dead process's).
   */
  function crashes(): { step: string; root: string }[] {
    const out: { step: string; root: string }[] = [];
    const onStep = (step: string) => {
      const root = path.join(tmp, 'crash', `${out.length}-${step.replace(':', '-')}`);
      fs.cpSync(path.dirname(dir), root, { recursive: true, verbatimSymlinks: true });
      const lock = path.join(root, '.out.derivc-lock');
      if (fs.existsSync(lock)) for (const entry of fs.readdirSync(lock)) fs.renameSync(path.join(lock, entry), path.join(lock, DEAD));
      out.push({ step, root });
      if (step === 'swap:done' && fs.existsSync(path.join(root, '.out.derivc-old'))) {
        // Killed while removing the previous tree: part of it is gone already.
        const partial = path.join(tmp, 'crash', `${out.length}-swap-removing`);
        fs.cpSync(root, partial, { recursive: true, verbatimSymlinks: true });
        fs.rmSync(path.join(partial, '.out.derivc-old', 'files'), { recursive: true });
        out.push({ step: 'swap:removing', root: partial });
      }
    };
    writeOutputDir(dir, NEW, { onStep });
    return out;
  }

  const committed = (step: string) => ['swap:done', 'swap:removing', 'swap:cleaned', 'unlocked'].includes(step);

  it.each([
    ['DIR existed', true],
    ['DIR did not exist yet', false],
  ])('%s: DIR is the old or the new state, and after the next run exactly the one the kill left, with nothing else behind', (_, existed) => {
    dir = path.join(tmp, 'p', 'out');
    if (existed) {
      writeOutputDir(dir, OLD);
      fs.writeFileSync(at('NOTES.md'), 'mine\n');
      fs.mkdirSync(at('test/iso-bios'), { recursive: true });
      fs.writeFileSync(at('test/iso-bios/result.json'), '{}');
    } else {
      fs.mkdirSync(path.dirname(dir));
    }
    const oldState = existed ? state(dir) : undefined;
    const points = crashes();
    const newState = state(dir);
    expect(points.map((p) => p.step)).toEqual([
      'locked',
      'recovered',
      'planned',
      'tree:started',
      ...NEW.filter((f) => !existed || !['Dockerfile', 'rootfs/etc/cos/bootargs.cfg', 'files/run.sh'].includes(f.path)).map(() => 'tree:file'),
      'tree:linked',
      'tree:built',
      ...(existed ? ['swap:aside', 'swap:done', 'swap:removing', 'swap:cleaned'] : ['swap:done']),
      'unlocked',
    ]);

    for (const { step, root } of points) {
      const killed = path.join(root, 'out');
      // As the kill left it: DIR is the old state, the new one, or absent with the old one intact beside it.
      const seen = fs.existsSync(killed) ? state(killed) : undefined;
      if (seen === undefined && existed) expect(state(path.join(root, '.out.derivc-old')), step).toEqual(oldState);
      else expect([oldState, newState], step).toContainEqual(seen);

      // The next run (here --check) recovers, and says what it did.
      const notes: string[] = [];
      checkOutputDir(killed, NEW, { note: (l) => notes.push(l) });
      const recovered = fs.existsSync(killed) ? state(killed) : undefined;
      expect(recovered, step).toEqual(committed(step) ? newState : oldState);
      expect(leftovers(root), step).toEqual([]);
      const recoveries = notes.filter((n) => !n.startsWith('removed the lock of')).map((n) => n.replace(root, '<root>').replace(/[:,] .*/, ''));
      const expected = step.startsWith('tree:')
        ? ['removed <root>/.out.derivc-new']
        : step === 'swap:aside'
          ? ['restored <root>/out', 'removed <root>/.out.derivc-new']
          : ['swap:done', 'swap:removing'].includes(step) && existed
            ? ['removed <root>/.out.derivc-old']
            : [];
      expect(recoveries, step).toEqual(expected);
      expect(
        notes.filter((n) => n.startsWith('removed the lock of')),
        step,
      ).toHaveLength(step === 'unlocked' ? 0 : 1);

      // And a write after it gives the new state.
      writeOutputDir(killed, NEW);
      expect(state(killed), step).toEqual(newState);
      expect(leftovers(root), step).toEqual([]);
    }
  });
});

describe('the lock', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
  });
  const BOOT = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  const lockDir = () => path.join(tmp, '.out.derivc-lock');

  /** A process that stays alive until killed, as the holder of a lock. */
  function liveProcess(): ChildProcess {
    const child = spawn('sleep', ['600'], { stdio: 'ignore' });
    children.push(child);
    return child;
  }

  function plantLock(entry: string, owner: Record<string, unknown>): void {
    fs.mkdirSync(lockDir());
    fs.writeFileSync(path.join(lockDir(), entry), JSON.stringify({ host: os.hostname(), command: 'build', since: '2024-01-01 00:00:00', ...owner }));
  }

  it('is not left behind by a write or a check', () => {
    writeOutputDir(dir, withManifest(BASE));
    checkOutputDir(dir, withManifest(BASE));
    expect(fs.readdirSync(tmp)).toEqual(['out']);
  });

  it('a DIR in use by a live process: fails at once without waiting, naming its pid; DIR untouched', () => {
    writeOutputDir(dir, withManifest(BASE));
    const holder = liveProcess();
    plantLock(ownerEntryName(holder.pid!), { pid: holder.pid });
    const before = snapshot(dir);
    const message = `${dir} is in use by derivc pid ${holder.pid} (build, since 2024-01-01 00:00:00); run again once it has finished`;
    expect(() => writeOutputDir(dir, withManifest([file('Dockerfile', 'FROM other\n')]))).toThrow(message);
    expect(() => checkOutputDir(dir, withManifest(BASE))).toThrow(message);
    expect(snapshot(dir)).toEqual(before);
  });

  it('waits for the holder, saying who it is, and goes on once it has gone', async () => {
    const holder = liveProcess();
    plantLock(ownerEntryName(holder.pid!), { pid: holder.pid });
    const waits: string[] = [];
    const notes: string[] = [];
    const opening = openOutputDir(dir, { note: (l) => notes.push(l) }, { timeoutMs: 30_000, onWait: (l) => waits.push(l) });
    setTimeout(() => holder.kill('SIGKILL'), 1500);
    const out = await opening;
    out.write(withManifest(BASE));
    out.close();
    const who = `derivc pid ${holder.pid} (build, since 2024-01-01 00:00:00)`;
    expect(waits).toEqual([`waiting for ${dir}: in use by ${who} (up to 30 s)`]);
    expect(notes).toEqual([`removed the lock of ${dir} left by ${who}, which is no longer running`]);
    expect(read('Dockerfile')).toBe('FROM scratch\n');
    expect(leftovers(tmp)).toEqual([]);
  });

  it('gives up after its bound, naming the holder', async () => {
    const holder = liveProcess();
    plantLock(ownerEntryName(holder.pid!), { pid: holder.pid });
    await expect(Promise.resolve(openOutputDir(dir, {}, { timeoutMs: 300 }))).rejects.toThrow(
      `${dir} is in use by derivc pid ${holder.pid} (build, since 2024-01-01 00:00:00); gave up after 1 s — run again once it has finished`,
    );
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a lock (or half-taken lock) of a process that died blocks nobody: broken, said, and gone after the run', () => {
    plantLock(`4194305.1.${BOOT}`, { pid: 4194305 });
    const privateDir = path.join(tmp, `.out.derivc-lock.4194306.1.${BOOT}`);
    fs.mkdirSync(privateDir);
    fs.writeFileSync(path.join(privateDir, `4194306.1.${BOOT}`), '{"pid": 4194306');
    const notes: string[] = [];
    writeOutputDir(dir, withManifest(BASE), { note: (l) => notes.push(l) });
    expect(notes).toEqual([`removed the lock of ${dir} left by derivc pid 4194305 (build, since 2024-01-01 00:00:00), which is no longer running`]);
    expect(fs.readdirSync(tmp)).toEqual(['out']);
  });

  it('a lock from before a reboot, or of a reused pid, is stale', () => {
    const live = liveProcess();
    plantLock(`${process.pid}.1.${BOOT}`, { pid: process.pid }); // this pid, another start time: a reused pid
    writeOutputDir(dir, withManifest(BASE));
    plantLock(`${live.pid}.${ownerEntryName(live.pid!).split('.')[1]}.00000000-0000-0000-0000-000000000000`, { pid: live.pid }); // same host, another boot
    expect(() => writeOutputDir(dir, withManifest(BASE))).not.toThrow();
  });

  it('waits for a holder on another host: it cannot tell whether that process is alive', () => {
    plantLock(`4194305.1.${BOOT}`, { pid: 4194305, host: 'build-box-7' });
    expect(() => writeOutputDir(dir, withManifest(BASE))).toThrow(
      `${dir} is in use by derivc pid 4194305 on host build-box-7 (build, since 2024-01-01 00:00:00); run again once it has finished`,
    );
  });

  it('refuses a lock name derivc did not make', () => {
    fs.writeFileSync(lockDir(), 'x');
    expect(() => writeOutputDir(dir, withManifest(BASE))).toThrow(`cannot lock ${dir}: ${lockDir()} is not a lock derivc made (not a directory); remove it`);
    fs.rmSync(lockDir());
    fs.mkdirSync(lockDir());
    fs.writeFileSync(path.join(lockDir(), 'something'), 'x');
    expect(() => writeOutputDir(dir, withManifest(BASE))).toThrow(`cannot lock ${dir}: ${lockDir()} is not a lock derivc made (it holds something); remove it`);
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('one process cannot open the same DIR twice (it would wait for itself)', () => {
    const first = openOutputDir(dir);
    expect(() => openOutputDir(path.join(tmp, '.', 'out'))).toThrow(`${path.join(tmp, '.', 'out')} is already in use by this derivc process`);
    first.close();
    openOutputDir(dir).close();
  });
});

describe('refused output directories', () => {
  const refusing = (given: string, why: string) => `refusing -o ${given}: ${why}; nothing was written`;

  it.each([
    ['/', () => '/', '/ is the root directory'],
    [
      'a git work tree root (.git directory)',
      () => (fs.mkdirSync(path.join(dir, '.git'), { recursive: true }), dir),
      `${'<dir>'} is the root of a git work tree (it holds .git); use a directory of its own, such as <dir>/out`,
    ],
    [
      'a git work tree root (.git file)',
      () => (fs.mkdirSync(dir), fs.writeFileSync(path.join(dir, '.git'), 'gitdir: x'), dir),
      '<dir> is the root of a git work tree (it holds .git); use a directory of its own, such as <dir>/out',
    ],
    [
      'a name derivc keeps next to DIR',
      () => path.join(tmp, '.out.derivc-new'),
      'that name is reserved for what derivc keeps next to an output directory while writing it',
    ],
  ])('refuses %s, writing nothing', (_, given, why) => {
    const target = given();
    const before = snapshot(tmp);
    expect(() => writeOutputDir(target, withManifest(BASE))).toThrow(refusing(target, why.replaceAll('<dir>', dir)));
    expect(() => checkOutputDir(target, withManifest(BASE))).toThrow(OutputDirError);
    expect(snapshot(tmp)).toEqual(before);
  });

  describe('what the manifest reads', () => {
    const manifest = () => path.join(tmp, 'src', 'derivative.yaml');
    const inputs = (): OutputDirOptions => ({
      inputs: () => ({
        manifest: manifest(),
        paths: [manifest(), path.join(tmp, 'src'), path.join(tmp, 'shared', 'motd'), path.join(tmp, 'src', 'overlay')],
        dirs: [path.join(tmp, 'src', 'overlay')],
      }),
    });
    beforeEach(() => {
      fs.mkdirSync(path.join(tmp, 'src', 'overlay'), { recursive: true });
      fs.mkdirSync(path.join(tmp, 'shared'));
      fs.writeFileSync(manifest(), 'apiVersion: x\n');
      fs.writeFileSync(path.join(tmp, 'shared', 'motd'), 'hi\n');
    });

    it.each([
      ["the manifest's directory", 'src', () => `it holds the manifest ${manifest()}`],
      ['an ancestor of it', '.', () => `it holds the manifest ${manifest()}`],
      ['a directory holding a file it reads', 'shared', () => `it holds ${path.join(tmp, 'shared', 'motd')}, which the manifest reads`],
      [
        'a directory inside its overlay',
        'src/overlay/out',
        () => `it is inside ${path.join(tmp, 'src', 'overlay')}, a directory the manifest reads: the output would become input`,
      ],
    ])('refuses %s, writing nothing', (_, rel, why) => {
      const target = path.join(tmp, rel);
      const before = snapshot(tmp);
      expect(() => writeOutputDir(target, withManifest(BASE), inputs())).toThrow(refusing(target, why()));
      expect(snapshot(tmp)).toEqual(before);
    });

    it('accepts a directory of its own next to the manifest', () => {
      writeOutputDir(path.join(tmp, 'src', 'out'), withManifest(BASE), inputs());
      expect(fs.readdirSync(path.join(tmp, 'src')).sort()).toEqual(['derivative.yaml', 'out', 'overlay']);
    });
  });

  describe('-o that cannot be a directory: one line, nothing written', () => {
    it.each([
      [
        'a dangling symlink',
        () => fs.symlinkSync(path.join(tmp, 'missing', 'dir'), path.join(tmp, 'link')),
        'link',
        () => `-o <tmp>/link: <tmp>/link is a symlink to <tmp>/missing/dir, which does not exist; create that directory or remove the symlink`,
      ],
      ['a symlink loop', () => fs.symlinkSync(path.join(tmp, 'link'), path.join(tmp, 'link')), 'link', () => '-o <tmp>/link: <tmp>/link is a symlink loop'],
      ['a file', () => fs.writeFileSync(path.join(tmp, 'file'), 'x'), 'file', () => '-o <tmp>/file: <tmp>/file exists and is not a directory'],
      [
        'a symlink to a file',
        () => (fs.writeFileSync(path.join(tmp, 'file'), 'x'), fs.symlinkSync(path.join(tmp, 'file'), path.join(tmp, 'link'))),
        'link',
        () => '-o <tmp>/link: <tmp>/link is a symlink to <tmp>/file, which is not a directory',
      ],
      ['a path through a file', () => fs.writeFileSync(path.join(tmp, 'file'), 'x'), 'file/out', () => '-o <tmp>/file/out: <tmp>/file is not a directory'],
      [
        'a path through a dangling symlink',
        () => fs.symlinkSync(path.join(tmp, 'missing'), path.join(tmp, 'link')),
        'link/out',
        () => '-o <tmp>/link/out: <tmp>/link is a symlink to <tmp>/missing, which does not exist',
      ],
    ])('%s', (_, prepare, rel, message) => {
      prepare();
      const before = snapshot(tmp);
      const target = path.join(tmp, rel);
      expect(() => writeOutputDir(target, withManifest(BASE))).toThrow(message().replaceAll('<tmp>', tmp));
      expect(() => checkOutputDir(target, withManifest(BASE))).toThrow(message().replaceAll('<tmp>', tmp));
      expect(snapshot(tmp)).toEqual(before);
    });

    it.each([
      ['/proc/derivc-test/out', /^-o \/proc\/derivc-test\/out: cannot create \/proc\/derivc-test: no such file or directory$/],
      [
        '/sys/derivc-test/out',
        /^-o \/sys\/derivc-test\/out: cannot create \/sys\/derivc-test: (operation not permitted|permission denied|read-only file system)$/,
      ],
    ])('a place it cannot write: %s', (target, message) => {
      expect(() => writeOutputDir(target, withManifest(BASE))).toThrow(message);
    });
  });

  it('writes through a symlink to a directory: the directory is replaced, the symlink stays', () => {
    fs.mkdirSync(path.join(tmp, 'real'));
    fs.symlinkSync(path.join(tmp, 'real'), path.join(tmp, 'link'));
    writeOutputDir(path.join(tmp, 'link'), withManifest(BASE));
    writeOutputDir(path.join(tmp, 'link'), withManifest([file('Dockerfile', 'FROM alpine\n')]));
    expect(fs.readlinkSync(path.join(tmp, 'link'))).toBe(path.join(tmp, 'real'));
    expect(fs.readFileSync(path.join(tmp, 'real', 'Dockerfile'), 'utf8')).toBe('FROM alpine\n');
    expect(leftovers(tmp)).toEqual([]);
  });

  it('a symlink left dangling by a write killed while its directory was moved aside is recovered', () => {
    fs.mkdirSync(path.join(tmp, 'real'));
    fs.symlinkSync(path.join(tmp, 'real'), path.join(tmp, 'link'));
    writeOutputDir(path.join(tmp, 'link'), withManifest(BASE));
    fs.renameSync(path.join(tmp, 'real'), path.join(tmp, '.real.derivc-old')); // killed between the two renames
    const notes: string[] = [];
    expect(checkOutputDir(path.join(tmp, 'link'), withManifest(BASE), { note: (l) => notes.push(l) }).stale).toBe(false);
    expect(notes).toEqual([`restored ${path.join(tmp, 'link')}: an interrupted write had moved it aside (it is as it was before that write)`]);
  });
});

describe('derivc compile -o', () => {
  const HEAD =
    'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\n';

  it('refuses the repository root, even with a derivc.json there listing the repository: nothing deleted or overwritten', () => {
    const repo = path.join(tmp, 'repo');
    fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
    fs.writeFileSync(path.join(repo, '.git', 'config'), '[core]\n');
    fs.writeFileSync(path.join(repo, 'Dockerfile'), 'FROM my-own\n');
    fs.writeFileSync(path.join(repo, 'derivative.yaml'), HEAD);
    const forged = ['.git/config', 'Dockerfile', 'derivative.yaml'].map((p) => ({
      path: p,
      sha256: sha256(fs.readFileSync(path.join(repo, p))),
      mode: '0644',
    }));
    fs.writeFileSync(path.join(repo, 'derivc.json'), JSON.stringify({ files: forged }));
    const before = snapshot(tmp);
    for (const out of [repo, path.join(repo, '.')]) {
      const r = runCli(['compile', repo, '-o', out]);
      expect(r).toMatchObject({ code: 1, stdout: '' });
      expect(r.stderr).toBe(
        `derivc: refusing -o ${out}: ${repo} is the root of a git work tree (it holds .git); use a directory of its own, such as ${path.join(out, 'out')}; nothing was written\n`,
      );
    }
    expect(snapshot(tmp)).toEqual(before);
  });

  it('refuses the directory of the manifest and its overlay', () => {
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, 'overlay', 'etc'), { recursive: true });
    fs.writeFileSync(path.join(src, 'overlay', 'etc', 'motd'), 'hi\n');
    fs.writeFileSync(path.join(src, 'derivative.yaml'), `${HEAD}overlay: overlay\n`);
    expect(runCli(['compile', src, '-o', src]).stderr).toBe(
      `derivc: refusing -o ${src}: it holds the manifest ${path.join(src, 'derivative.yaml')}; nothing was written\n`,
    );
    expect(runCli(['compile', src, '-o', path.join(src, 'overlay')]).stderr).toMatch(
      /^derivc: refusing -o .*\/overlay: it is .*\/overlay, which the manifest reads; nothing was written\n$/,
    );
    expect(runCli(['compile', src, '-o', path.join(src, 'overlay', 'out')]).stderr).toMatch(
      /^derivc: refusing -o .*: it is inside .*\/overlay, a directory the manifest reads: the output would become input; nothing was written\n$/,
    );
    expect(fs.readdirSync(src).sort()).toEqual(['derivative.yaml', 'overlay']);
    expect(runCli(['compile', src, '-o', path.join(src, 'out')]).code).toBe(0);
  });

  it('a dangling symlink as -o is one line, exit 1', () => {
    fs.writeFileSync(path.join(tmp, 'derivative.yaml'), HEAD);
    fs.symlinkSync(path.join(tmp, 'nowhere'), path.join(tmp, 'out'));
    const r = runCli(['compile', tmp, '-o', path.join(tmp, 'out')]);
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: `derivc: -o ${tmp}/out: ${tmp}/out is a symlink to ${tmp}/nowhere, which does not exist; create that directory or remove the symlink\n`,
    });
  });

  it('--check exits 2 naming a file derivc did not write in its namespace; compile keeps it and says so', () => {
    fs.writeFileSync(path.join(tmp, 'derivative.yaml'), HEAD);
    const out = path.join(tmp, 'out');
    expect(runCli(['compile', tmp, '-o', out]).code).toBe(0);
    fs.mkdirSync(path.join(out, 'rootfs', 'etc', 'sudoers.d'), { recursive: true });
    fs.writeFileSync(path.join(out, 'rootfs', 'etc', 'sudoers.d', 'x'), 'ALL ALL=(ALL) NOPASSWD: ALL\n');
    const check = runCli(['compile', '--check', tmp, '-o', out]);
    expect(check.code).toBe(2);
    expect(check.stdout).toBe('unlisted rootfs/etc/sudoers.d/x: not a file derivc wrote (not in derivc.json); never sent to the build; remove it\n');
    const again = runCli(['compile', tmp, '-o', out]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(
      `derivc: ${out}/rootfs/etc/sudoers.d/x is not a file derivc wrote (not in derivc.json): kept, never sent to the build; remove it\n`,
    );
    expect(again.stderr).toMatch(/: 0 written, \d+ unchanged, 0 removed, 1 unlisted \(build/);
  });
});
