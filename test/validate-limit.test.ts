// Each file reports its first problems and one more diagnostic counting the rest, whose severity
// keeps the exit code what it would be with everything shown.

import type { DiagnosticCode } from '../compiler/codes.js';
import { describe, expect, it } from 'vitest';
import type { Diagnostic, Severity } from '../compiler/diagnostics.js';
import { limitPerFile } from '../compiler/validate/limit.js';

const d = (file: string, line: number, severity: Severity = 'error'): Diagnostic => ({
  code: 'x/test' as DiagnosticCode,
  severity,
  message: `m${line}`,
  file,
  pointer: `/${line}`,
  range: { start: { line, column: 1 }, end: { line, column: 2 } },
});

describe('limitPerFile', () => {
  it('keeps files under the limit as they are', () => {
    const all = [d('a', 1), d('a', 2), d('b', 1)];
    expect(limitPerFile(all, 2)).toEqual(all);
  });

  it('counts what it leaves out, per file and severity, at the first left-out position', () => {
    const out = limitPerFile([d('a', 1), d('a', 2), d('a', 3, 'warning'), d('a', 4), d('a', 5, 'warning'), d('b', 1)], 2);
    expect(out.map((x) => `${x.file}:${x.range!.start.line} ${x.code} ${x.severity}`)).toEqual([
      'a:1 x/test error',
      'a:2 x/test error',
      'a:3 validate/too-many-problems error',
      'b:1 x/test error',
    ]);
    expect(out[2]!.message).toBe('1 more error and 2 more warnings in this file are not shown (the first is here): derivc reports at most 2 problems per file');
  });

  it('gives the count the severity of the worst problem left out', () => {
    const out = limitPerFile([d('a', 1), d('a', 2, 'warning')], 1);
    expect(out[1]).toMatchObject({
      code: 'validate/too-many-problems',
      severity: 'warning',
      message: '1 more warning in this file is not shown (the first is here): derivc reports at most 1 problems per file',
    });
  });
});
