// "The repository": the one place a manifest may read from. It is the git work tree holding the
// manifest (a `.git` directory, or the `.git` file of a worktree or submodule), or the manifest's
// own directory when it is in none. A manifest from a pull request can name files, but never one
// outside its repository: not `/proc/self/environ`, not `~/.ssh`, not through a symlink.

import { dirname, join, sep } from 'node:path';
import type { Host } from './host.js';

/** The repository root (symlinks resolved) for a manifest in `dir`, or undefined when `dir` cannot be resolved. */
export function repositoryRoot(host: Host, dir: string): string | undefined {
  if (host.repositoryRoot) return host.repositoryRoot();
  const start = host.realpath(dir);
  if (start === undefined) return undefined;
  for (let p = start; ; p = dirname(p)) {
    if (host.kind(join(p, '.git')) !== 'missing') return p;
    if (dirname(p) === p) return start;
  }
}

/** Whether the resolved path `real` is `root` or lies under it. */
export function isWithin(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}
