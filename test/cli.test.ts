// The command line as users drive it: commands, formats, exit codes, usage errors.

import { describe, expect, it } from 'vitest';
import { CODES } from '../compiler/codes.js';
import { runCli } from './support/cli.js';
import { MemoryHost } from './support/memory-host.js';

const GOOD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\n';
const WARN = GOOD.replace(':15.5', '');
const BAD = GOOD.replace('name: acme', 'name: Acme');

describe('derivc validate', () => {
  const host = new MemoryHost({ 'good.yaml': GOOD, 'warn.yaml': WARN, 'bad.yaml': BAD, 'dir/derivative.yaml': GOOD, 'derivative.yaml': WARN });

  it('exits 0 and says so for a valid manifest', () => {
    expect(runCli(['validate', 'good.yaml'], { host })).toEqual({ code: 0, stdout: 'no problems\n', stderr: '' });
  });

  it('exits 1 on errors, and on warnings only with --strict', () => {
    expect(runCli(['validate', 'bad.yaml'], { host }).code).toBe(1);
    expect(runCli(['validate', 'warn.yaml'], { host }).code).toBe(0);
    expect(runCli(['validate', '--strict', 'warn.yaml'], { host }).code).toBe(1);
  });

  it('defaults to ./derivative.yaml and reads DIR/derivative.yaml for a directory', () => {
    expect(runCli(['validate', '--format', 'json'], { host }).stdout).toContain('"file":"derivative.yaml"');
    expect(runCli(['validate', 'dir'], { host }).code).toBe(0);
  });

  it('validates several files in one run, each diagnostic naming its file', () => {
    const { code, stdout } = runCli(['validate', '--format', 'json', 'good.yaml', 'bad.yaml', 'warn.yaml'], { host });
    expect(code).toBe(1);
    const out = JSON.parse(stdout);
    expect(out.formatVersion).toBe(1);
    expect(out.diagnostics.map((d: { file: string; code: string }) => [d.file, d.code])).toEqual([
      ['bad.yaml', 'metadata/invalid-name'],
      ['warn.yaml', 'base/unpinned'],
    ]);
    expect(out.diagnostics[0].range).toEqual({ start: { line: 3, column: 18 }, end: { line: 3, column: 22 } });
  });

  it('reports a missing file without a range and exits 1', () => {
    const out = JSON.parse(runCli(['validate', '--format', 'json', 'nope.yaml'], { host }).stdout);
    expect(out.diagnostics).toEqual([
      { code: 'io/unreadable', severity: 'error', message: '`nope.yaml` does not exist', file: 'nope.yaml', pointer: '', hint: 'check the path' },
    ]);
  });

  it('writes GitHub annotations and SARIF', () => {
    expect(runCli(['validate', '--format', 'github', 'bad.yaml'], { host }).stdout).toMatch(
      /^::error file=bad\.yaml,line=3,col=18,endLine=3,endColumn=22,title=metadata\/invalid-name::/,
    );
    const sarif = JSON.parse(runCli(['validate', '--format', 'sarif', 'bad.yaml'], { host }).stdout);
    expect(sarif.runs[0].results[0].ruleId).toBe('metadata/invalid-name');
  });

  it('colours pretty output only on a TTY without NO_COLOR', () => {
    const esc = '\u001b[';
    expect(runCli(['validate', 'bad.yaml'], { host, isTTY: true }).stdout).toContain(esc);
    expect(runCli(['validate', 'bad.yaml'], { host, isTTY: true, env: { NO_COLOR: '1' } }).stdout).not.toContain(esc);
    expect(runCli(['validate', 'bad.yaml'], { host, isTTY: false }).stdout).not.toContain(esc);
  });
});

describe('usage errors exit 3', () => {
  it.each([
    [['validate', '--format', 'xml']],
    [['frobnicate']],
    [['validate', '--bogus']],
    [['schema', '--strict']],
    [['explain', 'a', 'b']],
    [['explain', 'schema/unknwn-key']],
  ])('%j', (argv) => {
    const r = runCli(argv);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^derivc: .+\nRun `derivc --help` for usage\.\n$/);
  });

  it('suggests the closest code for a typo in explain', () => {
    expect(runCli(['explain', 'schema/unknwn-key']).stderr).toContain('did you mean `schema/unknown-key`?');
  });

  it('no command prints usage and exits 3; --help exits 0', () => {
    expect(runCli([]).code).toBe(3);
    expect(runCli(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('derivc validate') });
  });
});

describe('derivc schema / explain / --version', () => {
  it('prints the manifest schema, and the cloud-config schema with --cloud-config', () => {
    expect(JSON.parse(runCli(['schema']).stdout).$id).toMatch(/derivative\.schema\.json$/);
    expect(JSON.parse(runCli(['schema', '--cloud-config']).stdout).$id).toMatch(/cloud-config\.schema\.json$/);
  });

  it('explains a code, and lists every code without an argument', () => {
    const r = runCli(['explain', 'system/plaintext-password']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('system/plaintext-password: a plaintext password in the manifest');
    expect(r.stdout).toContain('openssl passwd -6');
    expect(runCli(['explain']).stdout.trim().split('\n')).toHaveLength(Object.keys(CODES).length);
  });

  it('prints the version', () => {
    expect(runCli(['--version']).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe('derivc schema output is self-contained', () => {
  it('resolves every $ref inside the printed document, and validates the examples', async () => {
    const { Ajv } = await import('ajv');
    const schema = JSON.parse(runCli(['schema']).stdout);
    const refs = JSON.stringify(schema).match(/"\$ref":"[^"]+"/g) ?? [];
    expect(refs.length).toBeGreaterThan(10);
    expect(refs.filter((r) => !r.startsWith('"$ref":"#/definitions/'))).toEqual([]);
    const ajv = new Ajv({ strict: false, discriminator: true });
    const validate = ajv.compile(schema);
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    expect(validate(parse(readFileSync('examples/opensuse-luet/derivative.yaml', 'utf8')))).toBe(true);
    expect(
      validate({
        apiVersion: 'derivc.dev/v1alpha1',
        kind: 'Derivative',
        metadata: { name: 'x', version: '1' },
        base: { image: 'a:1' },
        stages: { boot: [{ systctl: {} }] },
      }),
    ).toBe(false);
  });
});
