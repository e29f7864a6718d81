// Conformance: real cloud-config files from shipped derivatives (../shared/corpus) are accepted
// as oemDir content. The only findings are two genuine typos that yip silently ignores at boot —
// `permsisions:` leaves /etc/sudoers and a GRUB file at the default mode — and derivc must keep
// reporting exactly those. Mutated copies check that an injected mistake is found at its line.

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../cli/node-host.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { runCli } from './support/cli.js';

const CORPUS = join(import.meta.dirname, '..', '..', 'shared', 'corpus');

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

const cloudConfigFiles = walk(CORPUS).filter((f) => /\.ya?ml(\.tmpl)?$/.test(f));

/** The real typos in the corpus, where derivc reports them. */
const KNOWN_TYPOS = new Map([
  ['cos-oem-v0.8.14/08_boot_assessment.yaml', '78:10'],
  ['harvester-os2/04_accounting.yaml', '32:8'],
]);

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-corpus-'));
  scratch.push(dir);
  cpSync(CORPUS, join(dir, 'oem'), { recursive: true });
  return dir;
}

describe('corpus', () => {
  it('is there (CI lays shared/ next to the clone)', () => {
    expect(cloudConfigFiles.length).toBeGreaterThanOrEqual(30);
  });

  for (const file of cloudConfigFiles) {
    const name = relative(CORPUS, file);
    it(`accepts ${name}`, () => {
      const { diagnostics } = new ValidationSession(nodeHost).cloudConfigFile(file);
      const typo = KNOWN_TYPOS.get(name);
      if (!typo) {
        expect(diagnostics).toEqual([]);
        return;
      }
      // 08_boot_assessment reuses the step three times through `<<: *bootgrub`: reported once, at the anchor.
      expect(diagnostics.map((d) => [d.code, `${d.range?.start.line}:${d.range?.start.column}`, d.hint])).toEqual([
        ['cloud-config/unknown-key', typo, 'did you mean `permissions`?'],
      ]);
    });
  }

  it('is accepted through a manifest whose oemDir is the corpus, with only the two typos as errors', () => {
    const dir = tempCopy();
    writeFileSync(
      join(dir, 'derivative.yaml'),
      'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: corpus, version: "1"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\ntoolkit: {source: luet}\noemDir: oem\n',
    );
    const { stdout } = runCli(['validate', '--format', 'json', join(dir, 'derivative.yaml')]);
    const diagnostics = JSON.parse(stdout).diagnostics as { code: string; severity: string; file: string }[];
    const errors = diagnostics.filter((d) => d.severity === 'error');
    expect(errors.map((d) => [d.code, relative(join(dir, 'oem'), d.file)])).toEqual([...KNOWN_TYPOS.keys()].map((f) => ['cloud-config/unknown-key', f]));
    // Warnings are only for files yip never reads (.tmpl, bootargs.cfg, README.md).
    expect(new Set(diagnostics.filter((d) => d.severity === 'warning').map((d) => d.code))).toEqual(new Set(['oemDir/ignored-file']));
  });

  describe('finds mistakes injected into copies at the injected line', () => {
    const mutations: [string, RegExp, string, string][] = [
      ['harvester-os2/02_sysctl.yaml', /^(\s*-?\s*)sysctl:/m, '$1systctl:', 'cloud-config/unknown-key'],
      ['cos-oem-v0.8.14/09_services.yaml', /^(\s*)systemctl:/m, '$1systemd:', 'cloud-config/unknown-key'],
      ['harvester-os2/92_iso_repo.yaml', /permissions: (0[0-7]+)/, 'permissions: "$1"', 'cloud-config/quoted-permissions'],
      ['cos-oem-v0.8.14/05_network.yaml', /permissions: (0[0-7]+)/, "permissions: '$1'", 'cloud-config/quoted-permissions'],
      ['cos-oem-v0.8.14/04_accounting.yaml', /^(\s*)ensure_entities:/m, '$1ensure_entitys:', 'cloud-config/unknown-key'],
    ];
    for (const [file, pattern, replacement, code] of mutations) {
      it(`${code} in ${file}`, () => {
        const dir = tempCopy();
        const path = join(dir, 'oem', file);
        const text = readFileSync(path, 'utf8');
        const match = pattern.exec(text);
        expect(match, `pattern ${pattern} must occur in ${file}`).not.toBeNull();
        const line = text.slice(0, match!.index + match![0].length).split('\n').length;
        writeFileSync(path, text.replace(pattern, replacement));
        const { diagnostics } = new ValidationSession(nodeHost).cloudConfigFile(path);
        expect(diagnostics.map((d) => [d.code, d.range?.start.line])).toContainEqual([code, line]);
        expect(diagnostics.every((d) => d.file === path)).toBe(true);
      });
    }
  });
});
