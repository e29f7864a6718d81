// Paths in `github` and `sarif` output: GitHub places an annotation or a code-scanning alert by a
// path relative to the repository's root, wherever derivc ran — `cd os && derivc validate --format
// github` must name `os/derivative.yaml`. The root is `--root DIR`, else the git work tree holding
// the current directory (the nearest `.git` above it), else the current directory.

import { lstatSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { STDIN_NAME } from './stdin-host.js';

/** The nearest directory at or above `dir` holding `.git` (a directory, or a worktree's file). */
export function gitWorkTree(dir: string): string | undefined {
  for (let p = dir; ; p = dirname(p)) {
    if (lstatSync(join(p, '.git'), { throwIfNoEntry: false })) return p;
    if (dirname(p) === p) return undefined;
  }
}

/** Maps a diagnostic's file (as the manifest or command line named it) to its path under the root; files outside the root stay as named. */
export function reportPaths(cwd: string, root: string | undefined): (file: string) => string {
  const base = root !== undefined ? resolve(cwd, root) : (gitWorkTree(cwd) ?? cwd);
  return (file) => {
    if (file === STDIN_NAME || file === '') return file;
    const rel = relative(base, resolve(cwd, file));
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return file;
    return rel.split(sep).join('/');
  };
}
