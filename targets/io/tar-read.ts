// Tar archives read with tar-stream's extract, plus the one check it leaves to its caller: it
// reads end-of-archive blocks as "nothing here" and waits for more, so an archive cut short
// exactly between two entries would look whole. The Engine's streams end by closing, and a
// failure inside dockerd ends a tar it has begun without any HTTP error, so every archive read
// here must have at least one block after its last entry. Errors name the archive.

import * as tar from 'tar-stream';

export const BLOCK = 512;

/** A header as tar-stream's extract hands it over (its type declarations leave out these two fields). */
export type TarHeader = tar.Header & {
  /** The entry's PAX records: tar-stream applied path, linkpath and size; the others are left to the reader. */
  pax?: Record<string, string> | null;
  /** Where the entry's data starts in the archive (tar-stream sets it on every header). */
  byteOffset?: number;
};

/** An entry's data, as tar-stream's extract streams it. */
export type TarEntry = tar.ExtractEvents['entry'][1];

/** Handles one entry; whatever of `data` it leaves unread is skipped. A rejection stops the read with that error. */
export type EntryHandler = (header: TarHeader, data: TarEntry) => void | Promise<void>;

export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** Where an entry (header records, data, padding) ends in its archive. */
export function entryEnd(header: TarHeader): number {
  // Set by every tar-stream 3 extract; an upgrade that drops it must fail loudly, not misplace bytes.
  if (!Number.isSafeInteger(header.byteOffset)) throw new Error('tar-stream gave no byteOffset for an entry');
  const size = header.type === 'directory' ? 0 : header.size; // tar-stream reads no data for a directory
  return header.byteOffset! + padded(size);
}

/** tar-stream's wording for an archive that ends inside an entry (its extract's _final). */
const ENDED_INSIDE_AN_ENTRY = 'Unexpected end of data';

/** Feeds an archive to tar-stream chunk by chunk (with its back-pressure) and checks how it ends. */
export class TarReader {
  private readonly extract = tar.extract();
  private received = 0;
  /** Where the last entry seen ends (its data and padding), from tar-stream's byteOffset. */
  private entriesEnd = 0;
  private failure: unknown;
  /** The handler's own error: passed on as it is, not as a damaged archive. */
  private handlerError: unknown;
  private ending = false;

  constructor(
    /** Names the archive in errors ("the layer …"). */
    private readonly what: string,
    onEntry: EntryHandler,
  ) {
    this.extract.on('error', (err: unknown) => void (this.failure ??= err));
    this.extract.on('entry', (extracted, data, next) => {
      const header = extracted as TarHeader;
      // When the archive fails, tar-stream destroys the entry's stream with the same error, which
      // the read reports through the extract: unheard on the entry, it would crash the process.
      data.on('error', () => undefined);
      const fail = (err: unknown): void => {
        this.handlerError = err;
        next(err instanceof Error ? err : new Error(String(err)));
      };
      let handled: void | Promise<void>;
      try {
        this.entriesEnd = entryEnd(header);
        handled = onEntry(header, data);
      } catch (err) {
        return fail(err);
      }
      Promise.resolve(handled).then(() => {
        data.resume();
        next();
      }, fail);
    });
  }

  /** Resolves once tar-stream has room for more; rejects once the read has failed. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failure !== undefined) throw this.error();
    this.received += chunk.length;
    if (this.extract.write(chunk)) return;
    await this.until('drain');
  }

  /** After the last chunk: resolves when every entry was handled and the archive ended with its end-of-archive blocks. */
  async end(): Promise<void> {
    if (this.failure !== undefined) throw this.error();
    this.ending = true;
    this.extract.end(undefined); // streamx declares the optional last chunk as required
    await this.until('finish');
    // Zero bytes is an empty archive (an empty layer). Otherwise blocks must follow the last
    // entry; tar-stream refused anything in them that is not zeros, and fewer than a block.
    if (this.received === 0) return;
    if (!(this.received - this.entriesEnd >= BLOCK)) throw new Error(`${this.what} ended without its end-of-archive blocks (cut short?)`);
  }

  /** Stops the read (the source failed, or the caller gave up). */
  destroy(err?: Error): void {
    this.extract.destroy(err ?? new Error(`the read of ${this.what} was stopped`));
  }

  private until(event: 'drain' | 'finish'): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.extract.off('close', closed);
        resolve();
      };
      const closed = (): void => {
        this.extract.off(event, done);
        reject(this.failure !== undefined ? this.error() : new Error(`the read of ${this.what} was stopped`));
      };
      this.extract.once(event, done);
      this.extract.once('close', closed);
    });
  }

  private error(): unknown {
    if (this.handlerError !== undefined) return this.handlerError;
    const err = this.failure;
    const message = (err as Error | null)?.message ?? String(err);
    if (this.ending && message === ENDED_INSIDE_AN_ENTRY) return new Error(`${this.what} ended in the middle of an entry (cut short?)`, { cause: err });
    return new Error(`${this.what} is not a tar, or a damaged one (${message})`, { cause: err });
  }
}

/** Reads a whole archive from `source`; the source is destroyed when the read fails. */
export async function readTar(source: AsyncIterable<unknown>, what: string, onEntry: EntryHandler): Promise<void> {
  const reader = new TarReader(what, onEntry);
  try {
    for await (const chunk of source) await reader.write(chunk as Buffer);
    await reader.end();
  } catch (err) {
    reader.destroy();
    throw err;
  }
}

/**
 * All of an entry's data. Read through events, never through an async iterator that could stop
 * half-way: destroying an entry stream destroys tar-stream's whole extract, and the error that
 * stopped the read would be lost. Callers check the header's size against their limit first.
 */
export function readEntryData(data: TarEntry): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    data.on('data', (chunk) => void chunks.push(chunk as Buffer));
    data.once('end', () => resolve(Buffer.concat(chunks)));
    data.once('error', reject);
    data.once('close', () => reject(new Error('the archive was closed before the entry was read')));
  });
}
