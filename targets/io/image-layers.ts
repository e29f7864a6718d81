// What an image's layers hold, read from `docker save` without a container (a container shows
// Docker's init layer instead of the image's /etc/hostname, /etc/hosts, /etc/resolv.conf). Every
// layer is scanned header by header (its file data skipped by counting, never copied, except the
// files asked for); the lookups then merge the layers as overlayfs would: whiteouts, opaque
// directories, symlinks in any component.

import * as path from 'node:path';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { BLOCK, isUstarFamily, isZeroBlock, TarHeaderWalker, type DataChoice, type TarHeader } from './tar-blocks.js';

/** Like Linux's limit on symlinks in one path lookup. */
const MAX_SYMLINK_HOPS = 40;
/** A file read from a layer is kept in memory; past this the scan refuses rather than exhaust it. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

export interface LayerEntry {
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  /** Symlink: as stored. Hard link: the absolute path of the linked file in the same layer. */
  linkname?: string;
  /** The whole tar header, kept only for wanted paths (readEntries). */
  header?: Partial<TarHeader>;
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

function entryType(type: string | undefined): LayerEntry['type'] {
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
export function recordLayerEntry(scan: LayerScan, header: Pick<TarHeader, 'name' | 'type' | 'linkname'> & Partial<TarHeader>, wanted: ReadonlySet<string>): string | undefined {
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
  const pending = file.split('/');
  let current = '/';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = path.posix.dirname(current);
      continue;
    }
    const next = path.posix.join(current, part);
    const found = lookup(layers, next);
    if (!found) return undefined;
    if (found.entry.type === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) throw new Error(`too many levels of symbolic links in ${file}`);
      const target = found.entry.linkname ?? '';
      if (target.startsWith('/')) current = '/';
      pending.unshift(...target.split('/'));
      continue;
    }
    if (found.entry.type !== 'directory' && pending.some((rest) => rest !== '' && rest !== '.')) return undefined;
    current = next;
  }
  if (current === '/') return undefined;
  const found = lookup(layers, current);
  return found && { path: current, ...found };
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
  if (!Array.isArray(manifest) || manifest.length !== 1) throw new Error(`manifest.json describes ${Array.isArray(manifest) ? manifest.length : 'no list of'} images, not the one asked for`);
  const layers = manifest[0]?.Layers;
  if (!Array.isArray(layers) || !layers.every((l): l is string => typeof l === 'string')) throw new Error('manifest.json lists no layers');
  return layers;
}

/** A tar header block: "ustar" magic, or the all-zero end-of-archive block of an empty tar. */
function looksLikeTar(head: Buffer): boolean {
  if (head.length === 0) return true; // an empty layer
  if (head.length < BLOCK) return false;
  return isUstarFamily(head) || isZeroBlock(head.subarray(0, BLOCK));
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * Where one candidate layer blob of the save goes: its first block tells a tar (scanned), a
 * gzipped tar (unpacked, then scanned) or anything else (an OCI config or manifest: skipped).
 */
class LayerBlob {
  private head: Buffer = Buffer.alloc(0);
  private kind: 'unknown' | 'tar' | 'gzip' | 'zstd' | 'other' = 'unknown';
  private readonly walker: TarHeaderWalker;
  private gunzip: ReturnType<typeof createGunzip> | undefined;
  /** Settles when the gunzip stream has ended; rejects with its (or the walker's) error. */
  private unpacked: Promise<void> | undefined;
  private failure: Error | undefined;
  readonly scan = emptyLayerScan();
  /** Set while the gunzip stream asks the reader to wait; also settles if the stream fails. */
  wait: Promise<unknown> | undefined;

  constructor(
    readonly name: string,
    wanted: ReadonlySet<string>,
  ) {
    this.walker = new TarHeaderWalker((header): DataChoice => {
      const keep = recordLayerEntry(this.scan, header, wanted);
      if (!keep) return 'skip';
      if (header.size > MAX_FILE_BYTES) throw new Error(`${keep} is larger than ${MAX_FILE_BYTES} bytes`);
      return { content: (data) => void this.scan.contents.set(keep, data) };
    }, `the layer ${name}`);
  }

  data(chunk: Buffer): void {
    if (this.kind === 'unknown') {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < BLOCK) return;
      chunk = this.head;
      this.head = Buffer.alloc(0);
      this.start(chunk);
    }
    if (this.kind === 'tar') this.walker.write(chunk);
    else if (this.kind === 'gzip') this.inflate(chunk);
  }

  /** After the blob's last byte: the scan when it was a tar, undefined otherwise. */
  async end(): Promise<LayerScan | undefined> {
    if (this.kind === 'unknown') {
      // Shorter than a tar block: a small gzipped layer, an empty blob (an empty tar), or no layer.
      const head = this.head;
      this.head = Buffer.alloc(0);
      const kind = this.start(head);
      if (kind === 'tar') this.walker.write(head);
      else if (kind === 'gzip') this.inflate(head);
    }
    if (this.kind === 'zstd') throw new Error(`the layer ${this.name} is compressed with zstd, which derivc cannot read`);
    if (this.kind === 'other') return undefined;
    if (this.kind === 'gzip') {
      this.gunzip!.end();
      await this.unpacked;
    }
    this.walker.end();
    return this.scan;
  }

  /** Stops unpacking (the scan failed elsewhere). */
  destroy(): void {
    this.gunzip?.destroy();
  }

  private inflate(chunk: Buffer): void {
    if (this.failure) throw this.failure;
    if (this.gunzip!.write(chunk)) return;
    // Wait for room, or for the failure that would otherwise leave 'drain' never coming.
    this.wait = Promise.race([once(this.gunzip!, 'drain'), this.unpacked!]);
    this.wait.catch(() => undefined);
  }

  private start(head: Buffer): 'tar' | 'gzip' | 'zstd' | 'other' {
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      this.kind = 'gzip';
      const gunzip = (this.gunzip = createGunzip());
      gunzip.on('data', (out: Buffer) => {
        try {
          this.walker.write(out);
        } catch (err) {
          gunzip.destroy(err as Error);
        }
      });
      this.unpacked = new Promise<void>((resolve, reject) => {
        gunzip.once('end', resolve);
        gunzip.once('error', (err) => {
          this.failure = err;
          reject(err);
        });
        gunzip.once('close', () => reject(this.failure ?? new Error(`unpacking the layer ${this.name} stopped`)));
      });
      this.unpacked.catch(() => undefined);
    } else if (head.subarray(0, 4).equals(ZSTD_MAGIC)) {
      this.kind = 'zstd';
    } else {
      this.kind = looksLikeTar(head) ? 'tar' : 'other';
    }
    return this.kind;
  }
}

/**
 * Scans every layer of a `docker save` archive (metadata, plus the `wanted` files). The layers
 * come before manifest.json in the archive, so all are scanned and put in order at the end.
 * Returns the scans top layer first.
 */
export async function scanSavedImage(archive: AsyncIterable<unknown>, imageId: string, wanted: ReadonlySet<string>): Promise<LayerScan[]> {
  const blobs = new Map<string, LayerBlob>();
  /** Docker stores a layer that occurs twice once, and a symlink to it for the second. */
  const aliases = new Map<string, string>();
  let layerNames: string[] | undefined;
  const outer = new TarHeaderWalker((header): DataChoice => {
    const name = path.posix.normalize(header.name);
    const isLayer = name.endsWith('/layer.tar') || name.startsWith('blobs/');
    if (name === 'manifest.json') {
      if (header.size > MAX_MANIFEST_BYTES) throw new Error(`manifest.json is larger than ${MAX_MANIFEST_BYTES} bytes`);
      return { content: (json) => void (layerNames = manifestLayers(json)) };
    }
    if (isLayer && header.type === 'symlink') aliases.set(name, path.posix.join(path.posix.dirname(name), header.linkname));
    if (!isLayer || header.type !== 'file') return 'skip';
    const blob = new LayerBlob(name, wanted);
    blobs.set(name, blob);
    return { data: (chunk) => blob.data(chunk), end: () => undefined };
  }, 'the saved image');
  try {
    for await (const chunk of archive) {
      outer.write(chunk as Buffer);
      for (const blob of blobs.values()) {
        const wait = blob.wait;
        if (wait === undefined) continue;
        blob.wait = undefined;
        await wait;
      }
    }
    outer.end();
    const scans = new Map<string, LayerScan | undefined>();
    for (const [name, blob] of blobs) scans.set(name, await blob.end());
    if (!layerNames) throw new Error(`the saved image ${imageId} has no manifest.json`);
    return layerNames
      .map((name) => {
        const scan = scans.get(aliases.get(name) ?? name);
        if (!scan) throw new Error(`the saved image ${imageId} lacks its layer ${name}, or it is not a tar`);
        return scan;
      })
      .reverse();
  } catch (err) {
    for (const blob of blobs.values()) blob.destroy();
    throw err;
  }
}
