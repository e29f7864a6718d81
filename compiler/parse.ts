// Bytes → YAML document with positions kept. Every failure is a positioned diagnostic: bad
// UTF-8, syntax errors, duplicate keys, alias bombs (bounded, never expanded), empty files.

import { LineCounter, isScalar, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import { dedupeDiagnostics, type Diagnostic, type Result } from './diagnostics.js';
import { SourceFile } from './source-file.js';

/** Aliases a document may expand while converting to data; a billion-laughs file hits it at once. */
export const MAX_ALIAS_COUNT = 1000;
/** No manifest or cloud-config file is anywhere near this; bigger input is refused unread. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface Parsed {
  source: SourceFile;
  /** The plain data; undefined when the file had errors that make it meaningless. */
  data: unknown;
}

export interface ParseOptions {
  /**
   * Where `permissions: 0644` means octal 420, as yip (YAML 1.1) reads it: everywhere in a
   * cloud-config file, only under `/stages` in a manifest (whose other octal modes are strings).
   */
  yipOctal: 'document' | 'stages';
}

export function parseYaml(path: string, bytes: Uint8Array, options: ParseOptions): Result<Parsed> {
  if (bytes.length > MAX_FILE_BYTES) {
    return fail(bareSource(path, ''), 'parse/too-large', `file is ${bytes.length} bytes; the limit is ${MAX_FILE_BYTES}`, 'split it, or move large content into `files[].source`');
  }
  const decoded = decodeUtf8(bytes);
  if (decoded.badOffset !== undefined) {
    // Count lines in the valid prefix so the position is right even though the text is not.
    const source = bareSource(path, decoded.text);
    const at = source.positionAt(decoded.prefixChars);
    return {
      value: { source, data: undefined },
      diagnostics: [
        {
          code: 'parse/encoding',
          severity: 'error',
          message: `file is not valid UTF-8 (bad byte 0x${bytes[decoded.badOffset]!.toString(16).padStart(2, '0')} at byte ${decoded.badOffset})`,
          file: path,
          pointer: '',
          range: { start: at, end: at },
          hint: 'save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)',
        },
      ],
    };
  }
  const text = decoded.text;
  const lines = new LineCounter();
  // resolveKnownTags off: `!!binary`, `!!set`… stay plain strings (a manifest has no use for them).
  const docs = parseAllDocuments(text, { lineCounter: lines, merge: true, prettyErrors: false, uniqueKeys: true, resolveKnownTags: false });
  const list: Document[] = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  const source = new SourceFile(path, text, doc, lines);
  // No document, only comments, or a bare `---`: nothing was written.
  if (!doc || doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && (doc.contents.source ?? '') === '')) {
    return fail(source, 'parse/empty', 'file is empty', 'a manifest starts with `apiVersion: derivc.dev/v1alpha1`; run `derivc init` to scaffold one');
  }
  const diagnostics: Diagnostic[] = [];
  for (const e of [...list.flatMap((d) => d.errors)]) {
    const duplicate = e.code === 'DUPLICATE_KEY';
    diagnostics.push({
      code: duplicate ? 'parse/duplicate-key' : 'parse/syntax',
      severity: 'error',
      message: duplicate ? 'duplicate key: a mapping may name each key once' : lowerFirst(e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')),
      file: path,
      pointer: '',
      range: source.rangeOf(e.pos[0], e.pos[1]),
      hint: duplicate ? 'remove or merge the repeated key (YAML keeps only one of them)' : 'check the indentation, quotes and colons around this position',
    });
  }
  if (list.length > 1) {
    const second = list[1]!;
    const start = second.range?.[0] ?? text.length;
    diagnostics.push({
      code: 'parse/multiple-documents',
      severity: 'error',
      message: `file holds ${list.length} YAML documents; one is expected`,
      file: path,
      pointer: '',
      range: source.rangeOf(Math.max(0, text.lastIndexOf('---', start)), start),
      hint: 'remove the `---` separator and the documents after it, or put each in its own file',
    });
  }
  // A mapping key that is a list or mapping has no JSON pointer and no meaning in a manifest.
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) || pair.key === null || !(pair.key as Node).range) return;
      const r = (pair.key as Node).range!;
      diagnostics.push({ code: 'parse/complex-key', severity: 'error', message: 'a mapping key must be a plain value, not a list or mapping', file: path, pointer: '', range: source.rangeOf(r[0], r[1]), hint: 'write the key as a word, e.g. `name:`' });
    },
  });
  if (diagnostics.length > 0) return { value: { source, data: undefined }, diagnostics: dedupeDiagnostics(diagnostics) };

  applyYipOctal(options.yipOctal === 'document' ? doc.contents : doc.get('stages', true));
  try {
    return { value: { source, data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) }, diagnostics: [] };
  } catch (err) {
    const alias = firstAlias(doc);
    return fail(
      source,
      'parse/alias-limit',
      `aliases expand to too many nodes (limit ${MAX_ALIAS_COUNT}): ${lowerFirst(String((err as Error).message))}`,
      'this looks like an alias bomb; write the repeated content out, or use fewer nested aliases',
      alias ? source.rangeOf(alias[0], alias[1]) : undefined,
    );
  }
}

/** yip reads `permissions: 0644` as YAML 1.1 does (octal 420); YAML 1.2 would read 644. */
function applyYipOctal(root: unknown): void {
  if (!root || typeof root !== 'object') return;
  visit(root as Node, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'permissions' || !isScalar(pair.value)) return;
      const src = pair.value.source;
      if (pair.value.type === 'PLAIN' && typeof src === 'string' && /^0[0-7]+$/.test(src)) pair.value.value = parseInt(src, 8);
    },
  });
}

function firstAlias(doc: Document): [number, number] | undefined {
  let found: [number, number] | undefined;
  visit(doc, {
    Alias(_, node) {
      if (node.range) found = [node.range[0], node.range[1]];
      return visit.BREAK;
    },
  });
  return found;
}

function fail(source: SourceFile, code: string, message: string, hint: string, range = source.firstLine()): Result<Parsed> {
  return { value: { source, data: undefined }, diagnostics: [{ code, severity: 'error', message, file: source.path, pointer: '', range, hint }] };
}

/** A source for text the YAML parser never saw: line starts counted here instead. */
function bareSource(path: string, text: string): SourceFile {
  const lines = new LineCounter();
  lines.addNewLine(0);
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
  return new SourceFile(path, text, undefined, lines);
}

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

function decodeUtf8(bytes: Uint8Array): { text: string; badOffset?: number; prefixChars: number } {
  try {
    return { text: strict.decode(bytes), prefixChars: 0 };
  } catch {
    const badOffset = firstInvalidUtf8(bytes);
    return { text: lenient.decode(bytes), badOffset, prefixChars: lenient.decode(bytes.subarray(0, badOffset)).length };
  }
}

/** Byte offset of the first malformed UTF-8 sequence. */
export function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const need = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) {
      const n = b[i + k];
      if (n === undefined || (n & 0xc0) !== 0x80) return i;
    }
    // Overlong / surrogate / out-of-range forms the lead-byte check cannot see.
    const n1 = b[i + 1] ?? 0;
    if ((c === 0xe0 && n1 < 0xa0) || (c === 0xed && n1 > 0x9f) || (c === 0xf0 && n1 < 0x90) || (c === 0xf4 && n1 > 0x8f)) return i;
    i += need + 1;
  }
  return b.length;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
