import { readFileSync } from 'node:fs';
import type { DiagnosticCode } from '../../compiler/codes.js';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatDiagnostics } from '../../cli/format/index.js';
import { artifactLocation } from '../../cli/format/sarif.js';
import { CODES, describeCode } from '../../compiler/codes.js';
import { ALL, MANIFEST, PLAIN, input, unknownKey } from './fixtures.js';

const sarif = (diagnostics: readonly Diagnostic[]): string => formatDiagnostics('sarif', input(diagnostics), PLAIN);

/**
 * The SARIF 2.1.0 schema as the SARIF SDK ships it (@microsoft/jest-sarif). It is written for
 * draft-04, which Ajv 8 does not bundle; its keywords mean the same in draft-07 except the schema
 * id, so only `$schema`/`id` are adapted. Its `language` pattern has a stray `]` that is invalid
 * under the `u` flag, hence `unicodeRegExp: false`; ajv-formats is not installed, hence no formats.
 */
function sarifValidator() {
  const path = createRequire(import.meta.url).resolve('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json');
  const { $schema: _draft04, id, ...schema } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false });
  return ajv.compile({ ...schema, $id: String(id) });
}
const validate = sarifValidator();

/** A rule's descriptions come from the code registry, which other work keeps filling in. */
function ruleFor(id: string) {
  const info = describeCode(id);
  return info
    ? { id, shortDescription: { text: info.summary }, fullDescription: { text: info.explanation }, help: helpOf(id) }
    : { id, shortDescription: { text: id } };
}

/** What `derivc explain CODE` says, as code scanning shows it under an alert. */
function helpOf(id: string) {
  const info = describeCode(id)!;
  const fix = info.hint ? `\n\nFix: ${info.hint}` : '';
  return { text: `${info.explanation}${fix}\n\nMore: derivc explain ${id}`, markdown: `${info.explanation}${fix}\n\nMore: \`derivc explain ${id}\`` };
}

const expectedLog = {
  $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
  version: '2.1.0',
  runs: [
    {
      tool: {
        driver: {
          name: 'derivc',
          version: '0.1.0',
          informationUri: 'https://derivc.dev',
          rules: ['base/unpinned', 'parse/syntax', 'schema/unknown-key', 'system/plaintext-password'].map(ruleFor),
        },
      },
      columnKind: 'utf16CodeUnits',
      results: [
        {
          ruleId: 'base/unpinned',
          ruleIndex: 0,
          level: 'note',
          message: { text: 'base image is not pinned by digest. pin it with `@sha256:<digest>`' },
          locations: [{ physicalLocation: { artifactLocation: { uri: MANIFEST, uriBaseId: '%SRCROOT%' } } }],
          properties: { pointer: '/base/image' },
        },
        {
          ruleId: 'schema/unknown-key',
          ruleIndex: 2,
          level: 'error',
          message: { text: 'unknown key `systctl` in `system`. did you mean `sysctl`?' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: MANIFEST, uriBaseId: '%SRCROOT%' },
                region: { startLine: 12, startColumn: 3, endLine: 12, endColumn: 10 },
              },
            },
          ],
          properties: { pointer: '/system/systctl' },
        },
        {
          ruleId: 'system/plaintext-password',
          ruleIndex: 3,
          level: 'warning',
          message: { text: 'user `admin` has a plaintext password' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: MANIFEST, uriBaseId: '%SRCROOT%' },
                region: { startLine: 15, startColumn: 5, endLine: 16, endColumn: 23 },
              },
            },
          ],
          properties: { pointer: '/system/users/admin' },
        },
        {
          ruleId: 'parse/syntax',
          ruleIndex: 1,
          level: 'error',
          message: { text: 'unexpected end of flow mapping' },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: 'includes/extra.yaml', uriBaseId: '%SRCROOT%' },
                region: { startLine: 3, startColumn: 1, endLine: 3, endColumn: 2 },
              },
            },
          ],
          properties: { pointer: '' },
        },
      ],
    },
  ],
};

describe('sarif format', () => {
  it('prints the documented log: sorted rules from the codes used, one result per diagnostic in order', () => {
    expect(sarif(ALL)).toBe(JSON.stringify(expectedLog, null, 2) + '\n');
  });

  it('describes a registered code by its summary and explanation', () => {
    const info = describeCode('parse/syntax');
    expect(info).toBeDefined();
    const log = JSON.parse(sarif([{ ...unknownKey, code: 'parse/syntax' }])) as typeof expectedLog;
    expect(log.runs[0]!.tool.driver.rules).toEqual([
      {
        id: 'parse/syntax',
        shortDescription: { text: info!.summary },
        fullDescription: { text: info!.explanation },
        help: {
          text: `${info!.explanation}\n\nMore: derivc explain parse/syntax`,
          markdown: `${info!.explanation}\n\nMore: \`derivc explain parse/syntax\``,
        },
      },
    ]);
  });

  it('gives a rule the fix of a code that has one, and no helpUri (SARIF wants an absolute URI there; derivc has no published docs address)', () => {
    const code = Object.entries(CODES).find(([, info]) => info.hint !== undefined)![0];
    const rule = JSON.parse(sarif([{ ...unknownKey, code: code as DiagnosticCode }])).runs[0].tool.driver.rules[0];
    expect(rule.help.text).toBe(`${describeCode(code)!.explanation}\n\nFix: ${describeCode(code)!.hint}\n\nMore: derivc explain ${code}`);
    expect(rule).not.toHaveProperty('helpUri');
  });

  it('falls back to the code itself for an unregistered code', () => {
    expect(describeCode('test/unregistered')).toBeUndefined();
    const log = JSON.parse(sarif([{ ...unknownKey, code: 'test/unregistered' as DiagnosticCode }])) as typeof expectedLog;
    expect(log.runs[0]!.tool.driver.rules).toEqual([{ id: 'test/unregistered', shortDescription: { text: 'test/unregistered' } }]);
    expect(log.runs[0]!.results[0]).toMatchObject({ ruleId: 'test/unregistered', ruleIndex: 0 });
  });

  it('is the same for the same input (no clock, no environment)', () => {
    expect(sarif(ALL)).toBe(sarif(ALL));
  });

  it('does not repeat the full stop a message already has before the hint', () => {
    const log = JSON.parse(sarif([{ ...unknownKey, message: 'is it?' }])) as typeof expectedLog;
    expect(log.runs[0]!.results[0]!.message.text).toBe('is it? did you mean `sysctl`?');
  });

  it('writes artifact URIs with forward slashes, relative to %SRCROOT% unless absolute', () => {
    expect(artifactLocation('dir\\sub\\derivative.yaml')).toEqual({ uri: 'dir/sub/derivative.yaml', uriBaseId: '%SRCROOT%' });
    expect(artifactLocation('./derivative.yaml')).toEqual({ uri: './derivative.yaml', uriBaseId: '%SRCROOT%' });
    expect(artifactLocation('my dir/x#1%.yaml')).toEqual({ uri: 'my%20dir/x%231%25.yaml', uriBaseId: '%SRCROOT%' });
    expect(artifactLocation('/srv/acme/derivative.yaml')).toEqual({ uri: 'file:///srv/acme/derivative.yaml' });
    expect(artifactLocation('C:\\acme\\derivative.yaml')).toEqual({ uri: 'file:///C:/acme/derivative.yaml' });
  });

  describe('against the SARIF 2.1.0 JSON schema', () => {
    it('accepts the log for every kind of diagnostic', () => {
      expect(validate(JSON.parse(sarif(ALL))), JSON.stringify(validate.errors)).toBe(true);
    });

    it('accepts the log with no diagnostics', () => {
      expect(validate(JSON.parse(sarif([]))), JSON.stringify(validate.errors)).toBe(true);
    });

    it('accepts absolute and odd paths', () => {
      const files = ['/srv/acme/derivative.yaml', 'C:\\acme\\derivative.yaml', 'my dir/x#1.yaml'];
      const log = JSON.parse(sarif(files.map((file) => ({ ...unknownKey, file }))));
      expect(validate(log), JSON.stringify(validate.errors)).toBe(true);
    });

    it('rejects a broken log, so the check above can fail', () => {
      const broken = JSON.parse(sarif(ALL)) as typeof expectedLog;
      const result = broken.runs[0]!.results[1] as Record<string, unknown>;
      result.level = 'fatal';
      delete result.message;
      const region = (result.locations as { physicalLocation: { region: { startLine: number } } }[])[0]!.physicalLocation.region;
      region.startLine = 0;
      expect(validate(broken)).toBe(false);
      const paths = (validate.errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
      expect(paths).toContain('/runs/0/results/1/level enum');
      expect(paths).toContain('/runs/0/results/1 required');
      expect(paths).toContain('/runs/0/results/1/locations/0/physicalLocation/region/startLine minimum');
    });

    it('rejects a log of the wrong version', () => {
      expect(validate({ ...JSON.parse(sarif(ALL)), version: '2.0.0' })).toBe(false);
    });
  });
});
