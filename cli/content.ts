// The bytes of a generated file, whatever form the compiler gave them in (text, bytes, or a file
// the manifest names as the Host checked it): every consumer of GeneratedFile.content (writer,
// --check, plan, diff) goes through here. A checked source is streamed, never held whole, and
// whatever is read from it is verified to be the checked bytes (else the read throws).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { SourceContent } from '../compiler/checked-file.js';
import { contentDigest } from '../compiler/emit/build-id.js';
import type { FileContent } from '../compiler/emit/types.js';
import { fdChunks, fdDigest } from './fd-chunks.js';
import { unifiedDiff } from './unified-diff.js';

/** Larger files are compared and diffed by digest: a line diff of them would be unreadable (and slow). */
export const TEXT_DIFF_LIMIT = 1 << 20;

/** The whole content in memory: for small content only (diffs); a source is read and verified. */
export function contentBytes(content: FileContent): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  if (content instanceof Uint8Array) return Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  const chunks: Buffer[] = [];
  for (const chunk of content.read()) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

export function contentSize(content: FileContent): number {
  if (typeof content === 'string') return Buffer.byteLength(content, 'utf8');
  return content instanceof Uint8Array ? content.byteLength : content.size;
}

/** Hex sha256; a checked source's is the one computed when it was checked (nothing is read). */
export function contentSha256(content: FileContent): string {
  return contentDigest(content);
}

/**
 * Writes the content at `fd`'s position. A source is streamed; if it is no longer what was
 * checked this throws — possibly after writing some chunks, so the caller must discard the file.
 */
export function writeContentTo(fd: number, content: FileContent): void {
  if (!(content instanceof SourceContent)) {
    fs.writeFileSync(fd, contentBytes(content));
    return;
  }
  for (const chunk of content.read()) {
    for (let done = 0; done < chunk.byteLength;) done += fs.writeSync(fd, chunk, done, chunk.byteLength - done);
  }
}

/**
 * Whether the regular file at `file` holds exactly `content`, read in chunks (a checked source is
 * compared by digest: its own bytes are not read). Not following a symlink at `file`: false.
 * Throws when `file` cannot be read.
 */
export function sameContentAs(file: string, content: FileContent): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP' || (err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile() || stat.size !== contentSize(content)) return false;
    if (content instanceof SourceContent) return fdDigest(fd, fs.readSync, stat.size).sha256 === content.sha256;
    const expected = contentBytes(content);
    let at = 0;
    for (const chunk of fdChunks(fd, fs.readSync, stat.size)) {
      if (at + chunk.byteLength > expected.byteLength || !expected.subarray(at, at + chunk.byteLength).equals(chunk)) return false;
      at += chunk.byteLength;
    }
    return at === expected.byteLength;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A file already on disk (in the output directory) as content, to diff against: its bytes when
 * small enough for a text diff, else its digest and size.
 */
export function fileContent(file: string): FileContent {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (fs.fstatSync(fd).size <= TEXT_DIFF_LIMIT) return fs.readFileSync(fd);
    const { sha256, size } = fdDigest(fd);
    return new SourceContent(file, size, sha256, () => chunksAgain(file, sha256));
  } finally {
    fs.closeSync(fd);
  }
}

function* chunksAgain(file: string, sha256: string): Generator<Uint8Array> {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const hash = createHash('sha256');
    for (const chunk of fdChunks(fd)) {
      hash.update(chunk);
      yield chunk;
    }
    if (hash.digest('hex') !== sha256) throw new Error(`${file} changed while derivc read it`);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * How a file differs between `before` and `after` (null: absent), as a unified diff; empty when
 * equal. Content larger than TEXT_DIFF_LIMIT is compared by digest and reported in one line.
 */
export function contentDiff(path: string, before: FileContent | null, after: FileContent | null): string {
  const small = (c: FileContent | null) => c === null || contentSize(c) <= TEXT_DIFF_LIMIT;
  if (small(before) && small(after)) return unifiedDiff(path, before === null ? null : contentBytes(before), after === null ? null : contentBytes(after));
  if (before !== null && after !== null && contentSize(before) === contentSize(after) && contentSha256(before) === contentSha256(after)) return '';
  const side = (c: FileContent | null) => (c === null ? 'absent' : `sha256:${contentSha256(c)} (${contentSize(c)} bytes)`);
  return `${LARGE_FILES} ${before === null ? '/dev/null' : `a/${path}`} and ${after === null ? '/dev/null' : `b/${path}`} differ: ${side(before)} → ${side(after)}\n`;
}

/** How contentDiff starts the line for files too large for a text diff. */
export const LARGE_FILES = 'Large files';
