// Every code derivc emits is registered (so `derivc explain` and SARIF rules know it), and every
// code the schemas name exists in the registry.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES } from '../compiler/codes.js';

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile() && d.name.endsWith('.ts') && !d.parentPath.includes('generated'))
    .map((d) => readFileSync(`${d.parentPath}/${d.name}`, 'utf8'));
}

describe('diagnostic codes', () => {
  it('every code used in the source is registered', () => {
    const used = new Set<string>();
    for (const text of [...sources('compiler'), ...sources('cli'), ...sources('targets')]) {
      for (const m of text.matchAll(/code: '([a-zA-Z-]+\/[a-z0-9-]+)'|finding\(ctx, '([a-zA-Z-]+\/[a-z0-9-]+)'/g)) used.add((m[1] ?? m[2])!);
    }
    expect(used.size).toBeGreaterThan(20);
    expect([...used].filter((c) => !(c in CODES))).toEqual([]);
    // The targets' findings among them, all in the one namespace of target codes.
    expect([...used].filter((c) => c.startsWith('target'))).toEqual(
      expect.arrayContaining(['targets/unsupported-firmware', 'targets/unsupported-arch', 'targets/raw-too-small', 'targets/invalid-option']),
    );
    expect(Object.keys(CODES).filter((c) => c.startsWith('target/'))).toEqual([]);
  });

  it('every x-derivc-code in the schemas is registered', () => {
    const text = readFileSync('schema/derivative.schema.json', 'utf8') + readFileSync('schema/cloud-config.schema.json', 'utf8');
    const named = [...text.matchAll(/"x-derivc-code":\s*"([^"]+)"/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter((c) => !(c in CODES))).toEqual([]);
  });

  it('every error case pins a registered code', () => {
    const pinned = readdirSync('test/errors')
      .filter((f) => f.endsWith('.txt'))
      .flatMap((f) => [...readFileSync(`test/errors/${f}`, 'utf8').matchAll(/^(?:error|warning|info)\[([^\]]+)\]/gm)].map((m) => m[1]!));
    expect(pinned.filter((c) => !(c in CODES))).toEqual([]);
  });

  it('registry entries have a summary and an explanation', () => {
    for (const [code, info] of Object.entries(CODES)) {
      expect(code).toMatch(/^[a-zA-Z-]+\/[a-z0-9-]+$/);
      expect(info.summary.length, code).toBeGreaterThan(5);
      expect(info.explanation.length, code).toBeGreaterThan(20);
    }
  });
});
