// How the output-directory code fails: one line the user can act on, never a raw errno or stack.

/** A refused output directory, or an I/O failure while writing it: the CLI prints it and exits 1. */
export class OutputDirError extends Error {}

export function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

const WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'a component of the path is not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'name too long',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EXDEV: 'not on the same file system',
  EBUSY: 'busy (a mount point?)',
  EMLINK: 'too many links',
  EIO: 'input/output error',
};

/** `what: reason` with the errno in words, on one line. */
export function ioError(what: string, err: unknown): OutputDirError {
  const code = errno(err);
  const reason = (code && WORDS[code]) ?? (err as Error).message.split('\n')[0];
  return new OutputDirError(`${what}: ${reason}`);
}
