// The manifests `derivc build|graph|matrix PATH…` name. A file is itself; a directory means every
// `derivative.yaml` below it; a pattern with `*` or `?` is expanded by derivc itself, so CI can
// pass it quoted, the same on every shell: `*` and `?` within one path segment, `**` across
// segments (derivc.config.yaml's globs, compiler/suppress/glob.ts). What a pattern matches is taken
// as if named one by one: a file as a manifest, a directory for the manifests below it.
//
// Walks never enter .git, node_modules, derivc's default output folder (.derivc), an output
// directory (it holds derivc.json), derivc's own names beside one, or a symlinked directory (a
// link may lead out of the repository or back into itself).

import { isAbsolute, join, normalize, sep } from 'node:path';
import type { Host } from '../../compiler/host.js';
import { globToRegExp } from '../../compiler/suppress/glob.js';
import { UsageError } from '../exit-codes.js';

export const MANIFEST_NAME = 'derivative.yaml';

/** Folders a walk never enters. */
const SKIPPED = new Set(['.git', 'node_modules', '.derivc']);
/** `.NAME.derivc-new`, `-old`, `-lock` (cli/output-location.ts). */
const BESIDE = /^\..*\.derivc-(?:new|old|lock)(?:\..*)?$/;
/** Deeper than this, a walk stops: no repository nests manifests so deep, and a bound keeps a walk finite. */
const MAX_DEPTH = 32;

const isPattern = (arg: string) => /[*?]/.test(arg);

/** Whether a walk may enter `dir` (named `name`). */
function enterable(host: Host, dir: string, name: string): boolean {
  if (SKIPPED.has(name) || BESIDE.test(name)) return false;
  if (host.readlink?.(dir) !== undefined) return false;
  return host.kind(join(dir, 'derivc.json')) === 'missing';
}

/** Every `derivative.yaml` below `dir`, in walk order (entries sorted). */
function manifestsBelow(host: Host, dir: string, depth = 0): string[] {
  if (depth > MAX_DEPTH) return [];
  const found: string[] = [];
  for (const name of host.readDir(dir)) {
    const path = join(dir, name);
    const kind = host.kind(path);
    if (kind === 'file' && name === MANIFEST_NAME) found.push(path);
    else if (kind === 'directory' && enterable(host, path, name)) found.push(...manifestsBelow(host, path, depth + 1));
  }
  return found;
}

/** Files and directories `pattern` matches, walking from its longest literal leading part. */
function expandPattern(host: Host, pattern: string): string[] {
  const normalized = normalize(pattern).split(sep).join('/');
  const segments = normalized.split('/');
  const literal = segments.findIndex(isPattern);
  const baseParts = segments.slice(0, literal);
  const base = baseParts.length === 0 ? '.' : baseParts.join('/') || '/';
  const match = globToRegExp(normalized);
  const deep = normalized.includes('**');
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > MAX_DEPTH || (!deep && baseParts.length + depth >= segments.length)) return;
    for (const name of host.readDir(dir)) {
      const path = dir === '.' ? name : join(dir, name);
      const kind = host.kind(path);
      if (kind === 'directory' && !enterable(host, path, name)) continue;
      const spelled = isAbsolute(path) ? path : normalize(path).split(sep).join('/');
      if ((kind === 'file' || kind === 'directory') && match.test(spelled)) found.push(path);
      if (kind === 'directory') walk(path, depth + 1);
    }
  };
  if (host.kind(base) === 'directory') walk(base, 0);
  return found;
}

/**
 * The manifest files PATHs name, each once, in the order named (a directory's in walk order).
 * `defaults`: what no PATH means. A directory with no manifest below it means its own
 * `derivative.yaml`, as for `validate` (which then says it does not exist).
 */
export function expandManifestPaths(args: readonly string[], host: Host, defaults: readonly string[]): string[] {
  const list = args.length ? args : defaults;
  if (list.includes('')) throw new UsageError('a PATH argument is empty; name a manifest, a directory or a quoted pattern such as `"os/*/derivative.yaml"`');
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (path: string) => {
    const key = normalize(path);
    if (seen.has(key)) return;
    seen.add(key);
    out.push(path);
  };
  const take = (path: string) => {
    if (host.kind(path) !== 'directory') return add(path);
    const below = manifestsBelow(host, path);
    if (below.length === 0) add(join(path, MANIFEST_NAME));
    for (const m of below) add(m);
  };
  for (const arg of list) {
    // A file whose name holds `*` is that file; a pattern is only a pattern when nothing has its name.
    if (!isPattern(arg) || host.kind(arg) !== 'missing') {
      take(arg);
      continue;
    }
    const matches = expandPattern(host, arg);
    if (matches.length === 0) throw new UsageError(`no file or directory matches \`${arg}\``);
    for (const m of matches) {
      // A directory inside another match is already covered by it.
      if (host.kind(m) === 'directory' && matches.some((o) => o !== m && m.startsWith(o + '/') && host.kind(o) === 'directory')) continue;
      take(m);
    }
  }
  return out;
}
