// What yip's YAML reader cannot read as derivc reads it. yip parses cloud-config with go-yaml v2
// (`yaml.Unmarshal`, YAML 1.1; go-yaml v3 from yip v1.21) and, on an error, skips the whole
// file: its users, keys and services silently vanish at boot. derivc reads YAML 1.2 with the
// `yaml` library, so a hand-written oemDir file is checked here for what go-yaml v2 rejects or
// reads otherwise (each case confirmed against go-yaml v2 by test/security/yip-roundtrip.test.ts):
//   - raw C0 controls but tab/LF/CR, DEL, C1 controls but NEL, U+FFFE/U+FFFF: rejected anywhere,
//     comments included ("control characters are not allowed");
//   - raw U+0085, U+2028, U+2029: line breaks in YAML 1.1 (not in 1.2): an error in a comment, a
//     plain or a block scalar; in a quoted one NEL folds to a space and the spaces around LS/PS go;
//   - `\uD800`–`\uDFFF` escapes, even as a pair, and `\/` (YAML 1.2 only): rejected;
//   - a `%YAML` directive other than 1.1, or a directive other than %YAML/%TAG: rejected;
//   - a `!!bool`, `!!null`, `!!binary`… tag derivc does not apply: another value, or rejected.
// Generated files need none of this: compiler/emit/cloud-config-yaml.ts escapes what it writes.
// A lone surrogate (from a `\uD800` escape) cannot be written as UTF-8 at all, so a manifest
// holding one anywhere is refused too.

import { isPair, isScalar, isSeq, Scalar, visit, type Node } from 'yaml';
import type { Diagnostic } from '../diagnostics.js';
import { describeCode, type DiagnosticCode } from '../codes.js';
import { loneSurrogate } from '../quote.js';
import { joinPointer, type SourceFile } from '../source-file.js';

const CODE = 'cloud-config/yip-unreadable';
const REJECTED_RAW = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\ufffe\uffff]/g;
const YAML11_BREAKS = /[\u0085\u2028\u2029]/g;
const BREAK_NAMES: Record<string, [name: string, escape: string]> = {
  '\u0085': ['next line', '\\N'],
  '\u2028': ['line separator', '\\L'],
  '\u2029': ['paragraph separator', '\\P'],
};

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

function diagnostic(source: SourceFile, code: DiagnosticCode, pointer: string, start: number, end: number, message: string, hint?: string): Diagnostic {
  return { code, severity: 'error', message, file: source.path, pointer, range: source.rangeOf(start, end), hint: hint ?? describeCode(code)?.hint };
}

/** Every problem of a cloud-config file (oemDir, or validated directly) for yip's reader. */
export function yipYamlDiagnostics(source: SourceFile): Diagnostic[] {
  return [...rawCharacters(source), ...directives(source), ...scalars(source)];
}

/** The first of each offending character: one diagnostic per character, not per occurrence. */
function rawCharacters(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [c, at, count] of firstOfEach(source.text, REJECTED_RAW)) {
    const message = `${codePoint(c)} is a control character yip's YAML reader (go-yaml v2) refuses anywhere in a file, comments included: yip would skip the whole file`;
    out.push(
      diagnostic(source, CODE, '', at, at + 1, times(message, count), `remove it, or write it as the escape \`${escapeOf(c)}\` inside a double-quoted string`),
    );
  }
  for (const [c, at, count] of firstOfEach(source.text, YAML11_BREAKS)) {
    const [name, escape] = BREAK_NAMES[c]!;
    const message = `${codePoint(c)} (${name}) is a line break to yip's YAML reader (YAML 1.1), not to derivc's: yip would skip the whole file, or read the text around it differently`;
    out.push(
      diagnostic(source, CODE, '', at, at + 1, times(message, count), `remove it, or write it as the escape \`${escape}\` inside a double-quoted string`),
    );
  }
  return out;
}

function escapeOf(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

function firstOfEach(text: string, pattern: RegExp): [char: string, at: number, count: number][] {
  const seen = new Map<string, [string, number, number]>();
  for (const m of text.matchAll(pattern)) {
    const s = seen.get(m[0]);
    if (s) s[2]++;
    else seen.set(m[0], [m[0], m.index ?? 0, 1]);
  }
  return [...seen.values()];
}

function times(message: string, count: number, where = 'in this file'): string {
  return count > 1 ? `${message} (${count} times ${where}; this is the first)` : message;
}

/** go-yaml v2 knows `%YAML 1.1` and `%TAG`; any other directive fails the file. */
function directives(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  let offset = 0;
  for (const line of source.text.split('\n')) {
    const start = offset;
    offset += line.length + 1;
    if (/^\s*(#.*)?$/.test(line)) continue;
    if (!line.startsWith('%')) break;
    if (/^%YAML[ \t]+1\.1(?:[ \t]|$)/.test(line) || /^%TAG[ \t]/.test(line)) continue;
    const yaml = /^%YAML\b/.test(line);
    out.push(
      diagnostic(
        source,
        CODE,
        '',
        start,
        start + line.trimEnd().length,
        yaml
          ? `yip's YAML reader (go-yaml v2) reads YAML 1.1 only and rejects \`${line.trim()}\`: yip would skip the whole file`
          : `yip's YAML reader (go-yaml v2) rejects the directive \`${line.trim()}\`: yip would skip the whole file`,
        yaml ? 'remove the `%YAML` line, or write `%YAML 1.1`' : 'remove the directive',
      ),
    );
  }
  return out;
}

/** Escapes and tags, scalar by scalar. */
function scalars(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!source.doc) return out;
  visit(source.doc, {
    Scalar(_, node, path) {
      const range = node.range;
      if (!range) return;
      const pointer = pointerTo(path, node);
      if (node.type === Scalar.QUOTE_DOUBLE) {
        // One diagnostic per kind and string, at the first such escape.
        const escapes = [...source.text.slice(range[0], range[1]).matchAll(/\\(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|(\/)|[^])/g)];
        const slashes = escapes.filter((m) => m[3]);
        const surrogates = escapes.filter((m) => {
          const code = parseInt(m[1] ?? m[2] ?? '0', 16);
          return code >= 0xd800 && code <= 0xdfff;
        });
        if (slashes[0]) {
          const at = range[0] + slashes[0].index!;
          out.push(
            diagnostic(
              source,
              CODE,
              pointer,
              at,
              at + 2,
              times("yip's YAML reader (YAML 1.1) does not know the escape `\\/`: yip would skip the whole file", slashes.length, 'in this string'),
              'write `/` without the backslash',
            ),
          );
        }
        if (surrogates[0]) {
          const at = range[0] + surrogates[0].index!;
          const message = `\`${surrogates[0][0]}\` is a UTF-16 surrogate escape: yip's YAML reader (go-yaml v2) rejects it, even as half of a pair, and would skip the whole file`;
          out.push(
            diagnostic(
              source,
              CODE,
              pointer,
              at,
              at + surrogates[0][0].length,
              times(message, surrogates.length, 'in this string'),
              'write the character itself, or as one `\\UXXXXXXXX` escape (e.g. `\\U0001F600`)',
            ),
          );
        }
      }
      const tag = node.tag;
      if (tag?.startsWith('tag:yaml.org,2002:') && tag !== 'tag:yaml.org,2002:str' && typeof node.value === 'string') {
        const short = `!!${tag.slice('tag:yaml.org,2002:'.length)}`;
        out.push(
          diagnostic(
            source,
            CODE,
            pointer,
            range[0],
            range[1],
            `yip's YAML reader (YAML 1.1) applies the tag \`${short}\` that derivc reads as a plain string here: yip would read another value or skip the whole file`,
            `remove \`${short}\` and write the value itself`,
          ),
        );
      }
    },
  });
  return out;
}

/**
 * A lone UTF-16 surrogate (only a `\uD800`-style escape makes one) in any key or value: no UTF-8
 * file, and so no generated file, can carry it. For manifests; cloud-config files get the escape
 * check above.
 */
export function loneSurrogateDiagnostics(source: SourceFile): Diagnostic[] {
  const out: Diagnostic[] = [];
  if (!source.doc) return out;
  visit(source.doc, {
    Scalar(_, node, path) {
      const c = typeof node.value === 'string' ? loneSurrogate(node.value) : undefined;
      if (c === undefined || !node.range) return;
      const code = 'parse/lone-surrogate';
      out.push(
        diagnostic(
          source,
          code,
          pointerTo(path, node),
          node.range[0],
          node.range[1],
          `${JSON.stringify(node.value).slice(0, 60)} holds the lone surrogate ${codePoint(c)} (from a \`\\u${c.charCodeAt(0).toString(16)}\` escape): no UTF-8 file can carry it`,
        ),
      );
    },
  });
  return out;
}

function keyText(key: unknown): string {
  // With merge keys on, yaml reads `<<` as a symbol; its source text is still `<<`.
  if (!isScalar(key)) return '';
  return typeof key.value === 'symbol' ? (key.source ?? '') : String(key.value ?? '');
}

/** The JSON pointer of a node from `visit`'s ancestor path (a key points at its entry). */
function pointerTo(path: readonly unknown[], node: Node): string {
  const chain = [...path, node];
  let pointer = '';
  for (let i = 0; i + 1 < chain.length; i++) {
    const parent = chain[i];
    const child = chain[i + 1];
    if (isSeq(parent)) pointer = joinPointer(pointer, parent.items.indexOf(child as never));
    else if (isPair(parent)) pointer = joinPointer(pointer, keyText(parent.key));
  }
  return pointer;
}
