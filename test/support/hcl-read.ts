// HCL's reading of a quoted string, for the tests of hclString (test/hcl.test.ts), and text to
// feed it; the e2e test checks the same strings against the real Packer.

import fc from 'fast-check';

/**
 * HCL's reading of a quoted string (hclsyntax): `\n \r \t \" \\ \uNNNN \UNNNNNNNN`, `$${` for
 * `${` and `%%{` for `%{`. A bare `${` or `%{` would start a template sequence, a bare `"` end
 * the string, a raw newline break it: all refused.
 */
export function readHcl(text: string): string {
  if (text.length < 2 || !text.startsWith('"') || !text.endsWith('"')) throw new Error(`not a quoted string: ${text}`);
  const body = text.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length;) {
    const c = body[i]!;
    if (c === '"') throw new Error(`unescaped quote at ${i}`);
    if (/[\u0000-\u001f\u007f-\u009f]/.test(c)) throw new Error(`raw control character at ${i}`);
    if (c === '\\') {
      const n = body[i + 1];
      const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
      if (n !== undefined && n in simple) {
        out += simple[n];
        i += 2;
      } else if (n === 'u' || n === 'U') {
        const len = n === 'u' ? 4 : 8;
        const hex = body.slice(i + 2, i + 2 + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new Error(`bad \\${n} escape at ${i}`);
        out += String.fromCodePoint(parseInt(hex, 16));
        i += 2 + len;
      } else throw new Error(`unknown escape \\${n} at ${i}`);
      continue;
    }
    if (body.startsWith('$${', i) || body.startsWith('%%{', i)) {
      out += `${c}{`;
      i += 3;
      continue;
    }
    if (body.startsWith('${', i) || body.startsWith('%{', i)) throw new Error(`template sequence at ${i}`);
    out += c;
    i++;
  }
  return out;
}

/** What HCL sees as special, controls, and text whose NFC form is itself. */
const SPECIAL = [
  '$',
  '%',
  '{',
  '}',
  '"',
  '\\',
  '\n',
  '\r',
  '\t',
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  '\u0085',
  '\u2028',
  'u',
  'n',
  'a',
  'é',
  '🚀',
  ' ',
  '{{',
  '}}',
];
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
export const hclText = fc
  .oneof(fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: 24 }), fc.string({ unit: 'binary', maxLength: 24 }).filter(wellFormed))
  .map((s) => s.normalize('NFC'));
