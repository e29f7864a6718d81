// The build context sent to the Docker Engine: a tar streamed straight from the compiled directory
// (no temp copy) holding exactly the files derivc wrote — those derivc.json lists (or the list the
// caller passes, from the compile it just did) — each checked against its recorded sha256 before
// anything is sent and again while it is sent. Whatever else is in the directory (a file someone
// added under rootfs/, build.log, media, test results) never reaches the image. The bytes depend
// only on paths, contents and the listed modes — never on owners, times or directory modes on
// disk — so an unchanged directory gives an identical tar and the Engine's build cache hits.
// A symlink derivc wrote (from `overlay` or `oemDir`) goes in as a tar symlink entry with the
// listed link text, checked against the link on disk and never followed: Docker's `COPY overlay/ /`
// then makes the same symlink in the image.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as tar from 'tar-stream';
import { MANIFEST_FILE } from '../../compiler/emit/types.js';
import { linkTargetProblem } from '../../compiler/link-target.js';
import { parseListing, type ListedFile } from '../../compiler/output-listing.js';
import { inOutputNamespace, outputPathProblem } from '../../compiler/output-path.js';

/**
 * A file of the build context as derivc wrote it (as derivc.json lists it): its path inside the
 * directory (`rootfs/etc/cos/bootargs.cfg`), the lowercase hex sha256 of its content and the
 * permission bits carried into the image; or a symlink, with its link text instead of a mode.
 */
export type ContextFile = ListedFile;

/** Directories in the tar: fixed, so a chmod in the output directory cannot reach the image. */
const DIRECTORY_MODE = 0o755;

type Entry =
  | { rel: string; kind: 'directory' }
  | { rel: string; kind: 'file'; file: ContextFile & { mode: number }; size: number }
  | { rel: string; kind: 'symlink'; target: string };

/** derivc.json's listing in `dir`: every entry must be one derivc writes. */
function listingIn(dir: string): ContextFile[] {
  const file = path.join(dir, MANIFEST_FILE);
  let text: string;
  try {
    if (!fs.lstatSync(file).isFile()) throw new Error(`${MANIFEST_FILE} is not a regular file`);
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`no ${MANIFEST_FILE} listing in ${dir} (compile into it first): ${(err as Error).message}`, { cause: err });
  }
  const parsed = parseListing(text);
  if (!parsed.listing) throw new Error(`${file} is not a listing derivc writes (${parsed.problem})`);
  if (parsed.listing.ignored.length) throw new Error(`${file} lists what derivc never writes: ${parsed.listing.ignored.join('; ')}`);
  return parsed.listing.files;
}

function checkList(files: readonly ContextFile[]): void {
  const seen = new Set<string>();
  for (const f of files) {
    const problem =
      outputPathProblem(f.path) ??
      (f.path === MANIFEST_FILE || !inOutputNamespace(f.path) ? 'not a file derivc generates' : seen.has(f.path) ? 'listed twice' : undefined);
    if (problem) throw new Error(`${JSON.stringify(f.path)}: ${problem}`);
    if (f.symlink !== undefined) {
      const bad = typeof f.symlink === 'string' ? linkTargetProblem(f.symlink) : 'is not text';
      if (bad) throw new Error(`${JSON.stringify(f.path)}: a symlink whose target ${bad}`);
    } else if (!/^[0-9a-f]{64}$/.test(f.sha256) || !Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777)
      throw new Error(`${JSON.stringify(f.path)}: no valid sha256 and mode`);
    seen.add(f.path);
  }
}

/** Refuses a symlink (or anything but a directory) on the way to `rel`: a directory swapped for a link to /etc. */
async function checkParents(dir: string, rel: string): Promise<void> {
  const segments = rel.split('/');
  for (let i = 1; i < segments.length; i++) {
    const st = await fs.promises.lstat(path.join(dir, ...segments.slice(0, i)));
    if (!st.isDirectory()) throw new Error(`${segments.slice(0, i).join('/')} is not a directory`);
  }
}

/** The link text of a listed symlink, read without following it; it must be the listed one. */
async function checkedLink(dir: string, file: ContextFile & { symlink: string }): Promise<string> {
  await checkParents(dir, file.path);
  const at = path.join(dir, ...file.path.split('/'));
  if (!(await fs.promises.lstat(at)).isSymbolicLink()) throw new Error(`not the symlink derivc wrote (${MANIFEST_FILE} lists one); compile again`);
  const target = await fs.promises.readlink(at, { encoding: 'buffer' });
  if (!target.equals(Buffer.from(file.symlink, 'utf8')))
    throw new Error(`not the symlink derivc wrote (its target differs from ${MANIFEST_FILE}); compile again`);
  return file.symlink;
}

/** Opens a listed file, refusing a symlink anywhere on its way (a directory swapped for a link to /etc). */
async function openListed(dir: string, rel: string): Promise<fs.promises.FileHandle> {
  await checkParents(dir, rel);
  const segments = rel.split('/');
  const handle = await fs.promises.open(path.join(dir, ...segments), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  const st = await handle.stat();
  if (!st.isFile()) {
    await handle.close();
    throw new Error('not a regular file');
  }
  return handle;
}

async function digestOf(dir: string, rel: string): Promise<{ sha256: string; size: number }> {
  const handle = await openListed(dir, rel);
  try {
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of handle.createReadStream({ autoClose: false })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await handle.close();
  }
}

const NOT_WRITTEN = `not the file derivc wrote (its sha256 differs from ${MANIFEST_FILE}); compile again`;

/** The tar's entries, sorted by path: every listed file, checked, and the directories above them. */
async function entriesOf(dir: string, files: readonly ContextFile[]): Promise<Entry[]> {
  const out: Entry[] = [];
  const dirs = new Set<string>();
  for (const file of files) {
    for (let i = file.path.indexOf('/'); i !== -1; i = file.path.indexOf('/', i + 1)) dirs.add(file.path.slice(0, i));
    if (file.symlink !== undefined) {
      try {
        out.push({ rel: file.path, kind: 'symlink', target: await checkedLink(dir, file) });
      } catch (err) {
        throw contextError(err, file.path);
      }
      continue;
    }
    let found: { sha256: string; size: number };
    try {
      found = await digestOf(dir, file.path);
    } catch (err) {
      throw contextError(err, file.path);
    }
    if (found.sha256 !== file.sha256) throw contextError(new Error(NOT_WRITTEN), file.path);
    out.push({ rel: file.path, kind: 'file', file: file as ContextFile & { mode: number }, size: found.size });
  }
  for (const d of dirs) out.push({ rel: d, kind: 'directory' });
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** tar-stream replaces a falsy mode with a default; the type bits keep mode 0 intact (the header keeps only 0o7777). */
function headerMode(entry: Entry): number {
  if (entry.kind === 'directory') return fs.constants.S_IFDIR | DIRECTORY_MODE;
  // A symlink's own bits mean nothing on Linux; 0777 is what every symlink there shows.
  return entry.kind === 'symlink' ? fs.constants.S_IFLNK | 0o777 : fs.constants.S_IFREG | entry.file.mode;
}

/** Adds one entry; for a file, streams its content from disk, hashing it. Resolves once the entry is in the tar. */
async function addEntry(pack: tar.Pack, dir: string, entry: Entry, mtime: Date, reading: (source: fs.ReadStream | undefined) => void): Promise<void> {
  const header: Partial<tar.Header> & { name: string } = { name: entry.rel, mode: headerMode(entry), mtime, uid: 0, gid: 0, uname: '', gname: '' };
  if (entry.kind === 'directory' || entry.kind === 'symlink') {
    header.type = entry.kind;
    header.size = 0;
    // Checked when the entries were listed; written from the listing, never by following the link.
    if (entry.kind === 'symlink') header.linkname = entry.target;
    return new Promise((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())));
  }
  const handle = await openListed(dir, entry.rel);
  return new Promise((resolve, reject) => {
    header.type = 'file';
    header.size = entry.size;
    const hash = createHash('sha256');
    // tar-stream checks the byte count against the listed size; say what that means.
    const fail = (err: Error): void => reject(err.message === 'Size mismatch' ? new Error('the file changed size while being read') : err);
    const sink = pack.entry(header, (err) => {
      if (err) return fail(err);
      if (hash.digest('hex') !== entry.file.sha256) return reject(new Error(`${NOT_WRITTEN} (it changed while being sent)`));
      resolve();
    });
    const source = handle.createReadStream();
    reading(source);
    source.on('data', (chunk) => hash.update(chunk as Buffer));
    source.on('error', reject);
    sink.on('error', fail);
    source.pipe(sink);
  });
}

/**
 * A tar of the files derivc wrote into `dir`: `opts.files`, or what `dir/derivc.json` lists.
 * Every file is checked against its sha256 before the first byte goes out, then streamed (and
 * checked again) one at a time as the consumer pulls. Any failure — an unlisted change, a missing
 * file, a symlink in the way — is an 'error' event on the returned stream.
 */
export function contextStream(dir: string, opts: { files?: readonly ContextFile[]; mtime?: Date } = {}): NodeJS.ReadableStream {
  const mtime = opts.mtime ?? new Date(0);
  const out = new PassThrough();
  let files: readonly ContextFile[];
  try {
    files = opts.files ?? listingIn(dir);
    checkList(files);
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
    let entries: Entry[];
    try {
      entries = await entriesOf(dir, files);
    } catch (err) {
      stopped = true;
      out.destroy(err as Error);
      return;
    }
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
  if (message.startsWith('cannot add ') || message.startsWith('cannot list ')) return err as Error;
  return new Error(rel ? `cannot add ${rel} to the build context: ${message}` : `cannot list the build context: ${message}`, { cause: err });
}
