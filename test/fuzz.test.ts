// Bad-input fuzzing: thousands of random byte strings and mutated manifests. Whatever arrives,
// validation returns (never throws, never hangs), and every diagnostic is a registered code with
// a range inside the file.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeCode } from '../compiler/codes.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { MemoryHost } from './support/memory-host.js';

const seeds = [
  ...readdirSync('examples', { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(`examples/${d.name}/derivative.yaml`))
    .map((d) => readFileSync(`examples/${d.name}/derivative.yaml`, 'utf8')),
  ...readdirSync('test/errors')
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => readFileSync(`test/errors/${f}`, 'latin1')),
];

/** Validates `bytes` as derivative.yaml; checks the invariants; returns the codes seen. */
function check(bytes: Uint8Array): string[] {
  const host = new MemoryHost({ 'd/derivative.yaml': bytes, 'd/files/motd': 'hi\n', 'd/oem/10_x.yaml': 'stages: {boot: [{commands: ["true"]}]}\n' });
  const started = performance.now();
  const { diagnostics } = new ValidationSession(host).validate('d/derivative.yaml');
  expect(performance.now() - started).toBeLessThan(2000);
  const text = new TextDecoder().decode(bytes);
  const lines = text.split('\n').length;
  for (const d of diagnostics) {
    expect(describeCode(d.code), `unregistered code ${d.code}`).toBeDefined();
    expect(d.message.length).toBeGreaterThan(0);
    expect(d.range, `${d.code} has no range`).toBeDefined();
    const { start, end } = d.range!;
    expect(start.line).toBeGreaterThanOrEqual(1);
    expect(start.column).toBeGreaterThanOrEqual(1);
    expect(end.line).toBeLessThanOrEqual(lines + 1);
    expect(end.line * 1e6 + end.column).toBeGreaterThanOrEqual(start.line * 1e6 + start.column);
  }
  return diagnostics.map((d) => d.code);
}

const mutation = fc.oneof(
  // Delete, insert or replace a span of characters.
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), del: fc.nat({ max: 12 }), insert: fc.string({ maxLength: 12 }) }),
  // YAML-significant characters are where parsers break.
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    del: fc.nat({ max: 2 }),
    insert: fc.constantFrom(
      ':',
      '- ',
      '&a ',
      '*a',
      '<<: *a',
      '{',
      '[',
      '"',
      "'",
      '\t',
      '\n  ',
      '\n',
      '#',
      '|',
      '>',
      '!!binary ',
      '0644',
      '~',
      '---\n',
      '%YAML 1.1\n',
      '? ',
      '\u0000',
      '\uFEFF',
    ),
  }),
  // Move lines around: wrong indentation, duplicated keys.
  fc.record({ kind: fc.constant('line' as const), from: fc.nat(), to: fc.nat(), indent: fc.integer({ min: -4, max: 4 }) }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(text: string, ms: Mutation[]): string {
  for (const m of ms) {
    if (m.kind === 'splice') {
      const at = text.length ? m.at % (text.length + 1) : 0;
      text = text.slice(0, at) + m.insert + text.slice(at + m.del);
    } else {
      const lines = text.split('\n');
      const line = lines[m.from % lines.length]!;
      const moved = m.indent >= 0 ? ' '.repeat(m.indent) + line : line.slice(Math.min(-m.indent, line.length - line.trimStart().length));
      lines.splice(m.to % (lines.length + 1), 0, moved);
      text = lines.join('\n');
    }
  }
  return text;
}

describe('fuzzing', () => {
  it('random bytes never break validation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => void check(bytes)),
      { numRuns: 2000 },
    );
  });

  it('mutated manifests never break validation', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, ms) => void check(new TextEncoder().encode(mutate(seed, ms))),
      ),
      { numRuns: 3000 },
    );
  });

  it('random data under a valid header never breaks validation', () => {
    const header = 'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\n';
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('metadata', 'base', 'toolkit', 'system', 'files', 'layout', 'stages', 'boot', 'targets', 'tests', 'oemDir', 'packages'),
          fc.jsonValue({ maxDepth: 4 }),
        ),
        (body) => {
          check(
            new TextEncoder().encode(
              header +
                Object.entries(body)
                  .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
                  .join('\n'),
            ),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });
});
