// The sha256 of a file on disk, read in chunks (a medium or an overlay file can be large). Shared
// by the output-directory writer (may derivc remove this file?) and the build context (is this
// the file derivc wrote?).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

const CHUNK = 1024 * 1024;

/** Lowercase hex sha256 of what `fd` holds from offset 0, and its length. */
export function fdSha256(fd: number): { sha256: string; size: number } {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(CHUNK);
  let size = 0;
  for (;;) {
    const n = fs.readSync(fd, buffer, 0, CHUNK, size);
    if (n === 0) break;
    hash.update(buffer.subarray(0, n));
    size += n;
  }
  return { sha256: hash.digest('hex'), size };
}

/** Lowercase hex sha256 of the regular file at `file` (a symlink there is not followed: ELOOP). */
export function fileSha256(file: string): string {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    return fdSha256(fd).sha256;
  } finally {
    fs.closeSync(fd);
  }
}
