// Conformance: real cloud-config files from shipped toolkits and derivatives (../shared/corpus,
// origins in its README) are accepted, on their own and as oemDir content of a manifest of their
// toolkit era. The only findings are genuine mistakes that yip silently ignores at boot —
// `permsisions:` leaves /etc/sudoers and the accounting file at the default mode; derivc must keep
// reporting exactly those. Across eras, the cOS files need nothing newer than the yip each later
// toolkit runs. Mutated copies check that an injected mistake is found at its line. (What newer
// yip keys do on an older toolkit is specified with derivc's own inputs in toolkit-era.test.ts
// and test/errors/: upstream files live only in ../shared.)

import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../cli/node-host.js';
import { toolkitEra } from '../compiler/toolkit-era.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { runCli } from './support/cli.js';

const CORPUS = join(import.meta.dirname, '..', '..', 'shared', 'corpus');

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)]));
}

const cloudConfigFiles = walk(CORPUS).filter((f) => /\.ya?ml(\.tmpl)?$/.test(f));

const PERMSISIONS = (at: string): Finding => ['cloud-config/unknown-key', at, 'did you mean `permissions`?'];
type Finding = [code: string, at: string, hint: string | undefined];
const KAIROS_INIT = 'kairos-v4.2.0/kairos-init/pkg/bundled/cloudconfigs';

/** The real mistakes in the corpus, where derivc reports them (file → findings in order). */
const KNOWN: ReadonlyMap<string, Finding[]> = new Map([
  ['cos-oem-v0.8.14/08_boot_assessment.yaml', [PERMSISIONS('78:10')]],
  ['harvester-os2/04_accounting.yaml', [PERMSISIONS('32:8')]],
  // Current Elemental and Kairos files, when ../shared/corpus holds them (see its README): each file
  // found there is checked like the others, so their real mistakes are listed too.
  [`${KAIROS_INIT}/08_grub.yaml`, [PERMSISIONS('82:9')]],
  // The live/UKI user `kairos`/`kairos` is deliberate upstream, and still a plaintext password in the image.
  [
    `${KAIROS_INIT}/10_accounting.yaml`,
    [PERMSISIONS('31:9'), ['stages/plaintext-password', '23:19', 'store a crypt hash instead (`openssl passwd -6`): this file ends up readable in the image']],
  ],
  ['elemental-v2.3.2/tests/assets/remote_login.yaml', [['stages/unknown-stage', '7:3', 'did you mean `after-install`?']]],
]);

/** The folders every ../shared/corpus has (its README); others are checked when present. */
const REQUIRED_FOLDERS = ['cos-oem-v0.8.14', 'cos-examples-v0.8.14', 'harvester-os2'];

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempCopy(folders: string[] = ['.']): string {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-corpus-'));
  scratch.push(dir);
  for (const f of folders) cpSync(join(CORPUS, f), join(dir, 'oem', f), { recursive: true });
  return dir;
}

function findings(diagnostics: { code: string; range?: { start: { line: number; column: number } } | undefined; hint?: string | undefined }[]): Finding[] {
  return diagnostics.map((d) => [d.code, `${d.range?.start.line}:${d.range?.start.column}`, d.hint]);
}

describe('corpus', () => {
  it('is there (CI lays shared/ next to the clone)', () => {
    expect(cloudConfigFiles.length).toBeGreaterThanOrEqual(30);
    for (const f of KNOWN.keys()) if (REQUIRED_FOLDERS.some((d) => f.startsWith(`${d}/`))) expect(cloudConfigFiles).toContain(join(CORPUS, f));
  });

  describe('each file on its own (the newest yip, any toolkit)', () => {
    for (const file of cloudConfigFiles) {
      const name = relative(CORPUS, file);
      it(`accepts ${name}`, () => {
        const { diagnostics } = new ValidationSession(nodeHost).cloudConfigFile(file);
        // 08_boot_assessment reuses the step three times through `<<: *bootgrub`: reported once, at the anchor.
        expect(findings(diagnostics)).toEqual(KNOWN.get(name) ?? []);
      });
    }
  });

  /** Each folder as the oemDir of a manifest of its own toolkit era. */
  const ERAS: [folders: string[], toolkit: string][] = [[['cos-oem-v0.8.14', 'cos-examples-v0.8.14', 'harvester-os2'], '{source: luet}']];
  for (const [folders, toolkit] of ERAS) {
    it(`is accepted as oemDir of a manifest with toolkit ${toolkit}, with only the known findings`, () => {
      const dir = tempCopy(folders);
      writeFileSync(
        join(dir, 'derivative.yaml'),
        `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: corpus, version: "1"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\ntoolkit: ${toolkit}\noemDir: oem\n`,
      );
      const { stdout } = runCli(['validate', '--format', 'json', join(dir, 'derivative.yaml')]);
      const diagnostics = JSON.parse(stdout).diagnostics as { code: string; severity: string; file: string }[];
      const expected = [...KNOWN].filter(([f]) => folders.some((folder) => f.startsWith(`${folder}/`))).flatMap(([f, list]) => list.map(([code]) => [code, f]));
      // Warnings about files yip never reads (.tmpl, bootargs.cfg, README.md) aside.
      const found = diagnostics.filter((d) => d.code !== 'oemDir/ignored-file').map((d) => [d.code, relative(join(dir, 'oem'), d.file)]);
      expect(found.sort()).toEqual(expected.sort());
    });
  }

  describe('across toolkit eras', () => {
    /** What an era would ignore in the cOS corpus: the keys or values it reports as newer than its yip. */
    function ignoredBy(flavor: 'cos' | 'elemental' | 'kairos', version: string): Set<string> {
      const era = toolkitEra(flavor, version);
      const session = new ValidationSession(nodeHost);
      const out = new Set<string>();
      for (const file of cloudConfigFiles.filter((f) => REQUIRED_FOLDERS.some((d) => relative(CORPUS, f).startsWith(`${d}/`)))) {
        for (const d of session.cloudConfigFile(file, era).diagnostics) {
          if (d.code === 'cloud-config/newer-than-toolkit') out.add(d.message.split('`')[1]!);
          else
            expect(
              KNOWN.get(relative(CORPUS, file))?.map((k) => k[0]),
              `${d.code}: ${d.message}`,
            ).toContain(d.code);
        }
      }
      return out;
    }

    for (const [flavor, version] of [
      ['cos', 'v0.8.14'],
      ['elemental', 'v1.1.8'],
      ['elemental', 'v2.3.2'],
      ['kairos', 'v2.4.3'],
      ['kairos', 'v3.7.2'],
    ] as const) {
      it(`${flavor} ${version} runs every key and value the cOS and Harvester files use`, () => {
        expect(ignoredBy(flavor, version)).toEqual(new Set());
      });
    }
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
