// The real CLI bundle (dist/derivc.mjs, built by `npm run build`, as `npm test` does first), for
// tests that run derivc as separate processes. An old bundle would test old code: refused.

import * as fs from 'node:fs';
import * as path from 'node:path';

export const CLI = path.resolve('dist/derivc.mjs');

/** The newest TypeScript source the bundle is built from, and its modification time. */
function newestSource(): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  for (const dir of ['cli', 'compiler', 'targets']) {
    for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
      const file = path.join(entry.parentPath, entry.name);
      const { mtimeMs } = fs.statSync(file);
      if (mtimeMs > newest.mtimeMs) newest = { file, mtimeMs };
    }
  }
  return newest;
}

/** Throws unless dist/derivc.mjs exists and is newer than every source. */
export function requireBuiltCli(): string {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
  const newest = newestSource();
  if (newest.mtimeMs > fs.statSync(CLI).mtimeMs) throw new Error(`${CLI} is older than ${newest.file}: run \`npm run build\` first (npm test does)`);
  return CLI;
}
