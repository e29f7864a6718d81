// The bundled examples are what users copy: each validates with no diagnostics at all under
// --strict, and carries the editor modeline. Three of them re-express real public derivatives;
// their migration guides are checked in example-guides.test.ts, their build contexts in
// golden.test.ts like every example's.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';

// An example is a folder holding a manifest (examples/ci holds a CI workflow).
const examples = readdirSync('examples', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`examples/${d.name}/derivative.yaml`))
  .map((d) => d.name)
  .sort();

describe('examples', () => {
  it('cover the kinds the README promises', () => {
    expect(examples).toEqual([
      'acme-downstream',
      'debian-bare',
      'elemental-green',
      'fedora-elemental',
      'harvester-os2',
      'kairos-ubuntu',
      'opensuse-luet',
      'ubuntu-kairos-framework',
    ]);
  });

  it('the README lists every example', () => {
    const readme = readFileSync('examples/README.md', 'utf8');
    for (const name of examples) expect(readme).toContain(`[\`${name}/\`](${name}/`);
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
    // One real derivative per toolkit flavor: cOS (luet), Elemental, Kairos.
    expect(text('harvester-os2')).toMatch(/^ {2}source: luet$/m);
    expect(text('elemental-green')).toMatch(/^ {2}mode: elemental\b/m);
    expect(text('kairos-ubuntu')).toMatch(/^ {2}mode: framework\b/m);
  });
});
