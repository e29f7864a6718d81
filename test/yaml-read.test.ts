// How derivc reads YAML (compiler/parse.ts): which tags keep their meaning and which are refused,
// keys that JavaScript would merge, syntax errors in plain words at the line of the mistake, and
// data identical to what the yaml library itself makes of every manifest in the repository.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseYaml } from '../compiler/parse.js';

const read = (text: string, kind: 'manifest' | 'cloud-config' = 'manifest') =>
  parseYaml('f.yaml', new TextEncoder().encode(text), { yipOctal: kind === 'manifest' ? 'stages' : 'document' });
const data = (text: string) => {
  const r = read(text);
  expect(r.diagnostics).toEqual([]);
  return r.value.data;
};
const problems = (text: string, kind?: 'manifest' | 'cloud-config') =>
  read(text, kind).diagnostics.map((d) => ({ code: d.code, at: `${d.range!.start.line}:${d.range!.start.column}-${d.range!.end.column}`, message: d.message }));

describe('tags', () => {
  it('accepts the core tags where every YAML reader agrees on the value', () => {
    expect(
      data('a: !!str 0644\nb: !!int "1"\nc: !!int -12\nd: !!float 1.5e3\ne: !!bool false\nf: !!null ~\ng: !!map {x: 1}\nh: !!seq [1]\ni: !!str\n'),
    ).toEqual({
      a: '0644',
      b: 1,
      c: -12,
      d: 1500,
      e: false,
      f: null,
      g: { x: 1 },
      h: [1],
      i: '',
    });
    // A %TAG handle for the core namespace is the same tag.
    expect(data('%TAG !e! tag:yaml.org,2002:\n---\na: !e!str 1\n')).toEqual({ a: '1' });
  });

  it('keeps `!!str 0644` a string where yip reads modes as octal numbers', () => {
    const stages = (text: string) =>
      (
        data(`stages:\n  boot:\n    - files:\n        - path: /x\n          permissions: ${text}\n`) as {
          stages: { boot: { files: { permissions: unknown }[] }[] };
        }
      ).stages.boot[0]!.files[0]!.permissions;
    expect(stages('0644')).toBe(0o644);
    expect(stages('!!str 0644')).toBe('0644');
  });

  it.each([
    ['a: !!binary aGVsbG8=\n', '1:4-12', 'tag `!!binary` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    ['a: !custom x\n', '1:4-11', 'tag `!custom` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    [
      'a: !!js/function "function () {}"\n',
      '1:4-17',
      'tag `!!js/function` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings',
    ],
    [
      'a: !<tag:example.com,2024:x> y\n',
      '1:4-29',
      'tag `!<tag:example.com,2024:x>` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings',
    ],
    ['a: !!set {x, y}\n', '1:4-9', 'tag `!!set` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    ['a: !!omap [x: 1]\n', '1:4-10', 'tag `!!omap` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    ['a: !!timestamp 2001-12-14\n', '1:4-15', 'tag `!!timestamp` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    ['a: ! 12\n', '1:4-5', 'tag `!` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    ['!custom a: 1\n', '1:1-8', 'tag `!custom` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings'],
    ['a: !!int 0644\n', '1:4-9', '`!!int` needs a decimal integer without leading zeros; found `0644`'],
    ['a: !!int "0644"\n', '1:4-9', '`!!int` needs a decimal integer without leading zeros; found `0644`'],
    ['a: !!int 1_000\n', '1:4-9', '`!!int` needs a decimal integer without leading zeros; found `1_000`'],
    ['a: !!int 0x1F\n', '1:4-9', '`!!int` needs a decimal integer without leading zeros; found `0x1F`'],
    ['a: !!float .inf\n', '1:4-11', '`!!float` needs a decimal number without leading zeros; found `.inf`'],
    ['a: !!bool yes\n', '1:4-10', '`!!bool` needs `true` or `false`; found `yes`'],
    ['a: !!null x\n', '1:4-10', '`!!null` needs `null`, `~` or nothing; found `x`'],
    ['a: !!map [1]\n', '1:4-9', 'tag `!!map` does not match the list it is on'],
    ['a: !!str {b: 1}\n', '1:4-9', 'tag `!!str` does not match the mapping it is on'],
    ['%YAML 1.1\n---\na: 2001-12-14\n', '3:4-14', '`2001-12-14` reads as a timestamp under `%YAML 1.1`; derivc reads strings, numbers, booleans and null'],
  ])('refuses %j at the tag', (text, at, message) => {
    expect(problems(text)).toEqual([{ code: 'parse/unsupported-tag', at, message }]);
  });

  it('points binary content to files[].source in a manifest, to `encoding: b64` in cloud-config', () => {
    expect(read('a: !!binary aGk=\n').diagnostics[0]!.hint).toBe('remove the tag: put the file next to the manifest and name it with `files[].source`');
    expect(read('a: !!binary aGk=\n', 'cloud-config').diagnostics[0]!.hint).toBe(
      'remove the tag: write the base64 text as a string and set `encoding: b64` on the file',
    );
  });
});

describe('keys', () => {
  it('refuses keys that are different in YAML but one property in JavaScript', () => {
    expect(problems('1: a\n"1": b\ntrue: c\n"true": d\n~: e\n"": f\n1.0: g\n')).toEqual([
      { code: 'parse/duplicate-key', at: '2:1-4', message: 'duplicate key `1`: this mapping already has it on line 1' },
      { code: 'parse/duplicate-key', at: '4:1-7', message: 'duplicate key `true`: this mapping already has it on line 3' },
      { code: 'parse/duplicate-key', at: '6:1-3', message: 'duplicate key ``: this mapping already has it on line 5' },
      { code: 'parse/duplicate-key', at: '7:1-4', message: 'duplicate key `1`: this mapping already has it on line 1' },
    ]);
  });

  it('keeps `__proto__` a plain key, never the prototype', () => {
    const d = data('__proto__: {polluted: 1}\nconstructor: 2\n') as Record<string, unknown>;
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype);
    expect(Object.keys(d)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('merges `<<` as YAML 1.1 does: keys written here win, then the first source', () => {
    expect(data('a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc: {x: 0, <<: [*a, *b]}\nd: {<<: *a, x: 3}\n')).toEqual({
      a: { x: 1, y: 1 },
      b: { y: 2, z: 2 },
      c: { x: 0, y: 1, z: 2 },
      d: { x: 3, y: 1 },
    });
  });

  it('makes the same data as the yaml library, for every manifest in the repository', () => {
    const files = [
      ...readdirSync('examples', { withFileTypes: true })
        .filter((d) => d.isDirectory() && existsSync(`examples/${d.name}/derivative.yaml`))
        .map((d) => `examples/${d.name}/derivative.yaml`),
      ...readdirSync('test/golden', { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `test/golden/${d.name}/derivative.yaml`)
        .filter((f) => existsSync(f)),
      ...readdirSync('test/errors')
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => `test/errors/${f}`),
    ];
    let compared = 0;
    for (const file of files) {
      const r = parseYaml(file, readFileSync(file), { yipOctal: 'stages' });
      if (r.diagnostics.length) continue;
      // The library's own conversion of the same document (after the yip octal reading).
      expect(r.value.data, file).toEqual(r.value.source.doc!.toJS({ maxAliasCount: -1 }));
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });
});

describe('syntax errors: the first one, at the line of the mistake, in plain words', () => {
  it.each([
    ['a:\n  b: 1\n   c: 2\n', '3:4-8', 'this line is indented more than line 2 (column 4, expected 3)'],
    ['a: 1\n  b: 2\n', '2:3-7', 'this line is indented more than line 1 (column 3, expected 1)'],
    ['a:\n  - name: x\n     value: 1\n', '3:6-14', 'this line is indented more than line 2 (column 6, expected 5)'],
    ['a:\n  b: 1\n c: 2\n', '3:2-6', 'this line is indented less than line 2 (column 2, expected 3)'],
    ['a:\n  - name: x\n   value: 1\n', '3:4-12', 'this line is indented less than line 2 (column 4, expected 5)'],
    ['a:\n  - x\n - y\n', '3:2-5', 'this line is indented less than line 2 (column 2, expected 3)'],
    ['a:\n  - x\n  b: 1\n', '3:3-7', 'a key cannot start in the same column as the list item on line 2'],
    ['a: |\n    x\n  y\nb: 1\n', '3:3-4', 'this line is indented less than line 2 (column 3, expected 5)'],
    ['a:\n\tb: 1\n', '2:1-2', 'this line is indented with a tab; YAML indents with spaces only'],
    ['a:\n  b\n  c: 1\n', '2:3-4', '`b` has no `:`, so YAML reads it and the next line as one key'],
    ['a: 1\nb\n', '2:1-2', 'this line is neither `key: value` nor a list item `- value`'],
    ['a: b: c\n', '1:4-8', 'a `key: value` cannot be the value of `a:` on the same line'],
    ['a: [1, 2\nb: 3\n', '1:4-5', 'the list opened with `[` here is not closed before line 2'],
    ['a: {x: 1\nb: 3\n', '1:4-5', 'the mapping opened with `{` here is not closed before line 2'],
    ['a: 1\nb: "abc\nc: 3\n', '2:4-5', 'the string opened with `"` here is never closed'],
    ["a: 1\nb: 'abc\nc: 3\n", '2:4-5', "the string opened with `'` here is never closed"],
    ['a: [1, "x]\nb: 3\n', '1:8-9', 'the string opened with `"` here is never closed'],
    ['a: "x\\qy"\n', '1:6-8', '`\\q` is not a valid escape in a "double-quoted" string'],
    ['a: @x\n', '1:4-5', 'a value cannot start with `@` unless it is quoted'],
    ['a: [1]#c\n', '1:7-8', 'a `#` comment needs a space before it'],
    ['a: [- x]\n', '1:5-7', 'a `-` list or a `key:` block cannot be written inside `[…]` or `{…}`'],
    ['a: [1]]\n', '1:7-8', 'unexpected `]` here'],
    ['a: 1\n- b\n', '2:1-4', 'a list item cannot start in the same column as the key on line 1'],
    ['- a\nb: 1\n', '2:1-5', 'a key cannot start in the same column as the list item on line 1'],
    ['%YAML 1.2\na: 1\n', '2:1-2', 'a `%` directive line must be followed by a `---` line'],
    ['--- a: 1\n', '1:5-9', 'a mapping or list cannot start on the `---` line'],
    [`${'k'.repeat(1100)}: 1\n`, '1:1-2', 'a key cannot be longer than 1024 characters'],
    ['a: &x 1\nb: !!str *x\n', '2:10-12', 'an alias cannot have a tag or an anchor'],
  ])('%j', (text, at, message) => {
    expect(problems(text)).toEqual([{ code: 'parse/syntax', at, message }]);
  });

  it('names the columns a misplaced line could move to', () => {
    expect(read('a:\n  b:\n    x: 1\n   y: 2\n').diagnostics[0]!.hint).toBe(
      'the items of one mapping or list start in the same column: move it to column 5 (like line 3), or to column 3 (like line 2) or column 1 (like line 1) if it belongs there',
    );
  });
});

describe('aliases', () => {
  it('an alias to no anchor, or to the value around it, is an error at the alias', () => {
    expect(problems('a: *nope\n')).toEqual([{ code: 'parse/undefined-alias', at: '1:4-9', message: 'alias `*nope` refers to no anchor defined before it' }]);
    expect(problems('a: *b\nb: &b 1\n')).toEqual([{ code: 'parse/undefined-alias', at: '1:4-6', message: 'alias `*b` refers to no anchor defined before it' }]);
    expect(problems('a: &x {b: [1, *x]}\n')).toEqual([
      { code: 'parse/recursive-alias', at: '1:15-17', message: 'alias `*x` is inside the value `&x` names: it would repeat itself forever' },
    ]);
  });

  it('`<<` takes mappings only', () => {
    expect(problems('a: &a [1]\nb: {<<: *a}\nc: {<<: [1]}\n')).toEqual([
      { code: 'parse/invalid-merge', at: '2:9-11', message: '`<<` merges mappings only; this is not a mapping' },
      { code: 'parse/invalid-merge', at: '3:10-11', message: '`<<` merges mappings only; this is not a mapping' },
    ]);
  });
});
