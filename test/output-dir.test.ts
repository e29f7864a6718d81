// Writing the build context into `-o DIR` (and `--check`): atomic writes, untouched unchanged
// files, removal of only what derivc wrote before, never anything outside DIR.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MANIFEST_FILE, type GeneratedFile } from '../compiler/emit/types.js';
import { checkOutputDir, OutputDirError, writeOutputDir } from '../cli/output-dir.js';
import { unifiedDiff } from '../cli/unified-diff.js';

let tmp: string;
let dir: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-out-'));
  dir = path.join(tmp, 'out');
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

const file = (p: string, content: string | Uint8Array, mode = 0o644): GeneratedFile => ({ path: p, content, mode });

/** The file set plus a derivc.json listing it, as the compiler emits it (one line keeps diffs short). */
function withManifest(files: GeneratedFile[]): GeneratedFile[] {
  const listing = { files: files.map((f) => ({ path: f.path, mode: f.mode })) };
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
      else if (st.isDirectory()) (out[rel] = `dir ${st.mode & 0o7777}`), walk(full);
      else out[rel] = `file ${st.mode & 0o7777} ${st.ino} ${st.mtimeMs} ${fs.readFileSync(full).toString('base64')}`;
    }
  };
  walk(root);
  return out;
}

function tempLeftovers(root: string): string[] {
  return Object.keys(snapshot(root)).filter((p) => p.includes('derivc-tmp'));
}

/** Backdates every file so that any rewrite would show as a new mtime (no reliance on the clock's resolution). */
function backdate(root: string): void {
  for (const [rel, desc] of Object.entries(snapshot(root))) if (desc.startsWith('file')) fs.utimesSync(path.join(root, rel), 1e9, 1e9);
}

describe('writeOutputDir', () => {
  const BASE = [file('Dockerfile', 'FROM scratch\n'), file('rootfs/etc/cos/bootargs.cfg', 'set kernel=/boot/vmlinuz\n'), file('files/run.sh', '#!/bin/sh\n', 0o755)];

  it('writes a fresh tree, creating DIR and parent directories, with the exact modes', () => {
    const files = withManifest([...BASE, file('files/shared', 'x', 0o666), file('files/blob.bin', new Uint8Array([0, 255, 1]))]);
    const report = writeOutputDir(dir, files);
    expect(report).toEqual({ written: files.map((f) => f.path).sort(), unchanged: [], removed: [] });
    expect(read('rootfs/etc/cos/bootargs.cfg')).toBe('set kernel=/boot/vmlinuz\n');
    expect([...fs.readFileSync(at('files/blob.bin'))]).toEqual([0, 255, 1]);
    expect(modeOf('files/run.sh')).toBe(0o755);
    expect(modeOf('files/shared')).toBe(0o666); // not reduced by the umask
    expect(modeOf('Dockerfile')).toBe(0o644);
    expect(tempLeftovers(dir)).toEqual([]);
  });

  it('rewrites only the changed file; the others keep inode and mtime', () => {
    writeOutputDir(dir, withManifest(BASE));
    backdate(dir);
    const before = snapshot(dir);
    const changed = BASE.map((f) => (f.path === 'Dockerfile' ? file('Dockerfile', 'FROM alpine\n') : f));
    const report = writeOutputDir(dir, withManifest(changed).map((f) => (f.path === MANIFEST_FILE ? { ...f, content: `${f.content as string} ` } : f)));
    expect(report).toEqual({ written: ['Dockerfile', MANIFEST_FILE], unchanged: ['files/run.sh', 'rootfs/etc/cos/bootargs.cfg'], removed: [] });
    const after = snapshot(dir);
    expect(after['files/run.sh']).toBe(before['files/run.sh']);
    expect(after['rootfs/etc/cos/bootargs.cfg']).toBe(before['rootfs/etc/cos/bootargs.cfg']);
    expect(after['Dockerfile']).not.toBe(before['Dockerfile']);
    expect(read('Dockerfile')).toBe('FROM alpine\n');
  });

  it('leaves a fully up-to-date directory completely untouched', () => {
    writeOutputDir(dir, withManifest(BASE));
    backdate(dir);
    const before = snapshot(dir);
    expect(writeOutputDir(dir, withManifest(BASE))).toEqual({ written: [], unchanged: [...BASE.map((f) => f.path), MANIFEST_FILE].sort(), removed: [] });
    expect(snapshot(dir)).toEqual(before);
  });

  it('applies a mode-only change', () => {
    writeOutputDir(dir, withManifest(BASE));
    const files = withManifest(BASE).map((f) => (f.path === 'Dockerfile' ? { ...f, mode: 0o600 } : f));
    expect(writeOutputDir(dir, files).written).toEqual(['Dockerfile']);
    expect(modeOf('Dockerfile')).toBe(0o600);
    expect(read('Dockerfile')).toBe('FROM scratch\n');
  });

  it('replaces a temp file left behind by an interrupted run', () => {
    fs.mkdirSync(dir);
    fs.writeFileSync(at('.Dockerfile.derivc-tmp'), 'half');
    writeOutputDir(dir, withManifest(BASE));
    expect(tempLeftovers(dir)).toEqual([]);
    expect(read('Dockerfile')).toBe('FROM scratch\n');
  });

  describe('removal of stale files', () => {
    it('removes what the old derivc.json listed and is no longer produced, and the directories that emptied', () => {
      writeOutputDir(dir, withManifest([...BASE, file('sub/deep/old.txt', 'old\n'), file('keep/old.txt', 'old\n')]));
      fs.writeFileSync(at('user.txt'), 'mine');
      fs.writeFileSync(at('keep/user.txt'), 'mine');
      fs.mkdirSync(at('empty-before'));
      const report = writeOutputDir(dir, withManifest(BASE));
      expect(report.removed).toEqual(['keep/old.txt', 'sub/deep/old.txt']);
      expect(fs.existsSync(at('sub'))).toBe(false);
      expect(read('user.txt')).toBe('mine');
      expect(read('keep/user.txt')).toBe('mine');
      expect(fs.existsSync(at('keep/old.txt'))).toBe(false);
      expect(fs.statSync(at('empty-before')).isDirectory()).toBe(true);
    });

    it('lets a new file take the place of a removed directory, and the other way round', () => {
      writeOutputDir(dir, withManifest([file('a/b', '1'), file('c', '2')]));
      const report = writeOutputDir(dir, withManifest([file('a', '3'), file('c/d', '4')]));
      expect(report.removed).toEqual(['a/b', 'c']);
      expect(read('a')).toBe('3');
      expect(read('c/d')).toBe('4');
    });

    it('never removes anything the old listing names that is not a regular file inside DIR', () => {
      const victim = path.join(tmp, 'victim.txt');
      fs.writeFileSync(victim, 'outside');
      fs.mkdirSync(at('somedir/inner'), { recursive: true });
      fs.symlinkSync(victim, at('link'));
      fs.symlinkSync(tmp, at('linkdir'));
      const old = ['../victim.txt', `${tmp}/victim.txt`, 'somedir', 'somedir/inner', 'link', 'linkdir/victim.txt', 'missing.txt'];
      fs.writeFileSync(at(MANIFEST_FILE), JSON.stringify({ files: old.map((p) => ({ path: p })) }));
      expect(writeOutputDir(dir, withManifest(BASE)).removed).toEqual([]);
      expect(fs.readFileSync(victim, 'utf8')).toBe('outside');
      expect(fs.statSync(at('somedir/inner')).isDirectory()).toBe(true);
      expect(fs.readlinkSync(at('link'))).toBe(victim);
    });

    it.each([
      ['missing', null],
      ['unparsable', '{"files": ['],
      ['of the wrong shape', '{"files": "old.txt"}'],
    ])('removes nothing when the old derivc.json is %s', (_, manifest) => {
      fs.mkdirSync(dir);
      fs.writeFileSync(at('old.txt'), 'old');
      if (manifest !== null) fs.writeFileSync(at(MANIFEST_FILE), manifest);
      expect(writeOutputDir(dir, withManifest(BASE)).removed).toEqual([]);
      expect(read('old.txt')).toBe('old');
    });
  });

  describe('refused paths', () => {
    it.each(['../x', '/etc/x', 'a/../../x', 'a//b', './x', 'a/', '', 'a\\..\\x', 'x.derivc-tmp'])('refuses %j and writes nothing', (bad) => {
      fs.mkdirSync(dir);
      fs.writeFileSync(at('marker'), 'm');
      const before = snapshot(tmp);
      expect(() => writeOutputDir(dir, withManifest([file('ok.txt', 'ok'), file(bad, 'evil')]))).toThrow(OutputDirError);
      expect(snapshot(tmp)).toEqual(before);
    });

    it('refuses before creating DIR', () => {
      expect(() => writeOutputDir(dir, [file('../x', 'evil')])).toThrow(OutputDirError);
      expect(fs.existsSync(dir)).toBe(false);
    });

    it('refuses a path through a symlink in DIR that points outside, writing nothing', () => {
      const outside = path.join(tmp, 'outside');
      fs.mkdirSync(outside);
      fs.writeFileSync(path.join(outside, 'f'), 'theirs');
      fs.mkdirSync(dir);
      fs.symlinkSync(outside, at('link'));
      fs.symlinkSync(path.join(outside, 'f'), at('filelink'));
      const before = snapshot(tmp);
      expect(() => writeOutputDir(dir, [file('ok.txt', 'ok'), file('link/x', 'evil')])).toThrow(/link.*outside/);
      expect(() => writeOutputDir(dir, [file('ok.txt', 'ok'), file('filelink', 'evil')])).toThrow(OutputDirError);
      expect(() => checkOutputDir(dir, [file('link/x', 'evil')])).toThrow(OutputDirError);
      expect(snapshot(tmp)).toEqual(before);
    });

    it('accepts a symlink in DIR that stays inside DIR', () => {
      fs.mkdirSync(at('real'), { recursive: true });
      fs.symlinkSync(at('real'), at('alias'));
      writeOutputDir(dir, [file('alias/x', 'ok')]);
      expect(read('real/x')).toBe('ok');
    });

    it('refuses duplicate paths and a path that is also another path\'s directory', () => {
      expect(() => writeOutputDir(dir, [file('a', '1'), file('a', '2')])).toThrow(/twice/);
      expect(() => writeOutputDir(dir, [file('a', '1'), file('a/b', '2')])).toThrow(OutputDirError);
      expect(() => writeOutputDir(dir, [file('a', '1', 0o10000)])).toThrow(/mode/);
      expect(fs.existsSync(dir)).toBe(false);
    });
  });

  it('reports an I/O failure mid-write as OutputDirError, leaving no temp file and the old listing in place', () => {
    writeOutputDir(dir, withManifest([file('a.txt', 'old'), file('c.txt', 'old')]));
    const oldListing = read(MANIFEST_FILE);
    fs.mkdirSync(at('z/target.txt/occupied'), { recursive: true }); // a directory where a file must go
    const files = withManifest([file('a.txt', 'new'), file('z/target.txt', 'new'), file('c.txt', 'new')]);
    expect(() => writeOutputDir(dir, files)).toThrow(OutputDirError);
    expect(() => writeOutputDir(dir, files)).toThrow(/z\/target\.txt/);
    expect(read('a.txt')).toBe('new'); // written before the failure: the write really was under way
    expect(read(MANIFEST_FILE)).toBe(oldListing);
    expect(tempLeftovers(tmp)).toEqual([]);
  });
});

describe('checkOutputDir', () => {
  const LINES = '1\n2\n3\n4\n5\n6\n7\n8\n9\n';
  const OLD = [file('a.txt', LINES), file('run.sh', '#!/bin/sh\n'), file('gone.txt', 'bye\n'), file('blob', new Uint8Array([0xff, 1]))];

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
      file('a.txt', LINES.replace('5\n', 'five\n')),
      file('run.sh', '#!/bin/sh\n', 0o755),
      file('blob', new Uint8Array([0xff, 2])),
      file('new/file.txt', 'hello\nworld'),
    ];
    const oldManifest = withManifest(OLD).at(-1)!.content as string;
    const newManifest = withManifest(NEW).at(-1)!.content as string;
    const { stale, diff } = checkOutputDir(dir, withManifest(NEW));
    expect(stale).toBe(true);
    expect(diff).toBe(
      [
        '--- a/a.txt',
        '+++ b/a.txt',
        '@@ -2,7 +2,7 @@',
        ' 2',
        ' 3',
        ' 4',
        '-5',
        '+five',
        ' 6',
        ' 7',
        ' 8',
        'Binary files a/blob and b/blob differ',
        '--- a/derivc.json',
        '+++ b/derivc.json',
        '@@ -1,1 +1,1 @@',
        `-${oldManifest.trimEnd()}`,
        `+${newManifest.trimEnd()}`,
        '--- a/gone.txt',
        '+++ /dev/null',
        '@@ -1,1 +0,0 @@',
        '-bye',
        '--- /dev/null',
        '+++ b/new/file.txt',
        '@@ -0,0 +1,2 @@',
        '+hello',
        '+world',
        '\\ No newline at end of file',
        'mode 100644 → 100755 run.sh',
        '',
      ].join('\n'),
    );
    expect(snapshot(tmp)).toEqual(before);
  });

  it('reports everything as new for a DIR that does not exist, without creating it', () => {
    const { stale, diff } = checkOutputDir(dir, [file('x', 'y\n')]);
    expect({ stale, diff }).toEqual({ stale: true, diff: '--- /dev/null\n+++ b/x\n@@ -0,0 +1,1 @@\n+y\n' });
    expect(fs.existsSync(dir)).toBe(false);
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
