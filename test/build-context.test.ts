// The build context tar: exactly the files derivc wrote (derivc.json's listing, digests checked),
// in which order, with which metadata — and that the same directory always gives the same bytes
// (the Engine's build cache depends on it). Nothing else in the directory reaches the image.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { contextStream, type ContextFile } from '../targets/io/build-context.js';

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

const sha256 = (content: string | Buffer) => createHash('sha256').update(content).digest('hex');

/** The listing of `files` as derivc.json holds it. */
function listing(files: Record<string, string | [string, number]>): ContextFile[] {
  return Object.entries(files).map(([rel, spec]) => {
    const [content, mode] = typeof spec === 'string' ? [spec, 0o644] : spec;
    return { path: rel, sha256: sha256(content), mode };
  });
}

function writeListing(dir: string, files: ContextFile[]): void {
  const doc = {
    generatedBy: 'derivc test',
    files: files.map((f) =>
      f.symlink !== undefined ? { path: f.path, sha256: f.sha256, symlink: f.symlink } : { path: f.path, sha256: f.sha256, mode: `0${f.mode.toString(8)}` },
    ),
  };
  fs.writeFileSync(path.join(dir, 'derivc.json'), JSON.stringify(doc, null, 2));
}

/** A temp directory holding `files` (path → content, or [content, mode]) and a derivc.json listing them, as compile leaves it. */
function tree(files: Record<string, string | [string, number]>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-context-'));
  dirs.push(dir);
  for (const [rel, spec] of Object.entries(files)) {
    const [content, mode] = typeof spec === 'string' ? [spec, 0o644] : spec;
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
    fs.chmodSync(path.join(dir, rel), mode);
  }
  writeListing(dir, listing(files));
  return dir;
}

/** Adds files that derivc did not write (not in derivc.json). */
function plant(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
}

const names = async (stream: NodeJS.ReadableStream) => (await entries(await bytes(stream))).map((e) => e.name.replace(/\/$/, ''));

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
  it('holds every listed file, sorted by path, with its content and listed mode, and the directories above them', async () => {
    const dir = tree({
      Dockerfile: 'FROM scratch\n',
      'files/bin/run.sh': ['#!/bin/sh\n', 0o755],
      'files/a/x': 'x',
      'files/a-b': 'dash',
      'rootfs/secret/key': ['k', 0o600],
      'files/bin/su': ['', 0o4755],
      'overlay/none': ['', 0o000],
    });

    const got = await entries(await bytes(contextStream(dir)));

    expect(got.map((e) => [e.name.replace(/\/$/, ''), e.type, e.mode.toString(8)])).toEqual([
      ['Dockerfile', 'file', '644'],
      ['files', 'directory', '755'],
      ['files/a', 'directory', '755'],
      ['files/a-b', 'file', '644'],
      ['files/a/x', 'file', '644'],
      ['files/bin', 'directory', '755'],
      ['files/bin/run.sh', 'file', '755'],
      ['files/bin/su', 'file', '4755'],
      ['overlay', 'directory', '755'],
      ['overlay/none', 'file', '0'],
      ['rootfs', 'directory', '755'],
      ['rootfs/secret', 'directory', '755'],
      ['rootfs/secret/key', 'file', '600'],
    ]);
    expect(got.find((e) => e.name === 'files/bin/run.sh')?.content).toBe('#!/bin/sh\n');
    expect(got.find((e) => e.name === 'files/a-b')?.content).toBe('dash');
  });

  it('takes modes from the listing: a chmod in the directory does not reach the image', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'hi\n' });
    fs.chmodSync(path.join(dir, 'rootfs/etc/motd'), 0o4777);
    fs.chmodSync(path.join(dir, 'rootfs/etc'), 0o777);
    const got = await entries(await bytes(contextStream(dir)));
    expect(got.map((e) => [e.name.replace(/\/$/, ''), e.mode.toString(8)])).toEqual([
      ['Dockerfile', '644'],
      ['rootfs', '755'],
      ['rootfs/etc', '755'],
      ['rootfs/etc/motd', '644'],
    ]);
  });

  it('owns everything by root with empty user names and a fixed mtime (the epoch unless given)', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'files/sub/file': 'x' });
    fs.utimesSync(path.join(dir, 'Dockerfile'), new Date('2020-05-05T00:00:00Z'), new Date('2020-05-05T00:00:00Z'));

    const byDefault = await entries(await bytes(contextStream(dir)));
    expect(byDefault.map((e) => [e.uid, e.gid, e.uname, e.gname, e.mtime])).toEqual(byDefault.map(() => [0, 0, '', '', 0]));

    const fixed = new Date('2024-01-02T03:04:05Z');
    const given = await entries(await bytes(contextStream(dir, { mtime: fixed })));
    expect(given.map((e) => e.mtime)).toEqual(given.map(() => fixed.getTime()));
  });

  it("gives byte-identical tars for the same content, whatever the files' times", async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'hello\n', 'files/bin/tool': ['#!/bin/sh\n', 0o755] });
    const first = await bytes(contextStream(dir));
    for (const rel of ['Dockerfile', 'rootfs/etc/motd', 'files/bin/tool', 'rootfs/etc']) {
      fs.utimesSync(path.join(dir, rel), new Date('2031-01-01T00:00:00Z'), new Date('2031-01-01T00:00:00Z'));
    }
    const second = await bytes(contextStream(dir));
    expect(second.equals(first)).toBe(true);

    fs.writeFileSync(path.join(dir, 'rootfs/etc/motd'), 'hellO\n');
    writeListing(dir, listing({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'hellO\n', 'files/bin/tool': ['#!/bin/sh\n', 0o755] }));
    expect((await bytes(contextStream(dir))).equals(first)).toBe(false);
  });

  it('sends only what derivc.json lists: an unlisted file under rootfs/, bookkeeping, media, test results and symlinks stay out', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\nCOPY rootfs/ /\n', 'rootfs/etc/motd': 'm' });
    plant(dir, {
      'rootfs/etc/sudoers.d/x': 'ALL ALL=(ALL) NOPASSWD: ALL\n',
      'files/extra': 'e',
      'build.log': 'log',
      'acme-1.0.iso': 'iso',
      'acme-1.0.iso.sha256': 'sum',
      'test/iso-bios/console.log': 'boot',
      '.derivc-iso-x/work': 'w',
      'NOTES.md': 'mine',
    });
    fs.symlinkSync('/etc/shadow', path.join(dir, 'rootfs/etc/shadow-link'));
    expect(await names(contextStream(dir))).toEqual(['Dockerfile', 'rootfs', 'rootfs/etc', 'rootfs/etc/motd']);
  });

  it('fails before sending a byte when a listed file is not what derivc wrote', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'derivc\n', 'rootfs/etc/sudoers.d/90-derivc': 'root ALL=(ALL) ALL\n' });
    fs.writeFileSync(path.join(dir, 'rootfs/etc/sudoers.d/90-derivc'), 'ALL ALL=(ALL) NOPASSWD: ALL\n');
    const stream = contextStream(dir);
    let sent = 0;
    stream.on('data', (chunk: Buffer) => (sent += chunk.length));
    const err = await failure(stream);
    expect(err.message).toBe(
      'cannot add rootfs/etc/sudoers.d/90-derivc to the build context: not the file derivc wrote (its sha256 differs from derivc.json); compile again',
    );
    expect(sent).toBe(0);
  });

  it('refuses a listed path that is a symlink, or under one, even to the same bytes', async () => {
    const outside = tree({ 'rootfs/etc/motd': 'm' });
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'm' });
    fs.rmSync(path.join(dir, 'rootfs/etc/motd'));
    fs.symlinkSync(path.join(outside, 'rootfs/etc/motd'), path.join(dir, 'rootfs/etc/motd'));
    expect((await failure(contextStream(dir))).message).toMatch(/^cannot add rootfs\/etc\/motd to the build context: .*ELOOP/);

    fs.rmSync(path.join(dir, 'rootfs'), { recursive: true });
    fs.symlinkSync(path.join(outside, 'rootfs'), path.join(dir, 'rootfs'));
    expect((await failure(contextStream(dir))).message).toBe('cannot add rootfs/etc/motd to the build context: rootfs is not a directory');
  });

  it('takes the list it is given over derivc.json: an edited derivc.json adds nothing', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'm', 'rootfs/etc/sudoers.d/x': 'evil' });
    const given = listing({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'm' });
    expect(await names(contextStream(dir, { files: given }))).toEqual(['Dockerfile', 'rootfs', 'rootfs/etc', 'rootfs/etc/motd']);
  });

  it.each([
    ['no derivc.json', null, /^cannot list the build context: no derivc\.json listing in .* \(compile into it first\)/],
    [
      'a derivc.json that is not a listing',
      '{"files": 1}',
      /^cannot list the build context: .*derivc\.json is not a listing derivc writes \(no `files` list\)$/,
    ],
    [
      "a path outside derivc's names",
      JSON.stringify({ files: [{ path: '.git/config', sha256: 'a'.repeat(64), mode: '0644' }] }),
      /lists what derivc never writes: "\.git\/config": not a name derivc generates$/,
    ],
    [
      'a path leaving the directory',
      JSON.stringify({ files: [{ path: '../x', sha256: 'a'.repeat(64), mode: '0644' }] }),
      /lists what derivc never writes: "\.\.\/x": `\.\.` segment$/,
    ],
  ])('refuses to send anything for %s', async (_, manifest, message) => {
    const dir = tree({ Dockerfile: 'FROM scratch\n' });
    if (manifest === null) fs.rmSync(path.join(dir, 'derivc.json'));
    else fs.writeFileSync(path.join(dir, 'derivc.json'), manifest);
    expect((await failure(contextStream(dir))).message).toMatch(message);
  });

  it('reports a file deleted after the call as a stream error naming it', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/gone': 'x' });
    const stream = contextStream(dir);
    fs.rmSync(path.join(dir, 'rootfs/etc/gone'));
    const err = await failure(stream);
    expect(err.message).toMatch(/^cannot add rootfs\/etc\/gone to the build context: .*ENOENT/);
  });

  it('reports a file that became a directory as a stream error', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'rootfs/etc/motd': 'x' });
    const stream = contextStream(dir);
    fs.rmSync(path.join(dir, 'rootfs/etc/motd'));
    fs.mkdirSync(path.join(dir, 'rootfs/etc/motd'));
    const err = await failure(stream);
    expect(err.message).toBe('cannot add rootfs/etc/motd to the build context: not a regular file');
  });

  /** Starts streaming (every file checked), holds the stream while `change` runs, then reads the rest. */
  async function changedWhileSending(change: (dir: string) => void): Promise<Error> {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'files/a-big': 'x'.repeat(4 * 1024 * 1024), 'files/z-small': 'small' });
    const stream = contextStream(dir);
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    stream.pause();
    change(dir);
    stream.resume();
    return failure(stream);
  }

  it('fails instead of sending other bytes when a file changes while the context is sent', async () => {
    const err = await changedWhileSending((dir) => fs.writeFileSync(path.join(dir, 'files/z-small'), 'SMALL'));
    expect(err.message).toBe(
      'cannot add files/z-small to the build context: not the file derivc wrote (its sha256 differs from derivc.json); compile again (it changed while being sent)',
    );
  });

  it('fails instead of writing a corrupt tar when a file changes size while the context is sent', async () => {
    const err = await changedWhileSending((dir) => fs.appendFileSync(path.join(dir, 'files/z-small'), 'more'));
    expect(err.message).toBe('cannot add files/z-small to the build context: the file changed size while being read');
  });

  it('stops quietly, closing the file it was reading, when the consumer goes away', async () => {
    const dir = tree({ Dockerfile: 'FROM scratch\n', 'files/big': 'x'.repeat(4 * 1024 * 1024) });
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
