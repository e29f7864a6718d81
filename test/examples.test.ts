// The bundled examples are what users copy: each validates with no diagnostics at all under
// --strict, and carries the editor modeline.

import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

const examples = readdirSync('examples', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe('examples', () => {
  it('cover the five kinds the README promises', () => {
    expect(examples).toEqual(['acme-downstream', 'debian-bare', 'fedora-elemental', 'opensuse-luet', 'ubuntu-kairos-framework']);
  });

  for (const name of examples) {
    const path = `examples/${name}/derivative.yaml`;
    it(`${name} validates under --strict with no diagnostics`, () => {
      const r = runCli(['validate', '--strict', '--format', 'json', path]);
      expect(JSON.parse(r.stdout).diagnostics).toEqual([]);
      expect(r.code).toBe(0);
    });

    it(`${name} carries the yaml-language-server modeline`, () => {
      expect(readFileSync(path, 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\.\/\.\.\/schema\/derivative\.schema\.json$/m);
    });
  }

  it('each example family is what its name says', () => {
    const text = (n: string) => readFileSync(`examples/${n}/derivative.yaml`, 'utf8');
    expect(text('opensuse-luet')).toMatch(/source: luet/);
    expect(text('fedora-elemental')).toMatch(/mode: elemental/);
    expect(text('ubuntu-kairos-framework')).toMatch(/mode: framework/);
    expect(text('debian-bare')).not.toMatch(/^toolkit:/m);
    expect(text('acme-downstream')).toMatch(/derivative: \.\.\/opensuse-luet\/derivative\.yaml/);
  });
});
