// npm run bench:raw — the raw disk of the bare Debian example, built by `derivc build --target raw`
// from an image that is already built (the image step is a no-op), as a ratio to two baselines
// measured in the same run, interleaved round by round:
//   - dd: writing the same bytes (the finished disk, every byte, fsync'd) — the I/O limit;
//   - docker export | sqfstar -comp xz alone — the compression every raw build must do once.
// Needs a running Engine, the local/debian:bookworm base (test/e2e/fixtures.ts makes it) and the
// raw target's tools (`derivc doctor`). Takes several minutes.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const cli = resolve('dist/derivc.mjs');
const manifest = resolve('examples/debian-bare/derivative.yaml');
const image = 'derivc.local/derivc-debian:12.0.1';
const dir = mkdtempSync(join(tmpdir(), 'derivc-bench-raw-'));
// One epoch for every build: same work, whatever the image's creation time.
const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };

function timed(fn) {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function check(r, what) {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}):\n${r.stderr}`);
}

// With an even count, the slower of the two middle values.
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;

try {
  // The image first (a no-op when it is up to date), so the rounds time only the medium.
  check(spawnSync(process.execPath, [cli, 'build', '--quiet', manifest, '-o', join(dir, 'image')], { encoding: 'utf8', env }), 'derivc build');
  const noop = timed(() =>
    check(spawnSync(process.execPath, [cli, 'build', '--quiet', manifest, '-o', join(dir, 'image')], { encoding: 'utf8', env }), 'derivc build (no-op)'),
  );

  const derivc = [];
  const dd = [];
  const sqfs = [];
  let diskBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const out = join(dir, `raw-${round}`);
    derivc.push(
      timed(() =>
        check(
          spawnSync(process.execPath, [cli, 'build', '--quiet', manifest, '-o', out, '--target', 'raw'], { encoding: 'utf8', env }),
          'derivc build --target raw',
        ),
      ),
    );
    const disk = join(
      out,
      readdirSync(out).find((f) => f.endsWith('.raw')),
    );
    diskBytes = statSync(disk).size;
    dd.push(timed(() => check(spawnSync('dd', [`if=${disk}`, `of=${join(dir, 'dd.raw')}`, 'bs=4M', 'conv=fsync', 'status=none'], { encoding: 'utf8' }), 'dd')));
    rmSync(join(dir, 'dd.raw'), { force: true });
    sqfs.push(
      timed(() => {
        const container = execFileSync('docker', ['create', image, '/bin/true'], { encoding: 'utf8' }).trim();
        try {
          const r = spawnSync(
            'bash',
            [
              '-c',
              'set -o pipefail; docker export "$1" | sqfstar -comp xz -no-progress -root-mode 755 -root-uid 0 -root-gid 0 "$2" >/dev/null',
              'bash',
              container,
              join(dir, 'alone.squashfs'),
            ],
            { encoding: 'utf8', env },
          );
          check(r, 'docker export | sqfstar');
        } finally {
          spawnSync('docker', ['rm', container], { stdio: 'ignore' });
        }
      }),
    );
    rmSync(join(dir, 'alone.squashfs'), { force: true });
    rmSync(out, { recursive: true, force: true });
  }

  const m = { derivc: median(derivc), dd: median(dd), sqfs: median(sqfs) };
  const version = (cmd, args) => execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0].trim();
  console.log(
    `derivc raw bench — ${new Date().toISOString()}, node ${process.version}, Docker ${version('docker', ['version', '--format', '{{.Server.Version}}'])}, ${version('sqfstar', ['-version'])}, ${ROUNDS} rounds, medians`,
  );
  console.log(
    `disk: ${(diskBytes / 2 ** 30).toFixed(1)} GiB (examples/debian-bare: targets.raw.size); image no-op before each medium: ${(noop / 1000).toFixed(2)} s`,
  );
  console.log('| from the built image | time | derivc ÷ this |');
  console.log('|---|---|---|');
  console.log(`| derivc build --target raw (image up to date) | ${s(m.derivc)} | 1.00 |`);
  console.log(`| dd of the same bytes (bs=4M, conv=fsync): the I/O limit | ${s(m.dd)} | ${(m.derivc / m.dd).toFixed(2)} |`);
  console.log(`| docker export \\| sqfstar -comp xz alone: the compression | ${s(m.sqfs)} | ${(m.derivc / m.sqfs).toFixed(2)} |`);
  console.log(`rounds: derivc ${derivc.map(s).join(', ')}; dd ${dd.map(s).join(', ')}; sqfstar ${sqfs.map(s).join(', ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
