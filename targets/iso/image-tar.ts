// The image's filesystem as one tar stream, made from `docker export` of a created container. A
// container carries Docker's init layer on top of the image: empty /etc/hostname, /etc/hosts and
// /etc/resolv.conf, a /.dockerenv, an empty regular file at /dev/console. Those entries are cut
// out of the stream where they stand and the image's own entries (read from its layers) are
// appended at the end. Everything else passes through byte for byte — headers, PAX records
// (xattrs such as file capabilities), hard links — because the filter works on 512-byte blocks
// and never re-encodes an entry it keeps.

import { Transform, type TransformCallback } from 'node:stream';
import type { ImageEntry } from '../io/engine.js';
import { BLOCK, checkedSize, checksumMatches, cString, entryPath, HEADER_ONLY, isPosixUstar, isZeroBlock, MAX_RECORD_BYTES, numeric, padded, paxRecords, PREFIX_TYPES } from '../io/tar-blocks.js';

/**
 * Regular files and links Docker's init layer puts into every container, whatever the image
 * holds there. The directories it adds (/proc, /sys, /dev/pts, /dev/shm) are kept as exported:
 * they are mount points, and the live system mounts over them.
 */
export const DOCKER_INIT_FILES: readonly string[] = ['/.dockerenv', '/dev/console', '/etc/hostname', '/etc/hosts', '/etc/mtab', '/etc/resolv.conf'];

const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** An entry seen in the stream under the captured directory: a file's bytes, or where a link leads. */
export type CapturedEntry = { type: 'file'; content: Buffer } | { type: 'symlink'; linkname: string } | { type: 'link'; target: string };

/** Keeps the entries under one directory (the kernel and initrd in /boot) as they stream past, up to a byte limit. */
export interface Capture {
  /** Absolute, with a trailing slash: "/boot/". */
  under: string;
  limit: number;
  entries: Map<string, CapturedEntry>;
  /** Set when the limit was hit: what was kept is incomplete. */
  overflow?: boolean;
}

const MAX_SYMLINK_HOPS = 40;

/** A path's content among captured entries, links followed; undefined when it leads outside what was captured. */
export function resolveCaptured(capture: Capture, file: string): Uint8Array | undefined {
  if (capture.overflow) return undefined;
  let p = entryPath(file);
  for (let hops = 0; hops <= MAX_SYMLINK_HOPS; hops++) {
    const entry = capture.entries.get(p);
    if (!entry) return undefined;
    if (entry.type === 'file') return entry.content;
    if (entry.type === 'link') p = entry.target;
    else p = entryPath(normalizePosix(entry.linkname.startsWith('/') ? entry.linkname : `${p.slice(0, p.lastIndexOf('/'))}/${entry.linkname}`));
  }
  return undefined;
}

/** Resolves "." and ".." (".." stops at the root, as in the image). */
function normalizePosix(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return `/${out.join('/')}`;
}

/**
 * A tar stream without the entries at `dropped` paths, with `appended()` entries added before its
 * end. `appended` is called once the input's end-of-archive blocks arrive, so reading the image's
 * own entries can run while the bulk of the export streams through.
 */
export class TarEntryFilter extends Transform {
  private buffered: Buffer = Buffer.alloc(0);
  /** What the current input chunk gave, pushed as one buffer at its end. */
  private out: Buffer[] = [];
  /** Blocks of PAX / long-name records waiting for the entry they describe. */
  private prefix: Buffer[] = [];
  private prefixPath: string | undefined;
  private prefixSize: number | undefined;
  private prefixLink: string | undefined;
  /** Data bytes (with padding) of the current entry still to come, and whether they are kept. */
  private remaining = 0;
  private keep = true;
  /** Chunks of the current entry's data when it is captured. */
  private capturing: { path: string; size: number; chunks: Buffer[] } | undefined;
  private captured = 0;
  private ended = false;
  /** Paths whose entries were cut out, for tests and messages. */
  readonly droppedPaths: string[] = [];

  constructor(
    private readonly dropped: ReadonlySet<string>,
    private readonly appended: () => Promise<Buffer>,
    private readonly capture?: Capture,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.ended) return callback(); // padding after the end-of-archive blocks
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let finished: boolean;
    try {
      finished = this.consume();
    } catch (err) {
      return callback(err as Error);
    }
    this.flushOut();
    if (!finished) return callback();
    this.appended().then((tail) => {
      this.push(tail);
      this.push(END_OF_ARCHIVE);
      callback();
    }, callback);
  }

  /**
   * Hands on what one input chunk gave as one buffer: an export is tens of thousands of small
   * entries, and a push per header and per data piece costs more than copying them together.
   */
  private flushOut(): void {
    if (this.out.length === 1) this.push(this.out[0]);
    else if (this.out.length > 1) this.push(Buffer.concat(this.out));
    this.out = [];
  }

  override _flush(callback: TransformCallback): void {
    callback(this.ended ? null : new Error('the exported filesystem ended before its end-of-archive blocks (was the export cut short?)'));
  }

  /** Processes what is buffered; true once the end-of-archive block was reached. */
  private consume(): boolean {
    for (;;) {
      if (this.remaining > 0) {
        if (this.buffered.length === 0) return false;
        const n = Math.min(this.remaining, this.buffered.length);
        const data = this.buffered.subarray(0, n);
        if (this.keep) this.out.push(data);
        if (this.capturing) this.captureData(data);
        this.buffered = this.buffered.subarray(n);
        this.remaining -= n;
        continue;
      }
      if (this.buffered.length < BLOCK) return false;
      const header = this.buffered.subarray(0, BLOCK);
      if (isZeroBlock(header)) {
        if (this.prefix.length > 0) throw new Error('the exported filesystem ends with a PAX or long-name record that describes no entry');
        this.ended = true;
        this.buffered = Buffer.alloc(0);
        return true;
      }
      const type = String.fromCharCode(header[156]!);
      if (!checksumMatches(header)) throw new Error('the exported filesystem has a tar header with a wrong checksum (damaged, or not a tar)');
      const size = checkedSize(numeric(header, 124, 12), 'the exported filesystem');
      if (PREFIX_TYPES.has(type) || type === 'g') {
        // Small records: wait until all of it is here, then keep it for the entry it describes.
        if (size > MAX_RECORD_BYTES) throw new Error(`a PAX or long-name record of ${size} bytes in the exported filesystem (at most ${MAX_RECORD_BYTES} expected)`);
        const total = BLOCK + padded(size);
        if (this.buffered.length < total) return false;
        const record = Buffer.from(this.buffered.subarray(0, total));
        const data = record.subarray(BLOCK, BLOCK + size);
        this.buffered = this.buffered.subarray(total);
        if (type === 'g') {
          this.out.push(record); // global: applies to every entry after it
          continue;
        }
        if (type === 'x') {
          const records = paxRecords(data);
          if (records.has('path')) this.prefixPath = records.get('path');
          if (records.has('size')) this.prefixSize = checkedSize(Number(records.get('size')), 'the exported filesystem');
          if (records.has('linkpath')) this.prefixLink = records.get('linkpath');
        } else if (type === 'L') {
          this.prefixPath = cString(data, 0, data.length);
        } else {
          this.prefixLink = cString(data, 0, data.length);
        }
        this.prefix.push(record);
        continue;
      }
      const ustarName = cString(header, 0, 100);
      const ustarPrefix = isPosixUstar(header) ? cString(header, 345, 155) : '';
      const name = this.prefixPath ?? (ustarPrefix ? `${ustarPrefix}/${ustarName}` : ustarName);
      const dataSize = HEADER_ONLY.has(type) ? 0 : (this.prefixSize ?? size);
      const path = entryPath(name);
      this.keep = !this.dropped.has(path);
      if (this.keep && this.capture && path.startsWith(this.capture.under)) this.startCapture(path, type, dataSize, header);
      if (this.keep) {
        this.out.push(...this.prefix, Buffer.from(header));
      } else {
        this.droppedPaths.push(path);
      }
      this.prefix = [];
      this.prefixPath = undefined;
      this.prefixSize = undefined;
      this.prefixLink = undefined;
      this.buffered = this.buffered.subarray(BLOCK);
      this.remaining = padded(dataSize);
      if (this.capturing && dataSize === 0) this.captureData(Buffer.alloc(0));
    }
  }

  private startCapture(path: string, type: string, size: number, header: Buffer): void {
    const capture = this.capture!;
    if (type === '2') capture.entries.set(path, { type: 'symlink', linkname: this.prefixLink ?? cString(header, 157, 100) });
    else if (type === '1') capture.entries.set(path, { type: 'link', target: entryPath(this.prefixLink ?? cString(header, 157, 100)) });
    else if (type === '0' || type === '\0' || type === '7') {
      if (this.captured + size > capture.limit) capture.overflow = true;
      else this.capturing = { path, size, chunks: [] };
    }
  }

  /** Keeps the entry's data (padding cut off) and records the file once all of it is here. */
  private captureData(data: Buffer): void {
    const c = this.capturing!;
    c.chunks.push(Buffer.from(data));
    if (this.remaining - data.length > 0) return;
    const content = Buffer.concat(c.chunks).subarray(0, c.size);
    this.captured += c.size;
    this.capture!.entries.set(c.path, { type: 'file', content });
    this.capturing = undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding the appended entries

const TYPEFLAGS: Record<string, string> = {
  file: '0',
  'contiguous-file': '0',
  link: '1',
  symlink: '2',
  'character-device': '3',
  'block-device': '4',
  directory: '5',
  fifo: '6',
};

function writeString(block: Buffer, value: string, start: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new Error(`tar header field too long: ${JSON.stringify(value)}`);
  bytes.copy(block, start);
}

function writeOctal(block: Buffer, value: number, start: number, length: number): void {
  const text = Math.max(0, Math.floor(value)).toString(8);
  if (text.length > length - 1) throw new Error(`tar header number too large: ${value}`);
  block.write(text.padStart(length - 1, '0') + '\0', start, 'latin1');
}

/** One PAX record: "<length> <key>=<value>\n", where the length counts its own digits. */
function paxRecord(key: string, value: string): string {
  const rest = Buffer.byteLength(` ${key}=${value}\n`);
  let length = rest + String(rest).length;
  if (String(length).length + rest !== length) length = rest + String(length).length;
  return `${length} ${key}=${value}\n`;
}

function paxHeader(name: string, records: [string, string][]): Buffer {
  const data = Buffer.from(records.map(([k, v]) => paxRecord(k, v)).join(''), 'utf8');
  const header = ustarHeader({ name: `PaxHeaders/${name}`.slice(0, 100), typeflag: 'x', mode: 0o644, uid: 0, gid: 0, size: data.length, mtime: 0 });
  return Buffer.concat([header, data, Buffer.alloc(padded(data.length) - data.length)]);
}

function ustarHeader(h: { name: string; typeflag: string; mode: number; uid: number; gid: number; size: number; mtime: number; linkname?: string; uname?: string; gname?: string; devmajor?: number; devminor?: number }): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, h.name, 0, 100);
  writeOctal(block, h.mode & 0o7777, 100, 8);
  writeOctal(block, h.uid, 108, 8);
  writeOctal(block, h.gid, 116, 8);
  writeOctal(block, h.size, 124, 12);
  writeOctal(block, h.mtime, 136, 12);
  block.fill(0x20, 148, 156); // checksum counted as spaces
  block.write(h.typeflag, 156, 'latin1');
  if (h.linkname) writeString(block, h.linkname, 157, 100);
  block.write('ustar\u000000', 257, 'latin1');
  if (h.uname) writeString(block, h.uname, 265, 32);
  if (h.gname) writeString(block, h.gname, 297, 32);
  writeOctal(block, h.devmajor ?? 0, 329, 8);
  writeOctal(block, h.devminor ?? 0, 337, 8);
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return block;
}

/**
 * One tar entry (header, PAX record when a field is too long for ustar, data) for an image entry
 * at an absolute path. Names are written as `docker export` writes them: relative, no "./".
 */
export function tarEntry(path: string, entry: ImageEntry): Buffer {
  const typeflag = TYPEFLAGS[entry.type];
  if (typeflag === undefined) throw new Error(`cannot write a tar entry of type ${entry.type} (${path})`);
  const name = entryPath(path).slice(1) + (entry.type === 'directory' ? '/' : '');
  const content = entry.type === 'file' || entry.type === 'contiguous-file' ? Buffer.from(entry.content ?? new Uint8Array()) : Buffer.alloc(0);
  const pax: [string, string][] = [];
  if (Buffer.byteLength(name) > 100) pax.push(['path', name]);
  if (entry.linkname !== undefined && Buffer.byteLength(entry.linkname) > 100) pax.push(['linkpath', entry.linkname]);
  const uname = entry.uname !== undefined && Buffer.byteLength(entry.uname) <= 32 ? entry.uname : undefined;
  const gname = entry.gname !== undefined && Buffer.byteLength(entry.gname) <= 32 ? entry.gname : undefined;
  const header = ustarHeader({
    name: name.slice(0, 100),
    typeflag,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    size: content.length,
    mtime: entry.mtime,
    ...(entry.linkname !== undefined && Buffer.byteLength(entry.linkname) <= 100 ? { linkname: entry.linkname } : {}),
    ...(uname !== undefined ? { uname } : {}),
    ...(gname !== undefined ? { gname } : {}),
    ...(entry.devmajor !== undefined ? { devmajor: entry.devmajor } : {}),
    ...(entry.devminor !== undefined ? { devminor: entry.devminor } : {}),
  });
  return Buffer.concat([...(pax.length ? [paxHeader(name, pax)] : []), header, content, Buffer.alloc(padded(content.length) - content.length)]);
}

/**
 * The image's filesystem from a container export: Docker's init-layer files cut out, the image's
 * own entries at those paths (what `entries()` resolves to; missing ones stay missing) appended
 * in path order.
 */
export function imageFilesystem(exported: NodeJS.ReadableStream, entries: () => Promise<Map<string, ImageEntry | undefined>>, capture?: Capture): TarEntryFilter {
  const filter = new TarEntryFilter(new Set(DOCKER_INIT_FILES), async () => {
    const found = await entries();
    const paths = [...DOCKER_INIT_FILES].sort();
    return Buffer.concat(paths.flatMap((p) => {
      const entry = found.get(p);
      return entry ? [tarEntry(p, entry)] : [];
    }));
  }, capture);
  exported.on('error', (err) => filter.destroy(err));
  exported.pipe(filter);
  return filter;
}
