// npm run bench:boot — how long the bare Debian example's ISO takes from starting QEMU to its
// first expected console line (`login:`), under BIOS (SeaBIOS) and UEFI (OVMF), measured through
// `derivc test` itself (result.json); `Linux version` (firmware and GRUB done, kernel started) is
// recorded on the way. Baseline in the same run: QEMU's direct kernel boot of the same ISO
// (-kernel/-initrd/-append with the ISO's own command line): no firmware boot menu, no GRUB; the
// ratio is what firmware and boot loader add. Software emulation (TCG), like derivc test.
//
// Needs QEMU, OVMF and xorriso. DERIVC_BENCH_ISO=path boots that ISO; otherwise `derivc test`
// builds it first (Docker Engine and the local/debian:bookworm base). BENCH_BOOT_RUNS rounds
// (default 1; each round is three boots of about a minute or more).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve('dist/derivc.mjs');
const RUNS = Number(process.env.BENCH_BOOT_RUNS ?? 1);
const EXPECT = ['Linux version', 'login:'];
const TIMEOUT_MS = 10 * 60_000;

const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-boot-'));
const manifest = join(dir, 'example', 'derivative.yaml');
const out = join(dir, 'out');
cpSync('examples/debian-bare', join(dir, 'example'), { recursive: true });
const text = readFileSync(manifest, 'utf8');
writeFileSync(manifest, text.replace(/^tests:[\s\S]*$/m, `tests:\n  boot:\n    expect: ${JSON.stringify(EXPECT)}\n    timeout: 10m\n`));
const name = `${/^\s+name: (\S+)/m.exec(text)[1]}-${/^\s+version: (\S+)/m.exec(text)[1]}`;
const iso = join(out, `${name}.iso`);
mkdirSync(out, { recursive: true });
if (process.env.DERIVC_BENCH_ISO) symlinkSync(resolve(process.env.DERIVC_BENCH_ISO), iso);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** One `derivc test` run under one firmware: the times of the expected lines, from result.json. */
function viaDerivc(firmware) {
  const r = spawnSync(process.execPath, [cli, 'test', manifest, '-o', out, '--firmware', firmware], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const result = JSON.parse(readFileSync(join(out, 'test', `iso-${firmware}`, 'result.json'), 'utf8'));
  if (r.status !== 0) throw new Error(`derivc test --firmware ${firmware} failed (${r.status}):\n${r.stderr}`);
  return { kernel: result.expect[0].atMs, login: result.expect[1].atMs, command: result.command };
}

/** The ISO's kernel, initrd and the live command line from its grub.cfg, for the direct boot. */
function directBootFiles() {
  const files = join(dir, 'direct');
  mkdirSync(files);
  execFileSync(
    'xorriso',
    [
      '-osirrox',
      'on',
      '-indev',
      iso,
      '-extract',
      '/boot/vmlinuz',
      join(files, 'vmlinuz'),
      '-extract',
      '/boot/initrd',
      join(files, 'initrd'),
      '-extract',
      '/boot/grub/grub.cfg',
      join(files, 'grub.cfg'),
    ],
    { stdio: 'ignore' },
  );
  const line = /^\s*linux\s+\S+\s+(.*)$/m.exec(readFileSync(join(files, 'grub.cfg'), 'utf8'))[1];
  const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]));
  return { kernel: join(files, 'vmlinuz'), initrd: join(files, 'initrd'), append: args.join(' ') };
}

/**
 * QEMU with derivc's BIOS arguments (its own console file) plus -kernel/-initrd/-append; times to
 * each expected line, read from the console file as it grows, as derivc reads it.
 */
function directBoot(command, files) {
  const consoleFile = join(dir, 'direct', 'console.log');
  writeFileSync(consoleFile, '');
  const args = command.slice(1).map((a, i, all) => (all[i - 1] === '-serial' ? `file:${consoleFile}` : a));
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(command[0], [...args, '-kernel', files.kernel, '-initrd', files.initrd, '-append', files.append], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const times = [];
    const fd = openSync(consoleFile, 'r');
    const buffer = Buffer.alloc(1 << 16);
    let position = 0;
    let seen = '';
    let stderr = '';
    let settled = false;
    const finish = (err) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(poll);
      closeSync(fd);
      try {
        process.kill(child.pid, 'SIGTERM'); // by pid, like derivc
      } catch {
        // already gone
      }
      if (err) reject(err);
      else resolvePromise({ kernel: times[0], login: times[1] });
    };
    const poll = setInterval(() => {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, position)) > 0;) {
        position += n;
        // Colour codes removed, as derivc does; expect strings in order.
        seen += buffer
          .subarray(0, n)
          .toString('utf8')
          .replace(/\x1b\[[0-9;?=]*[A-Za-z]/g, '');
      }
      while (times.length < EXPECT.length) {
        const i = seen.indexOf(EXPECT[times.length]);
        if (i < 0) break;
        seen = seen.slice(i + EXPECT[times.length].length);
        times.push(performance.now() - started);
      }
      seen = seen.slice(-64); // enough to match a string split across two reads
      if (times.length === EXPECT.length) finish();
    }, 100);
    const timer = setTimeout(() => finish(new Error(`direct boot: no \`${EXPECT[times.length]}\` within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
    child.stderr.on('data', (b) => (stderr += b));
    child.on('error', finish);
    child.on('exit', () => finish(new Error(`direct boot: QEMU exited early: ${stderr}`)));
  });
}

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

try {
  const rows = { bios: [], uefi: [], direct: [] };
  let files;
  for (let i = 0; i < RUNS; i++) {
    rows.bios.push(viaDerivc('bios')); // builds the ISO first when it is missing
    rows.uefi.push(viaDerivc('uefi'));
    files ??= directBootFiles();
    rows.direct.push(await directBoot(rows.bios[0].command, files));
  }
  const base = median(rows.direct.map((r) => r.login));
  const qemu = execFileSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' }).split('\n')[0];
  console.log(`derivc boot bench — ${new Date().toISOString()}, node ${process.version}, ${qemu}, TCG, ${RUNS} round(s), medians`);
  console.log('| boot of the debian-bare ISO | `Linux version` | `login:` (first expected line) | ratio to direct kernel boot |');
  console.log('|---|---|---|---|');
  for (const [label, key] of [
    ['BIOS (SeaBIOS → GRUB), `derivc test`', 'bios'],
    ['UEFI (OVMF → GRUB), `derivc test`', 'uefi'],
    ['baseline: direct kernel boot (-kernel/-initrd, no GRUB)', 'direct'],
  ]) {
    const login = median(rows[key].map((r) => r.login));
    console.log(`| ${label} | ${s(median(rows[key].map((r) => r.kernel)))} | ${s(login)} | ${(login / base).toFixed(2)} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
