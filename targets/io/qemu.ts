// Boots a medium in QEMU and watches its serial console: the `expect` strings in order, any
// `forbid` string fails at once, everything bounded by a timeout. Software emulation only (TCG):
// nested KVM hangs the guest on the machines this runs on. QEMU is started with an argument
// array (no shell) and always killed by its pid — on success, failure, timeout, Ctrl-C and error.
//
// The console goes to a file (`-serial file:`), followed as it grows. Not to a pipe: QEMU's UART
// drops a byte when the pipe is full for a moment (seen on a busy host: `CDLBEL` for `CDLABEL`),
// and a dropped byte can keep an expect string from ever matching.

import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, open, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Firmware } from '../../compiler/normalize/targets.js';

export type Media = 'iso' | 'raw';

/** Where QEMU and the OVMF firmware live (Debian's qemu-system-x86 and ovmf packages). */
export interface QemuHost {
  binary: string;
  /** UEFI code, mapped read-only. */
  ovmfCode: string;
  /** UEFI variable store template: each run gets its own writable copy. */
  ovmfVars: string;
}

export const DEFAULT_QEMU: Readonly<QemuHost> = {
  binary: 'qemu-system-x86_64',
  ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd',
  ovmfVars: '/usr/share/OVMF/OVMF_VARS_4M.fd',
};

export interface MachineSpec {
  media: Media;
  /** Path of the ISO or raw disk. */
  path: string;
  firmware: Firmware;
  /** For uefi: this run's writable copy of the variable store. */
  varsPath?: string;
  /** The file QEMU writes the serial console to. */
  consoleFile: string;
  /** QEMU `-m` value. */
  memory?: string;
  cpus?: number;
}

export const DEFAULT_MEMORY = '1536M';
export const DEFAULT_CPUS = 2;

/** `-drive` options are comma-separated: a comma inside a value is written twice. */
function driveValue(path: string): string {
  return path.replaceAll(',', ',,');
}

/** A disk medium's image format, from its name (the raw target's `.qcow2`, the OVA's `.vmdk`); raw otherwise. */
export function diskFormat(path: string): 'raw' | 'qcow2' | 'vmdk' {
  return path.endsWith('.qcow2') ? 'qcow2' : path.endsWith('.vmdk') ? 'vmdk' : 'raw';
}

/** The QEMU arguments for one boot: pure, so tests pin them exactly. */
export function qemuArgs(spec: MachineSpec, host: QemuHost = DEFAULT_QEMU): string[] {
  const args = [
    '-machine',
    'q35',
    '-accel',
    'tcg',
    '-m',
    spec.memory ?? DEFAULT_MEMORY,
    '-smp',
    String(spec.cpus ?? DEFAULT_CPUS),
    // No display, no monitor; the serial console into its file (QEMU takes the path verbatim).
    '-nographic',
    '-monitor',
    'none',
    '-serial',
    `file:${spec.consoleFile}`,
    // A panic or a reboot ends the run instead of looping until the timeout.
    '-no-reboot',
    // User-mode network on virtio, without the iPXE option ROM (its banner waits 2 s at POST).
    '-netdev',
    'user,id=net0',
    '-device',
    'virtio-net-pci,netdev=net0,romfile=',
  ];
  if (spec.firmware === 'uefi') {
    if (!spec.varsPath) throw new Error('a UEFI boot needs its own copy of the OVMF variable store');
    args.push(
      '-drive',
      `if=pflash,format=raw,unit=0,readonly=on,file=${driveValue(host.ovmfCode)}`,
      '-drive',
      `if=pflash,format=raw,unit=1,file=${driveValue(spec.varsPath)}`,
    );
  }
  if (spec.media === 'iso') args.push('-cdrom', spec.path, '-boot', 'order=d');
  // snapshot=on: the guest's writes go to a temporary overlay, never into the artifact under test.
  else args.push('-drive', `file=${driveValue(spec.path)},format=${diskFormat(spec.path)},if=virtio,snapshot=on`, '-boot', 'order=c');
  return args;
}

// ---------------------------------------------------------------------------------------------
// The console as text: escape sequences and carriage returns removed, so an expect string
// matches what a person reads on the screen even when colour codes sit inside the line.

/** Removes ANSI/VT escape sequences and control characters from a stream fed in pieces. */
export class ConsoleText {
  private state: 'text' | 'esc' | 'csi' | 'string' | 'string-esc' | 'intermediate' = 'text';

  push(chunk: string): string {
    let out = '';
    for (const ch of chunk) {
      const c = ch.codePointAt(0)!;
      switch (this.state) {
        case 'text':
          if (c === 0x1b) this.state = 'esc';
          else if (c === 0x0a || c === 0x09 || (c >= 0x20 && c !== 0x7f && !(c >= 0x80 && c < 0xa0))) out += ch;
          break;
        case 'esc':
          if (ch === '[') this.state = 'csi';
          else if (ch === ']' || ch === 'P' || ch === 'X' || ch === '^' || ch === '_') this.state = 'string';
          else if (c >= 0x20 && c <= 0x2f) this.state = 'intermediate';
          else if (c > 0x7e) {
            // a stray ESC before text (systemd truncating a line)
            out += ch;
            this.state = 'text';
          } else this.state = 'text'; // a two-character sequence such as ESC c
          break;
        case 'csi':
          if (c >= 0x40 && c <= 0x7e) this.state = 'text';
          break;
        case 'intermediate':
          if (c >= 0x30 && c <= 0x7e) this.state = 'text';
          break;
        case 'string': // OSC/DCS…: ends with BEL or ESC \
          if (c === 0x07) this.state = 'text';
          else if (c === 0x1b) this.state = 'string-esc';
          break;
        case 'string-esc':
          this.state = ch === '\\' ? 'text' : 'string';
          break;
      }
    }
    return out;
  }
}

export interface ConsoleCheck {
  /** Must appear in this order. */
  expect: readonly string[];
  /** Fails the run as soon as one appears. */
  forbid: readonly string[];
  timeoutMs: number;
}

export interface Match {
  text: string;
  /** Milliseconds since QEMU started. */
  atMs: number;
}

export type Verdict = { kind: 'pending' } | { kind: 'passed' } | { kind: 'forbidden'; match: Match };

/**
 * Decides a run from console text fed in arbitrary pieces: a string split across two reads still
 * matches. Events are ordered by where they end in the stream, so a forbidden string printed
 * before the last expected one fails the run even when both arrive in the same read.
 */
export class ConsoleMatcher {
  readonly matched: Match[] = [];
  private expectTail = '';
  private forbidTail = '';
  private readonly forbidKeep: number;

  constructor(private readonly check: Pick<ConsoleCheck, 'expect' | 'forbid'>) {
    this.forbidKeep = Math.max(0, ...check.forbid.map((f) => f.length - 1));
  }

  /** The expect string being waited for, or undefined once all have appeared. */
  get waitingFor(): string | undefined {
    return this.check.expect[this.matched.length];
  }

  feed(text: string, atMs: number): Verdict {
    if (this.waitingFor === undefined) return { kind: 'passed' };
    // Where the earliest forbidden string ends, in `text` coordinates.
    let forbidEnd = Infinity;
    let forbidden: string | undefined;
    const fw = this.forbidTail + text;
    for (const f of this.check.forbid) {
      if (f === '') continue;
      const i = fw.indexOf(f);
      if (i >= 0 && i + f.length - this.forbidTail.length < forbidEnd) {
        forbidEnd = i + f.length - this.forbidTail.length;
        forbidden = f;
      }
    }
    this.forbidTail = this.forbidKeep ? fw.slice(-this.forbidKeep) : '';

    const ew = this.expectTail + text;
    let pos = 0;
    for (let next = this.waitingFor; next !== undefined; next = this.waitingFor) {
      const i = ew.indexOf(next, pos);
      if (i < 0 || i + next.length - this.expectTail.length > forbidEnd) break;
      this.matched.push({ text: next, atMs });
      pos = i + next.length;
    }
    const next = this.waitingFor;
    this.expectTail = next === undefined ? '' : ew.slice(Math.max(pos, ew.length - Math.max(0, next.length - 1)));

    if (next === undefined) return { kind: 'passed' };
    if (forbidden !== undefined) return { kind: 'forbidden', match: { text: forbidden, atMs } };
    return { kind: 'pending' };
  }
}

// ---------------------------------------------------------------------------------------------
// Following the console file.

/**
 * A file read as it grows, as a stream: new bytes are polled for every `intervalMs`. `finish()`
 * reads what is left and ends the stream (call it once the writer has exited).
 */
export class FollowedFile extends Readable {
  private handle: FileHandle | undefined;
  private position = 0;
  private finishing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly intervalMs = 100,
  ) {
    super();
  }

  finish(): void {
    this.finishing = true;
    // Waiting for the next poll: read the rest now. (A read in flight sees `finishing` itself.)
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.pull();
    }
  }

  override _read(): void {
    void this.pull();
  }

  private async pull(): Promise<void> {
    try {
      this.handle ??= await open(this.path, 'r');
      const buffer = Buffer.alloc(64 * 1024);
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.position);
      if (this.destroyed) return;
      if (bytesRead > 0) {
        this.position += bytesRead;
        this.push(buffer.subarray(0, bytesRead));
      } else if (this.finishing) {
        this.push(null);
      } else {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          void this.pull();
        }, this.intervalMs);
      }
    } catch (err) {
      this.destroy(err as Error);
    }
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    clearTimeout(this.timer);
    const handle = this.handle;
    this.handle = undefined;
    if (handle) handle.close().then(() => callback(err), callback);
    else callback(err);
  }
}

// ---------------------------------------------------------------------------------------------
// Running QEMU.

/** A started process, as the watcher needs it; tests pass fakes. */
export interface LaunchedProcess {
  pid: number | undefined;
  /** The guest's serial console. */
  console: NodeJS.ReadableStream;
  /** What QEMU itself prints (its stdout and stderr): its own errors. */
  output: NodeJS.ReadableStream;
  /** Settles once the process has exited and its console is read to the end; rejects if it could not start. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Releases what follows the console; called last, whatever happened. */
  dispose?: () => void;
}

export type Launcher = (file: string, args: readonly string[], consoleFile: string) => LaunchedProcess;
export type Killer = (pid: number, signal: NodeJS.Signals) => void;

export const launchProcess: Launcher = (file, args, consoleFile) => {
  // stdin is /dev/null: nothing types into the guest, and QEMU never touches the terminal.
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const follow = new FollowedFile(consoleFile);
  const output = new PassThrough();
  child.stdout!.pipe(output, { end: false });
  child.stderr!.pipe(output, { end: false });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (err) => {
      follow.destroy();
      reject(err);
    });
    child.once('close', (code, signal) => {
      output.end();
      // The last console bytes (a panic message, say) are read before the exit is reported.
      follow.finish();
      if (follow.closed) resolve({ code, signal });
      else follow.once('close', () => resolve({ code, signal }));
    });
  });
  return { pid: child.pid, console: follow, output, exited, dispose: () => follow.destroy() };
};

const killProcess: Killer = (pid, signal) => {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // already gone
  }
};

export type FailureReason = 'forbidden' | 'timeout' | 'exited' | 'aborted' | 'error';

export interface WatchResult {
  status: 'passed' | 'failed';
  reason?: FailureReason;
  /** One line for people. */
  message: string;
  matched: Match[];
  /** The expect string not seen, when the run failed. */
  waitingFor?: string;
  forbidden?: Match;
  durationMs: number;
  /** How QEMU ended when it ended by itself. */
  exit?: { code: number | null; signal: string | null };
  /** The console as text (escape sequences removed), last part only. */
  consoleTail: string;
  /** What QEMU itself printed, last part only. */
  qemuOutput: string;
}

export interface WatchOptions {
  signal?: AbortSignal;
  kill?: Killer;
  now?: () => number;
  /** How long QEMU gets to exit after SIGTERM before SIGKILL. */
  graceMs?: number;
  /** The program name in messages. */
  program?: string;
  /** After a forbidden string, how long the console is still read (the lines after a panic say why) before QEMU is killed. */
  lingerMs?: number;
}

const TAIL_CHARS = 64 * 1024;
const OUTPUT_CHARS = 4096;

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Watches a started QEMU until the check is decided, then kills it by pid and waits for it to go. */
export async function watchConsole(proc: LaunchedProcess, check: ConsoleCheck, opts: WatchOptions = {}): Promise<WatchResult> {
  const now = opts.now ?? (() => performance.now());
  const kill = opts.kill ?? killProcess;
  const program = opts.program ?? 'QEMU';
  const started = now();
  const matcher = new ConsoleMatcher(check);
  const text = new ConsoleText();
  const decoder = new TextDecoder('utf-8');
  let consoleTail = '';
  let qemuOutput = '';
  let exit: WatchResult['exit'];

  type Outcome = Omit<WatchResult, 'matched' | 'durationMs' | 'consoleTail' | 'qemuOutput' | 'exit' | 'waitingFor'>;
  let settle!: (o: Outcome) => void;
  const decided = new Promise<Outcome>((resolve) => (settle = resolve));
  let done = false;
  const decide = (o: Outcome) => {
    if (!done) {
      done = true;
      settle(o);
    }
  };

  const onConsole = (chunk: Buffer | string) => {
    const clean = text.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    // The tail goes on until QEMU is gone: what follows a panic line is the useful part.
    consoleTail = (consoleTail + clean).slice(-TAIL_CHARS);
    if (done) return;
    const v = matcher.feed(clean, now() - started);
    if (v.kind === 'passed') {
      const last = matcher.matched[matcher.matched.length - 1];
      decide({ status: 'passed', message: `\`${last?.text ?? ''}\` after ${seconds(last?.atMs ?? 0)}` });
    } else if (v.kind === 'forbidden') {
      decide({
        status: 'failed',
        reason: 'forbidden',
        forbidden: v.match,
        message: `forbidden \`${v.match.text}\` on the console after ${seconds(v.match.atMs)}`,
      });
    }
  };
  const onOutput = (chunk: Buffer | string) => {
    // After the verdict QEMU only says that derivc stopped it.
    if (!done) qemuOutput = (qemuOutput + chunk.toString()).slice(-OUTPUT_CHARS);
  };
  // A console that cannot be read ends the run like any other failure (and QEMU is still killed).
  const onConsoleError = (err: Error) => decide({ status: 'failed', reason: 'error', message: `cannot read the console: ${err.message}` });
  proc.console.on('data', onConsole);
  proc.console.on('error', onConsoleError);
  proc.output.on('data', onOutput);

  const timer = setTimeout(
    () => decide({ status: 'failed', reason: 'timeout', message: `timed out after ${seconds(check.timeoutMs)} waiting for \`${matcher.waitingFor}\`` }),
    check.timeoutMs,
  );
  const onAbort = () => decide({ status: 'failed', reason: 'aborted', message: 'cancelled' });
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener('abort', onAbort, { once: true });

  let gone = false;
  proc.exited.then(
    (e) => {
      gone = true;
      exit = { code: e.code, signal: e.signal };
      const how = e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
      decide({
        status: 'failed',
        reason: 'exited',
        message: `${program} stopped (${how}) after ${seconds(now() - started)} while waiting for \`${matcher.waitingFor}\``,
      });
    },
    (err: NodeJS.ErrnoException) => {
      gone = true;
      const why = err.code === 'ENOENT' ? `${program} is not installed` : err.message;
      decide({ status: 'failed', reason: 'error', message: `could not start ${program}: ${why}` });
    },
  );

  const outcome = await decided;
  const durationMs = now() - started;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  if (outcome.reason === 'forbidden' && !gone) {
    await Promise.race([proc.exited.catch(() => undefined), new Promise((r) => setTimeout(r, opts.lingerMs ?? 2000))]);
  }
  try {
    if (!gone) await stop(proc, kill, opts.graceMs ?? 5000);
  } finally {
    proc.console.off('data', onConsole);
    proc.console.off('error', onConsoleError);
    proc.output.off('data', onOutput);
    proc.dispose?.();
  }
  return {
    ...outcome,
    matched: [...matcher.matched],
    ...(outcome.status === 'failed' && matcher.waitingFor !== undefined ? { waitingFor: matcher.waitingFor } : {}),
    durationMs,
    ...(exit && outcome.reason === 'exited' ? { exit } : {}),
    consoleTail,
    qemuOutput,
  };
}

/** SIGTERM by pid, SIGKILL after the grace period; resolves once the process has exited. */
async function stop(proc: LaunchedProcess, kill: Killer, graceMs: number): Promise<void> {
  if (proc.pid === undefined) return;
  const exited = proc.exited.then(
    () => true,
    () => true,
  );
  const within = (ms: number) => Promise.race([exited, new Promise<false>((r) => setTimeout(r, ms, false).unref?.())]);
  kill(proc.pid, 'SIGTERM');
  if (await within(graceMs)) return;
  kill(proc.pid, 'SIGKILL');
  await within(graceMs);
}

export interface BootOptions extends MachineSpec {
  check: ConsoleCheck;
  signal?: AbortSignal;
  host?: QemuHost;
  launch?: Launcher;
  kill?: Killer;
}

export interface BootResult extends WatchResult {
  /** The QEMU command line, program first. */
  command: string[];
}

/** Boots one medium under one firmware and checks its console (written raw to `consoleFile`). Never leaves QEMU running. */
export async function bootAndCheck(opts: BootOptions): Promise<BootResult> {
  const host = opts.host ?? DEFAULT_QEMU;
  const launch = opts.launch ?? launchProcess;
  const kill = opts.kill ?? killProcess;
  let varsDir: string | undefined;
  // If derivc itself exits abruptly, QEMU must not outlive it.
  let pid: number | undefined;
  const onExit = () => pid !== undefined && kill(pid, 'SIGKILL');
  process.once('exit', onExit);
  try {
    // Created before QEMU starts, so it can be followed from the first byte.
    await writeFile(opts.consoleFile, '');
    let spec: MachineSpec = opts;
    if (opts.firmware === 'uefi') {
      varsDir = await mkdtemp(join(tmpdir(), 'derivc-ovmf-'));
      spec = { ...opts, varsPath: join(varsDir, basename(host.ovmfVars)) };
      await copyFile(host.ovmfVars, spec.varsPath!);
    }
    const args = qemuArgs(spec, host);
    const command = [host.binary, ...args];
    if (opts.signal?.aborted) {
      return { status: 'failed', reason: 'aborted', message: 'cancelled', matched: [], durationMs: 0, consoleTail: '', qemuOutput: '', command };
    }
    const proc = launch(host.binary, args, opts.consoleFile);
    pid = proc.pid;
    const watched = await watchConsole(proc, opts.check, { ...(opts.signal ? { signal: opts.signal } : {}), kill, program: basename(host.binary) });
    return { ...watched, command };
  } finally {
    process.off('exit', onExit);
    if (varsDir) await rm(varsDir, { recursive: true, force: true });
  }
}
