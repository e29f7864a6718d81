// Expected files are the specification: CI compares against them and never rewrites them.

import { describe, expect, it } from 'vitest';
import { updating } from './support/update-mode.js';

describe('expected files', () => {
  it('are never rewritten in CI (UPDATE_EXPECTED / UPDATE_GOLDEN refused when CI is set)', () => {
    expect(() => updating('UPDATE_EXPECTED', { UPDATE_EXPECTED: '1', CI: 'true' })).toThrow(/never rewritten in CI/);
    expect(() => updating('UPDATE_GOLDEN', { UPDATE_GOLDEN: '1', CI: 'true' })).toThrow(/never rewritten in CI/);
    expect(updating('UPDATE_GOLDEN', { UPDATE_GOLDEN: '1' })).toBe(true);
    expect(updating('UPDATE_EXPECTED', { CI: 'true' })).toBe(false);
  });
});
