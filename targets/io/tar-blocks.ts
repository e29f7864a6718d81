// Reading tar archives block by block (POSIX ustar with PAX records, GNU long names), the way
// Go's archive/tar — which Docker uses — writes them. Two readers need this without a per-entry
// stream: the export filter, which passes blocks through untouched, and the image-layer scan,
// which looks at the headers of every entry of every layer and skips their data. Skipping by
// counting is what makes the scan cheap: tar-stream gives each entry its own stream.

export const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

/** Types whose size field is not followed by data (as Go's archive/tar reads them). */
export const HEADER_ONLY = new Set(['1', '2', '3', '4', '5', '6']);
/** Records that describe the next entry: a PAX extended header, a GNU long name or long link name. */
export const PREFIX_TYPES = new Set(['x', 'L', 'K']);
/** PAX and long-name records are held in memory until their entry; real ones are a few hundred bytes. */
export const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** tar-stream's names for typeflags (the names ImageEntry and the layer scan use). */
const TYPE_NAMES: Record<string, string> = {
  '0': 'file',
  '\0': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'character-device',
  '4': 'block-device',
  '5': 'directory',
  '6': 'fifo',
  '7': 'contiguous-file',
};

export function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

export function isZeroBlock(block: Buffer): boolean {
  return block.length === BLOCK && block.equals(ZERO_BLOCK);
}

/** "/etc/hostname", "./etc/hostname", "etc/hostname/" → "/etc/hostname". */
export function entryPath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

export function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return field.subarray(0, nul === -1 ? field.length : nul).toString('utf8');
}

/** A numeric header field: octal text, or base-256 (two's complement) when the high bit of its first byte is set. */
export function numeric(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (field[0]! & 0x80) {
    let value = BigInt(field[0]! & 0x7f);
    for (let i = 1; i < field.length; i++) value = value * 256n + BigInt(field[i]!);
    if (field[0]! & 0x40) value -= 1n << BigInt(8 * field.length - 1); // negative (a time before 1970)
    return Number(value);
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : NaN;
}

/** A header's checksum field matches its bytes (summed unsigned, or signed as some old tars did). */
export function checksumMatches(block: Buffer): boolean {
  const stored = numeric(block, 148, 8);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]!;
    unsigned += b;
    signed += b < 128 ? b : b - 256;
  }
  return stored === unsigned || stored === signed;
}

/** The size of an entry's data, refused unless it is a whole number of bytes (a damaged or foreign stream). */
export function checkedSize(size: number, where: string): number {
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`${where}: an entry size of ${size} bytes (not a tar, or a damaged one)`);
  return size;
}

/** POSIX "ustar\0" (GNU's "ustar  " keeps other fields where POSIX has the name prefix). */
export function isPosixUstar(block: Buffer): boolean {
  return block.subarray(257, 263).toString('latin1') === 'ustar\0';
}

/** GNU or POSIX: both have uname, gname and device numbers at the same places. */
export function isUstarFamily(block: Buffer): boolean {
  return block.subarray(257, 262).toString('latin1') === 'ustar';
}

/** The records of a PAX extended header. */
export function paxRecords(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (!(length > 0)) break;
    const record = data.subarray(space + 1, at + length - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq !== -1) records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1).toString('utf8'));
    at += length;
  }
  return records;
}

/** One entry's header with its PAX / long-name records applied (field names as tar-stream's). */
export interface TarHeader {
  name: string;
  /** tar-stream's type name ("file", "directory", …), or the raw typeflag for others. */
  type: string;
  /** Bytes of data that follow the header (0 for links, directories and devices). */
  size: number;
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/**
 * What to do with an entry's data: skip it, have all of it (padding cut off) given to `content`,
 * or have it streamed to `data` chunk by chunk and `end` called after the last one.
 */
export type DataChoice = 'skip' | { content: (data: Buffer) => void } | { data: (chunk: Buffer) => void; end: () => void };

interface Sink {
  /** Data bytes of the entry not yet handed on (the padding after them is dropped). */
  left: number;
  data: (chunk: Buffer) => void;
  end: () => void;
}

/** A sink that gathers an entry's data and hands it over whole. */
function gather(content: (data: Buffer) => void): Omit<Sink, 'left'> {
  const chunks: Buffer[] = [];
  return { data: (chunk) => chunks.push(Buffer.from(chunk)), end: () => content(Buffer.concat(chunks)) };
}

/**
 * A push parser that calls `entry` for each header and skips or collects the data by counting,
 * synchronously, chunk by chunk: no stream per entry, data never copied unless collected.
 */
export class TarHeaderWalker {
  private buffered: Buffer = Buffer.alloc(0);
  private pax = new Map<string, string>();
  private longName: string | undefined;
  private longLink: string | undefined;
  /** Data (with padding) of the current entry still to come. */
  private remaining = 0;
  private sink: Sink | undefined;
  private ended = false;
  private sawHeader = false;

  constructor(
    private readonly entry: (header: TarHeader) => DataChoice,
    /** Names the archive in errors ("the layer …"). */
    private readonly what = 'the tar stream',
  ) {}

  /** True once the end-of-archive block was read (later bytes are ignored). */
  get finished(): boolean {
    return this.ended;
  }

  write(chunk: Buffer): void {
    if (this.ended) return;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    for (;;) {
      if (this.remaining > 0) {
        if (this.buffered.length === 0) return;
        const n = Math.min(this.remaining, this.buffered.length);
        if (this.sink) this.feed(this.buffered.subarray(0, n), this.remaining - n);
        this.buffered = this.buffered.subarray(n);
        this.remaining -= n;
        continue;
      }
      if (this.buffered.length < BLOCK) return;
      const block = this.buffered.subarray(0, BLOCK);
      if (isZeroBlock(block)) {
        this.ended = true;
        this.buffered = Buffer.alloc(0);
        return;
      }
      if (!checksumMatches(block)) throw new Error(`${this.what}: a header with a wrong checksum (not a tar, or a damaged one)`);
      this.sawHeader = true;
      const typeflag = String.fromCharCode(block[156]!);
      const size = checkedSize(numeric(block, 124, 12), this.what);
      if (PREFIX_TYPES.has(typeflag) || typeflag === 'g') {
        if (size > MAX_RECORD_BYTES) throw new Error(`${this.what}: a PAX or long-name record of ${size} bytes (at most ${MAX_RECORD_BYTES} expected)`);
        const total = BLOCK + padded(size);
        if (this.buffered.length < total) return;
        const data = this.buffered.subarray(BLOCK, BLOCK + size);
        if (typeflag === 'x') for (const [k, v] of paxRecords(data)) this.pax.set(k, v);
        else if (typeflag === 'L') this.longName = cString(data, 0, data.length);
        else if (typeflag === 'K') this.longLink = cString(data, 0, data.length);
        this.buffered = this.buffered.subarray(total);
        continue;
      }
      const header = this.header(block, typeflag, size);
      this.pax.clear();
      this.longName = undefined;
      this.longLink = undefined;
      this.buffered = this.buffered.subarray(BLOCK);
      this.remaining = padded(header.size);
      this.sink = undefined;
      const choice = this.entry(header);
      if (choice !== 'skip') {
        this.sink = { left: header.size, ...('content' in choice ? gather(choice.content) : choice) };
        if (header.size === 0) this.feed(Buffer.alloc(0), 0);
      }
    }
  }

  /**
   * Throws unless the end-of-archive block was read. Only a stream with no bytes at all counts as
   * an empty archive: the Engine's streams end by closing the connection, so a tar cut short at an
   * entry boundary must not pass for a whole one.
   */
  end(): void {
    if (this.ended) return;
    if (this.remaining > 0 || this.buffered.length > 0) throw new Error(`${this.what} ended in the middle of an entry`);
    if (this.sawHeader) throw new Error(`${this.what} ended without its end-of-archive block (cut short?)`);
    this.ended = true;
  }

  private header(block: Buffer, typeflag: string, size: number): TarHeader {
    const pax = this.pax;
    const ustar = isUstarFamily(block);
    const prefix = isPosixUstar(block) ? cString(block, 345, 155) : '';
    const ustarName = cString(block, 0, 100);
    const num = (key: string, fallback: number): number => (pax.has(key) ? Number(pax.get(key)) : fallback);
    return {
      name: pax.get('path') ?? this.longName ?? (prefix ? `${prefix}/${ustarName}` : ustarName),
      type: TYPE_NAMES[typeflag] ?? typeflag,
      size: HEADER_ONLY.has(typeflag) ? 0 : checkedSize(num('size', size), this.what),
      linkname: pax.get('linkpath') ?? this.longLink ?? cString(block, 157, 100),
      mode: numeric(block, 100, 8),
      uid: num('uid', numeric(block, 108, 8)),
      gid: num('gid', numeric(block, 116, 8)),
      mtime: new Date(num('mtime', numeric(block, 136, 12)) * 1000),
      uname: pax.get('uname') ?? (ustar ? cString(block, 265, 32) : ''),
      gname: pax.get('gname') ?? (ustar ? cString(block, 297, 32) : ''),
      devmajor: ustar ? numeric(block, 329, 8) : 0,
      devminor: ustar ? numeric(block, 337, 8) : 0,
    };
  }

  /** Hands on the data part of `chunk`; `after` is what remains of the entry (data and padding) after it. */
  private feed(chunk: Buffer, after: number): void {
    const sink = this.sink!;
    const n = Math.min(chunk.length, sink.left);
    if (n > 0) sink.data(chunk.subarray(0, n));
    sink.left -= n;
    if (after > 0) return;
    this.sink = undefined;
    sink.end();
  }
}
