// The real file system behind the compiler's Host port.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { SourceContent, type OpenedFile, type OpenRefusal } from '../compiler/checked-file.js';
import { isWithin } from '../compiler/repository.js';
import type { Host, PathKind } from '../compiler/host.js';
import { fdChunks } from './fd-chunks.js';

/** The parts of node:fs the host uses: tests pass a copy that changes files at chosen moments. */
export type HostFs = Pick<
  typeof fs,
  'openSync' | 'closeSync' | 'fstatSync' | 'readSync' | 'readlinkSync' | 'realpathSync' | 'statSync' | 'lstatSync' | 'readdirSync' | 'readFileSync'
>;

/** A file the manifest names is no longer what derivc checked: nothing more is copied from it. */
export class SourceChangedError extends Error {}

const { O_RDONLY, O_NONBLOCK, O_NOCTTY, O_NOFOLLOW } = fs.constants;
// Non-blocking: a FIFO swapped in for a file must not hang the open (it is then refused as not a file).
const OPEN_FLAGS = O_RDONLY | O_NONBLOCK | O_NOCTTY;

export function nodeHostOn(f: HostFs): Host {
  return {
    readFile(path) {
      try {
        return f.readFileSync(path);
      } catch {
        return undefined;
      }
    },
    realpath(path) {
      try {
        return f.realpathSync(path);
      } catch {
        return undefined;
      }
    },
    kind(path): PathKind {
      try {
        const s = f.statSync(path);
        return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'loop' : 'missing';
      }
    },
    mode(path) {
      try {
        return f.statSync(path).mode & 0o7777;
      } catch {
        return undefined;
      }
    },
    readlink(path) {
      try {
        return f.lstatSync(path).isSymbolicLink() ? f.readlinkSync(path, { encoding: 'buffer' }) : undefined;
      } catch {
        return undefined;
      }
    },
    readDir(path) {
      try {
        return f.readdirSync(path).sort();
      } catch {
        return [];
      }
    },
    openFile: (path, within, options = {}) => openChecked(f, path, within, options.maxBytes),
  };
}

export const nodeHost: Host = nodeHostOn(fs);

/**
 * Opens `path` once; every check is about the opened descriptor, not the name: a regular file,
 * really located inside `within`, digested from that descriptor. The descriptor is closed before
 * returning (an overlay may name 10,000 files): the writer opens the file again and accepts it
 * only as the same file with the same digest.
 */
function openChecked(f: HostFs, path: string, within: string, maxBytes: number | undefined): OpenedFile | OpenRefusal {
  let fd: number;
  try {
    fd = f.openSync(path, OPEN_FLAGS);
  } catch (err) {
    const code = errno(err);
    return code === 'ENOENT' || code === 'ENOTDIR' ? { refused: 'missing' } : { refused: 'unreadable', reason: reasonOf(err) };
  }
  try {
    const stat = f.fstatSync(fd, { bigint: true });
    if (!stat.isFile()) return { refused: 'not-a-file' };
    const real = openedLocation(f, fd, path, stat);
    if (real === undefined) return { refused: 'changed' };
    const base = f.realpathSync(within);
    if (!isWithin(base, real)) return { refused: 'outside', real };
    if (maxBytes !== undefined && stat.size > BigInt(maxBytes)) return { refused: 'too-large', size: Number(stat.size) };

    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let size = 0;
    for (const chunk of fdChunks(fd, f.readSync, Number(stat.size))) {
      hash.update(chunk);
      size += chunk.byteLength;
      if (maxBytes === undefined) continue;
      if (size > maxBytes) return { refused: 'too-large', size };
      kept.push(Buffer.from(chunk));
    }
    const sha256 = hash.digest('hex');
    const checked = { real, dev: stat.dev, ino: stat.ino, size, sha256 };
    return {
      content: new SourceContent(path, size, sha256, () => reread(f, path, checked)),
      mode: Number(stat.mode & 0o7777n),
      ...(maxBytes !== undefined ? { bytes: Buffer.concat(kept) } : {}),
    };
  } catch (err) {
    return { refused: 'unreadable', reason: reasonOf(err) };
  } finally {
    f.closeSync(fd);
  }
}

/**
 * Where the file open as `fd` really is: what the kernel says (/proc/self/fd on Linux), else the
 * realpath of its name. Either must name the very file open (same device and inode): a name
 * swapped between the open and this look-up gives undefined, never another file's location.
 */
function openedLocation(f: HostFs, fd: number, path: string, stat: fs.BigIntStats): string | undefined {
  let real: string;
  try {
    real = f.readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    try {
      real = f.realpathSync(path);
    } catch {
      return undefined;
    }
  }
  try {
    const s = f.statSync(real, { bigint: true });
    return s.dev === stat.dev && s.ino === stat.ino ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The checked bytes again, for the writer: the file is re-opened where it really was (not
 * following a symlink put there since) and must be the same file (device, inode) with the same
 * size and digest. A file swapped for another one yields nothing; one changed in place fails
 * after its last chunk, before the writer can make its copy visible.
 */
function* reread(f: HostFs, name: string, checked: { real: string; dev: bigint; ino: bigint; size: number; sha256: string }): Generator<Uint8Array> {
  let fd: number;
  try {
    fd = f.openSync(checked.real, OPEN_FLAGS | O_NOFOLLOW);
  } catch (err) {
    throw new SourceChangedError(`${name} changed after derivc checked it: it cannot be opened again (${reasonOf(err)})`);
  }
  try {
    const stat = f.fstatSync(fd, { bigint: true });
    if (!stat.isFile() || stat.dev !== checked.dev || stat.ino !== checked.ino) {
      throw new SourceChangedError(`${name} was replaced after derivc checked it: it is no longer the same file, so nothing is copied from it`);
    }
    const hash = createHash('sha256');
    let size = 0;
    for (const chunk of fdChunks(fd, f.readSync, checked.size)) {
      size += chunk.byteLength;
      if (size > checked.size) break;
      hash.update(chunk);
      yield chunk;
    }
    const sha256 = size === checked.size ? hash.digest('hex') : undefined;
    if (sha256 !== checked.sha256) {
      throw new SourceChangedError(
        `${name} changed after derivc checked it (${size > checked.size ? 'it grew' : size < checked.size ? 'it shrank' : 'other bytes'}: not the ${checked.size} bytes with sha256 ${checked.sha256}): compile again`,
      );
    }
  } finally {
    f.closeSync(fd);
  }
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function reasonOf(err: unknown): string {
  const code = errno(err);
  return code === 'EACCES' || code === 'EPERM'
    ? 'permission denied'
    : code === 'ELOOP'
      ? 'too many levels of symlinks'
      : (code ?? String((err as Error).message));
}
