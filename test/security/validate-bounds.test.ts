// Resource bounds of `derivc validate`: a manifest arrives in a pull request and runs in CI, so
// every worst-case shape under the 4 MiB cap must validate in seconds with a readable answer,
// never hang, never overflow the stack, never print megabytes.
//
// Times are the CPU time of this process: a loaded machine stretches wall time, not work. Each
// bound is about twice what a 2-core machine running other builds measured (in the comments).
// Before these bounds: 120,000 keys in one mapping took 410 s (yaml's pairwise duplicate-key check,
// and a linear key search per diagnostic); 120,000 unknown keys printed 50 MB; 100,000 aliases to
// distinct anchors took minutes (yaml's toJS scans every anchor before each alias); 100,000
// nested `[` ended in "maximum call stack size exceeded".

import { describe, expect, it } from 'vitest';
import { formatDiagnostics } from '../../cli/format/index.js';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { MAX_FILE_BYTES } from '../../compiler/parse.js';
import { ValidationSession } from '../../compiler/validate/index.js';
import { MemoryHost } from '../support/memory-host.js';

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata:\n  name: acme-os\n  version: 1.0.0\nbase:\n  image: registry.opensuse.org/opensuse/leap:15.5\n';

function lines(n: number, line: (i: number) => string): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(line(i));
  return out.join('\n') + '\n';
}

interface Run {
  diagnostics: Diagnostic[];
  /** What `derivc validate` prints. */
  output: string;
  cpuMs: number;
}

/** Validates `text` as d/derivative.yaml and formats the result, as the CLI does. */
function validate(text: string): Run {
  expect(text.length).toBeLessThanOrEqual(MAX_FILE_BYTES);
  const host = new MemoryHost({ 'd/derivative.yaml': text });
  const started = process.cpuUsage();
  const session = new ValidationSession(host);
  const { diagnostics } = session.validate('d/derivative.yaml');
  const output = formatDiagnostics('pretty', { diagnostics, sources: session.sources }, { color: false, toolVersion: 'test' });
  const used = process.cpuUsage(started);
  return { diagnostics, output, cpuMs: (used.user + used.system) / 1000 };
}

const codes = (r: Run) => [...new Set(r.diagnostics.map((d) => d.code))].sort();

describe('validate is bounded in time and output', () => {
  it('one mapping of 120,000 keys (3 MB) validates in under 5 s', () => {
    // Measured: 2.4 s.
    const r = validate(HEAD + 'system:\n  sysctl:\n' + lines(120_000, (i) => `    net.ipv4.k${i}: "1"`));
    expect(r.diagnostics).toEqual([]);
    expect(r.cpuMs).toBeLessThan(5_000);
  });

  it('120,000 unknown keys: the first 100 with their hints, then how many more', () => {
    // Measured: 3.8 s.
    const r = validate(HEAD + lines(120_000, (i) => `metadat${i}: 1`));
    expect(codes(r)).toEqual(['schema/unknown-key', 'validate/too-many-problems']);
    expect(r.diagnostics).toHaveLength(101);
    expect(r.diagnostics[0]).toMatchObject({
      message: 'unknown key `metadat0` in the top level',
      hint: 'did you mean `metadata`?',
      range: { start: { line: 8, column: 1 } },
    });
    expect(r.diagnostics[100]).toMatchObject({
      code: 'validate/too-many-problems',
      severity: 'error',
      message: '119900 more errors in this file are not shown (the first is here): derivc reports at most 100 problems per file',
      range: { start: { line: 108, column: 1 } },
    });
    expect(r.output.length).toBeLessThan(100_000);
    expect(r.cpuMs).toBeLessThan(10_000);
  });

  it('120,000 repeats of one key: each a duplicate-key error, 100 of them shown', () => {
    // Measured: 4.2 s.
    const r = validate(HEAD + 'system:\n  sysctl:\n' + lines(120_000, () => '    net.ipv4.ip_forward: "1"'));
    expect(codes(r)).toEqual(['parse/duplicate-key', 'validate/too-many-problems']);
    expect(r.diagnostics[0]!.message).toBe('duplicate key `net.ipv4.ip_forward`: this mapping already has it on line 10');
    expect(r.diagnostics[100]!.message).toMatch(/^119899 more errors in this file/);
    expect(r.cpuMs).toBeLessThan(10_000);
  });

  it('a list of 120,000 items', () => {
    // Measured: 2.5 s.
    const r = validate(HEAD + 'packages:\n  install:\n' + lines(120_000, (i) => `    - pkg${i}`));
    expect(codes(r)).toEqual(['schema/too-many-items']);
    expect(r.cpuMs).toBeLessThan(10_000);
  });

  it('a 4 MB line: the code frame shows a window of it', () => {
    const long = 'x'.repeat(MAX_FILE_BYTES - 300);
    const r = validate(
      HEAD.replace('metadata:\n  name: acme-os\n  version: 1.0.0\n', `metadata: {name: acme-os, version: 1.0.0, description: "${long}", colour: red}\n`),
    );
    expect(codes(r)).toEqual(['schema/unknown-key']);
    expect(r.diagnostics[0]!.range!.start.column).toBeGreaterThan(long.length);
    // 40 columns before the key, then the rest of the line.
    expect(r.output).toContain(`3 | …${'x'.repeat(37)}", colour: red}\n  |                                          ^^^^^^\n`);
    expect(r.output.length).toBeLessThan(2_000);
    expect(r.cpuMs).toBeLessThan(5_000);
  });

  it('a line of 100,000 unknown keys: 100 code frames of it, each a window', () => {
    // Measured: 3.6 s.
    const r = validate(HEAD + 'system: {' + Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join(', ') + '}\n');
    expect(codes(r)).toEqual(['schema/unknown-key', 'validate/too-many-problems']);
    expect(r.output.length).toBeLessThan(100_000);
    expect(r.cpuMs).toBeLessThan(10_000);
  });

  it('100,000 anchors, each used once: refused at the alias over the budget', () => {
    // Measured: 2.4 s.
    const r = validate(HEAD + 'packages:\n  install:\n' + lines(100_000, (i) => `    - &a${i} pkg${i}\n    - *a${i}`));
    expect(codes(r)).toEqual(['parse/alias-limit']);
    // The 10,001st alias: items start on line 10, each alias on the line after its anchor.
    expect(r.diagnostics[0]!.range!.start.line).toBe(11 + 2 * 10_000);
    expect(r.cpuMs).toBeLessThan(10_000);
  });

  it('a billion laughs: refused without expanding', () => {
    const r = validate(
      HEAD +
        lines(
          10,
          (i) =>
            `x${i}: &x${i} [${Array(10)
              .fill(i ? `*x${i - 1}` : 'lol')
              .join(', ')}]`,
        ),
    );
    expect(codes(r)).toEqual(['parse/alias-limit']);
    expect(r.cpuMs).toBeLessThan(1_000);
  });

  it('5,000 anchors each nesting the one before: too deep once expanded', () => {
    const r = validate(HEAD + 'build:\n  args:\n' + lines(5_000, (i) => `    a${i}: &a${i} [${i ? `*a${i - 1}` : '1'}]`));
    expect(codes(r)).toContain('parse/too-deep');
    expect(r.diagnostics.find((d) => d.code === 'parse/too-deep')).toMatchObject({
      message: 'alias `*a96` nests lists and mappings more than 100 levels deep',
      range: { start: { line: 107 } },
    });
    expect(r.cpuMs).toBeLessThan(2_000);
  });
});

describe('deep nesting is a diagnostic, never a stack overflow', () => {
  const tooDeep = (r: Run, line: number, column: number) => {
    expect(r.diagnostics).toEqual([
      expect.objectContaining({
        code: 'parse/too-deep',
        message: 'lists and mappings are nested more than 100 levels deep',
        range: expect.objectContaining({ start: { line, column } }),
      }),
    ]);
    expect(r.cpuMs).toBeLessThan(2_000);
  };

  it('100,000 nested `[`', () => {
    tooDeep(validate(HEAD + 'x: ' + '['.repeat(100_000) + ']'.repeat(100_000) + '\n'), 8, 104);
  });

  it('100,000 nested `{`, never closed', () => {
    tooDeep(validate(HEAD + 'x: ' + '{a: '.repeat(100_000) + '\n'), 8, 4 + 4 * 100);
  });

  it('100,000 nested block lists on one line', () => {
    tooDeep(validate(HEAD + 'x:\n' + '- '.repeat(100_000) + 'x\n'), 9, 1 + 2 * 100);
  });

  it('block mappings nested as deep as indentation allows under the size cap', () => {
    tooDeep(validate(HEAD + 'x:\n' + lines(2_800, (i) => `${' '.repeat(i + 1)}k:`) + ' '.repeat(2_802) + 'v\n'), 109, 102);
  });

  it('in an oemDir cloud-config file too', () => {
    const host = new MemoryHost({
      'd/derivative.yaml': HEAD + 'toolkit:\n  source: luet\noemDir: oem\n',
      'd/oem/10_deep.yaml': 'stages: ' + '['.repeat(100_000) + '\n',
    });
    const { diagnostics } = new ValidationSession(host).validate('d/derivative.yaml');
    expect(diagnostics).toEqual([expect.objectContaining({ code: 'parse/too-deep', file: 'd/oem/10_deep.yaml' })]);
  });
});
