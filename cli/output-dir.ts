// The output directory (`derivc compile -o DIR`, `derivc build -o DIR`): writing the compiled
// build context into it, or telling what writing would change (`--check`). What users rely on:
// - DIR is only ever the old state or the new one, also when derivc is killed (cli/output-commit.ts);
// - one derivc process at a time uses DIR; a killed one blocks nobody (cli/output-lock.ts);
// - derivc replaces or removes only what it provably wrote; everything else in DIR is kept, and what
//   sits unlisted in derivc's namespace is reported (cli/output-plan.ts);
// - DIR is never `/`, a repository root, or a directory holding the manifest or its inputs
//   (cli/output-location.ts); nothing is written outside DIR and the two names next to it that
//   derivc keeps while writing (`.NAME.derivc-new`, `.NAME.derivc-old`) and its lock.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GeneratedFile } from '../compiler/emit/types.js';
import { fileContent } from './content.js';
import { entryDiff, fileSide, linkSide, sideOf, type DiffSide } from './entry-diff.js';
import { buildTree, recover, swapIn, type Beside, type StepHook } from './output-commit.js';
import { errno, ioError, OutputDirError } from './output-error.js';
import { tryLock, waitLock, type OutputLock, type WaitOptions } from './output-lock.js';
import { besideNames, locate, makeDirectories, refuse, type InputPaths, type Location } from './output-location.js';
import { checkGenerated, makePlan, type Plan } from './output-plan.js';

export { OutputDirError } from './output-error.js';
export { checkGenerated } from './output-plan.js';
export type { WaitOptions } from './output-lock.js';

export interface WriteReport {
  /** New files, and files whose content or mode changed. Sorted. */
  written: string[];
  /** Files already on disk with the same bytes and mode: not touched (inode and mtime kept). Sorted. */
  unchanged: string[];
  /** Files the previous run listed in derivc.json, no longer produced, still as derivc wrote them. Sorted. */
  removed: string[];
  /** Files the previous run listed, no longer produced, but changed since: kept. Sorted. */
  kept: string[];
  /** Files in derivc's namespace that derivc did not write: kept, never sent to the build. Sorted. */
  unlisted: string[];
}

export interface CheckReport {
  /** True when a write would change DIR, or DIR holds files derivc did not write in its namespace. */
  stale: boolean;
  /** Unified diff of what a write would change, then one line per kept or unlisted file. */
  diff: string;
}

export interface OutputDirOptions {
  /** What the manifest reads: DIR must hold none of it. A function: `build` learns it while compiling. */
  inputs?: () => InputPaths | undefined;
  /** What this process is doing, shown to another one waiting for DIR. */
  command?: string;
  /** Lines for the user: a recovered interrupted write, a broken stale lock, files kept. */
  note?: (line: string) => void;
  /** Tests: called between the steps of a write (where a crash would stop it). */
  onStep?: StepHook;
}

const ignore = () => {};

/** An output directory opened for writing or checking: located, refused if it must be, locked, recovered. */
export class OutputDir {
  private readonly beside: Beside;
  private readonly note: (line: string) => void;
  private readonly step: StepHook;

  constructor(
    private readonly loc: Location,
    private lock: OutputLock | undefined,
    private readonly opts: OutputDirOptions,
  ) {
    this.beside = { dir: loc.real, ...besideNames(loc.real) };
    this.note = opts.note ?? ignore;
    this.step = opts.onStep ?? ignore;
  }

  /** DIR as the user named it. */
  get label(): string {
    return this.loc.label;
  }

  /** DIR with symlinks resolved. */
  get path(): string {
    return this.loc.real;
  }

  /** The directory when it exists (after recovery), else null. */
  private root(): string | null {
    try {
      return fs.statSync(this.loc.real).isDirectory() ? this.loc.real : null;
    } catch (err) {
      if (errno(err) === 'ENOENT') return null;
      throw ioError(`cannot open ${this.label}`, err);
    }
  }

  recover(): void {
    recover(this.beside, this.label, this.note);
    this.step('recovered');
  }

  private plan(files: readonly GeneratedFile[]): { root: string | null; plan: Plan } {
    checkGenerated(files);
    refuse(this.loc, this.opts.inputs?.()); // again: while compiling, more inputs became known
    const root = this.root();
    return { root, plan: makePlan(root, files, this.label) };
  }

  /** Makes DIR hold `files` (see the top of this file). Throws OutputDirError, DIR unchanged, when it cannot. */
  write(files: readonly GeneratedFile[]): WriteReport {
    if (!this.lock) throw new Error('output directory opened without its lock');
    const { root, plan } = this.plan(files);
    this.step('planned');
    if (plan.changes) {
      buildTree(this.beside, root, plan, this.label, this.step);
      swapIn(this.beside, root !== null, this.label, this.step, this.note);
    }
    for (const line of plan.ignoredListing) this.note(`ignored an entry of the previous ${this.label}/derivc.json: ${line}`);
    for (const p of plan.edited) this.note(`replaced ${this.label}/${p}, which had been changed since derivc wrote it (derivc.json records other bytes)`);
    for (const p of plan.kept) this.note(`kept ${this.label}/${p}: derivc wrote it and no longer generates it, but it was changed since; remove it by hand`);
    for (const p of plan.unlisted) this.note(`${this.label}/${p} is not a file derivc wrote (not in derivc.json): kept, never sent to the build; remove it`);
    return { written: plan.write.map((f) => f.path), unchanged: plan.unchanged, removed: plan.removed, kept: plan.kept, unlisted: plan.unlisted };
  }

  /** What a write would change, as a unified diff; writes nothing (beyond recovering an interrupted write). */
  check(files: readonly GeneratedFile[]): CheckReport {
    const { root, plan } = this.plan(files);
    // What is on disk, as git would show it: a symlink is its link text (read, never followed).
    const read = (rel: string): DiffSide | null => {
      if (!root) return null;
      const file = path.join(root, ...rel.split('/'));
      try {
        const st = fs.lstatSync(file);
        if (st.isSymbolicLink()) return linkSide(fs.readlinkSync(file, 'utf8'));
        return st.isFile() ? fileSide(fileContent(file), st.mode & 0o7777) : null;
      } catch (err) {
        if (errno(err) === 'ENOENT' || errno(err) === 'ENOTDIR') return null;
        throw ioError(`cannot read ${file}`, err);
      }
    };
    const parts: { path: string; text: string }[] = [];
    for (const f of plan.write) parts.push({ path: f.path, text: entryDiff(f.path, read(f.path), sideOf(f)).text });
    for (const rel of plan.removed) parts.push({ path: rel, text: entryDiff(rel, read(rel), null).text });
    parts.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const lines = [
      ...plan.kept.map((p) => `kept ${p}: derivc wrote it and no longer generates it, but it was changed since; remove it by hand\n`),
      ...plan.unlisted.map((p) => `unlisted ${p}: not a file derivc wrote (not in derivc.json); never sent to the build; remove it\n`),
    ];
    return { stale: parts.length > 0 || plan.changes || lines.length > 0, diff: parts.map((p) => p.text).join('') + lines.join('') };
  }

  /** Gives DIR up to other processes. */
  close(): void {
    this.lock?.release();
    this.lock = undefined;
    this.step('unlocked');
  }
}

/**
 * Opens DIR: locates it (symlinks resolved), refuses it when it must not be used, creates its
 * parent, takes its lock and recovers an interrupted write. Without `wait`, a DIR in use by another
 * process is an error at once; with it, this waits (bounded) and returns a promise.
 */
export function openOutputDir(dir: string, opts?: OutputDirOptions & { forCheck?: boolean }): OutputDir;
export function openOutputDir(dir: string, opts: OutputDirOptions & { forCheck?: boolean }, wait: WaitOptions): OutputDir | Promise<OutputDir>;
export function openOutputDir(dir: string, opts: OutputDirOptions & { forCheck?: boolean } = {}, wait?: WaitOptions): OutputDir | Promise<OutputDir> {
  const loc = locate(dir);
  refuse(loc, opts.inputs?.());
  const parent = path.dirname(loc.real);
  if (!fs.existsSync(parent)) {
    if (opts.forCheck) return new OutputDir(loc, undefined, opts); // nothing there to lock or recover
    makeDirectories(parent, dir);
  }
  const request = { path: besideNames(loc.real).lock, label: dir, command: opts.command ?? 'compile', ...(opts.note ? { note: opts.note } : {}) };
  const opened = (lock: OutputLock): OutputDir => {
    opts.onStep?.('locked');
    const out = new OutputDir(loc, lock, opts);
    try {
      out.recover();
    } catch (err) {
      lock.release();
      throw err;
    }
    return out;
  };
  const first = tryLock(request);
  if (first.lock) return opened(first.lock);
  if (!wait) throw new OutputDirError(`${dir} is in use by ${first.holder}; run again once it has finished`);
  return waitLock(request, wait).then(opened);
}

/** Writes `files` into `dir` (see OutputDir.write); fails at once when another process uses DIR. */
export function writeOutputDir(dir: string, files: readonly GeneratedFile[], opts: OutputDirOptions = {}): WriteReport {
  checkGenerated(files); // before anything is created
  const out = openOutputDir(dir, opts);
  try {
    return out.write(files);
  } finally {
    out.close();
  }
}

/** For --check (see OutputDir.check); fails at once when another process uses DIR. */
export function checkOutputDir(dir: string, files: readonly GeneratedFile[], opts: OutputDirOptions = {}): CheckReport {
  checkGenerated(files);
  const out = openOutputDir(dir, { ...opts, forCheck: true });
  try {
    return out.check(files);
  } finally {
    out.close();
  }
}
