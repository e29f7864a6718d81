// Bytes → YAML document with positions kept. Every failure is a positioned diagnostic: bad
// UTF-8, syntax errors (the first one, in plain words), nesting too deep, duplicate keys, tags
// derivc does not implement, undefined or recursive aliases, alias bombs (bounded, never
// expanded), empty files. Linear in the input, whatever its shape (test/security/validate-bounds.test.ts).

import { Composer, LineCounter, isScalar, visit, type Document, type Node } from 'yaml';
import { dedupeDiagnostics, type Diagnostic, type Result } from './diagnostics.js';
import { SourceFile } from './source-file.js';
import { yamlToData } from './yaml-data.js';
import { MAX_NESTING, scanYaml } from './yaml-scan.js';
import { explainSyntaxError, firstSyntaxError } from './yaml-syntax.js';
import type { DiagnosticCode } from './codes.js';

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
   * `document` also marks the file as cloud-config for hints.
   */
  yipOctal: 'document' | 'stages';
}

export function parseYaml(path: string, bytes: Uint8Array, options: ParseOptions): Result<Parsed> {
  if (bytes.length > MAX_FILE_BYTES) {
    return fail(
      bareSource(path, ''),
      'parse/too-large',
      `file is ${bytes.length} bytes; the limit is ${MAX_FILE_BYTES}`,
      'split it, or move large content into `files[].source`',
    );
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
  const scan = scanYaml(text, lines);
  if (scan.tooDeepAt !== undefined) {
    // The scan stopped there, so lines after it were not counted.
    const source = bareSource(path, text);
    const at = scan.tooDeepAt;
    return fail(
      source,
      'parse/too-deep',
      `lists and mappings are nested more than ${MAX_NESTING} levels deep`,
      'flatten the structure: no manifest or cloud-config file needs this many levels',
      source.rangeOf(at, at + 1),
    );
  }
  // uniqueKeys off: yaml compares every pair of keys; yamlToData finds duplicates with a Set.
  // resolveKnownTags off: `!!binary`, `!!set`… stay unresolved, and yamlToData refuses them.
  const docs: Document[] = [...new Composer({ merge: true, uniqueKeys: false, resolveKnownTags: false }).compose(scan.tokens)];
  const doc = docs[0];
  const plain = new SourceFile(path, text, doc, lines);
  // No document, only comments, or a bare `---`: nothing was written.
  if (!doc || doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null && (doc.contents.source ?? '') === '')) {
    return fail(plain, 'parse/empty', 'file is empty', 'a manifest starts with `apiVersion: derivc.dev/v1alpha1`; run `derivc init` to scaffold one');
  }
  // One syntax error, the first: the ones after it are mostly the parser losing its way.
  const first = firstSyntaxError(docs.flatMap((d) => d.errors));
  if (first) {
    const p = explainSyntaxError(first, text, lines, scan.facts);
    return fail(plain, 'parse/syntax', p.message, p.hint, plain.rangeOf(p.start, p.end));
  }
  const diagnostics: Diagnostic[] = [];
  if (docs.length > 1) {
    const second = docs[1]!;
    const start = second.range?.[0] ?? text.length;
    diagnostics.push({
      code: 'parse/multiple-documents',
      severity: 'error',
      message: `file holds ${docs.length} YAML documents; one is expected`,
      file: path,
      pointer: '',
      range: plain.rangeOf(Math.max(0, text.lastIndexOf('---', start)), start),
      hint: 'remove the `---` separator and the documents after it, or put each in its own file',
    });
  }

  applyYipOctal(options.yipOctal === 'document' ? doc.contents : doc.get('stages', true));
  const converted = yamlToData(doc, scan.facts, { cloudConfig: options.yipOctal === 'document', lineOf: (offset) => lines.linePos(offset).line });
  const source = new SourceFile(path, text, doc, lines, converted.aliasTargets);
  for (const p of converted.problems) {
    diagnostics.push({ code: p.code, severity: 'error', message: p.message, file: path, pointer: '', range: source.rangeOf(p.start, p.end), hint: p.hint });
  }
  if (diagnostics.length > 0) return { value: { source, data: undefined }, diagnostics: dedupeDiagnostics(diagnostics) };
  return { value: { source, data: converted.data }, diagnostics: [] };
}

/** yip reads `permissions: 0644` as YAML 1.1 does (octal 420); YAML 1.2 would read 644. */
function applyYipOctal(root: unknown): void {
  if (!root || typeof root !== 'object') return;
  visit(root as Node, {
    Pair(_, pair) {
      if (!isScalar(pair.key) || pair.key.value !== 'permissions' || !isScalar(pair.value)) return;
      const src = pair.value.source;
      // `!!str 0644` is a string to yip too; only an untagged plain number is octal.
      if (pair.value.type === 'PLAIN' && !pair.value.tag && typeof src === 'string' && /^0[0-7]+$/.test(src)) pair.value.value = parseInt(src, 8);
    },
  });
}

function fail(source: SourceFile, code: DiagnosticCode, message: string, hint: string, range = source.firstLine()): Result<Parsed> {
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
