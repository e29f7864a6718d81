import { describe, expect, it } from 'vitest';
import type { DiagnosticCode } from '../../compiler/codes.js';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatDiagnostics } from '../../cli/format/index.js';
import { ALL, COLOR, MANIFEST, PLAIN, input, plaintextPassword, unknownKey, unpinned } from './fixtures.js';

const pretty = (diagnostics: readonly Diagnostic[], sources?: Record<string, string>, color = false): string =>
  formatDiagnostics('pretty', input(diagnostics, sources), color ? COLOR : PLAIN);

const at = (file: string, startLine: number, startColumn: number, endLine: number, endColumn: number): Diagnostic => ({
  code: 'x/test' as DiagnosticCode,
  severity: 'error',
  message: 'm',
  file,
  pointer: '',
  range: { start: { line: startLine, column: startColumn }, end: { line: endLine, column: endColumn } },
});

describe('pretty format', () => {
  it('renders each kind of diagnostic, separated by blank lines, then a summary', () => {
    expect(pretty(ALL)).toBe(
      [
        'info[base/unpinned]: base image is not pinned by digest',
        '  --> examples/foo/derivative.yaml',
        '   = at: /base/image',
        '   = hint: pin it with `@sha256:<digest>`',
        '',
        'error[schema/unknown-key]: unknown key `systctl` in `system`',
        '  --> examples/foo/derivative.yaml:12:3',
        '   |',
        '11 |   hostname: acme',
        '12 |   systctl:',
        '   |   ^^^^^^^',
        '13 |     net.ipv4.ip_forward: 1',
        '   |',
        '   = at: /system/systctl',
        '   = hint: did you mean `sysctl`?',
        '',
        'warning[system/plaintext-password]: user `admin` has a plaintext password',
        '  --> examples/foo/derivative.yaml:15:5',
        '   |',
        '14 |   users:',
        '15 |     admin:',
        '   |     ^^^^^^',
        '16 |       password: secret',
        '   |',
        '   = at: /system/users/admin',
        '',
        'error[parse/syntax]: unexpected end of flow mapping',
        '  --> includes/extra.yaml:3:1',
        '',
        '2 errors, 1 warning, 1 info',
        '',
      ].join('\n'),
    );
  });

  it('says `no problems` when there are none', () => {
    expect(pretty([])).toBe('no problems\n');
  });

  it('counts in the summary with singular and plural', () => {
    expect(pretty([unknownKey])).toMatch(/\n\n1 error\n$/);
    expect(pretty([plaintextPassword, plaintextPassword])).toMatch(/\n\n2 warnings\n$/);
    expect(pretty([unpinned])).toMatch(/\n\n1 info\n$/);
  });

  it('sizes the gutter by the largest line number shown', () => {
    const frame = pretty([{ ...at(MANIFEST, 10, 1, 10, 7), pointer: '/system' }]);
    expect(frame).toContain(
      [
        '  --> examples/foo/derivative.yaml:10:1',
        '   |',
        ' 9 |   - vim',
        '10 | system:',
        '   | ^^^^^^',
        '11 |   hostname: acme',
        '   |',
        '   = at: /system',
      ].join('\n'),
    );
    const small = pretty([{ ...at('f.yaml', 1, 1, 1, 2), pointer: '/a' }], { 'f.yaml': 'a: 1\nb: 2\nc: 3\n' });
    expect(small).toBe(['error[x/test]: m', ' --> f.yaml:1:1', '  |', '1 | a: 1', '  | ^', '2 | b: 2', '  |', '  = at: /a', '', '1 error', ''].join('\n'));
  });

  it('shows no line after the last one', () => {
    expect(pretty([at('f.yaml', 3, 1, 3, 2)], { 'f.yaml': 'a: 1\nb: 2\nc: 3\n' })).toContain(
      ['  |', '2 | b: 2', '3 | c: 3', '  | ^', '  |', '', '1 error'].join('\n'),
    );
  });

  it('keeps tabs in the source line and repeats them under it so the carets stay aligned', () => {
    expect(pretty([at('t.yaml', 2, 7, 2, 12)], { 't.yaml': 'root:\n\tkey:\tvalue\nend: 1\n' })).toContain(
      ['  |', '1 | root:', '2 | \tkey:\tvalue', '  | \t    \t^^^^^', '3 | end: 1', '  |'].join('\n'),
    );
  });

  it('drops CR line endings and leaves no trailing space after an empty line', () => {
    const out = pretty([at('w.yaml', 3, 4, 3, 5)], { 'w.yaml': 'a: 1\r\n\r\nb: [\r\n' });
    expect(out).toContain(['  |', '2 |', '3 | b: [', '  |    ^', '  |'].join('\n'));
    expect(out).not.toContain('\r');
  });

  it('underlines at least one column, even at the end of the file', () => {
    expect(pretty([at('e.yaml', 2, 1, 2, 1)], { 'e.yaml': 'a: {\n' })).toContain(['  |', '1 | a: {', '2 |', '  | ^', '  |'].join('\n'));
  });

  it('clamps a single-line range that runs past the end of its line', () => {
    expect(pretty([at('f.yaml', 1, 3, 1, 99)], { 'f.yaml': 'a: 1\n' })).toContain('1 | a: 1\n  |   ^^\n');
  });

  it('prints only the location when the range is not in the source', () => {
    expect(pretty([at('f.yaml', 9, 1, 9, 2)], { 'f.yaml': 'a: 1\n' })).toBe('error[x/test]: m\n  --> f.yaml:9:1\n\n1 error\n');
  });

  it('neutralises terminal control characters from the manifest', () => {
    const d: Diagnostic = { ...at('c.yaml', 1, 1, 1, 4), message: 'unknown key `\x1b[2J`', hint: 'bell\x07' };
    const out = pretty([d], { 'c.yaml': '\x1b[2J: 1\n' });
    expect(out).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
    expect(out).toContain('unknown key `\uFFFD[2J`');
    expect(out).toContain('1 | \uFFFD[2J: 1\n  | ^^^\n');
  });

  describe('colour', () => {
    const R = '\x1b[1;31m';
    const Y = '\x1b[1;33m';
    const I = '\x1b[1;34m';
    const B = '\x1b[34m';
    const BOLD = '\x1b[1m';
    const O = '\x1b[0m';

    it('paints severity, gutter, carets and message with ANSI when asked', () => {
      expect(pretty([unknownKey], undefined, true)).toBe(
        [
          `${R}error[schema/unknown-key]${O}${BOLD}: unknown key \`systctl\` in \`system\`${O}`,
          `  ${B}-->${O} examples/foo/derivative.yaml:12:3`,
          `${B}   |${O}`,
          `${B}11 |${O}   hostname: acme`,
          `${B}12 |${O}   systctl:`,
          `${B}   |${O}   ${R}^^^^^^^${O}`,
          `${B}13 |${O}     net.ipv4.ip_forward: 1`,
          `${B}   |${O}`,
          `   ${B}=${O} ${BOLD}at:${O} /system/systctl`,
          `   ${B}=${O} ${BOLD}hint:${O} did you mean \`sysctl\`?`,
          '',
          `${BOLD}1 error${O}`,
          '',
        ].join('\n'),
      );
    });

    it('uses yellow for warnings and blue for info', () => {
      expect(pretty([plaintextPassword], undefined, true)).toMatch(new RegExp(`^${esc(Y)}warning\\[`));
      expect(pretty([plaintextPassword], undefined, true)).toContain(`${Y}^^^^^^${O}`);
      expect(pretty([unpinned], undefined, true)).toMatch(new RegExp(`^${esc(I)}info\\[`));
    });

    it('differs from the plain output by escape sequences only', () => {
      const coloured = pretty(ALL, undefined, true);
      expect(coloured).toContain('\x1b[');
      expect(coloured.replace(/\x1b\[[0-9;]*m/g, '')).toBe(pretty(ALL));
    });

    it('emits no escape at all when colour is off', () => {
      expect(pretty(ALL)).not.toContain('\x1b');
    });
  });
});

function esc(s: string): string {
  return s.replace(/[[\]\\^$.|?*+()]/g, '\\$&');
}
