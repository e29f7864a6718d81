// derivc test without a real guest: the exact QEMU command lines, the console matcher fed in
// arbitrary pieces, the watcher that kills QEMU by pid on every path, the reports (JUnit XML that
// a strict parser accepts), and the command end to end against a fake QEMU script.

import { appendFileSync, chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { consoleTail, junitXml, resultJson, type BootRun } from '../targets/io/boot-report.js';
import { EngineUnreachableError, type DockerEngine } from '../targets/io/engine.js';
import {
  bootAndCheck,
  ConsoleMatcher,
  ConsoleText,
  FollowedFile,
  qemuArgs,
  watchConsole,
  type ConsoleCheck,
  type LaunchedProcess,
  type Verdict,
} from '../targets/io/qemu.js';
import { runCliAsync } from './support/cli.js';

const work = mkdtempSync(join(tmpdir(), 'derivc-qemu-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const HOST = { binary: 'qemu-system-x86_64', ovmfCode: '/usr/share/OVMF/OVMF_CODE_4M.fd', ovmfVars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };
const COMMON = [
  '-machine',
  'q35',
  '-accel',
  'tcg',
  '-m',
  '1536M',
  '-smp',
  '2',
  '-nographic',
  '-monitor',
  'none',
  '-serial',
  'file:/run/t/console.log',
  '-no-reboot',
  '-netdev',
  'user,id=net0',
  '-device',
  'virtio-net-pci,netdev=net0,romfile=',
];
const consoleFile = '/run/t/console.log';

describe('qemuArgs', () => {
  it('BIOS + ISO: SeaBIOS (no firmware arguments), the console into its file, the ISO as a CD-ROM booted first', () => {
    expect(qemuArgs({ media: 'iso', firmware: 'bios', path: '/out/a.iso', consoleFile }, HOST)).toEqual([
      ...COMMON,
      '-cdrom',
      '/out/a.iso',
      '-boot',
      'order=d',
    ]);
  });

  it('UEFI + ISO: OVMF code read-only, the run’s own copy of the variable store writable', () => {
    expect(qemuArgs({ media: 'iso', firmware: 'uefi', path: '/out/a.iso', varsPath: '/tmp/run1/OVMF_VARS_4M.fd', consoleFile }, HOST)).toEqual([
      ...COMMON,
      '-drive',
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      '-drive',
      'if=pflash,format=raw,unit=1,file=/tmp/run1/OVMF_VARS_4M.fd',
      '-cdrom',
      '/out/a.iso',
      '-boot',
      'order=d',
    ]);
  });

  it('raw disks are virtio drives in snapshot mode (the artifact is never written), commas in paths doubled', () => {
    expect(qemuArgs({ media: 'raw', firmware: 'bios', path: '/out/a,b.raw', consoleFile }, HOST)).toEqual([
      ...COMMON,
      '-drive',
      'file=/out/a,,b.raw,format=raw,if=virtio,snapshot=on',
      '-boot',
      'order=c',
    ]);
    expect(qemuArgs({ media: 'raw', firmware: 'uefi', path: '/d.raw', varsPath: '/t/v,1.fd', consoleFile }, HOST)).toEqual([
      ...COMMON,
      '-drive',
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd',
      '-drive',
      'if=pflash,format=raw,unit=1,file=/t/v,,1.fd',
      '-drive',
      'file=/d.raw,format=raw,if=virtio,snapshot=on',
      '-boot',
      'order=c',
    ]);
  });

  it('never asks for KVM (nested KVM hangs the guest here), and refuses UEFI without a private variable store', () => {
    for (const firmware of ['bios', 'uefi'] as const) {
      const args = qemuArgs({ media: 'iso', firmware, path: '/a.iso', varsPath: '/v.fd', consoleFile }, HOST).join(' ');
      expect(args).not.toMatch(/kvm|-cpu host/);
    }
    expect(() => qemuArgs({ media: 'iso', firmware: 'uefi', path: '/a.iso', consoleFile }, HOST)).toThrow(/own copy/);
  });

  it('the console file path is taken verbatim (`-serial file:` does not split on commas)', () => {
    expect(qemuArgs({ media: 'iso', firmware: 'bios', path: '/a.iso', consoleFile: '/o/a,b/console.log' }, HOST)).toContain('file:/o/a,b/console.log');
  });
});

describe('ConsoleText', () => {
  it('removes colour codes, cursor moves, OSC titles and carriage returns, even split mid-sequence', () => {
    const raw = '\x1b[0;32m  OK  \x1b[0m] Started \x1b[0;1;39mssh.service\x1b[0m.\r\n\x1b]0;title\x07\x1bc\x1b(Bdebian login: ';
    const whole = new ConsoleText().push(raw);
    expect(whole).toBe('  OK  ] Started ssh.service.\ndebian login: ');
    const t = new ConsoleText();
    expect([...raw].map((c) => t.push(c)).join('')).toBe(whole);
  });

  it('keeps printable Unicode and tabs, also after a stray ESC', () => {
    expect(new ConsoleText().push('Grüße\t→ ok\x07\n')).toBe('Grüße\t→ ok\n');
    expect(new ConsoleText().push('e2scrub_all.timer\x1b…Check\n')).toBe('e2scrub_all.timer…Check\n');
  });
});

const CHECK: ConsoleCheck = { expect: ['Linux version', 'login:'], forbid: ['Kernel panic', 'emergency mode'], timeoutMs: 1000 };

function feedAll(chunks: string[], check: Pick<ConsoleCheck, 'expect' | 'forbid'> = CHECK): { verdict: Verdict; matcher: ConsoleMatcher } {
  const matcher = new ConsoleMatcher(check);
  let verdict: Verdict = { kind: 'pending' };
  chunks.forEach((c, i) => {
    if (verdict.kind === 'pending') verdict = matcher.feed(c, i);
  });
  return { verdict, matcher };
}

/** Splits `text` at the given cut points. */
function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let at = 0;
  for (const p of points) {
    out.push(text.slice(at, p));
    at = p;
  }
  out.push(text.slice(at));
  return out;
}

describe('ConsoleMatcher', () => {
  it('passes when every expect string appears, in order, split across reads', () => {
    const { verdict, matcher } = feedAll(['[ 0.0] Linux ver', 'sion 6.1\n', '…\nderivc log', 'in: ']);
    expect(verdict).toEqual({ kind: 'passed' });
    expect(matcher.matched).toEqual([
      { text: 'Linux version', atMs: 1 },
      { text: 'login:', atMs: 3 },
    ]);
  });

  it('fed one character at a time, still matches', () => {
    expect(feedAll([...'Linux version 6.1\nhost login: ']).verdict).toEqual({ kind: 'passed' });
  });

  it('order matters: a later expect string seen before an earlier one does not count', () => {
    const { verdict, matcher } = feedAll(['login: (too early)\n', 'Linux version 6.1\n']);
    expect(verdict).toEqual({ kind: 'pending' });
    expect(matcher.waitingFor).toBe('login:');
  });

  it('the same text is not used for two expect strings', () => {
    expect(feedAll(['ab'], { expect: ['ab', 'b'], forbid: [] }).verdict).toEqual({ kind: 'pending' });
    expect(feedAll(['ab', 'b'], { expect: ['ab', 'b'], forbid: [] }).verdict).toEqual({ kind: 'passed' });
  });

  it('a forbidden string fails at once, even split across reads', () => {
    const { verdict, matcher } = feedAll(['Linux version\n', 'Kernel pa', 'nic - not syncing\n', 'login: ']);
    expect(verdict).toEqual({ kind: 'forbidden', match: { text: 'Kernel panic', atMs: 2 } });
    expect(matcher.matched.map((m) => m.text)).toEqual(['Linux version']);
  });

  it('within one read, what comes first decides: forbid before the last expect fails, after it passes', () => {
    expect(feedAll(['Linux version\nYou are in emergency mode.\nlogin: ']).verdict).toMatchObject({ kind: 'forbidden' });
    expect(feedAll(['Linux version\nlogin: \nKernel panic']).verdict).toEqual({ kind: 'passed' });
  });

  it('any split of a stream gives the verdict of the whole stream', () => {
    const streams = fc.constantFrom(
      'SeaBIOS\nLinux version 6.1\nsystemd\nhost login: ',
      'Linux version 6.1\nKernel panic - not syncing\nlogin: ',
      'Linux version\nEntering emergency mode. Exit the shell\n',
      'noise Linux versio\nn login: Linux version .. login',
      'Linux version\nlog in: login:',
    );
    fc.assert(
      fc.property(streams, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        const whole = feedAll([text]).verdict.kind;
        const pieces = feedAll(split(text, cuts)).verdict.kind;
        expect(pieces).toBe(whole);
      }),
      { numRuns: 300 },
    );
  });
});

/** A process that prints what the test writes and exits when killed (unless told to ignore SIGTERM). */
function fakeProcess(opts: { pid?: number; ignoreTerm?: boolean } = {}) {
  const console = new PassThrough();
  const output = new PassThrough();
  let exit!: (e: { code: number | null; signal: NodeJS.Signals | null }) => void;
  let fail!: (err: Error) => void;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res, rej) => ((exit = res), (fail = rej)));
  const kills: [number, string][] = [];
  const kill = (pid: number, signal: NodeJS.Signals) => {
    kills.push([pid, signal]);
    if (signal === 'SIGKILL' || !opts.ignoreTerm) exit({ code: null, signal });
  };
  const proc: LaunchedProcess = { pid: opts.pid ?? 4242, console, output, exited };
  return { proc, kill, kills, exit, fail, write: (s: string) => console.write(s), writeErr: (s: string) => output.write(s) };
}

describe('watchConsole', () => {
  it('passes, then kills QEMU by its pid (SIGTERM is enough) and waits for it', async () => {
    const f = fakeProcess();
    const done = watchConsole(f.proc, CHECK, { kill: f.kill });
    f.write('\x1b[2JLinux version 6.1\n');
    f.write('host log');
    f.write('in: ');
    const r = await done;
    expect(r).toMatchObject({ status: 'passed', message: expect.stringMatching(/^`login:` after \d+\.\d s$/) });
    expect(r.matched.map((m) => m.text)).toEqual(['Linux version', 'login:']);
    expect(f.kills).toEqual([[4242, 'SIGTERM']]);
    expect(r.consoleTail).toBe('Linux version 6.1\nhost login: ');
  });

  it('a timeout fails with the string still awaited, kills by pid, and keeps the console tail', async () => {
    const f = fakeProcess({ ignoreTerm: true });
    const kill = (pid: number, signal: NodeJS.Signals) => {
      f.writeErr(`qemu-system-x86_64: terminating on ${signal}\n`);
      f.kill(pid, signal);
    };
    const done = watchConsole(f.proc, { ...CHECK, timeoutMs: 50 }, { kill, graceMs: 50 });
    f.write('Linux version 6.1\nstill booting…\n');
    const r = await done;
    expect(r.qemuOutput).toBe(''); // QEMU saying it was stopped is not news
    expect(r).toMatchObject({ status: 'failed', reason: 'timeout', waitingFor: 'login:', message: 'timed out after 0.1 s waiting for `login:`' });
    expect(consoleTail(r.consoleTail)).toEqual(['Linux version 6.1', 'still booting…']);
    expect(f.kills).toEqual([
      [4242, 'SIGTERM'],
      [4242, 'SIGKILL'],
    ]);
  });

  it('a forbidden string fails at once; the console is read a moment longer (the lines after a panic), then QEMU is killed', async () => {
    const f = fakeProcess();
    const done = watchConsole(f.proc, { ...CHECK, timeoutMs: 60_000 }, { kill: f.kill, lingerMs: 100 });
    f.write('Linux version\n[ 3.1] Kernel pa');
    f.write('nic - not syncing: VFS\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(f.kills).toEqual([]);
    f.write('[ 3.2] Call Trace:\nlogin: \n');
    const r = await done;
    expect(r).toMatchObject({
      status: 'failed',
      reason: 'forbidden',
      forbidden: { text: 'Kernel panic' },
      message: expect.stringMatching(/^forbidden `Kernel panic` on the console after /),
    });
    expect(r.matched.map((m) => m.text)).toEqual(['Linux version']); // the verdict was already made
    expect(consoleTail(r.consoleTail).slice(-2)).toEqual(['[ 3.2] Call Trace:', 'login: ']);
    expect(f.kills).toEqual([[4242, 'SIGTERM']]);
  });

  it('QEMU exiting by itself (-no-reboot after a panic) fails without a kill, with its exit code and stderr', async () => {
    const f = fakeProcess();
    const done = watchConsole(f.proc, CHECK, { kill: f.kill });
    f.write('Linux version\n');
    f.writeErr('qemu-system-x86_64: some complaint\n');
    await new Promise((r) => setImmediate(r));
    f.exit({ code: 1, signal: null });
    const r = await done;
    expect(r).toMatchObject({ status: 'failed', reason: 'exited', exit: { code: 1, signal: null }, qemuOutput: 'qemu-system-x86_64: some complaint\n' });
    expect(r.message).toMatch(/^QEMU stopped \(exit code 1\) after .* waiting for `login:`$/);
    expect(f.kills).toEqual([]);
  });

  it('Ctrl-C (the abort signal) kills by pid; SIGKILL follows when SIGTERM is ignored', async () => {
    const f = fakeProcess({ ignoreTerm: true });
    const abort = new AbortController();
    const done = watchConsole(f.proc, { ...CHECK, timeoutMs: 60_000 }, { kill: f.kill, signal: abort.signal, graceMs: 20 });
    f.write('Linux version\n');
    abort.abort();
    const r = await done;
    expect(r).toMatchObject({ status: 'failed', reason: 'aborted', message: 'cancelled' });
    expect(f.kills).toEqual([
      [4242, 'SIGTERM'],
      [4242, 'SIGKILL'],
    ]);
  });

  it('a QEMU that cannot start is an error naming the program, and nothing is killed', async () => {
    const f = fakeProcess();
    const done = watchConsole({ ...f.proc, pid: undefined }, CHECK, { kill: f.kill, program: 'qemu-system-x86_64' });
    f.fail(Object.assign(new Error('spawn qemu-system-x86_64 ENOENT'), { code: 'ENOENT' }));
    expect(await done).toMatchObject({ status: 'failed', reason: 'error', message: 'could not start qemu-system-x86_64: qemu-system-x86_64 is not installed' });
    expect(f.kills).toEqual([]);
  });
});

/**
 * A stand-in for qemu-system-x86_64: records its arguments and pid, writes `console` to the
 * `-serial file:` path in two parts, then waits to be killed (or exits, with `then: 'exit'`).
 */
function fakeQemu(dir: string, console: string, then: 'sleep' | 'exit' = 'sleep'): string {
  mkdirSync(dir, { recursive: true });
  const half = Math.floor(console.length / 2);
  writeFileSync(join(dir, 'console1.txt'), console.slice(0, half));
  writeFileSync(join(dir, 'console2.txt'), console.slice(half));
  const file = join(dir, 'qemu-system-x86_64');
  const script = [
    '#!/bin/sh',
    'd=$(dirname "$0")',
    `printf '%s\\n' "$@" > "$d/args.txt"`,
    'echo $$ > "$d/pid.txt"',
    'prev=; for a in "$@"; do [ "$prev" = -serial ] && serial=${a#file:}; prev=$a; done',
    'cat "$d/console1.txt" >> "$serial"; sleep 0.3; cat "$d/console2.txt" >> "$serial"',
    // `exec sleep`: the pid derivc kills is the fake QEMU itself, as with the real one.
    then === 'sleep' ? 'exec sleep 300' : 'echo "qemu: guest asked to stop" >&2; exit 0',
    '',
  ];
  writeFileSync(file, script.join('\n'));
  chmodSync(file, 0o755);
  return file;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('FollowedFile', () => {
  it('streams a file as it grows, in order, and ends after finish() with the rest', async () => {
    const path = join(work, 'follow.log');
    writeFileSync(path, '');
    const follow = new FollowedFile(path, 10);
    const seen: string[] = [];
    follow.on('data', (b: Buffer) => seen.push(b.toString()));
    const ended = new Promise((r) => follow.once('close', r));
    appendFileSync(path, 'one ');
    await new Promise((r) => setTimeout(r, 50));
    appendFileSync(path, 'two ');
    await new Promise((r) => setTimeout(r, 50));
    appendFileSync(path, 'three');
    follow.finish();
    await ended;
    expect(seen.join('')).toBe('one two three');
    expect(seen.length).toBeGreaterThanOrEqual(2);
  });
});

describe('bootAndCheck with a real process', () => {
  it('UEFI: copies the variable store for this run only, logs the raw console, kills the process, removes the copy', async () => {
    const dir = join(work, 'boot-uefi');
    const binary = fakeQemu(dir, '\x1b[0mBdsDxe: starting\nLinux version 6.1\nhost login: ');
    const vars = join(dir, 'VARS.fd');
    writeFileSync(vars, 'vars');
    const r = await bootAndCheck({
      media: 'iso',
      firmware: 'uefi',
      path: '/x/a.iso',
      check: CHECK,
      consoleFile: join(dir, 'console.log'),
      host: { binary, ovmfCode: '/code.fd', ovmfVars: vars },
    });
    expect(r.matched.map((m) => m.text)).toEqual(['Linux version', 'login:']);
    expect(r.status).toBe('passed');
    const args = readFileSync(join(dir, 'args.txt'), 'utf8').trim().split('\n');
    const varsCopy = args.find((a) => a.startsWith('if=pflash,format=raw,unit=1,file='))!.slice('if=pflash,format=raw,unit=1,file='.length);
    expect(varsCopy).not.toBe(vars);
    expect(existsSync(varsCopy)).toBe(false); // removed after the run
    expect(r.command).toEqual([binary, ...args]);
    expect(readFileSync(join(dir, 'console.log'), 'utf8')).toBe('\x1b[0mBdsDxe: starting\nLinux version 6.1\nhost login: ');
    expect(isRunning(Number(readFileSync(join(dir, 'pid.txt'), 'utf8')))).toBe(false);
  });

  it('a panic printed just before QEMU exits is still read: forbidden, not merely "exited"', async () => {
    const dir = join(work, 'boot-panic');
    const binary = fakeQemu(dir, 'Linux version 6.1\n[ 9.1] Kernel panic - not syncing: VFS: Unable to mount root fs\n', 'exit');
    const r = await bootAndCheck({
      media: 'iso',
      firmware: 'bios',
      path: '/x/a.iso',
      check: { ...CHECK, timeoutMs: 10_000 },
      consoleFile: join(dir, 'console.log'),
      host: { ...HOST, binary },
    });
    expect(r).toMatchObject({ status: 'failed', reason: 'forbidden', forbidden: { text: 'Kernel panic' } });
    expect(consoleTail(r.consoleTail).at(-1)).toBe('[ 9.1] Kernel panic - not syncing: VFS: Unable to mount root fs');
  });

  it('a QEMU that stops by itself is reported with what it printed', async () => {
    const dir = join(work, 'boot-exit');
    const binary = fakeQemu(dir, 'Linux version 6.1\n', 'exit');
    const r = await bootAndCheck({
      media: 'iso',
      firmware: 'bios',
      path: '/x/a.iso',
      check: { ...CHECK, timeoutMs: 10_000 },
      consoleFile: join(dir, 'console.log'),
      host: { ...HOST, binary },
    });
    expect(r).toMatchObject({
      status: 'failed',
      reason: 'exited',
      exit: { code: 0, signal: null },
      waitingFor: 'login:',
      qemuOutput: 'qemu: guest asked to stop\n',
    });
  });

  it('a timeout kills the real process too', async () => {
    const dir = join(work, 'boot-timeout');
    const binary = fakeQemu(dir, 'Linux version 6.1\n');
    const r = await bootAndCheck({
      media: 'iso',
      firmware: 'bios',
      path: '/x/a.iso',
      check: { ...CHECK, timeoutMs: 1500 },
      consoleFile: join(dir, 'console.log'),
      host: { ...HOST, binary },
    });
    expect(r).toMatchObject({ status: 'failed', reason: 'timeout', waitingFor: 'login:' });
    expect(isRunning(Number(readFileSync(join(dir, 'pid.txt'), 'utf8')))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// A strict, small XML 1.0 reader: enough to prove the report is well-formed and read it back.

interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function parseXml(xml: string): XmlElement {
  const bad = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.exec(xml);
  if (bad) throw new Error(`character U+${bad[0].codePointAt(0)!.toString(16)} is not allowed in XML`);
  let i = 0;
  const decode = (s: string) => {
    if (/&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)/.test(s)) throw new Error(`bare & at ${i}: ${s.slice(0, 40)}`);
    return s.replace(/&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
      e[0] === '#'
        ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)))
        : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e]!,
    );
  };
  const expectAt = (re: RegExp): RegExpExecArray => {
    re.lastIndex = i;
    const m = re.exec(xml);
    if (!m) throw new Error(`malformed XML at ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
    i = re.lastIndex;
    return m;
  };
  const element = (): XmlElement => {
    const name = expectAt(/<([A-Za-z_][\w.-]*)/y)[1]!;
    const attrs: Record<string, string> = {};
    for (;;) {
      const a = /\s+([A-Za-z_][\w.-]*)="([^"<]*)"/y;
      a.lastIndex = i;
      const m = a.exec(xml);
      if (!m) break;
      if (m[1]! in attrs) throw new Error(`duplicate attribute ${m[1]}`);
      attrs[m[1]!] = decode(m[2]!);
      i = a.lastIndex;
    }
    const end = expectAt(/\s*(\/?)>/y);
    const el: XmlElement = { name, attrs, children: [], text: '' };
    if (end[1]) return el;
    for (;;) {
      const text = expectAt(/[^<]*/y)[0];
      if (text.includes(']]>')) throw new Error(']]> in text');
      el.text += decode(text);
      if (xml.startsWith('</', i)) {
        expectAt(new RegExp(`</${name.replace(/[.]/g, '\\.')}\\s*>`, 'y'));
        return el;
      }
      el.children.push(element());
    }
  };
  expectAt(/<\?xml version="1\.0" encoding="UTF-8"\?>\s*/y);
  const root = element();
  expectAt(/\s*$/y);
  if (i !== xml.length) throw new Error('content after the root element');
  return root;
}

const NASTY = 'Kernel <panic> & "quotes" \'apos\' ]]> \x1b[0m\x00\x07 \uD800 end';

function run(media: 'iso' | 'raw', firmware: 'bios' | 'uefi', status: 'passed' | 'failed', extra: Partial<BootRun['result']> = {}): BootRun {
  return {
    media,
    firmware,
    path: `/out/x.${media}`,
    check: CHECK,
    result: {
      status,
      ...(status === 'failed' ? { reason: 'forbidden' as const, waitingFor: 'login:' } : {}),
      message: status === 'passed' ? '`login:` after 41.0 s' : `forbidden \`${NASTY}\``,
      matched:
        status === 'passed'
          ? [
              { text: 'Linux version', atMs: 20_000.4 },
              { text: 'login:', atMs: 41_000 },
            ]
          : [{ text: 'Linux version', atMs: 21_000 }],
      durationMs: 41_234.6,
      consoleTail: Array.from({ length: 40 }, (_, n) => `line ${n + 1}`).join('\n') + `\n${NASTY}\n\n`,
      qemuOutput: '',
      command: ['qemu-system-x86_64', '-cdrom', `/out/x.${media}`],
      ...extra,
    },
  };
}

describe('reports', () => {
  it('JUnit XML is well-formed with hostile console text, counts right, and carries the tail in the failure', () => {
    const runs = [run('iso', 'bios', 'passed'), run('iso', 'uefi', 'failed'), run('raw', 'bios', 'failed', { reason: 'error', message: 'could not start' })];
    const doc = parseXml(junitXml('derivc-debian', runs));
    expect(doc.name).toBe('testsuites');
    expect(doc.attrs).toMatchObject({ tests: '3', failures: '1', errors: '1' });
    const suite = doc.children[0]!;
    expect(suite.attrs).toMatchObject({ name: 'derivc-debian', tests: '3', failures: '1', errors: '1', skipped: '0', time: '123.704' });
    expect(suite.children.map((c) => [c.attrs['name'], c.attrs['classname'], c.attrs['time']])).toEqual([
      ['iso-bios', 'derivc-debian.boot', '41.235'],
      ['iso-uefi', 'derivc-debian.boot', '41.235'],
      ['raw-bios', 'derivc-debian.boot', '41.235'],
    ]);
    expect(suite.children[0]!.children.map((c) => c.name)).toEqual(['system-out']);
    const failure = suite.children[1]!.children[0]!;
    expect(failure.name).toBe('failure');
    expect(failure.attrs['type']).toBe('forbidden');
    // Escaped, and back after parsing; control characters and the lone surrogate replaced.
    expect(failure.attrs['message']).toBe('forbidden `Kernel <panic> & "quotes" \'apos\' ]]> \uFFFD[0m\uFFFD\uFFFD \uFFFD end`');
    const body = failure.text.split('\n');
    expect(body.slice(0, 2)).toEqual([failure.attrs['message'], '--- console tail ---']);
    expect(body.slice(2)).toHaveLength(30);
    expect(body[2]).toBe('line 12');
    expect(body.at(-1)).toBe('Kernel <panic> & "quotes" \'apos\' ]]> \uFFFD[0m\uFFFD\uFFFD \uFFFD end');
    expect(suite.children[2]!.children[0]).toMatchObject({ name: 'error', attrs: { type: 'error', message: 'could not start' } });
  });

  it('a message with line breaks stays one attribute value', () => {
    const doc = parseXml(junitXml('s', [run('iso', 'bios', 'failed', { message: 'a\nb\tc' })]));
    expect(doc.children[0]!.children[0]!.children[0]!.attrs['message']).toBe('a\nb\tc');
  });

  it('result.json says what was expected, what matched when, and how it ended', () => {
    const ok = JSON.parse(resultJson(run('iso', 'uefi', 'passed')));
    expect(ok).toMatchObject({
      formatVersion: 1,
      name: 'iso-uefi',
      status: 'passed',
      durationMs: 41_235,
      timeoutMs: 1000,
      expect: [
        { text: 'Linux version', atMs: 20_000 },
        { text: 'login:', atMs: 41_000 },
      ],
      forbid: ['Kernel panic', 'emergency mode'],
      consoleLog: 'console.log',
      command: ['qemu-system-x86_64', '-cdrom', '/out/x.iso'],
    });
    expect(ok.consoleTail).toHaveLength(30);
    const bad = JSON.parse(resultJson(run('iso', 'bios', 'failed', { forbidden: { text: 'Kernel panic', atMs: 30_000 } })));
    expect(bad).toMatchObject({
      status: 'failed',
      reason: 'forbidden',
      expect: [
        { text: 'Linux version', atMs: 21_000 },
        { text: 'login:', matched: false },
      ],
      forbidden: { text: 'Kernel panic', atMs: 30_000 },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// The command, against fake QEMU scripts found on PATH (the CLI's environment).

describe('derivc test (fake QEMU)', () => {
  const project = join(work, 'project');
  cpSync('examples/debian-bare', project, { recursive: true });
  const manifest = join(project, 'derivative.yaml');
  const withBoot = (boot: string) =>
    writeFileSync(manifest, readFileSync('examples/debian-bare/derivative.yaml', 'utf8').replace(/^tests:[\s\S]*$/m, `tests:\n  boot:\n${boot}`));
  const out = join(work, 'out');
  const iso = join(out, 'derivc-debian-12.0.1.iso');
  const env = (bin: string) => ({ PATH: `${bin}:/usr/bin:/bin` });
  const test = (args: string[], bin: string) => runCliAsync(['test', manifest, '-o', out, ...args], { env: env(bin) });

  it('boots each firmware one after another, writes console.log and result.json per run and junit.xml, exits 0', async () => {
    withBoot('    expect: ["Linux version", "login:"]\n    timeout: 20s\n');
    mkdirSync(out, { recursive: true });
    writeFileSync(iso, 'not really an ISO');
    const bin = join(work, 'bin-ok');
    fakeQemu(bin, 'SeaBIOS\nLinux version 6.1\nderivc-debian login: ');
    const r = await test([], bin);
    expect(r.stderr).toMatch(/^PASS iso-bios: `Linux version` \d+\.\d s, `login:` \d+\.\d s$/m);
    expect(r.stderr).toMatch(/^PASS iso-uefi: /m);
    expect(r.stderr).toMatch(/^2 passed, 0 failed; reports in /m);
    expect(r.code).toBe(0);
    expect(readdirSync(join(out, 'test')).sort()).toEqual(['iso-bios', 'iso-uefi', 'junit.xml']);
    for (const name of ['iso-bios', 'iso-uefi']) {
      expect(readdirSync(join(out, 'test', name)).sort()).toEqual(['console.log', 'result.json']);
      expect(JSON.parse(readFileSync(join(out, 'test', name, 'result.json'), 'utf8'))).toMatchObject({ status: 'passed', path: iso, timeoutMs: 20_000 });
    }
    expect(parseXml(readFileSync(join(out, 'test', 'junit.xml'), 'utf8')).attrs).toMatchObject({ tests: '2', failures: '0' });
  }, 30_000);

  it('an expect that never appears fails (exit 1) with the console tail on stderr and in the reports', async () => {
    withBoot('    expect: ["login:", "never printed"]\n    timeout: 1s\n');
    const bin = join(work, 'bin-never');
    fakeQemu(bin, Array.from({ length: 50 }, (_, n) => `boot line ${n + 1}`).join('\n') + '\nlogin: ');
    const r = await test(['--firmware', 'bios'], bin);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('FAIL iso-bios: timed out after 1.0 s waiting for `never printed`');
    expect(r.stderr).toContain(`console tail (last 30 lines; full log ${join(out, 'test', 'iso-bios', 'console.log')}):`);
    expect(r.stderr).toContain('  | boot line 22\n');
    expect(r.stderr).not.toContain('| boot line 21\n');
    expect(r.stderr).toContain('  | login: \n');
    const junit = parseXml(readFileSync(join(out, 'test', 'junit.xml'), 'utf8'));
    expect(junit.children[0]!.children.map((c) => c.attrs['name'])).toEqual(['iso-bios']);
    expect(junit.children[0]!.children[0]!.children[0]!.text).toContain('boot line 50\nlogin: ');
    expect(JSON.parse(readFileSync(join(out, 'test', 'iso-bios', 'result.json'), 'utf8'))).toMatchObject({
      status: 'failed',
      reason: 'timeout',
      expect: [{ text: 'login:' }, { text: 'never printed', matched: false }],
    });
  }, 30_000);

  it('a missing ISO is built first (here: the Engine is down, so the build fails and nothing boots)', async () => {
    withBoot('    timeout: 1s\n');
    const empty = join(work, 'empty');
    const docker = () =>
      ({
        endpoint: 'unix:///nowhere.sock',
        info: async () => Promise.reject(new EngineUnreachableError('unix:///nowhere.sock', 'ENOENT')),
      }) as unknown as DockerEngine;
    const bin = join(work, 'bin-built');
    fakeQemu(bin, 'login: ');
    const r = await runCliAsync(['test', manifest, '-o', empty, '--firmware', 'bios'], { env: env(bin), docker });
    expect(r.stderr).toContain(`no ${join(empty, 'derivc-debian-12.0.1.iso')}: building with \`derivc build ${manifest} --target iso -o ${empty}\`\n`);
    expect(r.stderr).toContain('error[build/engine-unreachable]');
    expect(r.code).toBe(1);
    expect(existsSync(join(bin, 'args.txt'))).toBe(false);
    expect(existsSync(join(empty, 'test'))).toBe(false);
  }, 30_000);

  it('SIGTERM to the derivc process stops the boot: QEMU killed, exit status 143', async () => {
    withBoot('    timeout: 5m\n');
    const bin = join(work, 'bin-term');
    fakeQemu(bin, 'SeaBIOS\n'); // never reaches `login:`: only a signal ends this run
    const child = spawn(process.execPath, [resolve('dist/derivc.mjs'), 'test', manifest, '-o', out, '--firmware', 'bios'], {
      env: { ...process.env, ...env(bin) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const pidFile = join(bin, 'pid.txt');
    for (let i = 0; i < 200 && !existsSync(pidFile); i++) await new Promise((r) => setTimeout(r, 50));
    const qemuPid = Number(readFileSync(pidFile, 'utf8'));
    expect(isRunning(qemuPid)).toBe(true);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(143);
    expect(isRunning(qemuPid)).toBe(false);
    expect(stderr).toContain('FAIL iso-bios: cancelled');
  }, 30_000);

  it('a missing QEMU names the Debian package; bad options are usage errors', async () => {
    withBoot('    timeout: 1s\n');
    const noQemu = await runCliAsync(['test', manifest, '-o', out, '--firmware', 'bios'], { env: { PATH: join(work, 'nothing') } });
    expect(noQemu.code).toBe(1);
    expect(noQemu.stderr).toContain(
      'error[test/tool-missing]: `derivc test` needs `qemu-system-x86_64` (Debian package qemu-system-x86), not found on this host',
    );
    expect(noQemu.stderr).toMatch(/--> .*derivative\.yaml:\d+:\d+/);
    expect(noQemu.stderr).toContain('hint: install them as root: `apt-get install -y qemu-system-x86`; `derivc doctor` checks every tool');
    expect(await runCliAsync(['test', manifest, '--media', 'floppy'])).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('unknown --media `floppy`; use one of iso, raw'),
    });
    expect(await runCliAsync(['test', manifest, '--firmware', 'bios,coreboot'])).toMatchObject({ code: 3 });
    expect(await runCliAsync(['test', manifest, '--quiet'])).toMatchObject({ code: 3, stderr: expect.stringContaining('`test` does not take --quiet') });
  }, 30_000);
});
