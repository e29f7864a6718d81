import { describe, expect, it } from 'vitest';
import type { DiagnosticCode } from '../../compiler/codes.js';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatDiagnostics } from '../../cli/format/index.js';
import { ALL, PLAIN, input, unknownKey } from './fixtures.js';

const github = (diagnostics: readonly Diagnostic[]): string => formatDiagnostics('github', input(diagnostics), PLAIN);

describe('github format', () => {
  it('prints one workflow command per diagnostic: error, warning, notice', () => {
    expect(github(ALL)).toBe(
      [
        '::notice file=examples/foo/derivative.yaml,title=base/unpinned::base image is not pinned by digest (hint: pin it with `@sha256:<digest>`)',
        '::error file=examples/foo/derivative.yaml,line=12,col=3,endLine=12,endColumn=10,title=schema/unknown-key::unknown key `systctl` in `system` (hint: did you mean `sysctl`?)',
        '::warning file=examples/foo/derivative.yaml,line=15,col=5,endLine=16,endColumn=23,title=system/plaintext-password::user `admin` has a plaintext password',
        '::error file=includes/extra.yaml,line=3,col=1,endLine=3,endColumn=2,title=parse/syntax::unexpected end of flow mapping',
        '',
      ].join('\n'),
    );
  });

  it('prints nothing when there is nothing to report', () => {
    expect(github([])).toBe('');
  });

  it('escapes %, CR and LF in the message but leaves : and , alone there', () => {
    const d: Diagnostic = { ...unknownKey, message: '100% sure\r\nnext: a, b', hint: 'x%0Ay' };
    expect(github([d])).toBe(
      '::error file=examples/foo/derivative.yaml,line=12,col=3,endLine=12,endColumn=10,title=schema/unknown-key::' +
        '100%25 sure%0D%0Anext: a, b (hint: x%250Ay)\n',
    );
  });

  it('also escapes : and , in property values', () => {
    const d: Diagnostic = { code: 'a:b,c' as DiagnosticCode, severity: 'warning', message: 'm', file: 'C:\\odd,dir/50%\n.yaml', pointer: '' };
    expect(github([d])).toBe('::warning file=C%3A\\odd%2Cdir/50%25%0A.yaml,title=a%3Ab%2Cc::m\n');
  });
});
