// The command line as users drive it: commands, formats, exit codes, usage errors.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CODES } from '../compiler/codes.js';
import { COMMANDS, commandHelp } from '../cli/usage.js';
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
    expect(r.stderr).toMatch(/^derivc: .+\nRun `derivc( [a-z]+)? --help` for usage\.\n$/);
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

describe('help', () => {
  it('`help CMD`, `CMD --help` and `CMD -h` print that command with every flag it takes', () => {
    const expected = `Usage: derivc compile [FILE] -o DIR [--check] [--strict] [--format pretty|json|github|sarif] [--ignore CODE] [--root DIR]

Generate the build context (Dockerfile, rootfs/, files/, derivc.json) into DIR.

Flags:
  -o, --out DIR                      the output directory
  --check                            write nothing; exit 2 with a diff when DIR is stale
  --strict                           warnings fail too (exit 1)
  --format pretty|json|github|sarif  diagnostic format (default pretty)
  --ignore CODE                      drop warnings with this code (repeatable or comma-separated; errors cannot be ignored; see also derivc.config.yaml)
  --root DIR                         paths in github and sarif output are relative to DIR (default: the git work tree root, else the current directory)
  --color auto|always|never          colour in pretty output (default auto: on a terminal, unless NO_COLOR; FORCE_COLOR=0|1 overrides auto)
  -h, --help                         show this help

Exit codes: 0 ok, 1 problems found (errors; warnings too with --strict), 2 changes found,
3 usage error, 4 internal error.
`;
    for (const argv of [
      ['help', 'compile'],
      ['compile', '--help'],
      ['compile', '-h'],
      ['--help', 'compile'],
    ]) {
      expect(runCli(argv)).toEqual({ code: 0, stdout: expected, stderr: '' });
    }
  });

  it('lists, for every command, each flag the parser lets it take, and the parser refuses the others', () => {
    const every = ['format', 'strict', 'cloud-config', 'family', 'out', 'quiet', 'json', 'check', 'base', 'root', 'target', 'media', 'firmware', 'parallel'];
    for (const [name, spec] of Object.entries(COMMANDS)) {
      const help = runCli(['help', name]).stdout;
      expect(help).toBe(commandHelp(name));
      for (const flag of every) {
        const taken = spec.flags.some((f) => f.flag === flag);
        expect(new RegExp(`^  (-\\w, )?--${flag}\\b`, 'm').test(help), `${name} --${flag}`).toBe(taken);
        if (!taken && name !== 'help')
          expect(runCli([name, `--${flag}`]).stderr, `${name} --${flag}`).toMatch(new RegExp(`^derivc: \`${name}\` does not take --${flag}\\n`));
      }
    }
  });

  it('`help` alone is the global usage, generated from the same table', () => {
    const usage = runCli(['--help']).stdout;
    expect(runCli(['help'])).toEqual({ code: 0, stdout: usage, stderr: '' });
    for (const name of Object.keys(COMMANDS)) expect(usage).toContain(`\n  derivc ${name}`);
    expect(usage).toContain(
      '  derivc build [PATH…] [-o DIR] [--quiet] [--json] [--target iso,raw,ova,packer,none] [-j N] [--keep-going] [--ignore CODE] [--builder auto|buildkit|classic] [--push] [--cache-from REF] [--cache-to REF]\n',
    );
    expect(usage).toContain('  derivc matrix [PATH…] --format github|gitlab|json [--affected] [--base GIT_REV]\n');
  });

  it('`help X` for what is not a command suggests the closest one', () => {
    expect(runCli(['help', 'valdate'])).toEqual({
      code: 3,
      stdout: '',
      stderr: 'derivc: no help for `valdate`: it is not a command; did you mean `validate`?\nRun `derivc --help` for usage.\n',
    });
  });
});

describe('did you mean', () => {
  const usage = (argv: string[], message: string, command?: string) =>
    expect(runCli(argv)).toEqual({ code: 3, stdout: '', stderr: `derivc: ${message}\nRun \`derivc ${command ? `${command} ` : ''}--help\` for usage.\n` });

  it('a command', () => usage(['valdate'], 'unknown command `valdate`; did you mean `validate`?'));
  it('a command too far from any', () => usage(['frobnicate'], 'unknown command `frobnicate`'));
  it('a flag', () => usage(['validate', '--fromat', 'json'], 'unknown flag `--fromat` for `validate`; did you mean `--format`?', 'validate'));
  it('a short flag', () => usage(['-V'], 'unknown flag `-V`; did you mean `-v`?'));
  it('a --format', () =>
    usage(['validate', '--format', 'jsno'], 'unknown --format `jsno`; did you mean `json`? (use one of pretty, json, github, sarif)', 'validate'));
  it('a --format of plan', () => usage(['plan', '--format', 'sarif'], 'unknown --format `sarif`; use one of pretty, json', 'plan'));
  it('a --target', () =>
    usage(['plan', '--target', 'iso,rwa'], 'unknown --target `rwa`; did you mean `raw`? (use one of iso, raw, ova, packer, none)', 'plan'));
  it('an explain code', () =>
    usage(
      ['explain', 'schema/unknwn-key'],
      'unknown diagnostic code `schema/unknwn-key`; did you mean `schema/unknown-key`? (`derivc explain` lists them all)',
      'explain',
    ));
  it('a --color', () =>
    usage(['validate', '--color', 'allways'], 'unknown --color `allways`; did you mean `always`? (use one of auto, always, never)', 'validate'));
});

describe("parser mistakes in derivc words, never Node's", () => {
  it.each([
    [['validate', '--format'], '--format needs a value: --format pretty|json|github|sarif', 'validate'],
    [['diff', '--base', '--help'], '--base needs a value: --base GIT_REV', 'diff'],
    [['validate', '--strict=yes'], '--strict takes no value (`--strict=yes` given)', 'validate'],
    [['schema', '--strict'], '`schema` does not take --strict', 'schema'],
    [['--strict'], 'derivc does not take --strict', undefined],
    [['plan', '--target', 'none,iso'], '`--target none` excludes every other target', 'plan'],
  ])('%j', (argv, message, command) => {
    const r = runCli(argv);
    expect(r).toEqual({ code: 3, stdout: '', stderr: `derivc: ${message}\nRun \`derivc ${command ? `${command} ` : ''}--help\` for usage.\n` });
    expect(r.stderr).not.toMatch(/Unknown option|To specify a positional|ERR_PARSE_ARGS/);
  });
});

describe('--color, FORCE_COLOR, NO_COLOR', () => {
  const host = new MemoryHost({ 'bad.yaml': BAD });
  const colored = (opts: { isTTY: boolean; env?: Record<string, string> }, ...flags: string[]) =>
    runCli(['validate', 'bad.yaml', ...flags], { host, ...opts }).stdout.includes('\u001b[');

  it('the flag wins over everything', () => {
    expect(colored({ isTTY: false }, '--color', 'always')).toBe(true);
    expect(colored({ isTTY: true, env: { FORCE_COLOR: '1' } }, '--color', 'never')).toBe(false);
    expect(colored({ isTTY: false, env: { FORCE_COLOR: '0' } }, '--color', 'always')).toBe(true);
    expect(colored({ isTTY: true }, '--color', 'auto')).toBe(true);
  });

  it('then FORCE_COLOR: 0 disables, 1 to 3 enable, over NO_COLOR and the terminal', () => {
    expect(colored({ isTTY: false, env: { FORCE_COLOR: '1' } })).toBe(true);
    expect(colored({ isTTY: false, env: { FORCE_COLOR: '3', NO_COLOR: '1' } })).toBe(true);
    expect(colored({ isTTY: true, env: { FORCE_COLOR: '0' } })).toBe(false);
  });

  it('then NO_COLOR (set and not empty), then the terminal', () => {
    expect(colored({ isTTY: true, env: { NO_COLOR: '1' } })).toBe(false);
    expect(colored({ isTTY: true, env: { NO_COLOR: '' } })).toBe(true);
    expect(colored({ isTTY: true, env: { TERM: 'dumb' } })).toBe(false);
    expect(colored({ isTTY: false })).toBe(false);
  });
});

describe('`-`: the manifest from standard input', () => {
  it('validate names it <stdin> in diagnostics', () => {
    const r = runCli(['validate', '--format', 'json', '-'], { host: new MemoryHost(), stdin: BAD });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).diagnostics.map((d: { file: string; code: string }) => `${d.file} ${d.code}`)).toEqual(['<stdin> metadata/invalid-name']);
    expect(runCli(['validate', '-'], { host: new MemoryHost(), stdin: GOOD })).toEqual({ code: 0, stdout: 'no problems\n', stderr: '' });
  });

  it('plan and compile read it; its relative paths resolve against the current directory', () => {
    const host = new MemoryHost({ 'motd.txt': 'hello\n' });
    const manifest = `${GOOD}files:\n  - {path: /etc/motd, source: motd.txt}\n`;
    const r = runCli(['plan', '--format', 'json', '-'], { host, stdin: manifest });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(r.stdout).compile.files.map((f: { path: string }) => f.path)).toContain('files/etc/motd');
    expect(JSON.parse(r.stdout).manifest).toBe('<stdin>');
    const out = join(mkdtempSync(join(tmpdir(), 'derivc-stdin-')), 'out');
    try {
      const check = runCli(['compile', '-', '-o', out, '--check'], { host, stdin: manifest });
      expect(check.code).toBe(2);
      expect(check.stdout).toContain('\n+# Generated by derivc from <stdin> (acme 1.0).');
      expect(check.stdout).toContain('\n+++ b/files/etc/motd\n@@ -0,0 +1,1 @@\n+hello\n');
    } finally {
      rmSync(dirname(out), { recursive: true, force: true });
    }
  });

  it('the current directory holds what it names: a path leading out of it is refused', () => {
    const r = runCli(['validate', '--format', 'json', '-'], {
      host: new MemoryHost({ '../secret': 'x' }),
      stdin: `${GOOD}files:\n  - {path: /etc/x, source: ../secret}\n`,
    });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).diagnostics.map((d: { file: string; code: string }) => `${d.file} ${d.code}`)).toContain('<stdin> path/outside-manifest-dir');
  });

  it('is read once, and only by validate, compile and plan', () => {
    expect(runCli(['validate', '-', '-'], { stdin: GOOD }).stderr).toBe(
      'derivc: standard input (`-`) can be read once: name it once\nRun `derivc validate --help` for usage.\n',
    );
    expect(runCli(['diff', '-', 'b'], { stdin: GOOD }).stderr).toBe(
      'derivc: `diff` cannot read a manifest from standard input (`-`); name the file (stdin works for validate, compile, plan)\nRun `derivc diff --help` for usage.\n',
    );
  });
});

describe('github and sarif paths are relative to the repository root', () => {
  const host = new MemoryHost({ '/work/repo/os/derivative.yaml': BAD });
  const file = '/work/repo/os/derivative.yaml';

  it('--root DIR', () => {
    const github = runCli(['validate', '--format', 'github', '--root', '/work/repo', file], { host, cwd: '/work/repo/os' });
    expect(github.stdout).toMatch(/^::error file=os\/derivative\.yaml,line=3,col=18,/);
    const sarif = JSON.parse(runCli(['validate', '--format', 'sarif', '--root', '..', file], { host, cwd: '/work/repo/os' }).stdout);
    expect(sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation).toEqual({ uri: 'os/derivative.yaml', uriBaseId: '%SRCROOT%' });
  });

  it('a file outside the root keeps the path it was named by; pretty and json keep it too', () => {
    expect(runCli(['validate', '--format', 'github', '--root', '/elsewhere', file], { host }).stdout).toMatch(
      /^::error file=\/work\/repo\/os\/derivative\.yaml,/,
    );
    expect(runCli(['validate', '--format', 'json', '--root', '/work/repo', file], { host }).stdout).toContain(`"file":"${file}"`);
  });
});
