// A file the manifest names (files[].source, an overlay or oemDir file), as the Host opened and
// checked it: its size and digest, computed from the one opened descriptor the checks looked at,
// and a way to read those very bytes again for the writer. The compiler never holds the bytes of
// such a file — it passes this reference on — so memory does not grow with the file's size.

import { createHash } from 'node:crypto';

/**
 * Reads the checked bytes again, chunk by chunk (a chunk is only valid until the next one is asked
 * for). It throws — at the latest after the last chunk — when the file is no longer the one that
 * was checked or its bytes no longer have the checked digest: whoever wrote chunks must then
 * discard them.
 */
export type ChunkReader = () => Iterable<Uint8Array>;

export class SourceContent {
  readonly kind = 'source';
  // Private (#): two references to the same bytes compare equal, whoever reads them.
  readonly #read: ChunkReader;

  constructor(
    /** The path as the Host was asked for it (relative to the working directory): for messages. */
    readonly name: string,
    readonly size: number,
    /** Hex sha256 of the checked bytes. */
    readonly sha256: string,
    read: ChunkReader,
  ) {
    this.#read = read;
  }

  /** Bytes already in memory (a git revision's blob, a test's file): their digest, and them. */
  static of(name: string, bytes: Uint8Array): SourceContent {
    return new SourceContent(name, bytes.byteLength, createHash('sha256').update(bytes).digest('hex'), () => [bytes]);
  }

  read(): Iterable<Uint8Array> {
    return this.#read();
  }
}

export interface OpenedFile {
  content: SourceContent;
  /** Permission bits of the opened file. */
  mode: number;
  /** The bytes themselves, when asked for with `maxBytes` (a file that is parsed as well as copied). */
  bytes?: Uint8Array;
}

/** Why the Host refused a file when it opened it. */
export type OpenRefusal =
  | { refused: 'missing' }
  | { refused: 'not-a-file' }
  /** `real`: where the opened file really is (absolute). */
  | { refused: 'outside'; real: string }
  | { refused: 'too-large'; size: number }
  /** The name no longer leads to the opened file: moved or replaced while it was being opened. */
  | { refused: 'changed' }
  | { refused: 'unreadable'; reason: string };
