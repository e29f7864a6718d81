// The real file system behind the compiler's Host port.

import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import type { Host, PathKind } from '../compiler/host.js';

export const nodeHost: Host = {
  readFile(path) {
    try {
      return readFileSync(path);
    } catch {
      return undefined;
    }
  },
  realpath(path) {
    try {
      return realpathSync(path);
    } catch {
      return undefined;
    }
  },
  kind(path): PathKind {
    try {
      const s = statSync(path);
      return s.isFile() ? 'file' : s.isDirectory() ? 'directory' : 'other';
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'loop' : 'missing';
    }
  },
  mode(path) {
    try {
      return statSync(path).mode & 0o7777;
    } catch {
      return undefined;
    }
  },
  readDir(path) {
    try {
      return readdirSync(path).sort();
    } catch {
      return [];
    }
  },
};
