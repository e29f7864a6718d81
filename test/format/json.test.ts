import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatDiagnostics } from '../../cli/format/index.js';
import { ALL, PLAIN, input, syntaxError, unknownKey, unpinned } from './fixtures.js';

const json = (diagnostics: readonly Diagnostic[]): string => formatDiagnostics('json', input(diagnostics), PLAIN);

describe('json format', () => {
  it('prints one compact, versioned object and a newline, keys in the documented order', () => {
    expect(json([unknownKey, unpinned])).toBe(
      '{"formatVersion":1,"diagnostics":[' +
        '{"code":"schema/unknown-key","severity":"error","message":"unknown key `systctl` in `system`",' +
        '"file":"examples/foo/derivative.yaml","pointer":"/system/systctl",' +
        '"range":{"start":{"line":12,"column":3},"end":{"line":12,"column":10}},"hint":"did you mean `sysctl`?"},' +
        '{"code":"base/unpinned","severity":"info","message":"base image is not pinned by digest",' +
        '"file":"examples/foo/derivative.yaml","pointer":"/base/image","hint":"pin it with `@sha256:<digest>`"}' +
        ']}\n',
    );
  });

  it('prints an empty list when there is nothing to report', () => {
    expect(json([])).toBe('{"formatVersion":1,"diagnostics":[]}\n');
  });

  it('round-trips through JSON.parse to the diagnostics it was given, in their order', () => {
    const parsed = JSON.parse(json(ALL)) as { formatVersion: number; diagnostics: unknown[] };
    expect(Object.keys(parsed)).toEqual(['formatVersion', 'diagnostics']);
    expect(parsed.formatVersion).toBe(1);
    expect(parsed.diagnostics).toEqual(ALL);
  });

  it('has exactly the documented keys, omitting range and hint when absent', () => {
    const [withBoth, noRange, noHint] = (JSON.parse(json([unknownKey, unpinned, syntaxError])) as { diagnostics: Record<string, unknown>[] }).diagnostics;
    expect(Object.keys(withBoth!)).toEqual(['code', 'severity', 'message', 'file', 'pointer', 'range', 'hint']);
    expect(Object.keys(withBoth!.range as object)).toEqual(['start', 'end']);
    expect(Object.keys((withBoth!.range as { start: object }).start)).toEqual(['line', 'column']);
    expect(Object.keys(noRange!)).toEqual(['code', 'severity', 'message', 'file', 'pointer', 'hint']);
    expect(Object.keys(noHint!)).toEqual(['code', 'severity', 'message', 'file', 'pointer', 'range']);
  });

  it('lets no undocumented property of a diagnostic through', () => {
    const extra = { ...unknownKey, internal: 'x', range: { ...unknownKey.range!, offset: 7 } } as Diagnostic;
    expect(json([extra])).toBe(json([unknownKey]));
  });

  it('is a single line, whatever the messages contain', () => {
    const out = json([{ ...unknownKey, message: 'two\nlines' }]);
    expect(out.indexOf('\n')).toBe(out.length - 1);
  });
});
