// What an image's layers hold, read from `docker save` without a container (a container shows
// Docker's init layer instead of the image's /etc/hostname, /etc/hosts, /etc/resolv.conf). Every
// layer is read with tar-stream, its file data skipped except for the files asked for; the
// lookups then merge the layers as overlayfs would: whiteouts, opaque directories, symlinks in
// any component.

import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { resolvePath } from './resolve-path.js';
import { BLOCK, readEntryData, readTar, type TarEntry, type TarHeader } from './tar-read.js';

/** A file read from a layer is kept in memory; past this the scan refuses rather than exhaust it. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface LayerEntry {
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Symlink: as stored. Hard link: the absolute path of the linked file in the same layer. */
  linkname?: string;
  /** The whole tar header, kept only for wanted paths (readEntries). */
  header?: Partial<LayerHeader>;
}

/** A layer entry's header with its PAX records applied (tar-stream applies path, linkpath and size only). */
export interface LayerHeader {
  name: string;
  /** tar-stream's type name ("file", "directory", …); null for a typeflag it does not know. */
  type: string | null;
  linkname: string;
  size: number;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

export function layerHeader(h: TarHeader): LayerHeader {
  const pax = h.pax ?? {};
  const num = (key: string, fallback: number | undefined): number => (pax[key] !== undefined ? Number(pax[key]) : (fallback ?? 0));
  return {
    name: h.name,
    type: h.type ?? null,
    linkname: h.linkname ?? '',
    size: h.size ?? 0,
    mode: h.mode ?? 0,
    uid: num('uid', h.uid),
    gid: num('gid', h.gid),
    mtime: pax['mtime'] !== undefined ? new Date(Number(pax['mtime']) * 1000) : (h.mtime ?? new Date(0)),
    uname: pax['uname'] ?? h.uname ?? '',
    gname: pax['gname'] ?? h.gname ?? '',
    devmajor: h.devmajor ?? 0,
    devminor: h.devminor ?? 0,
  };
}

/** What one layer says about the filesystem: its entries, deletions, and the contents asked for. */
export interface LayerScan {
  entries: Map<string, LayerEntry>;
  /** Paths this layer deletes (`.wh.<name>`). */
  whiteouts: Set<string>;
  /** Directories whose lower-layer content this layer hides (`.wh..wh..opq`). */
  opaque: Set<string>;
  contents: Map<string, Buffer>;
}

export function emptyLayerScan(): LayerScan {
  return { entries: new Map(), whiteouts: new Set(), opaque: new Set(), contents: new Map() };
}

/** A layer tar's entry name as an absolute path ("./etc/x/" → "/etc/x"). */
export function layerPath(name: string): string {
  const p = path.posix.normalize(`/${name}`);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

function entryType(type: string | null | undefined): LayerEntry['type'] {
  switch (type) {
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
    case 'symlink':
    case 'link':
      return type;
    default:
      return 'other';
  }
}

/** Records one layer entry; returns its path when it is a regular file whose content is wanted. */
export function recordLayerEntry(
  scan: LayerScan,
  header: Pick<LayerHeader, 'name' | 'type' | 'linkname'> & Partial<LayerHeader>,
  wanted: ReadonlySet<string>,
): string | undefined {
  const p = layerPath(header.name);
  if (p === '/') return undefined;
  // A tar need not list the directories above an entry; they are directories of this layer all the same.
  for (let dir = path.posix.dirname(p); dir !== '/' && !scan.entries.has(dir); dir = path.posix.dirname(dir)) scan.entries.set(dir, { type: 'directory' });
  const base = path.posix.basename(p);
  const dir = path.posix.dirname(p);
  if (base === '.wh..wh..opq') {
    scan.opaque.add(dir);
    return undefined;
  }
  if (base.startsWith('.wh..wh.')) return undefined; // other aufs bookkeeping
  if (base.startsWith('.wh.')) {
    scan.whiteouts.add(path.posix.join(dir, base.slice('.wh.'.length)));
    return undefined;
  }
  const type = entryType(header.type);
  const entry: LayerEntry = { type };
  if (type === 'symlink') entry.linkname = header.linkname ?? '';
  if (type === 'link') entry.linkname = layerPath(header.linkname ?? '');
  if (wanted.has(p)) entry.header = { ...header };
  scan.entries.set(p, entry);
  return type === 'file' && wanted.has(p) ? p : undefined;
}

/** Proper ancestors of an absolute path, root first: "/a/b/c" → ["/", "/a", "/a/b"]. */
function ancestors(p: string): string[] {
  const out = ['/'];
  for (let i = p.indexOf('/', 1); i !== -1; i = p.indexOf('/', i + 1)) out.push(p.slice(0, i));
  return out;
}

/** The topmost layer's entry for `p` (no symlink followed), honouring whiteouts; layers are top first. */
export function lookup(layers: readonly LayerScan[], p: string): { layer: number; entry: LayerEntry } | undefined {
  const above = ancestors(p);
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    const entry = layer.entries.get(p);
    if (entry) return { layer: i, entry };
    if (layer.whiteouts.has(p)) return undefined;
    for (const a of above) {
      // Below this layer, `p` is hidden: an ancestor was deleted, made opaque, or replaced by a non-directory.
      if (layer.whiteouts.has(a) || layer.opaque.has(a)) return undefined;
      const ancestor = layer.entries.get(a);
      if (ancestor && ancestor.type !== 'directory') return undefined;
    }
  }
  return undefined;
}

/**
 * Resolves an absolute path in the merged layers, following symlinks (in every component, within
 * the image: ".." stops at its root). Undefined when some component is missing or not a directory.
 */
export function resolveInLayers(layers: readonly LayerScan[], file: string): { path: string; layer: number; entry: LayerEntry } | undefined {
  const resolved = resolvePath(file, (p) => {
    const found = lookup(layers, p);
    if (!found) return undefined;
    const { entry } = found;
    return entry.type === 'symlink' ? { type: 'symlink', linkname: entry.linkname ?? '' } : { type: entry.type === 'directory' ? 'directory' : 'other' };
  });
  const found = resolved === undefined ? undefined : lookup(layers, resolved);
  return found && { path: resolved!, ...found };
}

/** Where the content of `file` is: the regular file (or hard link's file) it resolves to; undefined when none. */
export function locate(layers: readonly LayerScan[], file: string): { layer: number; path: string } | undefined {
  const found = resolveInLayers(layers, file);
  if (!found) return undefined;
  if (found.entry.type === 'file') return { layer: found.layer, path: found.path };
  if (found.entry.type !== 'link') return undefined;
  const at = found.entry.linkname ?? '';
  return layers[found.layer]!.entries.get(at)?.type === 'file' ? { layer: found.layer, path: at } : undefined;
}

/** The layer blob names of a `docker save` manifest.json, bottom layer first. */
function manifestLayers(json: Buffer): string[] {
  const manifest = JSON.parse(json.toString('utf8')) as { Layers?: unknown }[];
  // One image was asked for; several would leave it open which one's layers these are.
  if (!Array.isArray(manifest) || manifest.length !== 1)
    throw new Error(`manifest.json describes ${Array.isArray(manifest) ? manifest.length : 'no list of'} images, not the one asked for`);
  const layers = manifest[0]?.Layers;
  if (!Array.isArray(layers) || !layers.every((l): l is string => typeof l === 'string')) throw new Error('manifest.json lists no layers');
  return layers;
}

/** A tar header block ("ustar" magic, POSIX or GNU), or the all-zero end-of-archive block of an empty tar. */
function looksLikeTar(head: Buffer): boolean {
  if (head.length === 0) return true; // an empty layer
  if (head.length < BLOCK) return false;
  return head.subarray(257, 262).toString('latin1') === 'ustar' || head.subarray(0, BLOCK).every((b) => b === 0);
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** What a layer blob is, from its first block: a tar, a gzipped tar, a zstd one (unreadable here), or no layer (an OCI config or manifest). */
function blobKind(head: Buffer): 'tar' | 'gzip' | 'zstd' | 'other' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return looksLikeTar(head) ? 'tar' : 'other';
}

/** Reads one layer's entries: metadata of all, content of the wanted regular files. */
function layerReader(scan: LayerScan, wanted: ReadonlySet<string>) {
  return async (raw: TarHeader, data: TarEntry): Promise<void> => {
    const header = layerHeader(raw);
    const keep = recordLayerEntry(scan, header, wanted);
    if (!keep) return;
    if (header.size > MAX_FILE_BYTES) throw new Error(`${keep} is larger than ${MAX_FILE_BYTES} bytes`);
    scan.contents.set(keep, await readEntryData(data));
  };
}

/**
 * Scans one candidate layer blob of the save: its first block tells a tar (read), a gzipped tar
 * (unpacked, then read) or anything else (skipped: undefined). The blob is read through its
 * entry's async iterator by hand, never left early through it (see readEntryData).
 */
async function scanLayerBlob(data: TarEntry, name: string, wanted: ReadonlySet<string>): Promise<LayerScan | undefined> {
  const chunks = data[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < BLOCK) {
    const next = await chunks.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value as Buffer]);
  }
  const kind = blobKind(head);
  if (kind === 'zstd') throw new Error(`the layer ${name} is compressed with zstd, which derivc cannot read`);
  if (kind === 'other') return undefined;
  const blob = (async function* () {
    yield head;
    for (;;) {
      const next = await chunks.next();
      if (next.done) return;
      yield next.value as Buffer;
    }
  })();
  const scan = emptyLayerScan();
  const what = `the layer ${name}`;
  if (kind === 'tar') {
    await readTar(blob, what, layerReader(scan, wanted));
    return scan;
  }
  const gunzip = createGunzip();
  const unpacked = pipeline(blob, gunzip);
  unpacked.catch(() => undefined); // its failure surfaces in the read of gunzip's output
  try {
    await readTar(gunzip, what, layerReader(scan, wanted));
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code?.startsWith('Z_')
      ? new Error(`${what} cannot be unpacked (gzip: ${(err as Error).message})`, { cause: err })
      : err;
  }
  await unpacked;
  return scan;
}

/**
 * Scans every layer of a `docker save` archive (metadata, plus the `wanted` files). The layers
 * come before manifest.json in the archive, so all are scanned and put in order at the end.
 * Returns the scans top layer first.
 */
export async function scanSavedImage(archive: AsyncIterable<unknown>, imageId: string, wanted: ReadonlySet<string>): Promise<LayerScan[]> {
  const scans = new Map<string, LayerScan | undefined>();
  /** Docker stores a layer that occurs twice once, and a symlink to it for the second. */
  const aliases = new Map<string, string>();
  let layerNames: string[] | undefined;
  await readTar(archive, 'the saved image', async (header, data) => {
    const name = path.posix.normalize(header.name);
    const isLayer = name.endsWith('/layer.tar') || name.startsWith('blobs/');
    if (name === 'manifest.json') {
      if ((header.size ?? 0) > MAX_MANIFEST_BYTES) throw new Error(`manifest.json is larger than ${MAX_MANIFEST_BYTES} bytes`);
      layerNames = manifestLayers(await readEntryData(data));
      return;
    }
    if (isLayer && header.type === 'symlink') aliases.set(name, path.posix.join(path.posix.dirname(name), header.linkname ?? ''));
    if (!isLayer || header.type !== 'file') return;
    scans.set(name, await scanLayerBlob(data, name, wanted));
  });
  if (!layerNames) throw new Error(`the saved image ${imageId} has no manifest.json`);
  return layerNames
    .map((name) => {
      const scan = scans.get(aliases.get(name) ?? name);
      if (!scan) throw new Error(`the saved image ${imageId} lacks its layer ${name}, or it is not a tar`);
      return scan;
    })
    .reverse();
}
