// npm run build: bundle the CLI into dist/derivc.mjs and the chunks it loads on demand (the
// Docker Engine client, doctor, test), so the installed package needs no node_modules.
//
// What the bundle leaves out is package.json's `dependencies` — read from there, so the two lists
// cannot disagree (test/bundle-standalone.test.ts runs the bundle with nothing installed) — and
// native addons (`*.node`): ssh2 (dockerode's ssh:// transport) and cpu-features try to load their
// compiled bindings and fall back to JavaScript when they are absent, which they always are.
//
//   node build.js [--outdir DIR] [--metafile FILE]

import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' }, metafile: { type: 'string' } } });
const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const outdir = values.outdir;

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { derivc: 'cli/bin.ts' },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir,
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  external: [...Object.keys(pkg.dependencies ?? {}), '*.node'],
  // The CommonJS modules inside an ESM bundle: `require` for Node's built-ins, and `__dirname`
  // (ssh2's WebAssembly poly1305, used when its binding is absent, reads it while loading).
  banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
  define: { __dirname: 'import.meta.dirname', __filename: 'import.meta.filename' },
  metafile: values.metafile !== undefined,
  logLevel: 'warning',
});
if (values.metafile !== undefined) writeFileSync(values.metafile, JSON.stringify(result.metafile));

const bin = join(outdir, 'derivc.mjs');
writeFileSync(bin, '#!/usr/bin/env node\n' + readFileSync(bin, 'utf8'));
chmodSync(bin, 0o755);
