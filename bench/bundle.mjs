// A TypeScript entry of the project bundled into one ESM file for Node, the way build.js bundles
// the CLI: the benches run TypeScript drivers and fixtures without a TypeScript loader.

import { build } from 'esbuild';

/** Bundles `entry` to `outfile`; `options` adds to (or overrides) the shared esbuild options. */
export function bundle(entry, outfile, options = {}) {
  return build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
    banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' },
    ...options,
  });
}
