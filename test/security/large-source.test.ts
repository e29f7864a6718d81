// A files[].source over 2 GiB — more than one read (or one Buffer) can hold — compiles to a file
// of that size with its digest, instead of an empty file with exit 0. The source is sparse, so
// the test costs disk writes of the output only.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fdDigest } from '../../cli/fd-chunks.js';
import { runCli } from '../support/cli.js';
import { makeRepo, type Repo } from './fixtures.js';

const SIZE = 2 ** 31 + 4096;
const TAIL = Buffer.from('the end of a large file\n');

let repo: Repo;
afterEach(() => repo.remove());

/** sha256 of SIZE - TAIL.length zero bytes, then TAIL: what the sparse source holds. */
function expectedDigest(): string {
  const hash = createHash('sha256');
  const zeros = Buffer.alloc(1 << 20);
  let left = SIZE - TAIL.length;
  for (; left >= zeros.length; left -= zeros.length) hash.update(zeros);
  hash.update(zeros.subarray(0, left)).update(TAIL);
  return hash.digest('hex');
}

describe('a files[].source larger than 2 GiB', () => {
  it('compiles to a file of that size and digest, recorded in derivc.json', () => {
    repo = makeRepo('files:\n  - path: /opt/disk.img\n    source: disk.img');
    const source = path.join(repo.dir, 'disk.img');
    fs.writeFileSync(source, '');
    fs.truncateSync(source, SIZE - TAIL.length);
    fs.appendFileSync(source, TAIL);
    expect(fs.statSync(source).size).toBe(SIZE);

    const r = runCli(['compile', repo.manifest, '-o', repo.out]);
    expect(r.stderr).toMatch(/^compiled /);
    expect(r.code).toBe(0);

    const sha256 = expectedDigest();
    const written = path.join(repo.out, 'files/opt/disk.img');
    expect(fs.statSync(written).size).toBe(SIZE);
    const fd = fs.openSync(written, 'r');
    try {
      expect(fdDigest(fd)).toEqual({ sha256, size: SIZE });
    } finally {
      fs.closeSync(fd);
    }
    const listing = JSON.parse(fs.readFileSync(path.join(repo.out, 'derivc.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    expect(listing.files.find((f) => f.path === 'files/opt/disk.img')?.sha256).toBe(sha256);
  }, 300_000);
});
