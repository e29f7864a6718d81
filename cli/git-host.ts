// The compiler's Host port backed by a git revision (`derivc diff --base REV`): the manifest and
// everything it references are read as they were at REV, never from the working tree.
//
// Paths are mapped lexically onto the repository (the root is spelled the way the manifest path
// spells it). Symlinks committed in the tree are followed inside the repository only: one that
// leads out of it (absolute, or too many `..`) or loops is reported as `other` and never read;
// its realpath is the place it names, so the usual "outside the manifest's folder" check fires.

import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { Host, PathKind } from '../compiler/host.js';

/** Git is missing, the path is not in a repository, or REV does not name a commit: exit 1. */
export class GitError extends Error {}

interface TreeEntry {
  mode: string;
  type: string;
  sha: string;
  /** Blob size in bytes; -1 for trees and submodules. */
  size: number;
}

type Resolved =
  | { kind: 'missing' }
  /** A symlink leading out of the repository, or a loop: `real` is where it leads, if anywhere. */
  | { kind: 'escape'; real: string | undefined }
  | { kind: 'found'; entry: TreeEntry; parts: string[] };

const MAX_SYMLINK_HOPS = 40;
/** Blobs up to this size are fetched together with the other small blobs of their directory. */
const BATCH_BLOB_LIMIT = 1 << 20;
const MAX_BUFFER = 1 << 30;

function git(cwd: string, args: string[], input?: Buffer): Buffer {
  try {
    return execFileSync('git', args, { cwd, maxBuffer: MAX_BUFFER, stdio: ['pipe', 'pipe', 'pipe'], ...(input ? { input } : {}) });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT') throw new GitError('git is not installed (needed for --base)');
    throw new GitError(`git ${args[0]} failed: ${e.stderr?.toString().trim() || (err as Error).message}`);
  }
}

/** The nearest directory at or above `path` that exists in the working tree. */
function existingDir(path: string): string {
  let dir = path;
  while (!(existsSync(dir) && statSync(dir).isDirectory()) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export class GitHost implements Host {
  private readonly trees = new Map<string, Map<string, TreeEntry>>();
  private readonly blobs = new Map<string, Uint8Array>();

  private constructor(
    /** The repository root, spelled like the manifest path that located it. */
    private readonly root: string,
    private readonly rootTree: string,
  ) {}

  /**
   * A host for the repository containing `manifest` (a path relative to the working directory, or
   * absolute; it need not exist in the working tree) at revision `rev`.
   */
  static open(manifest: string, rev: string): GitHost {
    const start = existingDir(dirname(resolve(manifest)));
    const [top, prefix] = git(start, ['rev-parse', '--show-toplevel', '--show-prefix']).toString().split('\n');
    const depth = (prefix ?? '').split('/').filter(Boolean).length;
    const root = resolve(start, ...Array<string>(depth).fill('..'));
    // A path reached through a symlinked folder inside the repository would map to the wrong place.
    if (realpathSync(root) !== realpathSync(top!))
      throw new GitError(`cannot locate ${manifest} in the repository at ${top}: name it by a path that does not go through a symlink`);
    // A leading `-` would be read as an option: refuse it rather than pass it to git.
    if (rev.startsWith('-')) throw new GitError(`\`${rev}\` is not a git revision`);
    let tree: string;
    try {
      tree = git(root, ['rev-parse', '--verify', '--quiet', `${rev}^{tree}`])
        .toString()
        .trim();
    } catch {
      throw new GitError(`\`${rev}\` does not name a commit in the repository at ${top}`);
    }
    return new GitHost(root, tree);
  }

  repositoryRoot(): string {
    return this.root;
  }

  readFile(path: string): Uint8Array | undefined {
    const r = this.resolve(path);
    if (r.kind !== 'found' || r.entry.type !== 'blob') return undefined;
    return this.blob(r.entry, r.parts);
  }

  realpath(path: string): string | undefined {
    const r = this.resolve(path);
    if (r.kind === 'missing') return undefined;
    if (r.kind === 'escape') return r.real;
    return r.parts.length ? join(this.root, ...r.parts) : this.root;
  }

  kind(path: string): PathKind {
    const r = this.resolve(path);
    if (r.kind !== 'found') return r.kind === 'missing' ? 'missing' : 'other';
    return r.entry.type === 'tree' ? 'directory' : r.entry.type === 'blob' ? 'file' : 'other';
  }

  readDir(path: string): string[] {
    const r = this.resolve(path);
    if (r.kind !== 'found' || r.entry.type !== 'tree') return [];
    return [...this.tree(r.entry.sha).keys()].sort();
  }

  /** A symlink committed at `path` (its folder reached following links inside the repository): its link text. */
  readlink(path: string): Uint8Array | undefined {
    const parts = this.segments(path);
    if (!parts?.length) return undefined;
    const parent = this.resolve(join(this.root, ...parts.slice(0, -1)));
    if (parent.kind !== 'found' || parent.entry.type !== 'tree') return undefined;
    const entry = this.tree(parent.entry.sha).get(parts[parts.length - 1]!);
    return entry?.mode === '120000' ? this.blob(entry, [...parent.parts, parts[parts.length - 1]!]) : undefined;
  }

  mode(path: string): number | undefined {
    const r = this.resolve(path);
    if (r.kind !== 'found' || r.entry.type !== 'blob') return undefined;
    return r.entry.mode === '100755' ? 0o755 : 0o644;
  }

  /** Repository-relative segments of a host path, or undefined when it is outside the repository. */
  private segments(path: string): string[] | undefined {
    const rel = relative(this.root, resolve(path));
    if (rel === '..' || rel.startsWith('..' + sep) || isAbsolute(rel)) return undefined;
    return rel.split(sep).filter(Boolean);
  }

  /** Walks the tree at REV, following symlinks (all of them: like stat, not lstat). */
  private resolve(path: string): Resolved {
    let pending = this.segments(path);
    if (!pending) return { kind: 'missing' };
    let hops = 0;
    restart: for (;;) {
      let entry: TreeEntry = { mode: '040000', type: 'tree', sha: this.rootTree, size: -1 };
      const done: string[] = [];
      for (let i = 0; i < pending.length; i++) {
        const name = pending[i]!;
        if (entry.type !== 'tree') return { kind: 'missing' };
        const next = this.tree(entry.sha).get(name);
        if (!next) return { kind: 'missing' };
        if (next.mode === '120000') {
          const target = new TextDecoder().decode(this.blob(next, [...done, name]));
          if (++hops > MAX_SYMLINK_HOPS) return { kind: 'escape', real: undefined };
          const rest = pending.slice(i + 1);
          if (posix.isAbsolute(target)) return { kind: 'escape', real: resolve(target, ...rest) };
          const joined = posix.normalize(posix.join(...done, target));
          if (joined === '..' || joined.startsWith('../')) return { kind: 'escape', real: resolve(this.root, joined, ...rest) };
          pending = [...joined.split('/').filter((s) => s && s !== '.'), ...rest];
          continue restart;
        }
        done.push(name);
        entry = next;
      }
      return { kind: 'found', entry, parts: done };
    }
  }

  /** The entries of one tree object, by name. */
  private tree(sha: string): Map<string, TreeEntry> {
    let entries = this.trees.get(sha);
    if (entries) return entries;
    entries = new Map();
    for (const record of git(this.root, ['ls-tree', '-z', '-l', sha]).toString('utf8').split('\0')) {
      const tab = record.indexOf('\t');
      if (tab < 0) continue;
      const [mode, type, object, size] = record.slice(0, tab).split(/\s+/);
      entries.set(record.slice(tab + 1), { mode: mode!, type: type!, sha: object!, size: size === '-' ? -1 : Number(size) });
    }
    this.trees.set(sha, entries);
    return entries;
  }

  /** A blob's bytes; the first read in a directory fetches its small siblings in the same git call. */
  private blob(entry: TreeEntry, parts: string[]): Uint8Array {
    const cached = this.blobs.get(entry.sha);
    if (cached) return cached;
    if (entry.size > BATCH_BLOB_LIMIT) {
      const bytes = git(this.root, ['cat-file', 'blob', entry.sha]);
      this.blobs.set(entry.sha, bytes);
      return bytes;
    }
    const parent = this.resolve(join(this.root, ...parts.slice(0, -1)));
    const siblings = parent.kind === 'found' && parent.entry.type === 'tree' ? [...this.tree(parent.entry.sha).values()] : [];
    const wanted = new Set([entry.sha]);
    for (const s of siblings) if (s.type === 'blob' && s.size <= BATCH_BLOB_LIMIT && !this.blobs.has(s.sha)) wanted.add(s.sha);
    this.readBatch([...wanted]);
    return this.blobs.get(entry.sha) ?? new Uint8Array();
  }

  /** `git cat-file --batch`: for each object, `SHA TYPE SIZE\n`, SIZE bytes, `\n`. */
  private readBatch(shas: string[]): void {
    const out = git(this.root, ['cat-file', '--batch'], Buffer.from(shas.join('\n') + '\n'));
    let at = 0;
    while (at < out.length) {
      const eol = out.indexOf(0x0a, at);
      if (eol < 0) break;
      const [sha, type, size] = out.subarray(at, eol).toString().split(' ');
      at = eol + 1;
      if (type === 'missing' || size === undefined) continue;
      const end = at + Number(size);
      this.blobs.set(sha!, out.subarray(at, end));
      at = end + 1;
    }
  }
}

/**
 * The files that differ between `rev` and the working tree of the repository holding `dir`:
 * tracked files changed since (staged or not, deleted or added; a rename is both of its names) and
 * untracked files git does not ignore. Absolute paths under the repository root, symlinks resolved.
 */
export function changedSince(dir: string, rev: string): { root: string; paths: string[] } {
  // A leading `-` would be read as an option: refuse it rather than pass it to git.
  if (rev === '' || rev.startsWith('-')) throw new GitError(`\`${rev}\` is not a git revision`);
  const top = git(existingDir(resolve(dir)), ['rev-parse', '--show-toplevel'])
    .toString()
    .trim();
  try {
    git(top, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch {
    throw new GitError(`\`${rev}\` does not name a commit in the repository at ${top}`);
  }
  const names = (out: Buffer) => out.toString('utf8').split('\0').filter(Boolean);
  const root = realpathSync(top);
  const changed = [
    ...names(git(top, ['diff', '--no-renames', '--name-only', '-z', rev, '--'])),
    ...names(git(top, ['ls-files', '--others', '--exclude-standard', '-z'])),
  ];
  return { root, paths: [...new Set(changed)].sort().map((p) => join(root, ...p.split('/'))) };
}
