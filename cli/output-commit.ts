// Replacing the output directory as a whole, so that it only ever holds its old state or its new one.
//
// Why DIR is always the old or the new state (every file's bytes and mode, and the file set):
// a write builds the complete new tree at `.NAME.derivc-new`, next to DIR (same parent, so same
// file system): changed generated files are written there; everything else — unchanged generated
// files, the user's files, build.log, media, test results — is hard-linked from DIR (same inode,
// bytes, mode and mtime; copied where the file system refuses a link). DIR is not touched meanwhile.
// Then two renames:
//   1. DIR → `.NAME.derivc-old`       DIR is absent from here …
//   2. `.NAME.derivc-new` → DIR       … to here; this rename is the commit point
// and `.NAME.derivc-old` is removed. rename(2) is atomic and every file of the new tree is complete
// before step 1, so at any instant DIR is the intact old tree, absent (between 1 and 2: Node has no
// renameat2(RENAME_EXCHANGE) to swap in one step), or the complete new tree.
//
// A process killed at any point leaves one of these, which the next write or --check repairs under
// the lock, before anything else (`recover`), and says so:
//   DIR absent, `-old` present   → `-old` renamed back to DIR (the old state); `-new` removed
//   DIR present                  → `-new` (never committed) and `-old` (already replaced) removed
//   DIR absent, only `-new`      → `-new` removed (DIR did not exist before)
// A lock it held is broken by the next process (cli/output-lock.ts), so nothing it made stays.
//
// Removing `-new` or `-old` removes nothing derivc cannot prove it wrote: `-new` holds files derivc
// wrote and links to files DIR still holds; `-old` holds links to what the new DIR holds, plus what
// the ownership rules (cli/output-plan.ts) let derivc remove or replace. Removal never follows a
// symlink. Both names are reserved (`-o` refuses them); a directory planted there by hand is
// treated the same way and cannot lead outside itself.
//
// The guarantee is against a process dying (SIGKILL, a crash, Ctrl-C), not against power loss:
// nothing is fsync'ed.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeContentTo } from './content.js';
import { errno, ioError, OutputDirError } from './output-error.js';
import type { Plan } from './output-plan.js';

export interface Beside {
  /** DIR, symlinks resolved. */
  dir: string;
  fresh: string;
  old: string;
}

/** Called between the steps of a write: tests capture the disk there, as a crash would leave it. */
export type StepHook = (step: string) => void;

function exists(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if (errno(err) === 'ENOENT') return undefined;
    throw ioError(`cannot inspect ${p}`, err);
  }
}

/** Removes a tree (never following symlinks), also when it holds read-only directories. */
export function removeTree(p: string): void {
  try {
    fs.rmSync(p, { recursive: true, force: true });
  } catch (err) {
    if (errno(err) !== 'EACCES' && errno(err) !== 'EPERM') throw ioError(`cannot remove ${p}`, err);
    const open = (dir: string) => {
      fs.chmodSync(dir, (fs.lstatSync(dir).mode & 0o7777) | 0o700);
      for (const name of fs.readdirSync(dir)) {
        const child = path.join(dir, name);
        if (fs.lstatSync(child).isDirectory()) open(child);
      }
    };
    try {
      open(p);
      fs.rmSync(p, { recursive: true, force: true });
    } catch (again) {
      throw ioError(`cannot remove ${p}`, again);
    }
  }
}

/** Repairs what an interrupted write left next to DIR (see the top of this file). */
export function recover(b: Beside, label: string, note: (line: string) => void): void {
  const fresh = exists(b.fresh);
  const old = exists(b.old);
  for (const [p, st] of [
    [b.fresh, fresh],
    [b.old, old],
  ] as const) {
    if (st && !st.isDirectory())
      throw new OutputDirError(`${p} is not a directory derivc made (its name is reserved for an output directory being written); remove it`);
  }
  if (old && !exists(b.dir)) {
    try {
      fs.renameSync(b.old, b.dir);
    } catch (err) {
      throw ioError(`cannot restore ${label} from ${b.old}`, err);
    }
    note(`restored ${label}: an interrupted write had moved it aside (it is as it was before that write)`);
  } else if (old) {
    removeTree(b.old);
    note(`removed ${b.old}, the previous content of ${label} left by an interrupted write (${label} already holds the new one)`);
  }
  if (fresh) {
    removeTree(b.fresh);
    note(`removed ${b.fresh}, the unfinished output of an interrupted write (${label} was not changed by it)`);
  }
}

function attempt<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw ioError(what, err);
  }
}

/** A hard link (same inode: bytes, mode and mtime kept); a copy with the same mode and times where links are refused. */
function linkOrCopy(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
  } catch (err) {
    if (!['EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV'].includes(errno(err) ?? '')) throw err;
    const st = fs.statSync(from);
    fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL);
    fs.chmodSync(to, st.mode & 0o7777);
    fs.utimesSync(to, st.atime, st.mtime);
  }
}

/** Builds the whole new DIR at `b.fresh` from the plan. On failure nothing of it stays. */
export function buildTree(b: Beside, root: string | null, plan: Plan, label: string, step: StepHook): void {
  const at = (base: string, rel: string) => path.join(base, ...rel.split('/'));
  if (exists(b.fresh)) removeTree(b.fresh);
  attempt(`cannot create ${b.fresh}`, () => fs.mkdirSync(b.fresh));
  try {
    step('tree:started');
    for (const d of plan.dirs) attempt(`cannot create ${label}/${d.path}`, () => fs.mkdirSync(at(b.fresh, d.path)));
    for (const f of plan.write) {
      attempt(`cannot write ${f.path}`, () => {
        // A symlink is made as a symlink in the fresh tree; its target is never opened or checked.
        if (f.symlink !== undefined) return fs.symlinkSync(f.symlink, at(b.fresh, f.path));
        // `wx` (O_CREAT|O_EXCL): never through a symlink, should one be there against all odds.
        const fd = fs.openSync(at(b.fresh, f.path), 'wx', 0o600);
        try {
          writeContentTo(fd, f.content); // a named file no longer as checked throws: the new tree goes
          fs.fchmodSync(fd, f.mode); // explicit: the umask must not decide what goes into the image
        } finally {
          fs.closeSync(fd);
        }
      });
      step('tree:file');
    }
    const links = new Map(plan.unchangedLinks.map((l) => [l.path, l.target]));
    for (const p of plan.unchanged) {
      const target = links.get(p);
      // An unchanged symlink is made again from its generated text: a copy would follow it.
      attempt(`cannot keep ${label}/${p}`, () => (target !== undefined ? fs.symlinkSync(target, at(b.fresh, p)) : linkOrCopy(at(root!, p), at(b.fresh, p))));
    }
    for (const c of plan.carried) {
      attempt(`cannot keep ${label}/${c.path}`, () => {
        if (c.kind === 'symlink') fs.symlinkSync(fs.readlinkSync(at(root!, c.path)), at(b.fresh, c.path));
        else linkOrCopy(at(root!, c.path), at(b.fresh, c.path));
      });
    }
    step('tree:linked');
    // Modes last: a read-only directory would have refused the entries above.
    for (const d of plan.dirs) if (d.mode !== undefined) attempt(`cannot set the mode of ${label}/${d.path}`, () => fs.chmodSync(at(b.fresh, d.path), d.mode!));
    if (root) attempt(`cannot set the mode of ${label}`, () => fs.chmodSync(b.fresh, fs.statSync(root).mode & 0o7777));
    step('tree:built');
  } catch (err) {
    try {
      removeTree(b.fresh);
    } catch {
      // keep the error that explains the failure; the next run removes the rest
    }
    throw err;
  }
}

/** Puts the finished new tree in DIR's place (see the top of this file). */
export function swapIn(b: Beside, dirExists: boolean, label: string, step: StepHook, note: (line: string) => void): void {
  if (!dirExists) {
    try {
      fs.renameSync(b.fresh, b.dir);
    } catch (err) {
      try {
        removeTree(b.fresh);
      } catch {
        // the next run removes it (`recover`)
      }
      throw ioError(`cannot create ${label}`, err);
    }
    step('swap:done');
    return;
  }
  try {
    fs.renameSync(b.dir, b.old);
  } catch (err) {
    try {
      removeTree(b.fresh);
    } catch {
      // the next run removes it (`recover`)
    }
    throw ioError(`cannot replace ${label}: cannot move it aside to ${b.old}`, err);
  }
  step('swap:aside');
  try {
    fs.renameSync(b.fresh, b.dir);
  } catch (err) {
    try {
      fs.renameSync(b.old, b.dir);
      removeTree(b.fresh);
    } catch {
      // the next run restores it (`recover`)
    }
    throw ioError(`cannot replace ${label}`, err);
  }
  step('swap:done');
  try {
    removeTree(b.old);
  } catch (err) {
    note(`${(err as Error).message} (the previous content of ${label}); the next run removes it`);
    return;
  }
  step('swap:cleaned');
}
