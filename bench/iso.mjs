// npm run bench:iso — how long `derivc build --target iso` takes to make the bare Debian example's
// ISO from its already built image, as a ratio to two baselines measured in the same run on the
// same image:
//
//   1. the compression-bound limit: `docker create`, `docker export | sqfstar` (the same sqfstar
//      arguments as derivc: zstd, root owner and mode), `docker rm` — no ISO at all;
//   2. the naive pipeline: `docker export` to a tar file, untar it to disk (as root, numeric
//      owners), `mksquashfs` the directory (zstd), copy the kernel and initrd out of its /boot,
//      write a minimal grub.cfg, `grub-mkrescue` (BIOS + UEFI, like derivc).
//
// derivc is timed as a whole process (validate + compile + the image no-op + the ISO); the time to
// its "up to date:" line is the image no-op, the rest is the ISO stage, and its progress lines
// (plain mode) give each ISO step's time. It runs twice per round: cold, with an empty cache
// directory (DERIVC_CACHE_DIR), so it reads the image's own init-layer entries with
// `docker save` as a first ISO of a new image does; and warm, with the entries of this image
// already cached (a copy of the last cold run's cache), as every later medium of it is. The three are interleaved in rounds with a rotating
// order; medians. Besides wall time, each job's CPU time (user + system of every process it
// started and waited for, from /proc/self/stat: sqfstar, tar, grub-mkrescue, derivc's node, the
// docker CLI; not dockerd, which serves the export for all three) — less sensitive than wall time
// to other work on a shared machine. Needs the Docker Engine, the local/debian:bookworm base
// (test/e2e/fixtures.ts makes it), squashfs-tools, grub-mkrescue with grub-pc-bin and
// grub-efi-amd64-bin, xorriso, mtools. BENCH_ISO_RUNS rounds (default 3; each round is four
// ISO-sized jobs of 1–2 minutes).
//
// BENCH_ISO_COMPARE=/path/to/other/dist/derivc.mjs adds that build of derivc (cold and warm, two
// more jobs per round) to the same rounds, to compare two versions of the ISO path on the same
// image under the same load: its rows, its ratio to this build, and whether both made the same ISO.
// Each derivc run's own CPU (its node process alone, sampled from /proc/<pid>/stat: the export
// filter, the Engine's streams, the layer read, the checksum; not sqfstar) is reported too: on a
// shared machine it moves far less than wall time, and it is what a change to derivc's I/O changes.
//
// The example is built under its own name (a copy of the manifest, metadata.name
// derivc-debian-bench): the e2e tests and other work on the same Engine build derivc-debian, and a
// tag moved mid-run would make derivc rebuild instead of finding its image up to date.

import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, createReadStream, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, posix, resolve } from 'node:path';

const cli = resolve('dist/derivc.mjs');
const EXAMPLE = resolve('examples/debian-bare');
const RUNS = Number(process.env.BENCH_ISO_RUNS ?? 3);
const COMPARE = process.env.BENCH_ISO_COMPARE ? resolve(process.env.BENCH_ISO_COMPARE) : undefined;
const SQFSTAR_ARGS = ['-comp', 'zstd', '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0'];

const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-iso-'));
const example = join(dir, 'example');
mkdirSync(example);
const manifest = readFileSync(join(EXAMPLE, 'derivative.yaml'), 'utf8');
if (!/^ {2}name: derivc-debian$/m.test(manifest)) throw new Error(`${EXAMPLE}/derivative.yaml no longer names itself derivc-debian: update the bench's copy`);
writeFileSync(join(example, 'derivative.yaml'), manifest.replace(/^ {2}name: derivc-debian$/m, '  name: derivc-debian-bench'));

/** Runs a command; resolves with its stdout, or rejects with its stderr. */
function run(cmd, args, opts = {}) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(out) : reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${err}`))));
  });
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const now = () => performance.now();

const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** CPU time (ms) of this process's waited-for descendants so far: cutime + cstime. */
function childCpu() {
  const fields = readFileSync('/proc/self/stat', 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return (Number(fields[13]) + Number(fields[14])) * TICK_MS; // fields 16 and 17 of proc(5)
}

/** A job's wall and CPU time (its children's, plus this process's own for b2's file copies). */
async function timed(job) {
  const cpu0 = childCpu();
  const own0 = process.cpuUsage();
  const r = await job();
  const own = process.cpuUsage(own0);
  return { ...r, cpu: childCpu() - cpu0 + (r.ownCpu ? (own.user + own.system) / 1000 : 0) };
}

function sha256(file) {
  return new Promise((resolvePromise, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolvePromise(h.digest('hex')));
  });
}

/**
 * `derivc build --target iso` as one process, its stderr progress lines timestamped as they
 * arrive: total, the image no-op (to "up to date:"), the ISO stage (the rest), and each ISO step.
 */
function viaDerivc(round, cacheDir, cliPath = cli) {
  const out = join(dir, `derivc-${round}`);
  return new Promise((resolvePromise, reject) => {
    const started = now();
    const env = { ...process.env, DERIVC_CACHE_DIR: cacheDir };
    const child = spawn(process.execPath, [cliPath, 'build', example, '-o', out, '--target', 'iso'], { stdio: ['ignore', 'ignore', 'pipe'], env });
    // derivc's own CPU (utime + stime, fields 14 and 15 of proc(5)), sampled until it exits.
    let ownTicks = 0;
    const sample = setInterval(() => {
      try {
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
          .replace(/^.*\) /s, '')
          .split(' ');
        ownTicks = Number(fields[11]) + Number(fields[12]);
      } catch {
        // gone: the last sample stands
      }
    }, 50);
    const lines = [];
    let partial = '';
    let all = '';
    child.stderr.on('data', (b) => {
      const t = now() - started;
      all += b;
      const parts = (partial + b).split('\n');
      partial = parts.pop();
      for (const text of parts) lines.push({ t, text });
    });
    child.on('error', reject);
    child.on('exit', async (code) => {
      clearInterval(sample);
      const total = now() - started;
      if (code !== 0) return reject(new Error(`derivc build --target iso failed (${code}):\n${all}`));
      const upToDate = lines.find((l) => l.text.startsWith('up to date:'));
      if (!upToDate) return reject(new Error(`derivc built the image instead of finding it up to date (build it first):\n${all}`));
      const steps = lines.filter((l) => /^iso: /.test(l.text));
      // A step ends where the next line starts; the last one (the artifact line) ends at exit.
      const stepTimes = {};
      for (let i = 0; i < steps.length; i++) {
        const title = steps[i].text.slice(5);
        if (title.startsWith('/')) continue; // the artifact line
        stepTimes[title] = (steps[i + 1]?.t ?? total) - steps[i].t;
      }
      const iso = /^iso: (\/\S+\.iso) /.exec(steps.at(-1).text)?.[1];
      const sum = iso ? await sha256(iso) : undefined;
      rmSync(out, { recursive: true, force: true });
      resolvePromise({ total, noop: upToDate.t, iso: total - upToDate.t, steps: stepTimes, sha256: sum, own: ownTicks * TICK_MS });
    });
  });
}

/** `derivc build` alone, image up to date: the no-op part of the above, measured on its own. */
async function derivcNoop(round) {
  const out = join(dir, `noop-${round}`);
  const started = now();
  await run(process.execPath, [cli, 'build', '--quiet', example, '-o', out]);
  const ms = now() - started;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

/** Baseline 1: docker create, docker export | sqfstar, docker rm — the compression-bound limit. The image has no CMD: the container gets one (never run), as derivc's does. */
async function exportSqfstar(image, round) {
  const work = mkdtempSync(join(dir, `b1-${round}-`));
  const started = now();
  const id = (await run('docker', ['create', image, 'true'])).trim();
  try {
    await run('bash', ['-c', 'set -o pipefail; docker export "$1" | sqfstar "${@:3}" "$2"', 'bash', id, join(work, 'rootfs.squashfs'), ...SQFSTAR_ARGS]);
  } finally {
    await run('docker', ['rm', id]);
  }
  const ms = now() - started;
  rmSync(work, { recursive: true, force: true });
  return { total: ms };
}

/** A path inside an extracted root, links followed as the image would follow them. */
function resolveIn(root, p) {
  for (let hops = 0; hops < 40; hops++) {
    const at = join(root, p);
    if (!lstatSync(at).isSymbolicLink()) return at;
    const link = readlinkSync(at);
    p = link.startsWith('/') ? link : posix.join(posix.dirname(p), link);
  }
  throw new Error(`too many links at ${p}`);
}

/** Baseline 2: export to a tar file, untar to disk, mksquashfs, kernel and initrd, grub.cfg, grub-mkrescue. */
async function naive(image, round) {
  const work = mkdtempSync(join(dir, `b2-${round}-`));
  const tar = join(work, 'rootfs.tar');
  const root = join(work, 'rootfs');
  const tree = join(work, 'iso');
  const started = now();
  const id = (await run('docker', ['create', image, 'true'])).trim();
  try {
    await run('docker', ['export', '-o', tar, id]);
  } finally {
    await run('docker', ['rm', id]);
  }
  mkdirSync(root);
  await run('tar', ['-xpf', tar, '--numeric-owner', '-C', root]);
  mkdirSync(join(tree, 'boot', 'grub'), { recursive: true });
  await run('mksquashfs', [root, join(tree, 'rootfs.squashfs'), '-comp', 'zstd', '-no-progress']);
  copyFileSync(resolveIn(root, '/boot/vmlinuz'), join(tree, 'boot', 'vmlinuz'));
  copyFileSync(resolveIn(root, '/boot/initrd'), join(tree, 'boot', 'initrd'));
  writeFileSync(
    join(tree, 'boot', 'grub', 'grub.cfg'),
    'set timeout=3\nmenuentry "live" {\n\tlinux /boot/vmlinuz root=live:CDLABEL=COS_LIVE rd.live.dir=/ rd.live.squashimg=rootfs.squashfs rd.live.overlay.overlayfs=1 console=ttyS0\n\tinitrd /boot/initrd\n}\n',
  );
  await run('grub-mkrescue', ['-o', join(work, 'out.iso'), tree, '--', '-volid', 'COS_LIVE']);
  const ms = now() - started;
  rmSync(work, { recursive: true, force: true }); // not timed: the baseline gets its clean-up for free
  return { total: ms, ownCpu: true };
}

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

try {
  // Make sure the image is built and up to date (not timed), and learn its ID.
  const first = await run(process.execPath, [cli, 'build', '--json', example, '-o', join(dir, 'warm')]);
  const result = first
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .find((e) => e.kind === 'result');
  rmSync(join(dir, 'warm'), { recursive: true, force: true });
  const image = result.image;

  const rows = { derivc: [], warm: [], noop: [], b1: [], b2: [], cmpCold: [], cmpWarm: [] };
  let lastCold;
  let lastCmpCold;
  const jobs = [
    [
      'derivc',
      (i) => {
        lastCold = join(dir, `cache-cold-${i}`);
        return timed(() => viaDerivc(i, lastCold));
      },
    ],
    [
      'warm',
      (i) => {
        const warm = join(dir, `cache-warm-${i}`);
        cpSync(lastCold, warm, { recursive: true });
        return timed(() => viaDerivc(i, warm));
      },
    ],
    ['b1', (i) => timed(() => exportSqfstar(image, i))],
    ['b2', (i) => timed(() => naive(image, i))],
  ];
  if (COMPARE) {
    // As above: a warm run starts from a copy of the cache of the same build's last cold run.
    jobs.splice(
      2,
      0,
      [
        'cmpCold',
        (i) => {
          lastCmpCold = join(dir, `cache-cmp-cold-${i}`);
          return timed(() => viaDerivc(i, lastCmpCold, COMPARE));
        },
      ],
      [
        'cmpWarm',
        (i) => {
          const warm = join(dir, `cache-cmp-warm-${i}`);
          cpSync(lastCmpCold, warm, { recursive: true });
          return timed(() => viaDerivc(i, warm, COMPARE));
        },
      ],
    );
  }
  for (let i = 0; i < RUNS; i++) {
    rows.noop.push(await derivcNoop(i));
    for (let j = 0; j < jobs.length; j++) {
      const [key, job] = jobs[(i + j) % jobs.length];
      const r = await job(i);
      rows[key].push(r);
      process.stderr.write(
        `round ${i + 1}/${RUNS}: ${key} ${s(r.total)} (CPU ${s(r.cpu)}${r.own !== undefined ? `, own ${s(r.own)}` : ''}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]})\n`,
      );
    }
  }

  const total = median(rows.derivc.map((r) => r.total));
  const isoStage = median(rows.derivc.map((r) => r.iso));
  const warmTotal = median(rows.warm.map((r) => r.total));
  const warmIso = median(rows.warm.map((r) => r.iso));
  const inline = median(rows.derivc.map((r) => r.noop));
  const noop = median(rows.noop);
  const b1 = median(rows.b1.map((r) => r.total));
  const b2 = median(rows.b2.map((r) => r.total));
  const cpu = Object.fromEntries(['derivc', 'warm', 'b1', 'b2', ...(COMPARE ? ['cmpCold', 'cmpWarm'] : [])].map((k) => [k, median(rows[k].map((r) => r.cpu))]));
  const docker = execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8' }).trim();
  const squashfs = execFileSync('sqfstar', ['-version'], { encoding: 'utf8' }).split('\n')[0];
  const grub = execFileSync('grub-mkrescue', ['--version'], { encoding: 'utf8' }).trim();
  const sums = new Set([...rows.derivc, ...rows.warm].map((r) => r.sha256));
  const cmpSums = new Set([...rows.cmpCold, ...rows.cmpWarm].map((r) => r.sha256));

  console.log(`Run: ${new Date().toISOString()}, node ${process.version}, Docker ${docker}, ${squashfs}, ${grub}, ${RUNS} round(s), medians`);
  console.log('');
  const r2 = (a, b) => (a / b).toFixed(2);
  console.log(
    '| ISO of examples/debian-bare from its built image | wall time | ratio to export \\| sqfstar | ratio to the naive pipeline | CPU time | CPU ratio to export \\| sqfstar | CPU ratio to naive |',
  );
  console.log('|---|---|---|---|---|---|---|');
  console.log(
    `| \`derivc build --target iso\`, cold (empty cache: \`docker save\` read), whole process (image no-op included) | ${s(total)} | ${r2(total, b1)} | ${r2(total, b2)} | ${s(cpu.derivc)} | ${r2(cpu.derivc, cpu.b1)} | ${r2(cpu.derivc, cpu.b2)} |`,
  );
  console.log(`| … its ISO stage (after the "up to date:" line) | ${s(isoStage)} | ${r2(isoStage, b1)} | ${r2(isoStage, b2)} |  |  |  |`);
  console.log(
    `| \`derivc build --target iso\`, warm (this image's entries cached), whole process | ${s(warmTotal)} | ${r2(warmTotal, b1)} | ${r2(warmTotal, b2)} | ${s(cpu.warm)} | ${r2(cpu.warm, cpu.b1)} | ${r2(cpu.warm, cpu.b2)} |`,
  );
  console.log(`| … its ISO stage | ${s(warmIso)} | ${r2(warmIso, b1)} | ${r2(warmIso, b2)} |  |  |  |`);
  if (COMPARE) {
    const cmp = (key, label) => {
      const t = median(rows[key].map((r) => r.total));
      const iso = median(rows[key].map((r) => r.iso));
      console.log(`| ${label}, whole process | ${s(t)} | ${r2(t, b1)} | ${r2(t, b2)} | ${s(cpu[key])} | ${r2(cpu[key], cpu.b1)} | ${r2(cpu[key], cpu.b2)} |`);
      console.log(`| … its ISO stage | ${s(iso)} | ${r2(iso, b1)} | ${r2(iso, b2)} |  |  |  |`);
    };
    cmp('cmpCold', `BENCH_ISO_COMPARE build, cold`);
    cmp('cmpWarm', `BENCH_ISO_COMPARE build, warm`);
  }
  console.log(
    `| baseline 1: docker create + \`docker export \\| sqfstar\` (zstd) + docker rm | ${s(b1)} | 1.00 | ${r2(b1, b2)} | ${s(cpu.b1)} | 1.00 | ${r2(cpu.b1, cpu.b2)} |`,
  );
  console.log(
    `| baseline 2: export to tar, untar, mksquashfs (zstd), kernel + initrd, grub-mkrescue | ${s(b2)} | ${r2(b2, b1)} | 1.00 | ${s(cpu.b2)} | ${r2(cpu.b2, cpu.b1)} | 1.00 |`,
  );
  console.log('');
  console.log(
    `image no-op: ${(inline / 1000).toFixed(2)} s inside the ISO build (to its "up to date:" line), ${(noop / 1000).toFixed(2)} s as \`derivc build\` alone`,
  );
  console.log('derivc ISO steps (medians, from its progress lines):');
  for (const title of Object.keys(rows.derivc[0].steps)) {
    console.log(`  ${s(median(rows.derivc.map((r) => r.steps[title] ?? 0))).padStart(7)}  ${title}`);
  }
  console.log(
    `derivc ISO sha256 over ${RUNS} round(s), cold and warm: ${sums.size === 1 ? `identical (${[...sums][0].slice(0, 16)}…)` : `${sums.size} different`}`,
  );
  const own = (k) => median(rows[k].map((r) => r.own));
  console.log(
    `derivc's own process CPU (node alone, medians): cold ${s(own('derivc'))}, warm ${s(own('warm'))}${COMPARE ? `; BENCH_ISO_COMPARE build: cold ${s(own('cmpCold'))}, warm ${s(own('cmpWarm'))}; difference as a share of this build's ISO stage: cold ${(((own('derivc') - own('cmpCold')) / isoStage) * 100).toFixed(1)}%, warm ${(((own('warm') - own('cmpWarm')) / warmIso) * 100).toFixed(1)}%` : ''}`,
  );
  const per = (k) => rows[k].map((r) => `${(r.total / 1000).toFixed(1)}/${(r.cpu / 1000).toFixed(1)}`).join(', ');
  console.log(
    `per round, wall/CPU (s): derivc cold ${per('derivc')}; warm ${per('warm')}; export|sqfstar ${per('b1')}; naive ${per('b2')}${COMPARE ? `; compare cold ${per('cmpCold')}; compare warm ${per('cmpWarm')}` : ''}`,
  );
  if (COMPARE) {
    const ratio = (key, base, field) => r2(median(rows[key].map((r) => r[field])), median(rows[base].map((r) => r[field])));
    console.log(
      `this build ÷ BENCH_ISO_COMPARE (${COMPARE}): ISO stage cold ${ratio('derivc', 'cmpCold', 'iso')}, warm ${ratio('warm', 'cmpWarm', 'iso')}; whole process cold ${ratio('derivc', 'cmpCold', 'total')}, warm ${ratio('warm', 'cmpWarm', 'total')}; CPU cold ${r2(cpu.derivc, cpu.cmpCold)}, warm ${r2(cpu.warm, cpu.cmpWarm)}`,
    );
    console.log(
      `BENCH_ISO_COMPARE ISO sha256: ${cmpSums.size === 1 ? `identical in its runs (${[...cmpSums][0].slice(0, 16)}…), ${[...cmpSums][0] === [...sums][0] && sums.size === 1 ? "the same as this build's" : "NOT the same as this build's"}` : `${cmpSums.size} different`}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
