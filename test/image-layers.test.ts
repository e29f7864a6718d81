// The tar block reader and the `docker save` layer scan, on archives made here: every header
// field as tar-stream writes it (and as it parses it back), data skipped or handed over whatever
// the chunking, and a saved image's layers merged as the Engine would.

import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { lookup, resolveInLayers, scanSavedImage } from '../targets/io/image-layers.js';
import { imageFilesystem } from '../targets/iso/image-tar.js';
import { TarHeaderWalker, type TarHeader } from '../targets/io/tar-blocks.js';

type Entry = { header: Partial<tar.Header> & Pick<tar.Header, 'name'>; content?: Buffer };

async function pack(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  for (const e of entries) {
    if (e.content) p.entry(e.header, e.content);
    else p.entry(e.header);
  }
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function parsedByTarStream(archive: Buffer): Promise<{ header: tar.Header; content: Buffer }[]> {
  const out: { header: tar.Header; content: Buffer }[] = [];
  const x = tar.extract();
  Readable.from([archive]).pipe(x);
  for await (const e of x) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ header: e.header, content: Buffer.concat(chunks) });
  }
  return out;
}

async function readAllOf(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function walk(archive: Buffer, chunkSize: number, keep: (h: TarHeader) => boolean): { headers: TarHeader[]; contents: Map<string, Buffer> } {
  const headers: TarHeader[] = [];
  const contents = new Map<string, Buffer>();
  const walker = new TarHeaderWalker((h) => {
    headers.push(h);
    return keep(h) ? { content: (data) => void contents.set(h.name, data) } : 'skip';
  }, 'the test archive');
  for (let i = 0; i < archive.length; i += chunkSize) walker.write(archive.subarray(i, i + chunkSize));
  walker.end();
  return { headers, contents };
}

const mtime = new Date(1_700_000_000_000);
const ENTRIES: Entry[] = [
  { header: { name: 'etc/', type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime } },
  { header: { name: 'etc/hostname', type: 'file', mode: 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime }, content: Buffer.from('host\n') },
  { header: { name: `usr/share/${'long/'.repeat(30)}file`, type: 'file', mode: 0o600, uid: 1000, gid: 1000, mtime }, content: Buffer.alloc(5000, 1) },
  { header: { name: 'etc/mtab', type: 'symlink', linkname: `../proc/self/mounts${'/x'.repeat(60)}`, mode: 0o777, uid: 0, gid: 0, mtime } },
  { header: { name: 'etc/hosts-link', type: 'link', linkname: 'etc/hostname', mode: 0o644, uid: 0, gid: 0, mtime } },
  { header: { name: 'dev/console', type: 'character-device', devmajor: 5, devminor: 1, mode: 0o600, uid: 0, gid: 5, mtime } },
  { header: { name: 'empty', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime }, content: Buffer.alloc(0) },
  { header: { name: 'big-uid', type: 'file', mode: 0o644, uid: 3_000_000, gid: 3_000_000, mtime }, content: Buffer.from('x') },
];

describe('the tar block reader', () => {
  it('reads every header as tar-stream does (PAX long names and link names, devices, big ids), in chunks of any size', async () => {
    const archive = await pack(ENTRIES);
    const expected = await parsedByTarStream(archive);
    for (const size of [1, 7, 511, 512, 513, 4096, archive.length]) {
      const { headers, contents } = walk(archive, size, (h) => h.type === 'file');
      expect(headers.map((h) => h.name)).toEqual(expected.map((e) => e.header.name));
      headers.forEach((h, i) => {
        const want = expected[i]!.header;
        expect({ type: h.type, mode: h.mode, uid: h.uid, gid: h.gid, mtime: h.mtime, linkname: h.linkname || null, uname: h.uname, gname: h.gname }).toEqual({ type: want.type, mode: want.mode, uid: want.uid, gid: want.gid, mtime: want.mtime, linkname: want.linkname ?? null, uname: want.uname, gname: want.gname });
        if (h.type === 'character-device') expect([h.devmajor, h.devminor]).toEqual([want.devmajor, want.devminor]);
      });
      expect(contents.get('etc/hostname')!.toString()).toBe('host\n');
      expect(contents.get(`usr/share/${'long/'.repeat(30)}file`)).toEqual(Buffer.alloc(5000, 1));
      expect(contents.get('empty')).toEqual(Buffer.alloc(0));
    }
  });

  it('streams an entry to a sink without its padding, and skips the rest by counting', async () => {
    const archive = await pack(ENTRIES);
    const got: Buffer[] = [];
    let ended = 0;
    const walker = new TarHeaderWalker((h) => (h.name.startsWith('usr/') ? { data: (c) => void got.push(Buffer.from(c)), end: () => void ended++ } : 'skip'));
    for (let i = 0; i < archive.length; i += 300) walker.write(archive.subarray(i, i + 300));
    walker.end();
    expect(Buffer.concat(got)).toEqual(Buffer.alloc(5000, 1));
    expect(ended).toBe(1);
    expect(walker.finished).toBe(true);
  });

  it('says when an archive ends inside an entry or at an entry boundary without its end blocks; no bytes at all is an empty archive', async () => {
    const archive = await pack(ENTRIES.slice(0, 3));
    const cut = new TarHeaderWalker(() => 'skip', 'the layer L');
    cut.write(archive.subarray(0, 2000));
    expect(() => cut.end()).toThrow('the layer L ended in the middle of an entry');
    const atBoundary = new TarHeaderWalker(() => 'skip', 'the layer L');
    atBoundary.write(archive.subarray(0, 1536)); // etc/, then etc/hostname's header and data
    expect(() => atBoundary.end()).toThrow('the layer L ended without its end-of-archive block (cut short?)');
    expect(() => new TarHeaderWalker(() => 'skip').end()).not.toThrow();
  });

  it('refuses what is not a tar instead of looping or misreading it: a wrong checksum, a size that is not a number', async () => {
    const archive = await pack(ENTRIES.slice(0, 2));
    const damaged = Buffer.from(archive);
    damaged[0] = 'X'.charCodeAt(0);
    expect(() => new TarHeaderWalker(() => 'skip', 'the layer L').write(damaged)).toThrow('the layer L: a header with a wrong checksum');
    // A long-name record whose size field is not octal, checksum made right: must throw, not spin.
    const record = Buffer.from(archive.subarray(0, 512));
    record[156] = 'L'.charCodeAt(0);
    record.write('9x9x9x9x9x9\0', 124, 'latin1');
    record.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of record) sum += b;
    record.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    expect(() => new TarHeaderWalker(() => 'skip', 'the layer L').write(Buffer.concat([record, archive]))).toThrow('the layer L: an entry size of NaN bytes');
    // The export filter reads the same blocks.
    await expect(readAllOf(imageFilesystem(Readable.from([Buffer.concat([record, archive])]), async () => new Map()))).rejects.toThrow('an entry size of NaN bytes');
  });

  it('reads negative base-256 times (before 1970) and takes the name prefix only from POSIX headers, not GNU ones', async () => {
    const archive = await pack([{ header: { name: 'old', type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(-86_400_000) }, content: Buffer.from('x') }]);
    const block = Buffer.from(archive.subarray(0, 512));
    // -86400 as 12-byte base-256 two's complement.
    const field = Buffer.alloc(12, 0xff);
    field.writeIntBE(-86400, 6, 6);
    field.copy(block, 136);
    // GNU magic, with bytes where POSIX keeps the prefix (GNU keeps atime there).
    block.write('ustar  \0', 257, 'latin1');
    block.write('12345670123', 345, 'latin1');
    block.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of block) sum += b;
    block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    const { headers } = walk(Buffer.concat([block, archive.subarray(512)]), 512, () => false);
    expect(headers[0]).toMatchObject({ name: 'old', mtime: new Date(-86_400_000) });
  });
});

/** A `docker save` archive (Docker 20.10's layout): one directory per layer, manifest.json last. */
async function savedImage(layers: Record<string, Buffer>, order: string[], extra: Entry[] = []): Promise<Buffer> {
  const entries: Entry[] = [];
  for (const [id, layer] of Object.entries(layers).sort()) {
    entries.push({ header: { name: `${id}/`, type: 'directory' } }, { header: { name: `${id}/json`, type: 'file' }, content: Buffer.from('{}') });
    entries.push({ header: { name: `${id}/layer.tar`, type: 'file' }, content: layer });
  }
  entries.push(...extra);
  entries.push({ header: { name: 'manifest.json', type: 'file' }, content: Buffer.from(JSON.stringify([{ Config: 'c.json', Layers: order.map((id) => `${id}/layer.tar`) }])) });
  return pack(entries);
}

const file = (name: string, content: string): Entry => ({ header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime }, content: Buffer.from(content) });

describe('the saved-image scan', () => {
  it('orders layers by manifest.json (top first), keeps the wanted files, and merges whiteouts, opaque directories and symlinks', async () => {
    const bottom = await pack([file('etc/hostname', 'base\n'), file('etc/hosts', 'hosts\n'), file('opt/a/old', 'old'), { header: { name: 'bin', type: 'symlink', linkname: 'usr/bin' } }, file('usr/bin/true', 'T')]);
    const top = await pack([file('etc/.wh.hosts', ''), file('opt/a/.wh..wh..opq', ''), file('opt/a/new', 'new'), file('etc/hostname', 'top\n')]);
    // Layer IDs sort the other way round from the stack: the scan must not trust archive order.
    const archive = await savedImage({ b: top, a: bottom }, ['a', 'b']);
    const layers = await scanSavedImage(Readable.from([archive]), 'img', new Set(['/etc/hostname', '/usr/bin/true']));
    expect(layers).toHaveLength(2);
    const hostname = lookup(layers, '/etc/hostname')!;
    expect(layers[hostname.layer]!.contents.get('/etc/hostname')!.toString()).toBe('top\n');
    expect(lookup(layers, '/etc/hosts')).toBeUndefined();
    expect(lookup(layers, '/opt/a/old')).toBeUndefined();
    expect(lookup(layers, '/opt/a/new')).toBeDefined();
    const viaLink = resolveInLayers(layers, '/bin/true')!;
    expect(viaLink.path).toBe('/usr/bin/true');
    expect(layers[viaLink.layer]!.contents.get('/usr/bin/true')!.toString()).toBe('T');
  });

  it('reads gzipped layers, follows a layer stored once under two names, and skips blobs that are not tars', async () => {
    const layer = await pack([file('etc/hostname', 'gz\n')]);
    const archive = await savedImage({ a: gzipSync(layer) }, ['a', 'c'], [
      { header: { name: 'c/', type: 'directory' } },
      { header: { name: 'c/layer.tar', type: 'symlink', linkname: '../a/layer.tar' } },
      { header: { name: 'blobs/sha256/cfg', type: 'file' }, content: Buffer.from('{"not":"a tar"}') },
    ]);
    const chunks = [];
    for (let i = 0; i < archive.length; i += 1000) chunks.push(archive.subarray(i, i + 1000));
    const layers = await scanSavedImage(Readable.from(chunks), 'img', new Set(['/etc/hostname']));
    expect(layers).toHaveLength(2);
    expect(layers.every((l) => l.contents.get('/etc/hostname')?.toString() === 'gz\n')).toBe(true);
  });

  it('fails, without hanging, on a corrupt gzipped layer or a wanted file past the limit inside one, fed in small chunks', async () => {
    const big = await pack([file('etc/hostname', 'x'.repeat(1000))]);
    const corrupt = gzipSync(big);
    corrupt.fill(0x55, 20, corrupt.length - 8);
    const archive = await savedImage({ a: corrupt }, ['a']);
    const chunks = [];
    for (let i = 0; i < archive.length; i += 64) chunks.push(archive.subarray(i, i + 64));
    await expect(scanSavedImage(Readable.from(chunks), 'img', new Set(['/etc/hostname']))).rejects.toThrow();
    const notTar = await savedImage({ a: gzipSync(Buffer.alloc(4096, 0x41)) }, ['a']);
    await expect(scanSavedImage(Readable.from([notTar]), 'img', new Set())).rejects.toThrow('the layer a/layer.tar: a header with a wrong checksum');
  });

  it('names a zstd layer, and refuses a save of several images', async () => {
    const zstd = await savedImage({ a: Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(600)]) }, ['a']);
    await expect(scanSavedImage(Readable.from([zstd]), 'img', new Set())).rejects.toThrow('the layer a/layer.tar is compressed with zstd');
    const layer = await pack([file('x', 'x')]);
    const two = await pack([
      { header: { name: 'a/layer.tar', type: 'file' }, content: layer },
      { header: { name: 'manifest.json', type: 'file' }, content: Buffer.from(JSON.stringify([{ Layers: ['a/layer.tar'] }, { Layers: ['a/layer.tar'] }])) },
    ]);
    await expect(scanSavedImage(Readable.from([two]), 'img', new Set())).rejects.toThrow('manifest.json describes 2 images, not the one asked for');
  });

  it('says what is missing: manifest.json, a listed layer, or the end of the archive', async () => {
    const layer = await pack([file('x', 'x')]);
    const noManifest = await pack([{ header: { name: 'a/layer.tar', type: 'file' }, content: layer }]);
    await expect(scanSavedImage(Readable.from([noManifest]), 'img', new Set())).rejects.toThrow('the saved image img has no manifest.json');
    const missingLayer = await savedImage({ a: layer }, ['a', 'zz']);
    await expect(scanSavedImage(Readable.from([missingLayer]), 'img', new Set())).rejects.toThrow('the saved image img lacks its layer zz/layer.tar, or it is not a tar');
    const whole = await savedImage({ a: layer }, ['a']);
    await expect(scanSavedImage(Readable.from([whole.subarray(0, 1800)]), 'img', new Set())).rejects.toThrow('the saved image ended in the middle of an entry');
  });
});
