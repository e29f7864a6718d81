// The on-disk cache of image entries by image ID: what goes in comes out (contents, devices,
// missing paths), nothing comes out for another image or path set, and a damaged or unwritable
// cache means "read the image", never an error or a wrong entry.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImageEntry } from '../targets/io/engine.js';
import { cacheDirFromEnv, directoryEntriesCache } from '../targets/io/entries-cache.js';

const root = mkdtempSync(join(tmpdir(), 'derivc-entries-cache-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const ID = 'sha256:' + 'a'.repeat(64);
const PATHS = ['/etc/hosts', '/dev/console', '/.dockerenv'];
const ENTRIES = new Map<string, ImageEntry | undefined>([
  [
    '/etc/hosts',
    {
      type: 'file',
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: 'root',
      gname: 'root',
      mtime: 1_700_000_000,
      content: new Uint8Array(Buffer.from('127.0.0.1 localhost\n')),
    },
  ],
  ['/dev/console', { type: 'character-device', mode: 0o600, uid: 0, gid: 5, mtime: 1, devmajor: 5, devminor: 1 }],
  ['/.dockerenv', undefined],
]);

describe('the image entries cache', () => {
  it('gives back what was stored for the same image and paths (in any order), and nothing otherwise', async () => {
    const cache = directoryEntriesCache(join(root, 'a', 'nested'));
    expect(await cache.get(ID, PATHS)).toBeUndefined();
    await cache.set(ID, PATHS, ENTRIES);
    expect(await cache.get(ID, [...PATHS].reverse())).toEqual(ENTRIES);
    expect(await cache.get('sha256:' + 'b'.repeat(64), PATHS)).toBeUndefined();
    expect(await cache.get(ID, ['/etc/hosts'])).toBeUndefined();
    expect(readdirSync(join(root, 'a', 'nested')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('treats a damaged file as a miss: not JSON, another image ID inside, an entry of the wrong shape or type, a file without content', async () => {
    const dir = join(root, 'b');
    const cache = directoryEntriesCache(dir);
    await cache.set(ID, PATHS, ENTRIES);
    const [file] = readdirSync(dir);
    const good = readFileSync(join(dir, file!), 'utf8');
    const bads = [
      '{not json',
      good.replace(ID, 'sha256:' + 'c'.repeat(64)),
      good.replace('"mode":420', '"mode":"420"'),
      good.replace('"content":"', '"content":7,"x":"'),
      good.replace('"type":"character-device"', '"type":"socket"'),
      good.replace(/"content":"[^"]*"/, '"x":""'), // a file without its content
    ];
    for (const bad of bads) {
      expect(bad).not.toBe(good);
      writeFileSync(join(dir, file!), bad);
      expect(await cache.get(ID, PATHS)).toBeUndefined();
    }
  });

  it('never fails a build when it cannot write', async () => {
    const blocker = join(root, 'not-a-dir');
    writeFileSync(blocker, '');
    const cache = directoryEntriesCache(join(blocker, 'derivc'));
    await expect(cache.set(ID, PATHS, ENTRIES)).resolves.toBeUndefined();
    expect(await cache.get(ID, PATHS)).toBeUndefined();
  });

  it('lives in DERIVC_CACHE_DIR, else XDG_CACHE_HOME/derivc, else ~/.cache/derivc', () => {
    expect(cacheDirFromEnv({ DERIVC_CACHE_DIR: '/c', XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/c');
    expect(cacheDirFromEnv({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/derivc');
    expect(cacheDirFromEnv({ HOME: '/h' })).toBe('/h/.cache/derivc');
    expect(cacheDirFromEnv({})).toBeUndefined();
  });
});
