// Walks a directory the manifest names (oemDir, overlay, targets.iso.overlay): every entry must
// stay inside the manifest's folder after symlinks, loops are cut, and size is bounded — a
// symlink can neither leak outside files into the image nor make validation run forever.

import { join, relative } from 'node:path';
import type { Host } from './host.js';
import { isWithin } from './repository.js';

export interface TreeFile {
  /** Path inside the walked directory, `/`-separated. */
  relative: string;
  /** Path to read it through the Host. */
  path: string;
}

export type TreeProblem =
  | { kind: 'outside'; relative: string; target: string }
  | { kind: 'dangling'; relative: string }
  | { kind: 'loop'; relative: string }
  | { kind: 'not-a-file'; relative: string }
  | { kind: 'too-deep'; relative: string }
  | { kind: 'too-many'; limit: number };

export interface TreeLimits {
  maxDepth: number;
  maxFiles: number;
}

/** `root` is the walked directory as a Host path; `base` the manifest's folder (what entries must stay inside). */
export function walkLocalTree(host: Host, base: string, root: string, limits: TreeLimits): { files: TreeFile[]; problems: TreeProblem[] } {
  const realBase = host.realpath(base) ?? base;
  const inside = (real: string) => isWithin(realBase, real);
  const files: TreeFile[] = [];
  const problems: TreeProblem[] = [];
  const visited = new Set<string>();
  let truncated = false;
  const walk = (dir: string, rel: string, depth: number) => {
    const realDir = host.realpath(dir);
    // A directory reached twice (a symlink loop, or two links to one place) is walked once.
    if (realDir === undefined || visited.has(realDir)) return;
    visited.add(realDir);
    for (const name of host.readDir(dir)) {
      const path = join(dir, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const real = host.realpath(path);
      if (real === undefined) {
        problems.push({ kind: host.kind(path) === 'loop' ? 'loop' : 'dangling', relative: childRel });
        continue;
      }
      if (!inside(real)) {
        problems.push({ kind: 'outside', relative: childRel, target: relative(realBase, real) });
        continue;
      }
      const kind = host.kind(path);
      if (kind === 'directory') {
        if (depth < limits.maxDepth) walk(path, childRel, depth + 1);
        else problems.push({ kind: 'too-deep', relative: childRel });
      } else if (kind === 'file') {
        if (files.length < limits.maxFiles) files.push({ relative: childRel, path });
        else if (!truncated) {
          truncated = true;
          problems.push({ kind: 'too-many', limit: limits.maxFiles });
        }
      } else problems.push({ kind: 'not-a-file', relative: childRel });
    }
  };
  walk(root, '', 0);
  return { files, problems };
}
