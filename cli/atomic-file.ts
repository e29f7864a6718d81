// One file written whole or not at all: the bytes go to a temporary name in the same folder, are
// flushed, then renamed over the file. A reader (an editor watching the schema, a concurrent
// derivc) sees the old file or the new one, never half of it; a symlink at the name is replaced,
// never written through.

import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ioError } from './output-error.js';

/**
 * Writes `content` to `path`; `'unchanged'` (nothing touched, mtime kept) when it holds those bytes
 * already. A failure is an OutputDirError naming `label` (the path as the user named it). `mode`
 * (`derivc fmt` keeps the replaced file's) is set exactly, whatever the umask; else the umask applies.
 */
export function writeFileAtomically(path: string, content: Uint8Array, label = path, mode?: number): 'written' | 'unchanged' {
  if (holds(path, content)) return 'unchanged';
  const temp = join(dirname(path), `.${basename(path)}.derivc-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const fd = openSync(temp, 'wx', 0o666); // the umask narrows it, as for any new file
    try {
      if (mode !== undefined) fchmodSync(fd, mode);
      for (let done = 0; done < content.byteLength;) done += writeSync(fd, content, done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    rmSync(temp, { force: true });
    throw ioError(`cannot write ${label}`, err);
  }
  return 'written';
}

/** Whether `path` is a regular file (a symlink is not followed, a FIFO not waited on) with exactly these bytes. */
function holds(path: string, content: Uint8Array): boolean {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return false; // absent, a symlink, unreadable: the rename replaces it or says why it cannot
  }
  try {
    const stat = fstatSync(fd);
    return stat.isFile() && stat.size === content.byteLength && readFileSync(fd).equals(content);
  } finally {
    closeSync(fd);
  }
}
