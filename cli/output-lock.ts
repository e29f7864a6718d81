// One derivc process at a time writes an output directory: the lock `.NAME.derivc-lock`, a
// directory next to DIR (never inside it: DIR itself is replaced by each write), holding one file
// named after its owner: `PID.START.BOOT` (the process's start time in clock ticks and the kernel's
// boot ID, so a reused PID or a reboot is never mistaken for the owner).
//
// Taking it: make a private directory `.NAME.derivc-lock.PID.START.BOOT` holding the owner file,
// then rename it onto the lock's name. rename(2) replaces an empty directory but fails on a
// non-empty one, so it succeeds exactly when nobody holds the lock, and the owner is known the
// instant the lock exists. Breaking a stale lock (owner dead): unlink that owner's file by its
// name, then rmdir the lock. Neither step can remove a live owner's lock: the unlink names the dead
// owner, and rmdir only removes an empty directory — a new owner's rename fills it first or
// replaces the empty one. A lock left by a killed process therefore blocks nobody: the next
// process sees its owner is gone, says so, and breaks it. After a normal run nothing is left.
//
// Linux: liveness comes from /proc (outside it, from kill(pid, 0) alone). An owner on another host
// (the directory on a network file system) cannot be checked and is waited for.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { errno, ioError, OutputDirError } from './output-error.js';

interface Owner {
  pid: number;
  host: string;
  command: string;
  since: string;
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

const BOOT_ID = (readText('/proc/sys/kernel/random/boot_id') ?? 'unknown').trim().replace(/[^0-9a-f-]/g, '') || 'unknown';

/** `/proc/PID/stat`: the start time, or 'gone' (no such process, or a zombie); undefined when unreadable. */
function procStart(pid: number): string | 'gone' | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    return errno(err) === 'ENOENT' ? 'gone' : undefined;
  }
  // pid (comm) state ppid … starttime: comm may hold spaces and parentheses, so split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return 'gone';
  return fields[19];
}

/** The lock entry name of a running process: `PID.START.BOOT`. */
export function ownerEntryName(pid: number): string {
  const start = procStart(pid);
  return `${pid}.${start === undefined || start === 'gone' ? '0' : start}.${BOOT_ID}`;
}

const ENTRY = /^(\d+)\.(\d+)\.([0-9a-f-]+|unknown)$/;

/** Whether the owner named `entry` is still running: 'unknown' when that cannot be told from here. */
function liveness(entry: string, owner: Partial<Owner> | undefined): 'alive' | 'dead' | 'unknown' {
  const m = ENTRY.exec(entry);
  if (!m) return 'unknown';
  const [, pidText, start, boot] = m;
  const sameHost = owner?.host === undefined || owner.host === os.hostname();
  if (!sameHost) return 'unknown';
  if (boot !== BOOT_ID) return owner?.host === os.hostname() ? 'dead' : 'unknown'; // rebooted since
  const pid = Number(pidText);
  const now = procStart(pid);
  if (now === 'gone') return 'dead';
  if (now !== undefined) return start === '0' || now === start ? 'alive' : 'dead';
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    return errno(err) === 'ESRCH' ? 'dead' : 'alive';
  }
}

function readOwner(file: string): Partial<Owner> | undefined {
  const text = readText(file);
  if (text === undefined) return undefined;
  try {
    const o = JSON.parse(text) as Partial<Owner>;
    return typeof o === 'object' && o !== null ? o : undefined;
  } catch {
    return undefined;
  }
}

function describe(entry: string, owner: Partial<Owner> | undefined): string {
  const pid = owner?.pid ?? Number(ENTRY.exec(entry)?.[1] ?? NaN);
  const what = [owner?.command, owner?.since ? `since ${owner.since}` : undefined].filter(Boolean).join(', ');
  const host = owner?.host && owner.host !== os.hostname() ? ` on host ${owner.host}` : '';
  return `derivc pid ${pid}${host}${what ? ` (${what})` : ''}`;
}

function unlinkQuiet(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
}

function rmdirQuiet(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch (err) {
    if (!['ENOENT', 'ENOTEMPTY', 'EEXIST'].includes(errno(err) ?? '')) throw err;
  }
}

/** Locks this process holds: asking again for one would wait for itself. */
const held = new Set<string>();

export class OutputLock {
  private released = false;
  constructor(
    /** The lock directory. */
    readonly path: string,
    private readonly entry: string,
  ) {}

  /** Gives the lock up; nothing of it stays. Safe to call twice. */
  release(): void {
    if (this.released) return;
    this.released = true;
    held.delete(this.path);
    try {
      unlinkQuiet(path.join(this.path, this.entry));
      rmdirQuiet(this.path);
    } catch (err) {
      throw ioError(`cannot release the lock ${this.path}`, err);
    }
  }
}

export interface LockRequest {
  /** The lock directory (`.NAME.derivc-lock` next to DIR). */
  path: string;
  /** DIR as the user named it, for messages. */
  label: string;
  /** What this process is doing, shown to whoever waits: `compile`, `build`… */
  command: string;
  /** Told when a stale lock is broken. */
  note?: (line: string) => void;
}

/** Private directories of dead processes that died between making theirs and renaming it. */
function removeDeadPrivates(lockPath: string): void {
  const parent = path.dirname(lockPath);
  const prefix = `${path.basename(lockPath)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const name of names) {
    const entry = name.slice(prefix.length);
    const dir = path.join(parent, name);
    if (liveness(entry, readOwner(path.join(dir, entry))) !== 'dead') continue;
    try {
      unlinkQuiet(path.join(dir, entry));
      rmdirQuiet(dir);
    } catch {
      // someone else is cleaning it up, or it holds something else: leave it
    }
  }
}

/** One attempt: the lock, or who holds it. Breaks a stale lock on the way. Never waits. */
export function tryLock(req: LockRequest): { lock: OutputLock; holder?: undefined } | { lock?: undefined; holder: string } {
  if (held.has(req.path)) throw new OutputDirError(`${req.label} is already in use by this derivc process`);
  const entry = ownerEntryName(process.pid);
  const mine = `${req.path}.${entry}`;
  removeDeadPrivates(req.path);
  const owner: Owner = { pid: process.pid, host: os.hostname(), command: req.command, since: new Date().toISOString().slice(0, 19).replace('T', ' ') };
  const cleanUp = () => {
    try {
      unlinkQuiet(path.join(mine, entry));
      rmdirQuiet(mine);
    } catch {
      // best effort: a dead process's private directory is removed by the next one anyway
    }
  };
  try {
    fs.rmSync(mine, { recursive: true, force: true });
    fs.mkdirSync(mine);
    fs.writeFileSync(path.join(mine, entry), `${JSON.stringify(owner)}\n`, { flag: 'wx' });
  } catch (err) {
    cleanUp();
    throw ioError(`cannot lock ${req.label}: cannot create ${mine}`, err);
  }
  let holder = 'another derivc process';
  // A few rounds: each failed one either broke a stale lock or raced with a release.
  for (let round = 0; round < 8; round++) {
    try {
      fs.renameSync(mine, req.path);
      held.add(req.path);
      return { lock: new OutputLock(req.path, entry) };
    } catch (err) {
      if (errno(err) === 'ENOTDIR') {
        cleanUp();
        throw new OutputDirError(`cannot lock ${req.label}: ${req.path} is not a lock derivc made (not a directory); remove it`);
      }
      if (errno(err) !== 'ENOTEMPTY' && errno(err) !== 'EEXIST') {
        cleanUp();
        throw ioError(`cannot lock ${req.label}: cannot create ${req.path}`, err);
      }
    }
    let entries: string[];
    try {
      entries = fs.readdirSync(req.path);
    } catch {
      continue; // released meanwhile
    }
    if (entries.length === 0) continue; // being released or broken: the next rename replaces it
    if (entries.length > 1 || !ENTRY.test(entries[0]!)) {
      cleanUp();
      throw new OutputDirError(`cannot lock ${req.label}: ${req.path} is not a lock derivc made (it holds ${entries.slice(0, 3).join(', ')}); remove it`);
    }
    const name = entries[0]!;
    const current = readOwner(path.join(req.path, name));
    holder = describe(name, current);
    if (liveness(name, current) !== 'dead') break;
    try {
      unlinkQuiet(path.join(req.path, name));
      rmdirQuiet(req.path);
    } catch (err) {
      cleanUp();
      throw ioError(`cannot remove the stale lock ${req.path}`, err);
    }
    req.note?.(`removed the lock of ${req.label} left by ${holder}, which is no longer running`);
  }
  cleanUp();
  return { holder };
}

export interface WaitOptions {
  /** How long to wait for another process (default 120 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Told once, after a second of waiting, who holds the lock. */
  onWait?: (line: string) => void;
}

export const LOCK_WAIT_MS = 120_000;

/** The lock, waiting (bounded) while another derivc process holds it. */
export async function waitLock(req: LockRequest, opts: WaitOptions = {}): Promise<OutputLock> {
  const timeoutMs = opts.timeoutMs ?? LOCK_WAIT_MS;
  const started = Date.now();
  let told = false;
  for (;;) {
    const attempt = tryLock(req);
    if (attempt.lock) return attempt.lock;
    if (opts.signal?.aborted) throw new OutputDirError(`cancelled while waiting for ${req.label}, in use by ${attempt.holder}`);
    const waited = Date.now() - started;
    if (waited >= timeoutMs)
      throw new OutputDirError(
        `${req.label} is in use by ${attempt.holder}; gave up after ${Math.max(1, Math.round(waited / 1000))} s — run again once it has finished`,
      );
    if (!told && waited >= 1000) {
      told = true;
      opts.onWait?.(`waiting for ${req.label}: in use by ${attempt.holder} (up to ${Math.round(timeoutMs / 1000)} s)`);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(50 + Math.random() * 100, Math.max(1, timeoutMs - waited)));
      opts.signal?.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', done);
        resolve();
      }
    });
  }
}
