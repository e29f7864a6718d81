// derivc init scaffolds a manifest that validates under --strict, for every family, and never
// overwrites one.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FAMILIES } from '../compiler/family.js';
import { nameFrom } from '../cli/commands/init.js';
import { runCli } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('derivc init', () => {
  for (const family of FAMILIES) {
    it(`scaffolds a ${family} manifest that validates under --strict`, () => {
      const root = mkdtempSync(join(tmpdir(), 'derivc-init-'));
      scratch.push(root);
      const dir = join(root, 'Acme OS');
      expect(runCli(['init', dir, '--family', family]).code).toBe(0);
      expect(readFileSync(join(dir, 'derivative.yaml'), 'utf8')).toContain('name: acme-os\n');
      expect(JSON.parse(readFileSync(join(dir, 'derivative.schema.json'), 'utf8')).$id).toMatch(/derivative\.schema\.json$/);
      expect(runCli(['validate', '--strict', dir])).toMatchObject({ code: 0, stdout: 'no problems\n' });
      // A second init refuses: the manifest is the user's now.
      expect(runCli(['init', dir]).code).toBe(1);
    });
  }

  it('refuses an unknown family', () => {
    expect(runCli(['init', tmpdir(), '--family', 'gentoo']).code).toBe(3);
  });

  it('derives a valid name from any directory name', () => {
    expect(nameFrom('/x/My Derivative!')).toBe('my-derivative');
    expect(nameFrom('/x/---')).toBe('my-derivative');
  });
});
