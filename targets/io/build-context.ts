// The build context sent to the Docker Engine: a tar streamed straight from the compiled directory
// (no temp copy). The bytes depend only on paths, content and modes — never on owners or times —
// so an unchanged directory gives an identical tar and the Engine's build cache hits.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as tar from 'tar-stream';
import { OUTPUT_TEMP_SUFFIX } from '../../compiler/output-path.js';

/** derivc's own bookkeeping at the top of the output directory: never part of the image. */
const TOP_LEVEL_EXCLUDED = new Set(['derivc.json', 'build.log']);
const TOP_LEVEL_EXCLUDED_PREFIX = '.derivc-';
/** Media the targets write next to the build context (`<name>.iso` and its `.sha256`, …): never part of the image. */
const TOP_LEVEL_MEDIA = /\.(?:iso|raw|qcow2|ova)(?:\.sha256)?$/;

type Listed =
  | { rel: string; kind: 'directory'; mode: number }
  | { rel: string; kind: 'file'; mode: number; size: number }
  | { rel: string; kind: 'symlink'; mode: number; linkname: string };

function excluded(rel: string): boolean {
  const top = rel.split('/', 1)[0]!;
  return TOP_LEVEL_EXCLUDED.has(rel) || top.startsWith(TOP_LEVEL_EXCLUDED_PREFIX) || rel.endsWith(OUTPUT_TEMP_SUFFIX) || (top === rel && TOP_LEVEL_MEDIA.test(rel));
}

/** Everything under `dir` (lstat: symlinks are listed, never followed), sorted by path. */
function list(dir: string): Listed[] {
  const out: Listed[] = [];
  const walk = (relDir: string): void => {
    for (const name of fs.readdirSync(path.join(dir, relDir))) {
      const rel = relDir === '' ? name : `${relDir}/${name}`;
      if (excluded(rel)) continue;
      const stat = fs.lstatSync(path.join(dir, rel));
      const mode = stat.mode & 0o7777;
      if (stat.isDirectory()) {
        out.push({ rel, kind: 'directory', mode });
        walk(rel);
      } else if (stat.isFile()) {
        out.push({ rel, kind: 'file', mode, size: stat.size });
      } else if (stat.isSymbolicLink()) {
        out.push({ rel, kind: 'symlink', mode, linkname: fs.readlinkSync(path.join(dir, rel)) });
      } else {
        throw new Error(`${rel} is neither a file, a directory nor a symlink`);
      }
    }
  };
  walk('');
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** tar-stream replaces a falsy mode with a default; the type bits keep mode 0 intact (the header keeps only 0o7777). */
function headerMode(entry: Listed): number {
  const typeBits = entry.kind === 'directory' ? fs.constants.S_IFDIR : entry.kind === 'symlink' ? fs.constants.S_IFLNK : fs.constants.S_IFREG;
  return typeBits | entry.mode;
}

/** Adds one entry; for a file, streams its content from disk. Resolves once the entry is in the tar. */
function addEntry(pack: tar.Pack, dir: string, entry: Listed, mtime: Date, reading: (source: fs.ReadStream) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const header: Partial<tar.Header> & { name: string } = { name: entry.rel, mode: headerMode(entry), mtime, uid: 0, gid: 0, uname: '', gname: '' };
    if (entry.kind !== 'file') {
      header.type = entry.kind;
      header.size = 0;
      if (entry.kind === 'symlink') header.linkname = entry.linkname;
      pack.entry(header, (err) => (err ? reject(err) : resolve()));
      return;
    }
    header.type = 'file';
    header.size = entry.size;
    // tar-stream checks the byte count against the listed size; say what that means.
    const fail = (err: Error): void => reject(err.message === 'Size mismatch' ? new Error('the file changed size while being read') : err);
    const sink = pack.entry(header, (err) => (err ? fail(err) : resolve()));
    const source = fs.createReadStream(path.join(dir, entry.rel));
    reading(source);
    source.on('error', reject);
    sink.on('error', fail);
    source.pipe(sink);
  });
}

/**
 * A tar of every file under `dir` except derivc's bookkeeping. The listing is taken when this is
 * called; contents are read one file at a time as the consumer pulls. Any failure (unreadable file,
 * a file that changed size or kind since the listing) is an 'error' event on the returned stream.
 */
export function contextStream(dir: string, opts: { mtime?: Date } = {}): NodeJS.ReadableStream {
  const mtime = opts.mtime ?? new Date(0);
  const out = new PassThrough();
  let entries: Listed[];
  try {
    entries = list(dir);
  } catch (err) {
    process.nextTick(() => out.destroy(contextError(err)));
    return out;
  }

  const pack = tar.pack();
  let stopped = false;
  let source: fs.ReadStream | undefined;
  // The consumer went away (a cancelled build): stop reading files, close the open one.
  out.on('close', () => {
    stopped = true;
    source?.destroy();
    pack.destroy();
  });
  // Piped by hand, not with pipe(): a pack error always comes from an entry, and addEntry reports
  // that one with the file's path; pipe() would pass the bare error on first.
  pack.on('error', () => {});
  pack.on('data', (chunk: unknown) => {
    if (!out.write(chunk)) pack.pause();
  });
  out.on('drain', () => pack.resume());
  pack.on('end', () => out.end());

  void (async () => {
    for (const entry of entries) {
      if (stopped) return;
      try {
        await addEntry(pack, dir, entry, mtime, (s) => (source = s));
      } catch (err) {
        stopped = true;
        out.destroy(contextError(err, entry.rel));
        return;
      }
    }
    pack.finalize();
  })();
  return out;
}

function contextError(err: unknown, rel?: string): Error {
  const message = (err as Error).message;
  return new Error(rel ? `cannot add ${rel} to the build context: ${message}` : `cannot list the build context: ${message}`, { cause: err });
}
