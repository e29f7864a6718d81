// npm run bench:size — what installing derivc puts on a disk: `npm pack`, then
// `npm install -g --omit=dev` of that tarball into an empty prefix (as the README's install
// section does), then the size of everything under the prefix's lib/node_modules (the package and
// the dependencies it pulled in). Measured for this working tree ("after") and, in the same run,
// for a baseline revision ("before"), so the ratio compares two installs on the same machine with
// the same npm and cache. Dependencies' install scripts run as they would for a user (ssh2 and
// cpu-features compile their optional native bindings when a compiler and Node's headers are there).
//
//   node bench/install-size.mjs [--base REV]
//
// REV defaults to BASELINE: main before issue 14 moved the bundled libraries to devDependencies.
// The baseline is packed from `git archive REV`, built with this checkout's node_modules.

import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const BASELINE = 'a01c263';
const { values } = parseArgs({ options: { base: { type: 'string', default: BASELINE } } });
const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'derivc-install-size-'));

function run(cmd, args, cwd) {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** Apparent bytes, bytes on disk (allocated blocks), files, native addon files and installed packages under dir. */
function measure(dir) {
  const total = { bytes: 0, disk: 0, files: 0, addons: 0, packages: 0 };
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const st = lstatSync(p);
      total.disk += st.blocks * 512;
      if (e.isDirectory()) {
        // A package is a directory right inside node_modules, or inside one of its @scope directories.
        if (/(^|\/)node_modules(\/@[^/]+)?$/.test(d) && !/^[@.]/.test(e.name)) total.packages++;
        walk(p);
      } else {
        total.bytes += st.size;
        total.files++;
        if (e.name.endsWith('.node')) total.addons++;
      }
    }
  };
  walk(dir);
  return total;
}

/** Packs the package at src and installs the tarball into an empty prefix; the installed tree's size. */
function packAndInstall(label, src) {
  const dest = join(work, label);
  mkdirSync(dest, { recursive: true });
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', dest], src));
  const tarball = join(dest, packed.filename);
  const prefix = join(dest, 'prefix');
  run('npm', ['install', '-g', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', tarball], dest);
  const installed = measure(join(prefix, 'lib', 'node_modules'));
  // The package itself is one of the directories counted; the rest are its dependencies.
  return { ...installed, dependencies: installed.packages - 1, tarball: packed.size, unpacked: packed.unpackedSize };
}

function baselineSource(rev) {
  const src = join(work, 'base-src');
  mkdirSync(src);
  execFileSync('sh', ['-c', 'git archive "$1" | tar -x -C "$2"', 'sh', rev, src], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  // `npm pack` runs `prepare` (the build); it needs the devDependencies, which this checkout has.
  symlinkSync(realpathSync(join(ROOT, 'node_modules')), join(src, 'node_modules'));
  return src;
}

const mb = (n) => `${(n / 1e6).toFixed(1)} MB`;
const line = (label, r) =>
  `${label.padEnd(24)} ${mb(r.bytes).padStart(9)} (${r.bytes} bytes; ${mb(r.disk)} on disk) in ${r.files} files, ${r.dependencies} dependencies, ${r.addons} native .node files; tarball ${mb(r.tarball)}`;

try {
  const rev = run('git', ['rev-parse', '--short', values.base], ROOT).trim();
  const head = run('git', ['rev-parse', '--short', 'HEAD'], ROOT).trim();
  const dirty = run('git', ['status', '--porcelain', '--untracked-files=no'], ROOT).trim() !== '';
  const before = packAndInstall('before', baselineSource(rev));
  const after = packAndInstall('after', ROOT);
  console.log(
    `installed size of the packed package (npm pack; npm install -g --omit=dev of the tarball), node ${process.version}, npm ${run('npm', ['--version']).trim()}`,
  );
  console.log(line(`before (${rev})`, before));
  console.log(line(`after (${head}${dirty ? ', modified' : ''})`, after));
  console.log(
    `after/before: ${(after.bytes / before.bytes).toFixed(3)} (bytes), ${(after.disk / before.disk).toFixed(3)} (on disk), ${(after.files / before.files).toFixed(3)} (files)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
