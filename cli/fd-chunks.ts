// Reading an open file descriptor chunk by chunk: how derivc digests, compares and copies the
// files a manifest names without ever holding one whole in memory (or hitting the 2 GiB limit of
// a single read).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

const CHUNK = 1 << 20;

/**
 * The bytes of `fd` from its start, in chunks of one reused buffer: a chunk is valid until the
 * next. `expected`, the size the file should have, keeps the buffer small for small files (an
 * overlay of 10,000 files would otherwise allocate 10,000 MiB-buffers for the GC to reclaim).
 */
export function* fdChunks(fd: number, readSync: typeof fs.readSync = fs.readSync, expected = CHUNK): Generator<Uint8Array> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(expected + 1, 1)));
  for (let position = 0; ;) {
    const n = readSync(fd, buffer, 0, buffer.length, position);
    if (n === 0) return;
    position += n;
    yield buffer.subarray(0, n);
  }
}

/** Hex sha256 and size of everything in `fd`. */
export function fdDigest(fd: number, readSync: typeof fs.readSync = fs.readSync, expected?: number): { sha256: string; size: number } {
  const hash = createHash('sha256');
  let size = 0;
  for (const chunk of fdChunks(fd, readSync, expected)) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}
