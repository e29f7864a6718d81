// The only way the pure compiler sees the file system: injected by the CLI (node:fs) and by
// tests (an in-memory fake). Paths are passed as the manifest names them, relative to the
// process's working directory or absolute; the host resolves them.

/** `loop`: a symlink on the way points back at itself (ELOOP), so nothing is there to read. */
export type PathKind = 'file' | 'directory' | 'other' | 'missing' | 'loop';

export interface Host {
  /** File bytes, or undefined when it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
  /** Absolute path with every symlink resolved, or undefined when it does not exist. */
  realpath(path: string): string | undefined;
  /** What is at `path`, following symlinks. */
  kind(path: string): PathKind;
  /**
   * The link text of the symlink at `path` itself (never following it: lstat, then readlink),
   * exactly as stored; undefined when `path` is not a symlink. `overlay` and `oemDir` copy such
   * an entry as a symlink instead of reading through it. A host without symlinks may leave it out.
   */
  readlink?(path: string): Uint8Array | undefined;
  /** Entry names of a directory, sorted; empty when unreadable. */
  readDir(path: string): string[];
  /** Permission bits of a file (overlay trees keep executables executable); absent: 0o644. */
  mode?(path: string): number | undefined;
  /** The repository root, for a host that knows it without a `.git` to find (a git revision's tree). */
  repositoryRoot?(): string;
  /**
   * Opens a file the manifest names once and checks *the opened file*: a regular file whose real
   * location is inside `within` (the manifest's folder). Size and digest are read from that same
   * descriptor; the returned content reads those very bytes again for the writer, or fails. With
   * `maxBytes`, the bytes too (a file parsed as well as copied; larger: refused as too large).
   * A host whose files cannot change under it (a git revision) may leave this out: the compiler
   * then checks by path and reads with readFile.
   */
  openFile?(path: string, within: string, options?: { maxBytes?: number }): import('./checked-file.js').OpenedFile | import('./checked-file.js').OpenRefusal;
}
