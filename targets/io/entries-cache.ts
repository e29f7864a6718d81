// What an image's layers hold at a few paths (Docker's init-layer paths, for the media
// targets), kept on disk by image ID. Reading them means `docker save` of the whole image: the
// Engine writes every layer out before sending the first byte, several CPU seconds taken from
// the squashfs compression that runs at the same time. An image never changes under its ID, so
// what was read once is true for good; a rebuilt image has a new ID and is read afresh. The
// cache is only an optimisation: a missing, unreadable or malformed file means "read the image".

import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ImageEntry } from './engine.js';

export interface EntriesCache {
  get(imageId: string, paths: readonly string[]): Promise<Map<string, ImageEntry | undefined> | undefined>;
  set(imageId: string, paths: readonly string[], entries: ReadonlyMap<string, ImageEntry | undefined>): Promise<void>;
}

/** `$DERIVC_CACHE_DIR`, else `$XDG_CACHE_HOME/derivc`, else `$HOME/.cache/derivc`; none without a home. */
export function cacheDirFromEnv(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env['DERIVC_CACHE_DIR']) return env['DERIVC_CACHE_DIR'];
  if (env['XDG_CACHE_HOME']) return path.join(env['XDG_CACHE_HOME'], 'derivc');
  if (env['HOME']) return path.join(env['HOME'], '.cache', 'derivc');
  return undefined;
}

/** Bump when reading or merging layers changes what an entry says: older files then miss. */
const VERSION = 2;

/** The entry types the export filter can write back (packEntries); anything else in a file is damage. */
const TYPES = new Set(['file', 'contiguous-file', 'link', 'symlink', 'character-device', 'block-device', 'directory', 'fifo']);

interface StoredEntry extends Omit<ImageEntry, 'content'> {
  content?: string; // base64
}

interface Stored {
  version: number;
  imageId: string;
  paths: string[];
  entries: Record<string, StoredEntry | null>;
}

function fileName(imageId: string, paths: readonly string[]): string {
  const key = createHash('sha256')
    .update(`${imageId}\n${[...paths].sort().join('\n')}`)
    .digest('hex');
  return `${key.slice(0, 32)}.json`;
}

function encode(entry: ImageEntry): StoredEntry {
  const { content, ...rest } = entry;
  return content === undefined ? rest : { ...rest, content: Buffer.from(content).toString('base64') };
}

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isOptString = (v: unknown): boolean => v === undefined || typeof v === 'string';

function decode(stored: unknown): ImageEntry | undefined {
  const s = stored as StoredEntry;
  if (
    typeof s !== 'object' ||
    s === null ||
    typeof s.type !== 'string' ||
    !TYPES.has(s.type) ||
    !isInt(s.mode) ||
    !isInt(s.uid) ||
    !isInt(s.gid) ||
    !isInt(s.mtime)
  )
    return undefined;
  if (![s.uname, s.gname, s.linkname, s.content].every(isOptString) || ![s.devmajor, s.devminor].every((v) => v === undefined || isInt(v))) return undefined;
  if ((s.type === 'file' || s.type === 'contiguous-file') && s.content === undefined) return undefined;
  const { content, ...rest } = s;
  return content === undefined ? rest : { ...rest, content: new Uint8Array(Buffer.from(content, 'base64')) };
}

/** A cache of one JSON file per image and path set in `dir`, written atomically (temp file, rename). */
export function directoryEntriesCache(dir: string): EntriesCache {
  return {
    async get(imageId, paths) {
      let stored: Stored;
      try {
        stored = JSON.parse(await readFile(path.join(dir, fileName(imageId, paths)), 'utf8')) as Stored;
      } catch {
        return undefined;
      }
      if (stored?.version !== VERSION || stored.imageId !== imageId || typeof stored.entries !== 'object' || stored.entries === null) return undefined;
      const entries = new Map<string, ImageEntry | undefined>();
      for (const p of paths) {
        if (!Object.hasOwn(stored.entries, p)) return undefined;
        const raw = stored.entries[p];
        const entry = raw === null ? undefined : decode(raw);
        if (raw !== null && entry === undefined) return undefined;
        entries.set(p, entry);
      }
      return entries;
    },

    async set(imageId, paths, entries) {
      const stored: Stored = { version: VERSION, imageId, paths: [...paths].sort(), entries: {} };
      for (const p of stored.paths) {
        const e = entries.get(p);
        stored.entries[p] = e === undefined ? null : encode(e);
      }
      const file = path.join(dir, fileName(imageId, paths));
      const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      try {
        await mkdir(dir, { recursive: true });
        await writeFile(temp, JSON.stringify(stored));
        await rename(temp, file);
      } catch {
        await rm(temp, { force: true }).catch(() => undefined);
      }
    },
  };
}
