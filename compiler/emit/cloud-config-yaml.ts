// Cloud-config as yip reads it: YAML 1.1 through go-yaml v2 (`yaml.Unmarshal`, yip ≤ v1.20;
// go-yaml v3 from v1.21), so `permissions` is written as an unquoted octal (`0644` = 420) and
// words like `yes`/`on` stay strings. Map keys are sorted (with `name` first) so the manifest's
// key order never changes the bytes.
//
// go-yaml v2 rejects the whole file — yip then skips it, users and keys included — for a raw
// character outside its printable set (C0 but tab/LF/CR, DEL, C1 but NEL, U+FFFE/U+FFFF, even in
// a comment), and reads U+0085, U+2028 and U+2029 as line breaks (an error in a plain or block
// scalar, a space or a kept character in a quoted one). It also resolves plain scalars the
// `yaml` library's YAML 1.1 schema leaves as strings: `0o17` is 15 and a `<<` key merges. So a
// string is written double-quoted with YAML escapes (`\N`, `\L`, `\P`, `\xXX`, `\uXXXX`, which
// go-yaml v2 decodes) when it holds such a character or would not read back as a string; the
// rest is left to the library. Experiments: test/security/yip-roundtrip.test.ts.

import { Document, isScalar, visit, type ScalarTag } from 'yaml';
import { stringifyString } from 'yaml/util';
import { commentText, goYamlDoubleQuoted, hasLoneSurrogate } from '../quote.js';

/** What go-yaml v2 rejects raw or reads as a line break, and invisible format characters, less tab and line feed (the library writes those fine, raw or as a block scalar): such a string is written double-quoted with escapes. */
const FORCES_QUOTES =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/;

function byName(a: { key: unknown }, b: { key: unknown }): number {
  const ka = String(isScalar(a.key) ? a.key.value : a.key);
  const kb = String(isScalar(b.key) ? b.key.value : b.key);
  if (ka === kb) return 0;
  if (ka === 'name') return -1;
  if (kb === 'name') return 1;
  return ka < kb ? -1 : 1;
}

/** go-yaml v2's plain words that are not strings (resolve.go's resolveMap). */
const V2_WORDS = new Set(
  ['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'true', 'True', 'TRUE', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE']
    .concat(['', '~', 'null', 'Null', 'NULL', '<<'])
    .concat(['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF', '-.inf', '-.Inf', '-.INF', '.nan', '.NaN', '.NAN']),
);

/**
 * Whether go-yaml v2 reads this plain scalar as the string itself. It tries, for text starting
 * with a sign, a digit or a dot, Go's strconv.ParseInt/ParseUint with base 0 after dropping every
 * `_` (so 0x1F, 0o17, 0b101, 017, +1, 1_000 are integers), then its YAML float pattern (so 08 and
 * 1e3 are floats). This errs on the side of quoting: a false "not a string" only adds quotes.
 */
export function goYamlPlainIsString(plain: string): boolean {
  if (V2_WORDS.has(plain)) return false;
  if (!/^[-+.0-9]/.test(plain)) return true;
  const p = plain.replace(/_/g, '');
  if (/^\.[0-9]/.test(p)) return false;
  if (/^[-+]?(?:0[xX][0-9a-fA-F]*|0[oO][0-7]*|0[bB][01]*|[0-9]+)$/.test(p)) return false;
  return !/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/.test(p);
}

/**
 * go-yaml v2 finds a block scalar's indentation on its first non-empty line and rejects the file
 * when that line, or an all-blank line before it, starts with a tab or with spaces past it
 * (`|` then `  \tx`): such text is written double-quoted instead.
 */
function blockScalarSafe(value: string): boolean {
  return !/^\n*[ \t]/.test(value);
}

/** The library's string tag, with go-yaml v2's rules on top: escapes and type-safe plain scalars. */
const GO_YAML_STRING: ScalarTag = {
  identify: (value) => typeof value === 'string',
  default: true,
  tag: 'tag:yaml.org,2002:str',
  resolve: (s) => s,
  stringify(item, ctx, onComment, onChompKeep) {
    const value = String(item.value);
    if (FORCES_QUOTES.test(value) || hasLoneSurrogate(value)) return goYamlDoubleQuoted(value);
    const out = stringifyString(item, Object.assign({ actualString: true }, ctx), onComment, onChompKeep);
    if (/^[|>]/.test(out)) return blockScalarSafe(value) ? out : goYamlDoubleQuoted(value);
    const plain = !/^["']/.test(out);
    return plain && !goYamlPlainIsString(value) ? goYamlDoubleQuoted(value) : out;
  },
};

/** A file mode: an octal is only a faithful spelling for these (a huge one would read as a float). */
function isMode(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 0o7777;
}

/** A schema entry's tag (entries may also be named by id: 'merge' is the merge tag's). */
function tagOf(t: string | { tag: string }): string {
  return typeof t === 'string' ? `tag:yaml.org,2002:${t}` : t.tag;
}

/** `header` is one comment line (generatedBy); commentText keeps it one line whatever it holds. */
export function cloudConfigYaml(header: string, data: unknown): string {
  const doc = new Document(data, {
    version: '1.1',
    sortMapEntries: byName,
    // No merge tag: derivc writes data, never merges, and a `<<` key must come out quoted.
    customTags: (tags) => tags.filter((t) => tagOf(t) !== 'tag:yaml.org,2002:merge').map((t) => (tagOf(t) === GO_YAML_STRING.tag ? GO_YAML_STRING : t)),
  });
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'permissions' && isScalar(pair.value) && isMode(pair.value.value)) pair.value.format = 'OCT';
    },
  });
  return `${commentText(header)}\n${doc.toString({ lineWidth: 0 })}`;
}
