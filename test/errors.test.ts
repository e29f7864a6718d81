// Error cases: each test/errors/<case>.yaml is a manifest with one mistake; <case>.txt is the
// exact pretty output derivc must print for it (code, file:line:col, code frame, hint).
// Regenerate after an intended change with UPDATE_EXPECTED=1, then review the diff.

import { readdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { updating } from './support/update-mode.js';

const update = updating('UPDATE_EXPECTED');

const dir = 'test/errors';
const cases = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => f.slice(0, -'.yaml'.length))
  .sort();

describe('error cases', () => {
  it('cover every rule (at least 40 cases)', () => {
    expect(cases.length).toBeGreaterThanOrEqual(40);
  });

  for (const name of cases) {
    it(name, () => {
      const { code, stdout, stderr } = runCli(['validate', '--strict', `${dir}/${name}.yaml`]);
      expect(stderr).toBe('');
      const expectedPath = `${dir}/${name}.txt`;
      if (update) writeFileSync(expectedPath, stdout);
      expect(existsSync(expectedPath), `missing ${expectedPath}`).toBe(true);
      expect(stdout).toBe(readFileSync(expectedPath, 'utf8'));
      // Every case is a mistake: it must fail, and name a code with a position.
      expect(code).toBe(1);
      expect(stdout).toMatch(/^(error|warning)\[[a-zA-Z-]+\/[a-z0-9-]+\]/m);
      expect(stdout).toMatch(/--> [^\n]+:\d+:\d+/);
    });
  }
});
