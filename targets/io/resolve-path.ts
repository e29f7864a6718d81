// The one symlink resolver for paths inside an image, whatever holds the image's entries (its
// layers, or the /boot entries captured from an export): component by component, absolute links
// from the image's root, ".." stopping at that root, at most 40 links per lookup as in Linux.

import * as path from 'node:path';

/** What a path is, as far as resolving goes. */
export type PathNode = { type: 'directory' } | { type: 'symlink'; linkname: string } | { type: 'other' };

const MAX_SYMLINK_HOPS = 40;

export class SymlinkLoopError extends Error {
  constructor(file: string) {
    super(`too many levels of symbolic links in ${file}`);
    this.name = 'SymlinkLoopError';
  }
}

/**
 * The path `file` leads to with every symlink followed, last component included; undefined when
 * a component is missing, or a non-directory stands where a directory is needed, or it is the root.
 */
export function resolvePath(file: string, nodeAt: (p: string) => PathNode | undefined): string | undefined {
  const pending = file.split('/');
  let current = '/';
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      current = path.posix.dirname(current);
      continue;
    }
    const next = path.posix.join(current, part);
    const node = nodeAt(next);
    if (!node) return undefined;
    if (node.type === 'symlink') {
      if (++hops > MAX_SYMLINK_HOPS) throw new SymlinkLoopError(file);
      if (node.linkname.startsWith('/')) current = '/';
      pending.unshift(...node.linkname.split('/'));
      continue;
    }
    if (node.type !== 'directory' && pending.some((rest) => rest !== '' && rest !== '.')) return undefined;
    current = next;
  }
  return current === '/' ? undefined : current;
}
