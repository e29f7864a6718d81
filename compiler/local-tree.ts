// Walks a directory the manifest names (oemDir, overlay, targets.iso.overlay), with size bounded
// so validation cannot run forever. What a symlink in it means depends on the directory:
// - `copy` (overlay, oemDir): the link itself is the entry, recorded with its link text and never
//   followed — its target may exist only in the image (`etc/os-release -> ../usr/lib/os-release`),
//   so it may point anywhere (absolute, `..`, nothing): it is data, not a read. A link to a
//   directory is such an entry too, not walked.
// - `follow` (targets.iso.overlay): links are followed, and every entry must stay inside the
//   manifest's folder after them; loops are cut — a symlink can never leak outside files in.
// Either way, every file read for its content is a regular file inside the manifest's folder.

import { join, relative } from 'node:path';
import type { Host } from './host.js';
import { linkTargetProblem, linkTargetText } from './link-target.js';
import { isWithin } from './repository.js';

export interface TreeFile {
  /** Path inside the walked directory, `/`-separated. */
  relative: string;
  /** Path to read it through the Host. */
  path: string;
}

/** A symlink copied as a symlink: never read through. */
export interface TreeLink {
  /** Path inside the walked directory, `/`-separated. */
  relative: string;
  /** The link text, exactly as readlink gives it. */
  target: string;
}

export type TreeProblem =
  | { kind: 'outside'; relative: string; target: string }
  | { kind: 'dangling'; relative: string }
  | { kind: 'loop'; relative: string }
  | { kind: 'not-a-file'; relative: string }
  | { kind: 'bad-link'; relative: string; problem: string }
  | { kind: 'too-deep'; relative: string }
  | { kind: 'too-many'; limit: number };

export interface TreeLimits {
  maxDepth: number;
  /** Files and symlinks together. */
  maxFiles: number;
}

export type LinkPolicy = 'copy' | 'follow';

export interface LocalTree {
  files: TreeFile[];
  /** Only with the `copy` policy. */
  links: TreeLink[];
}

/** `root` is the walked directory as a Host path; `base` the manifest's folder (what entries must stay inside). */
export function walkLocalTree(host: Host, base: string, root: string, limits: TreeLimits, links: LinkPolicy): LocalTree & { problems: TreeProblem[] } {
  const realBase = host.realpath(base) ?? base;
  const inside = (real: string) => isWithin(realBase, real);
  const tree: LocalTree = { files: [], links: [] };
  const problems: TreeProblem[] = [];
  const visited = new Set<string>();
  let truncated = false;
  const room = () => {
    if (tree.files.length + tree.links.length < limits.maxFiles) return true;
    if (!truncated) {
      truncated = true;
      problems.push({ kind: 'too-many', limit: limits.maxFiles });
    }
    return false;
  };
  const walk = (dir: string, rel: string, depth: number) => {
    const realDir = host.realpath(dir);
    // A directory reached twice (a symlink loop, or two links to one place) is walked once.
    if (realDir === undefined || visited.has(realDir)) return;
    visited.add(realDir);
    for (const name of host.readDir(dir)) {
      const path = join(dir, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const link = links === 'copy' ? host.readlink?.(path) : undefined;
      if (link !== undefined) {
        const problem = linkTargetProblem(link);
        if (problem) problems.push({ kind: 'bad-link', relative: childRel, problem });
        else if (room()) tree.links.push({ relative: childRel, target: linkTargetText(link) });
        continue;
      }
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
        if (room()) tree.files.push({ relative: childRel, path });
      } else problems.push({ kind: 'not-a-file', relative: childRel });
    }
  };
  walk(root, '', 0);
  return { ...tree, problems };
}

/** The order of the walk (each folder's names sorted, a folder's entries where its name sorts). */
export function walkOrder(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}
