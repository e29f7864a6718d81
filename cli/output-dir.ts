// Writes the compiled build context into the output directory (`derivc compile -o DIR`), or tells
// what writing it would change (`--check`). Three promises to users: nothing is ever written or
// removed outside DIR, a reader never sees a half-written file, and only files derivc itself
// wrote earlier (listed in DIR/derivc.json) are ever removed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE, type FileContent, type GeneratedFile } from '../compiler/emit/types.js';
import { OUTPUT_TEMP_SUFFIX, outputPathProblem } from '../compiler/output-path.js';
import { contentDiff, contentSize, fileContent, sameContentAs, writeContentTo } from './content.js';
import { modeChangeLine } from './unified-diff.js';

/** A refused output path, or an I/O failure while writing: the CLI reports it and exits 1. */
export class OutputDirError extends Error {}

export interface WriteReport {
  /** New files, and files whose content or mode changed. Sorted. */
  written: string[];
  /** Files already on disk with the same bytes and mode: not touched (mtime kept). Sorted. */
  unchanged: string[];
  /** Files the previous run listed in derivc.json that this run no longer produces. Sorted. */
  removed: string[];
}

/** What is on disk where one generated file goes. */
interface Entry {
  path: string;
  target: string;
  content: FileContent;
  mode: number;
  /** `other`: a directory, symlink or device is in the way; it is replaced (or the write fails). */
  old: { kind: 'absent' } | { kind: 'other' } | { kind: 'file'; mode: number; sameBytes: boolean };
}

interface Plan {
  /** DIR as given, made absolute. */
  dir: string;
  /** DIR with symlinks resolved, or null when it does not exist yet (then nothing is in it). */
  root: string | null;
  /** Sorted by path. */
  entries: Entry[];
  /** Regular files to remove, sorted. */
  removals: string[];
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function ioError(what: string, err: unknown): OutputDirError {
  return new OutputDirError(`${what}: ${(err as Error).message}`);
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * Why writing (or removing) `rel` under `root` would reach outside it through a symlink already on
 * disk, or undefined. Components that do not exist yet cannot be symlinks; a symlink that resolves
 * inside DIR is harmless, one that dangles or leads out is refused.
 */
function symlinkEscape(root: string, rel: string): string | undefined {
  let current = root;
  for (const segment of rel.split('/')) {
    const next = path.join(current, segment);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(next);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return undefined;
      throw ioError(`cannot inspect ${next}`, err);
    }
    if (stat.isSymbolicLink()) {
      let real: string;
      try {
        real = fs.realpathSync(next);
      } catch {
        return `${next} is a symlink that does not resolve`;
      }
      if (!isInside(root, real)) return `${next} is a symlink to ${real}, outside the output directory`;
      current = real;
    } else if (stat.isDirectory()) {
      current = next;
    } else {
      return undefined; // a file in the way: the write fails later, nothing can escape through it
    }
  }
  return undefined;
}

/** DIR with symlinks resolved, or null when it does not exist. */
function resolveRoot(dir: string): string | null {
  let real: string;
  try {
    real = fs.realpathSync(dir);
  } catch (err) {
    if (errno(err) === 'ENOENT') return null;
    throw ioError(`cannot open output directory ${dir}`, err);
  }
  if (!fs.statSync(real).isDirectory()) throw new OutputDirError(`output directory ${dir} exists and is not a directory`);
  return real;
}

/** What derivc wrote last time, from the old derivc.json; [] when it is missing or unreadable. */
function previousListing(root: string): string[] {
  const file = path.join(root, MANIFEST_FILE);
  try {
    if (!fs.lstatSync(file).isFile()) return [];
    const listed: unknown = (JSON.parse(fs.readFileSync(file, 'utf8')) as { files?: unknown } | null)?.files;
    if (!Array.isArray(listed)) return [];
    return listed.map((f: unknown) => (f as { path?: unknown } | null)?.path).filter((p): p is string => typeof p === 'string');
  } catch {
    return [];
  }
}

function inspect(target: string, content: FileContent): Entry['old'] {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(target);
  } catch (err) {
    if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return { kind: 'absent' };
    throw ioError(`cannot inspect ${target}`, err);
  }
  if (!stat.isFile()) return { kind: 'other' };
  let sameBytes = false;
  if (stat.size === contentSize(content)) {
    try {
      sameBytes = sameContentAs(target, content);
    } catch (err) {
      throw ioError(`cannot read ${target}`, err);
    }
  }
  return { kind: 'file', mode: stat.mode & 0o7777, sameBytes };
}

function isUnchanged(entry: Entry): boolean {
  return entry.old.kind === 'file' && entry.old.sameBytes && entry.old.mode === entry.mode;
}

/** Validates every path, then compares with the disk. Reads only; throws before anything is written. */
function makePlan(dir: string, files: readonly GeneratedFile[]): Plan {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const problem = outputPathProblem(file.path);
    if (problem) problems.push(`${JSON.stringify(file.path)}: ${problem}`);
    else if (seen.has(file.path)) problems.push(`${JSON.stringify(file.path)}: generated twice`);
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777) problems.push(`${JSON.stringify(file.path)}: invalid mode ${file.mode}`);
    seen.add(file.path);
  }
  // A path that is also another path's directory could never be written.
  for (const p of seen) {
    for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
      if (seen.has(p.slice(0, i))) problems.push(`${JSON.stringify(p)}: ${JSON.stringify(p.slice(0, i))} is generated as a file`);
    }
  }
  const absDir = path.resolve(dir);
  const root = problems.length ? null : resolveRoot(absDir);
  if (root) {
    for (const file of files) {
      const escape = symlinkEscape(root, file.path);
      if (escape) problems.push(`${JSON.stringify(file.path)}: ${escape}`);
    }
  }
  if (problems.length) throw new OutputDirError(`refusing to write outside ${dir} (nothing written):\n  ${problems.join('\n  ')}`);

  const base = root ?? absDir;
  const entries: Entry[] = [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((file) => {
      const target = path.join(base, ...file.path.split('/'));
      return { path: file.path, target, content: file.content, mode: file.mode, old: root ? inspect(target, file.content) : { kind: 'absent' } };
    });

  const removals: string[] = [];
  if (root) {
    for (const p of new Set(previousListing(root))) {
      if (seen.has(p) || outputPathProblem(p) || symlinkEscape(root, p)) continue;
      try {
        if (fs.lstatSync(path.join(root, ...p.split('/'))).isFile()) removals.push(p);
      } catch {
        // already gone, or a non-directory in the way: nothing to remove
      }
    }
  }
  removals.sort();
  return { dir: absDir, root, entries, removals };
}

/** Writes `bytes` with `mode` to `target` via a temp file in the same directory and a rename. */
function writeAtomically(entry: Entry): void {
  const parent = path.dirname(entry.target);
  const temp = path.join(parent, `.${path.basename(entry.target)}${OUTPUT_TEMP_SUFFIX}`);
  let fd: number | undefined;
  let created = false;
  try {
    fs.mkdirSync(parent, { recursive: true });
    try {
      fd = fs.openSync(temp, 'wx', 0o600);
    } catch (err) {
      if (errno(err) !== 'EEXIST') throw err;
      fs.unlinkSync(temp); // left by an interrupted run ('wx' never follows a planted symlink)
      fd = fs.openSync(temp, 'wx', 0o600);
    }
    created = true;
    writeContentTo(fd, entry.content); // a source no longer as checked throws: the temp file goes
    fs.fchmodSync(fd, entry.mode); // explicit: the umask must not decide what goes into the image
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, entry.target);
  } catch (err) {
    try {
      if (fd !== undefined) fs.closeSync(fd);
      if (created) fs.rmSync(temp, { force: true });
    } catch {
      // keep the original error: it is the one that explains the failure
    }
    throw ioError(`cannot write ${entry.path}`, err);
  }
}

/** Removes the directories between `rel` and `root` that its removal left empty. */
function pruneEmptyParents(root: string, rel: string): void {
  const segments = rel.split('/');
  for (let n = segments.length - 1; n > 0; n--) {
    const dir = path.join(root, ...segments.slice(0, n));
    try {
      if (!fs.lstatSync(dir).isDirectory() || fs.readdirSync(dir).length > 0) return;
      fs.rmdirSync(dir);
    } catch (err) {
      if (errno(err) === 'ENOENT' || errno(err) === 'ENOTEMPTY' || errno(err) === 'EEXIST') return;
      throw ioError(`cannot remove empty directory ${dir}`, err);
    }
  }
}

/** Writes `files` into `dir` atomically; returns what changed. Throws OutputDirError for a refused path or I/O failure. */
export function writeOutputDir(dir: string, files: readonly GeneratedFile[]): WriteReport {
  const plan = makePlan(dir, files);
  if (plan.root === null) {
    try {
      fs.mkdirSync(plan.dir, { recursive: true });
    } catch (err) {
      throw ioError(`cannot create output directory ${dir}`, err);
    }
  }
  const root = plan.root ?? plan.dir;

  // Removals first: a stale file may sit where a new directory goes (or the other way round).
  const removed: string[] = [];
  for (const rel of plan.removals) {
    try {
      fs.unlinkSync(path.join(root, ...rel.split('/')));
    } catch (err) {
      if (errno(err) === 'ENOENT') continue;
      throw ioError(`cannot remove stale ${rel}`, err);
    }
    removed.push(rel);
    pruneEmptyParents(root, rel);
  }

  // derivc.json last: until it is replaced, the old listing still covers everything written so far.
  const ordered = [...plan.entries.filter((e) => e.path !== MANIFEST_FILE), ...plan.entries.filter((e) => e.path === MANIFEST_FILE)];
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const entry of ordered) {
    if (isUnchanged(entry)) {
      unchanged.push(entry.path);
    } else {
      writeAtomically(entry);
      written.push(entry.path);
    }
  }
  return { written: written.sort(), unchanged: unchanged.sort(), removed };
}

/** For --check: what would change, as a unified diff (empty string = up to date). Writes nothing. */
export function checkOutputDir(dir: string, files: readonly GeneratedFile[]): { stale: boolean; diff: string } {
  const plan = makePlan(dir, files);
  const read = (target: string): FileContent => {
    try {
      return fileContent(target);
    } catch (err) {
      throw ioError(`cannot read ${target}`, err);
    }
  };
  const parts: { path: string; text: string }[] = [];
  for (const entry of plan.entries) {
    if (isUnchanged(entry)) continue;
    if (entry.old.kind === 'file') {
      const modeLine = entry.old.mode === entry.mode ? '' : modeChangeLine(entry.path, entry.old.mode, entry.mode);
      const changes = entry.old.sameBytes ? '' : contentDiff(entry.path, read(entry.target), entry.content);
      parts.push({ path: entry.path, text: modeLine + changes });
    } else {
      parts.push({ path: entry.path, text: contentDiff(entry.path, null, entry.content) });
    }
  }
  const root = plan.root ?? plan.dir;
  for (const rel of plan.removals) parts.push({ path: rel, text: contentDiff(rel, read(path.join(root, ...rel.split('/'))), null) });
  parts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { stale: parts.length > 0, diff: parts.map((p) => p.text).join('') };
}
