// The tar reader (tar-stream's extract plus the end-of-archive check) and the `docker save` layer
// scan, on archives made here with tar-stream's pack: entries whatever the chunking, PAX records
// applied, archives cut short or damaged refused with a message, and a saved image's layers
// merged as the Engine would.

import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { layerHeader, lookup, resolveInLayers, scanSavedImage } from '../targets/io/image-layers.js';
import { readEntryData, readTar, type TarHeader } from '../targets/io/tar-read.js';

type Entry = { header: Partial<tar.Header> & Pick<tar.Header, 'name'>; content?: Buffer };

async function pack(entries: Entry[]): Promise<Buffer> {
  const p = tar.pack();
  for (const e of entries) p.entry(e.header, e.content ?? Buffer.alloc(0));
  p.finalize();
  const chunks: Buffer[] = [];
  for await (const c of p) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function chunked(archive: Buffer, size: number): Buffer[] {
  const chunks = [];
  for (let i = 0; i < archive.length; i += size) chunks.push(archive.subarray(i, i + size));
  return chunks;
}

/** Every entry's header, and the content of those `keep` wants (the rest left unread). */
async function read(
  chunks: Buffer[],
  keep: (h: TarHeader) => boolean = () => true,
  what = 'the test archive',
): Promise<{ headers: TarHeader[]; contents: Map<string, Buffer> }> {
  const headers: TarHeader[] = [];
  const contents = new Map<string, Buffer>();
  await readTar(Readable.from(chunks), what, async (h, data) => {
    headers.push(h);
    if (keep(h)) contents.set(h.name, await readEntryData(data));
  });
  return { headers, contents };
}

/** Sets a header block's typeflag and checksum (for records tar-stream's pack does not write). */
function retype(block: Buffer, typeflag: string): Buffer {
  const out = Buffer.from(block);
  out[156] = typeflag.charCodeAt(0);
  out.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i]!;
  out.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return out;
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
];

describe('the tar reader', () => {
  it('hands over every entry and the data asked for, whatever the chunking, and skips the data left unread', async () => {
    const archive = await pack(ENTRIES);
    for (const size of [1, 7, 511, 512, 513, 4096, archive.length]) {
      const { headers, contents } = await read(chunked(archive, size), (h) => h.name !== 'etc/hostname');
      expect(headers.map((h) => [h.name, h.type, h.linkname ?? null])).toEqual(ENTRIES.map((e) => [e.header.name, e.header.type, e.header.linkname ?? null]));
      expect(contents.has('etc/hostname')).toBe(false);
      expect(contents.get(`usr/share/${'long/'.repeat(30)}file`)).toEqual(Buffer.alloc(5000, 1));
      expect(contents.get('empty')).toEqual(Buffer.alloc(0));
    }
  });

  it('says when an archive ends inside an entry or between two without its end blocks; no bytes at all is an empty archive', async () => {
    const archive = await pack(ENTRIES.slice(0, 3));
    await expect(read([archive.subarray(0, 2000)], undefined, 'the layer L')).rejects.toThrow('the layer L ended in the middle of an entry (cut short?)');
    // etc/, then etc/hostname's header and data: whole entries, no end.
    await expect(read([archive.subarray(0, 1536)], undefined, 'the layer L')).rejects.toThrow(
      'the layer L ended without its end-of-archive blocks (cut short?)',
    );
    // The long name's PAX record, then its entry: whole, no end.
    await expect(read([archive.subarray(0, archive.length - 1024)], undefined, 'the layer L')).rejects.toThrow('ended without its end-of-archive blocks');
    await expect(read([])).resolves.toEqual({ headers: [], contents: new Map() });
    await expect(read([Buffer.alloc(1024)])).resolves.toEqual({ headers: [], contents: new Map() });
  });

  it('refuses what is not a tar instead of looping or misreading it: a wrong checksum, a size that is not a number', async () => {
    const archive = await pack(ENTRIES.slice(0, 2));
    const damaged = Buffer.from(archive);
    damaged[0] = 'X'.charCodeAt(0);
    await expect(read([damaged], undefined, 'the layer L')).rejects.toThrow('the layer L is not a tar, or a damaged one (');
    // A long-name record whose size field is not octal, checksum made right.
    const record = Buffer.from(archive.subarray(0, 512));
    record.write('9x9x9x9x9x9\0', 124, 'latin1');
    // tar-stream reads past it and meets a misplaced block or the end: refused either way, not misread.
    await expect(read([Buffer.concat([retype(record, 'L'), archive])], undefined, 'the layer L')).rejects.toThrow(
      /^the layer L (is not a tar, or a damaged one|ended in the middle of an entry)/,
    );
  });

  it("passes the handler's own error on as it is, and stops reading the source", async () => {
    const archive = await pack(ENTRIES);
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (const chunk of chunked(archive, 512)) {
          pulled++;
          yield chunk;
        }
      })(),
    );
    const failed = readTar(source, 'the layer L', (h) => {
      if (h.name === 'etc/hostname') throw new Error('enough');
    });
    await expect(failed).rejects.toThrow(/^enough$/);
    expect(source.destroyed).toBe(true);
    expect(pulled).toBeLessThan(archive.length / 512);
  });

  it('applies the PAX records tar-stream leaves to its reader: big ids, times before 1970 or with fractions, user and group names', async () => {
    const file = await pack([{ header: { name: 'f', type: 'file', mode: 0o644, uid: 1, gid: 2, mtime }, content: Buffer.from('x') }]);
    // "<length> <key>=<value>\n", the length counting its own digits (all two here).
    const body = ['uid=3000000', 'gid=3000001', 'mtime=-86400.5', 'uname=a-very-long-user-name-beyond-thirty-two-bytes', 'gname=g']
      .map((r) => `${r.length + 4} ${r}\n`)
      .join('');
    expect(
      body
        .split('\n')
        .slice(0, -1)
        .every((r) => Number(r.split(' ')[0]) === Buffer.byteLength(r) + 1),
    ).toBe(true);
    const paxData = Buffer.from(body);
    const paxHeader = Buffer.from(file.subarray(0, 512));
    paxHeader.write(paxData.length.toString(8).padStart(11, '0') + ' ', 124, 'latin1');
    const archive = Buffer.concat([retype(paxHeader, 'x'), paxData, Buffer.alloc(512 - paxData.length), file]);
    const { headers } = await read([archive]);
    expect(layerHeader(headers[0]!)).toMatchObject({
      name: 'f',
      uid: 3_000_000,
      gid: 3_000_001,
      mtime: new Date(-86_400_500),
      uname: 'a-very-long-user-name-beyond-thirty-two-bytes',
      gname: 'g',
      mode: 0o644,
      size: 1,
    });
    const plain = await read([file]);
    expect(layerHeader(plain.headers[0]!)).toMatchObject({ uid: 1, gid: 2, mtime, uname: '', gname: '', linkname: '', devmajor: 0, devminor: 0 });
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
  entries.push({
    header: { name: 'manifest.json', type: 'file' },
    content: Buffer.from(JSON.stringify([{ Config: 'c.json', Layers: order.map((id) => `${id}/layer.tar`) }])),
  });
  return pack(entries);
}

const file = (name: string, content: string): Entry => ({ header: { name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime }, content: Buffer.from(content) });

describe('the saved-image scan', () => {
  it('orders layers by manifest.json (top first), keeps the wanted files, and merges whiteouts, opaque directories and symlinks', async () => {
    const bottom = await pack([
      file('etc/hostname', 'base\n'),
      file('etc/hosts', 'hosts\n'),
      file('opt/a/old', 'old'),
      { header: { name: 'bin', type: 'symlink', linkname: 'usr/bin' } },
      file('usr/bin/true', 'T'),
    ]);
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
    const archive = await savedImage(
      { a: gzipSync(layer) },
      ['a', 'c'],
      [
        { header: { name: 'c/', type: 'directory' } },
        { header: { name: 'c/layer.tar', type: 'symlink', linkname: '../a/layer.tar' } },
        { header: { name: 'blobs/sha256/cfg', type: 'file' }, content: Buffer.from('{"not":"a tar"}') },
      ],
    );
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
    await expect(scanSavedImage(Readable.from(chunks), 'img', new Set(['/etc/hostname']))).rejects.toThrow('the layer a/layer.tar cannot be unpacked (gzip: ');
    const notTar = await savedImage({ a: gzipSync(Buffer.alloc(4096, 0x41)) }, ['a']);
    await expect(scanSavedImage(Readable.from([notTar]), 'img', new Set())).rejects.toThrow('the layer a/layer.tar is not a tar, or a damaged one');
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
    await expect(scanSavedImage(Readable.from([missingLayer]), 'img', new Set())).rejects.toThrow(
      'the saved image img lacks its layer zz/layer.tar, or it is not a tar',
    );
    const whole = await savedImage({ a: layer }, ['a']);
    await expect(scanSavedImage(Readable.from([whole.subarray(0, 1800)]), 'img', new Set())).rejects.toThrow('the saved image ended in the middle of an entry');
    await expect(scanSavedImage(Readable.from([whole.subarray(0, -1024)]), 'img', new Set())).rejects.toThrow(
      'the saved image ended without its end-of-archive blocks',
    );
    const cutLayer = await savedImage({ a: layer.subarray(0, -1024) }, ['a']);
    await expect(scanSavedImage(Readable.from([cutLayer]), 'img', new Set())).rejects.toThrow('the layer a/layer.tar ended without its end-of-archive blocks');
  });
});
