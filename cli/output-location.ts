// Where `-o DIR` really is, and whether derivc may use it. DIR is replaced as a whole on each
// write (cli/output-commit.ts), so it must be a directory of its own: never `/`, a git work tree's
// root, a directory holding the manifest or anything the manifest reads, or one inside a directory
// the manifest reads (the output would become its own input). Every refusal happens before
// anything is written, as one line naming what is wrong.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { errno, ioError, OutputDirError } from './output-error.js';

/** What a manifest reads, as the compiler's Host saw it (cli/input-paths.ts). */
export interface InputPaths {
  /** The manifest FILE. */
  manifest: string;
  /** Every path read or looked at (the manifest, upstream manifests, `files`, overlay and oemDir entries). */
  paths: readonly string[];
  /** Directories whose entries were listed (overlay, oemDir). */
  dirs: readonly string[];
}

export interface Location {
  /** DIR as the user named it (for messages). */
  label: string;
  /** DIR with every symlink resolved: what is replaced on each write. */
  real: string;
}

/** Names derivc keeps next to DIR while writing it (cli/output-commit.ts, cli/output-lock.ts). */
export function besideNames(real: string): { fresh: string; old: string; lock: string } {
  const parent = path.dirname(real);
  const name = path.basename(real);
  return { fresh: path.join(parent, `.${name}.derivc-new`), old: path.join(parent, `.${name}.derivc-old`), lock: path.join(parent, `.${name}.derivc-lock`) };
}

const BESIDE_NAME = /^\..*\.derivc-(?:new|old|lock)(?:\..*)?$/;

export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}

/** Absolute path of what a symlink points at (not followed further). */
function linkTarget(link: string): string {
  return path.resolve(path.dirname(link), fs.readlinkSync(link));
}

/** `p` with symlinks resolved as far as it exists; the missing rest appended as named. */
function realpathOfMissing(p: string, label: string): string {
  const missing: string[] = [];
  let current = p;
  for (;;) {
    const stat = lstatOrUndefined(current);
    if (stat) break;
    const parent = path.dirname(current);
    if (parent === current) break;
    missing.unshift(path.basename(current));
    current = parent;
  }
  let real: string;
  try {
    real = fs.realpathSync(current);
  } catch (err) {
    if (errno(err) === 'ENOENT') throw new OutputDirError(`-o ${label}: ${current} is a symlink to ${linkTarget(current)}, which does not exist`);
    if (errno(err) === 'ELOOP') throw new OutputDirError(`-o ${label}: ${current} is a symlink loop`);
    throw ioError(`-o ${label}: cannot resolve ${current}`, err);
  }
  if (!fs.statSync(real).isDirectory()) throw new OutputDirError(`-o ${label}: ${current} is not a directory`);
  return path.join(real, ...missing);
}

/** Where DIR really is; a one-line OutputDirError when it cannot be a directory. Reads only. */
export function locate(given: string): Location {
  const abs = path.resolve(given);
  const label = given;
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(abs);
  } catch (err) {
    if (errno(err) === 'ENOENT') return { label, real: realpathOfMissing(abs, label) };
    if (errno(err) === 'ENOTDIR') {
      realpathOfMissing(path.dirname(abs), label); // names the component that is a file
      throw new OutputDirError(`-o ${label}: a component of the path is not a directory`);
    }
    if (errno(err) === 'ELOOP') throw new OutputDirError(`-o ${label}: a symlink loop in the path`);
    throw ioError(`-o ${label}: cannot look at ${abs}`, err);
  }
  if (stat.isSymbolicLink()) {
    let real: string;
    try {
      real = fs.realpathSync(abs);
    } catch (err) {
      if (errno(err) === 'ELOOP') throw new OutputDirError(`-o ${label}: ${given} is a symlink loop`);
      if (errno(err) !== 'ENOENT') throw ioError(`-o ${label}: cannot resolve the symlink ${given}`, err);
      // A dangling symlink whose directory an interrupted write moved aside comes back on recovery.
      const target = linkTarget(abs);
      let targetReal: string | undefined;
      try {
        targetReal = path.join(fs.realpathSync(path.dirname(target)), path.basename(target));
      } catch {
        targetReal = undefined;
      }
      if (targetReal && lstatOrUndefined(besideNames(targetReal).old)?.isDirectory()) return { label, real: targetReal };
      throw new OutputDirError(`-o ${label}: ${given} is a symlink to ${target}, which does not exist; create that directory or remove the symlink`);
    }
    if (!fs.statSync(real).isDirectory()) throw new OutputDirError(`-o ${label}: ${given} is a symlink to ${real}, which is not a directory`);
    return { label, real };
  }
  if (!stat.isDirectory()) throw new OutputDirError(`-o ${label}: ${given} exists and is not a directory`);
  return { label, real: fs.realpathSync(abs) };
}

/** Creates `dir` and its missing parents, one level at a time (recursive mkdir can loop on /proc). */
export function makeDirectories(dir: string, label: string): void {
  const missing: string[] = [];
  for (let p = dir; !lstatOrUndefined(p); p = path.dirname(p)) {
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      fs.mkdirSync(p);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw ioError(`-o ${label}: cannot create ${p}`, err);
    }
  }
}

/** The git work tree root above `file` (the nearest directory holding `.git`), if any. */
function repositoryRoot(file: string): string | undefined {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if (lstatOrUndefined(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The path as named (absolute) and with symlinks resolved, when it exists. */
function bothForms(p: string): string[] {
  const abs = path.resolve(p);
  try {
    const real = fs.realpathSync(abs);
    return real === abs ? [abs] : [abs, real];
  } catch {
    return [abs];
  }
}

/** Throws when DIR must not be used; reads only. `inputs`: what the manifest reads, when known. */
export function refuse(loc: Location, inputs: InputPaths | undefined): void {
  const { label, real } = loc;
  const why = (reason: string) => new OutputDirError(`refusing -o ${label}: ${reason}; nothing was written`);
  if (path.dirname(real) === real) throw why(`${real} is the root directory`);
  if (BESIDE_NAME.test(path.basename(real))) throw why('that name is reserved for what derivc keeps next to an output directory while writing it');
  if (lstatOrUndefined(path.join(real, '.git')))
    throw why(`${real} is the root of a git work tree (it holds .git); use a directory of its own, such as ${path.join(label, 'out')}`);
  if (inputs) {
    for (const manifest of bothForms(inputs.manifest)) {
      if (!isInside(real, manifest)) continue;
      const root = repositoryRoot(manifest);
      if (root && path.resolve(root) === real) throw why(`${real} is the root of the repository holding the manifest`);
      throw why(`it holds the manifest ${inputs.manifest}`);
    }
    for (const input of inputs.paths) {
      for (const p of bothForms(input)) if (isInside(real, p)) throw why(`${p === real ? 'it is' : 'it holds'} ${input}, which the manifest reads`);
    }
    for (const dir of inputs.dirs) {
      for (const p of bothForms(dir)) if (isInside(p, real)) throw why(`it is inside ${dir}, a directory the manifest reads: the output would become input`);
    }
  }
  const stat = lstatOrUndefined(real);
  const parentStat = lstatOrUndefined(path.dirname(real));
  if (stat && parentStat && stat.dev !== parentStat.dev) {
    throw why(
      `${real} is a mount point; derivc replaces the output directory as a whole, so it must be on the file system of its parent — use a directory inside it`,
    );
  }
}
