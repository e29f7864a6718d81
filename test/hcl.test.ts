// HCL2 for Packer templates: hclString (compiler/quote.ts) reads back as exactly its input under
// HCL's quoted-string rules, and the writer (targets/packer/hcl.ts) prints what `packer fmt`
// prints and refuses what would change meaning. The real Packer reads the same strings back in
// test/e2e/packer.e2e.test.ts (`packer console`), so this reader is checked against the real one.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hclString, UnquotableError } from '../compiler/quote.js';
import { Expr, GoTemplate, printHcl } from '../targets/packer/hcl.js';
import { hclText, readHcl } from './support/hcl-read.js';

describe('hclString', () => {
  it('escapes what HCL would read: quotes, backslashes, controls, ${ and %{', () => {
    expect(hclString('plain')).toBe('"plain"');
    expect(hclString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(hclString('${var.secret}')).toBe('"$${var.secret}"');
    expect(hclString('%{ if true }x%{ endif }')).toBe('"%%{ if true }x%%{ endif }"');
    expect(hclString('$${')).toBe('"$$${"');
    expect(hclString('line\nnext\ttab\r\u0000\u007f\u0085')).toBe('"line\\nnext\\ttab\\r\\u0000\\u007f\\u0085"');
    // Lone `$` and `%`, and Go templates, are HCL text.
    expect(hclString('100% $5 {{ .Name }}')).toBe('"100% $5 {{ .Name }}"');
    expect(hclString('é🚀\u2028')).toBe('"é🚀\u2028"');
  });

  it('reads back as exactly its input, on one line, with no raw control character', () => {
    fc.assert(
      fc.property(hclText, (s) => {
        const q = hclString(s);
        expect(q).toMatch(/^"[^\u0000-\u001f\u007f-\u009f]*"$/);
        expect(readHcl(q)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what HCL could not give back: text not in NFC, lone surrogates', () => {
    expect(() => hclString('e\u0301')).toThrow(UnquotableError);
    expect(() => hclString('\ud800')).toThrow(UnquotableError);
    expect(() => hclString('\udc00x')).toThrow(UnquotableError);
    expect(hclString('\ud83d\ude80')).toBe('"🚀"');
  });

  it('is checked by a reader that refuses breakouts', () => {
    expect(() => readHcl('"a"b"')).toThrow(/unescaped quote/);
    expect(() => readHcl('"${x}"')).toThrow(/template sequence/);
    expect(() => readHcl('"%{x}"')).toThrow(/template sequence/);
    expect(() => readHcl('"a\nb"')).toThrow(/raw control/);
    expect(() => readHcl('"\\q"')).toThrow(/unknown escape/);
    expect(readHcl('"$$$${"')).toBe('$$${');
  });
});

describe('the HCL writer', () => {
  it('prints blocks as packer fmt does: aligned runs of attributes, a blank line around nested blocks', () => {
    const text = printHcl(
      ['derivc: a header', 'second line'],
      [
        {
          type: 'source',
          labels: ['amazon-ebs', 'x'],
          comment: ['about it'],
          body: [
            ['region', 'eu-central-1'],
            ['access_key', Expr.variable('aws_access_key')],
            ['subnet_id', undefined],
            ['ena_support', true],
            {
              type: 'source_ami_filter',
              labels: [],
              body: [
                ['filters', { 'tag:a': 'b', c: 'd' }],
                ['owners', ['self']],
              ],
            },
            { type: 'launch_block_device_mappings', labels: [], body: [['volume_size', 8]] },
            ['communicator', 'none'],
          ],
        },
        {
          type: 'build',
          labels: [],
          body: [
            ['sources', []],
            ['args', [['a', new GoTemplate('{{ .Name }}')]]],
          ],
        },
      ],
    );
    expect(text).toBe(
      [
        '# derivc: a header',
        '# second line',
        '',
        '# about it',
        'source "amazon-ebs" "x" {',
        '  region      = "eu-central-1"',
        '  access_key  = var.aws_access_key',
        '  ena_support = true',
        '',
        '  source_ami_filter {',
        '    filters = { "tag:a" = "b", "c" = "d" }',
        '    owners  = ["self"]',
        '  }',
        '',
        '  launch_block_device_mappings {',
        '    volume_size = 8',
        '  }',
        '',
        '  communicator = "none"',
        '}',
        '',
        'build {',
        '  sources = []',
        '  args    = [["a", "{{ .Name }}"]]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('refuses a value Packer would run as a Go template, and a comment a newline would end', () => {
    const block = (v: string) => [{ type: 'source', labels: ['null', 'x'], body: [['a', v] as const] }];
    expect(() => printHcl([], block('{{ env `HOME` }}'))).toThrow(UnquotableError);
    expect(printHcl([], block('{ x }'))).toContain('a = "{ x }"');
    expect(() => printHcl(['a\nsource "x" {'], [])).toThrow(UnquotableError);
    expect(() => printHcl([], [{ type: 'source', labels: [], body: [], comment: ['x\ry'] }])).toThrow(UnquotableError);
  });

  it('refuses names that are not identifiers and numbers that are not integers', () => {
    expect(() => Expr.variable('a.b')).toThrow(UnquotableError);
    expect(() => printHcl([], [{ type: 'source x', labels: [], body: [] }])).toThrow(UnquotableError);
    expect(() => printHcl([], [{ type: 'source', labels: [], body: [['a b', 1]] }])).toThrow(UnquotableError);
    expect(() => printHcl([], [{ type: 'source', labels: [], body: [['a', 1.5]] }])).toThrow(UnquotableError);
  });
});
