// The build context tar: what goes in, in which order, with which metadata — and that the same
// directory always gives the same bytes (the Engine's build cache depends on it).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { contextStream } from '../targets/io/build-context.js';

interface TarEntry {
  name: string;
  type: string;
  mode: number;
  mtime: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  linkname: string | null;
  content: string;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temp directory holding `files` (path → content, or [content, mode]). */
function tree(files: Record<string, string | [string, number]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-context-'));
  dirs.push(dir);
  for (const [rel, spec] of Object.entries(files)) {
    const [content, mode] = typeof spec === 'string' ? [spec, 0o644] : spec;
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
    fs.chmodSync(path.join(dir, rel), mode);
  }
  return dir;
}

async function bytes(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

async function entries(archive: Buffer): Promise<TarEntry[]> {
  const out: TarEntry[] = [];
  const extract = tar.extract();
  Readable.from([archive]).pipe(extract);
  for await (const entry of extract) {
    const h = entry.header;
    const content = (await bytes(entry)).toString('utf8');
    out.push({
      name: h.name,
      type: h.type ?? '',
      mode: h.mode ?? -1,
      mtime: h.mtime?.getTime() ?? -1,
      uid: h.uid ?? -1,
      gid: h.gid ?? -1,
      uname: h.uname ?? '',
      gname: h.gname ?? '',
      linkname: h.linkname ?? null,
      content,
    });
  }
  return out;
}

async function failure(stream: AsyncIterable<unknown>): Promise<Error> {
  try {
    await bytes(stream);
  } catch (err) {
    return err as Error;
  }
  throw new Error('the context stream ended without an error');
}

describe('contextStream', () => {
  it('holds every file and directory, sorted by path, with content and mode from disk', async () => {
    const dir = tree({
      Dockerfile: 'FROM scratch\n',
      'bin/run.sh': ['#!/bin/sh\n', 0o755],
      'a/x': 'x',
      'a-b': 'dash',
      'secret/key': ['k', 0o600],
      'bin/su': ['', 0o4755],
      'none': ['', 0o000],
    });
    fs.chmodSync(path.join(dir, 'secret'), 0o700);

    const got = await entries(await bytes(contextStream(dir)));

    expect(got.map((e) => [e.name.replace(/\/$/, ''), e.type, e.mode.toString(8)])).toEqual([
      ['Dockerfile', 'file', '644'],
      ['a', 'directory', '755'],
      ['a-b', 'file', '644'],
      ['a/x', 'file', '644'],
      ['bin', 'directory', '755'],
      ['bin/run.sh', 'file', '755'],
      ['bin/su', 'file', '4755'],
      ['none', 'file', '0'],
      ['secret', 'directory', '700'],
      ['secret/key', 'file', '600'],
    ]);
    expect(got.find((e) => e.name === 'bin/run.sh')?.content).toBe('#!/bin/sh\n');
    expect(got.find((e) => e.name === 'a-b')?.content).toBe('dash');
  });

  it('owns everything by root with empty user names and a fixed mtime (the epoch unless given)', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'sub/file': 'x' });
    fs.utimesSync(path.join(dir, 'Dockerfile'), new Date('2020-05-05T00:00:00Z'), new Date('2020-05-05T00:00:00Z'));

    const byDefault = await entries(await bytes(contextStream(dir)));
    expect(byDefault.map((e) => [e.uid, e.gid, e.uname, e.gname, e.mtime])).toEqual(byDefault.map(() => [0, 0, '', '', 0]));

    const fixed = new Date('2024-01-02T03:04:05Z');
    const given = await entries(await bytes(contextStream(dir, { mtime: fixed })));
    expect(given.map((e) => e.mtime)).toEqual(given.map(() => fixed.getTime()));
  });

  it('gives byte-identical tars for the same content, whatever the files\' times', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'etc/motd': 'hello\n', 'bin/tool': ['#!/bin/sh\n', 0o755] });
    const first = await bytes(contextStream(dir));
    for (const rel of ['Dockerfile', 'etc/motd', 'bin/tool', 'etc']) {
      fs.utimesSync(path.join(dir, rel), new Date('2031-01-01T00:00:00Z'), new Date('2031-01-01T00:00:00Z'));
    }
    const second = await bytes(contextStream(dir));
    expect(second.equals(first)).toBe(true);

    fs.writeFileSync(path.join(dir, 'etc/motd'), 'hellO\n');
    expect((await bytes(contextStream(dir))).equals(first)).toBe(false);
  });

  it('leaves out derivc.json, build.log, top-level .derivc-* and temp files, but only at the top', async () => {
    const dir = tree({
      Dockerfile: 'FROM scratch\n',
      'derivc.json': '{}',
      'build.log': 'log',
      '.derivc-cache/state': 's',
      '.derivc-lock': 'l',
      '.Dockerfile.derivc-tmp': 'half',
      'etc/.motd.derivc-tmp': 'half',
      'etc/motd': 'm',
      'sub/derivc.json': 'kept',
      'sub/build.log': 'kept',
      'sub/.derivc-x': 'kept',
      '.dockerignore': 'kept',
    });
    const names = (await entries(await bytes(contextStream(dir)))).map((e) => e.name.replace(/\/$/, ''));
    expect(names).toEqual(['.dockerignore', 'Dockerfile', 'etc', 'etc/motd', 'sub', 'sub/.derivc-x', 'sub/build.log', 'sub/derivc.json']);
  });

  it('stores symlinks as symlinks, with the link as written, and never follows them', async () => {
    const dir = tree({ 'real/file': 'inside' });
    fs.symlinkSync('real/file', path.join(dir, 'inner'));
    fs.symlinkSync('/etc', path.join(dir, 'outside-dir'));
    fs.symlinkSync('../../etc/passwd', path.join(dir, 'outside-file'));

    const got = await entries(await bytes(contextStream(dir)));
    const links = got.filter((e) => e.type === 'symlink').map((e) => [e.name, e.linkname, e.content]);
    expect(links).toEqual([
      ['inner', 'real/file', ''],
      ['outside-dir', '/etc', ''],
      ['outside-file', '../../etc/passwd', ''],
    ]);
    expect(got.some((e) => e.name.startsWith('outside-dir/'))).toBe(false);
  });

  it('reports a file deleted after the listing as a stream error naming it', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'etc/gone': 'x' });
    const stream = contextStream(dir);
    fs.rmSync(path.join(dir, 'etc/gone'));
    const err = await failure(stream);
    expect(err.message).toMatch(/^cannot add etc\/gone to the build context: .*ENOENT/);
  });

  it('reports a file that became a directory after the listing as a stream error', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'etc/motd': 'x' });
    const stream = contextStream(dir);
    fs.rmSync(path.join(dir, 'etc/motd'));
    fs.mkdirSync(path.join(dir, 'etc/motd'));
    const err = await failure(stream);
    expect(err.message).toMatch(/^cannot add etc\/motd to the build context: .*EISDIR/);
  });

  it('fails instead of writing a corrupt tar when a file changed size after the listing', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'etc/grows': 'x' });
    const stream = contextStream(dir);
    fs.appendFileSync(path.join(dir, 'etc/grows'), 'more');
    const err = await failure(stream);
    expect(err.message).toBe('cannot add etc/grows to the build context: the file changed size while being read');
  });

  it('stops quietly, closing the file it was reading, when the consumer goes away', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', big: 'x'.repeat(4 * 1024 * 1024) });
    const stream = contextStream(dir) as NodeJS.ReadableStream & { destroy(): void };
    const errors: unknown[] = [];
    stream.on('error', (err) => errors.push(err));
    const fdsBefore = fs.readdirSync('/proc/self/fd').length;
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(errors).toEqual([]);
    expect(fs.readdirSync('/proc/self/fd').length).toBeLessThanOrEqual(fdsBefore);
  });

  it('reports a missing directory as a stream error, not a throw', async () => {
    const dir = path.join(os.tmpdir(), 'derivc-context-does-not-exist');
    const err = await failure(contextStream(dir));
    expect(err.message).toMatch(/^cannot list the build context: .*ENOENT/);
  });
});
