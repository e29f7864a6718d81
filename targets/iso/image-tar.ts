// The image's filesystem as one tar stream, made from `docker export` of a created container. A
// container carries Docker's init layer on top of the image: empty /etc/hostname, /etc/hosts and
// /etc/resolv.conf, a /.dockerenv, an empty regular file at /dev/console. Those entries are cut
// out of the stream where they stand and the image's own entries (read from its layers) are
// appended at the end, written by tar-stream's pack. tar-stream's extract reads the export; the
// entries kept go on as the bytes that came in (headers, PAX records, data), not re-encoded:
// tar-stream decodes PAX values as UTF-8 text, which would mangle binary ones such as the
// security.capability xattr that Docker exports.

import { Transform, type TransformCallback } from 'node:stream';
import * as tar from 'tar-stream';
import type { ImageEntry } from '../io/engine.js';
import { resolvePath, SymlinkLoopError, type PathNode } from '../io/resolve-path.js';
import { entryEnd, readEntryData, TarReader, type TarEntry, type TarHeader } from '../io/tar-read.js';

/**
 * Regular files and links Docker's init layer puts into every container, whatever the image
 * holds there. The directories it adds (/proc, /sys, /dev/pts, /dev/shm) are kept as exported:
 * they are mount points, and the live system mounts over them.
 */
export const DOCKER_INIT_FILES: readonly string[] = ['/.dockerenv', '/dev/console', '/etc/hostname', '/etc/hosts', '/etc/mtab', '/etc/resolv.conf'];

/** "/etc/hostname", "./etc/hostname", "etc/hostname/" → "/etc/hostname". */
function entryPath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

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

/** A path's content among captured entries, links followed; undefined when it leads outside what was captured, or loops. */
export function resolveCaptured(capture: Capture, file: string): Uint8Array | undefined {
  if (capture.overflow) return undefined;
  const keys = [...capture.entries.keys()];
  const nodeAt = (p: string): PathNode | undefined => {
    const entry = capture.entries.get(p);
    if (entry) return entry.type === 'symlink' ? { type: 'symlink', linkname: entry.linkname } : { type: 'other' };
    // Directories are not captured: what leads to a captured entry is one.
    return keys.some((k) => k.startsWith(`${p}/`)) || capture.under.startsWith(`${p}/`) ? { type: 'directory' } : undefined;
  };
  let resolved: string | undefined;
  try {
    resolved = resolvePath(file, nodeAt);
  } catch (err) {
    if (err instanceof SymlinkLoopError) return undefined;
    throw err;
  }
  const entry = resolved === undefined ? undefined : capture.entries.get(resolved);
  if (entry?.type === 'file') return entry.content;
  const linked = entry?.type === 'link' ? capture.entries.get(entryPath(entry.target)) : undefined;
  return linked?.type === 'file' ? linked.content : undefined;
}

/** An entry to append: an absolute path and what the image holds there. */
export type AppendedEntry = readonly [path: string, entry: ImageEntry];

/**
 * A tar stream without the entries at `dropped` paths, with `appended()` entries added before its
 * end. `appended` is called once the input has ended, so reading the image's own entries can run
 * while the bulk of the export streams through.
 */
export class TarEntryFilter extends Transform {
  private readonly reader: TarReader;
  /** Input not yet passed on or dropped; `heldFrom` is where its first byte is in the archive. */
  private held: Buffer[] = [];
  private heldFrom = 0;
  private received = 0;
  /** Where each entry seen but not yet passed on or dropped ends, and whether it is kept. */
  private readonly ranges: { end: number; keep: boolean }[] = [];
  /** Bytes of file data captured so far. */
  private captured = 0;
  /** Paths whose entries were cut out, for tests and messages. */
  readonly droppedPaths: string[] = [];

  constructor(
    private readonly dropped: ReadonlySet<string>,
    private readonly appended: () => Promise<readonly AppendedEntry[]>,
    private readonly capture?: Capture,
  ) {
    super();
    this.reader = new TarReader('the exported filesystem', (header, data) => this.entry(header, data));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.held.push(chunk);
    this.received += chunk.length;
    this.reader.write(chunk).then(() => {
      this.release();
      callback();
    }, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.received === 0) return callback(new Error('the exported filesystem is empty (was the export cut short?)'));
    this.reader
      .end()
      .then(async () => {
        this.release();
        // What is left are the export's end-of-archive blocks: the appended entries and tar-stream's own take their place.
        this.held = [];
        this.push(await packEntries(await this.appended()));
        callback();
      })
      .catch(callback);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.reader.destroy();
    callback(err);
  }

  private entry(header: TarHeader, data: TarEntry): void | Promise<void> {
    const path = entryPath(header.name);
    const keep = !this.dropped.has(path);
    this.ranges.push({ end: entryEnd(header), keep });
    if (!keep) this.droppedPaths.push(path);
    else if (this.capture && path.startsWith(this.capture.under)) return this.captureEntry(this.capture, path, header, data);
  }

  private captureEntry(capture: Capture, path: string, header: TarHeader, data: TarEntry): void | Promise<void> {
    if (header.type === 'symlink') capture.entries.set(path, { type: 'symlink', linkname: header.linkname ?? '' });
    else if (header.type === 'link') capture.entries.set(path, { type: 'link', target: entryPath(header.linkname ?? '') });
    else if (header.type === 'file' || header.type === 'contiguous-file') {
      if (this.captured + header.size > capture.limit) {
        capture.overflow = true;
        return;
      }
      this.captured += header.size;
      return readEntryData(data).then((content) => void capture.entries.set(path, { type: 'file', content }));
    }
  }

  /**
   * Passes on (or drops) the input that belongs to entries seen so far, as one buffer: an export
   * is tens of thousands of small entries, and a push per entry costs more than copying them together.
   */
  private release(): void {
    const out: Buffer[] = [];
    while (this.ranges.length > 0 && this.held.length > 0) {
      const range = this.ranges[0]!;
      const first = this.held[0]!;
      const n = Math.min(first.length, range.end - this.heldFrom);
      if (range.keep) out.push(n === first.length ? first : first.subarray(0, n));
      if (n === first.length) this.held.shift();
      else this.held[0] = first.subarray(n);
      this.heldFrom += n;
      if (this.heldFrom === range.end) this.ranges.shift();
    }
    if (out.length === 1) this.push(out[0]);
    else if (out.length > 1) this.push(Buffer.concat(out));
  }
}

// ---------------------------------------------------------------------------------------------
// The appended entries, written by tar-stream's pack

const TAR_TYPES = new Set(['file', 'link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo']);
/** Longest uname / gname a ustar header holds (tar-stream would write a longer one over the next field). */
const MAX_USER_NAME_BYTES = 32;
/** Largest uid / gid in tar-stream's six octal digits (it clamps larger ones silently; those go in a PAX record). */
const MAX_OCTAL_ID = 0o777777;
/** tar-stream replaces a mode of 0 by its default; a file-type bit (masked off when written) keeps it 0. */
const ZERO_MODE = 0o100000;

/**
 * tar-stream's header for an image entry at an absolute path. Names are written as `docker export`
 * writes them: relative, no "./", a directory's with a trailing slash.
 */
function tarHeader(path: string, entry: ImageEntry): tar.Header & { pax?: Record<string, string> } {
  const type = entry.type === 'contiguous-file' ? 'file' : entry.type;
  if (!TAR_TYPES.has(type)) throw new Error(`cannot write a tar entry of type ${entry.type} (${path})`);
  const userName = (name: string | undefined): string => (name !== undefined && Buffer.byteLength(name) <= MAX_USER_NAME_BYTES ? name : '');
  const pax: Record<string, string> = {};
  if (entry.uid > MAX_OCTAL_ID) pax['uid'] = String(entry.uid);
  if (entry.gid > MAX_OCTAL_ID) pax['gid'] = String(entry.gid);
  const content = entry.type === 'file' || entry.type === 'contiguous-file' ? (entry.content?.length ?? 0) : 0;
  return {
    name: entryPath(path).slice(1) + (type === 'directory' ? '/' : ''),
    type: type as tar.Header['type'],
    size: content,
    mode: entry.mode & 0o7777 || ZERO_MODE,
    uid: entry.uid,
    gid: entry.gid,
    mtime: new Date(Math.max(0, entry.mtime) * 1000),
    linkname: entry.linkname ?? '',
    uname: userName(entry.uname),
    gname: userName(entry.gname),
    devmajor: entry.devmajor ?? 0,
    devminor: entry.devminor ?? 0,
    ...(Object.keys(pax).length > 0 ? { pax } : {}),
  };
}

/** A tar archive of image entries at absolute paths, end-of-archive blocks included. */
export async function packEntries(entries: readonly AppendedEntry[]): Promise<Buffer> {
  const items = entries.map(([path, entry]) => {
    const header = tarHeader(path, entry);
    // Always a buffer, empty when there is no content: an entry without one waits for its data.
    return { header, content: header.type === 'file' ? Buffer.from(entry.content ?? new Uint8Array()) : Buffer.alloc(0) };
  });
  const pack = tar.pack();
  for (const { header, content } of items) pack.entry(header, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The image's filesystem from a container export: Docker's init-layer files cut out, the image's
 * own entries at those paths (what `entries()` resolves to; missing ones stay missing) appended
 * in path order.
 */
export function imageFilesystem(
  exported: NodeJS.ReadableStream,
  entries: () => Promise<Map<string, ImageEntry | undefined>>,
  capture?: Capture,
): TarEntryFilter {
  const filter = new TarEntryFilter(
    new Set(DOCKER_INIT_FILES),
    async () => {
      const found = await entries();
      return [...DOCKER_INIT_FILES].sort().flatMap((p): AppendedEntry[] => {
        const entry = found.get(p);
        return entry ? [[p, entry]] : [];
      });
    },
    capture,
  );
  exported.on('error', (err) => filter.destroy(err));
  exported.pipe(filter);
  return filter;
}
