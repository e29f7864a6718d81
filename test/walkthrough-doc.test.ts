// docs/walkthrough.md as a document: its blocks parse, it walks the commands in the order a new
// user needs them, the apt-get line is the one `derivc doctor` would print for a bare machine,
// the manifest it has the reader write validates under --strict and names the base image the
// e2e fixtures make, and every derivc command it shows (blocks and prose) is a real command with
// real flags and values, as derivc's own parser reads them. Running it is
// test/e2e/walkthrough.e2e.test.ts's job; the parser is test/support/walkthrough.ts.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { missingPackages, type DoctorReport } from '../cli/commands/doctor.js';
import { HOST_REQUIREMENTS } from '../cli/host-tools.js';
import { COMMANDS } from '../cli/usage.js';
import { DEBIAN_BASE } from './e2e/fixtures.js';
import { runCli } from './support/cli.js';
import { aptPackages, derivcCommands, parseWalkthrough, simpleCommands, WalkthroughError, type Words } from './support/walkthrough.js';

const DOC = 'docs/walkthrough.md';
const doc = parseWalkthrough(readFileSync(DOC, 'utf8'), DOC);
const tmp = mkdtempSync(join(tmpdir(), 'derivc-walkthrough-doc-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const byRole = (role: string) => doc.blocks.filter((b) => b.role === role);
const runCommands = byRole('run').flatMap((b) => derivcCommands(b.text));

/**
 * Why derivc would refuse this command line, or undefined. `--help` appended makes derivc check
 * the command, every flag and every listed value with its real parser, then print the command's
 * help instead of running it.
 */
function refusal(argv: Words): string | undefined {
  const probe = argv[0] === 'help' || argv[0] === '--version' ? argv : [...argv, '--help'];
  const r = runCli(probe);
  if (r.code !== 0) return `derivc ${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim()}`;
  if (argv[0] === 'help' && argv[1] !== undefined && !r.stdout.startsWith(`Usage: derivc ${argv[1]} `)) return `derivc help ${argv[1]}: not a command's help`;
  if (argv[0] !== 'help' && argv[0] !== '--version' && !r.stdout.startsWith(`Usage: derivc ${argv[0]}`))
    return `derivc ${argv.join(' ')}: not a command's help`;
  return undefined;
}

describe(DOC, () => {
  it('has a title and numbered steps 0 to 9, and every sh and yaml block is run, checked or written', () => {
    expect(doc.title).toBe('From nothing to a booted ISO');
    const steps = [...new Set(doc.blocks.map((b) => b.step.title))];
    expect(steps.map((s) => s.split('.')[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(byRole('packages')).toHaveLength(1);
    expect(byRole('install')).toHaveLength(1);
    expect(byRole('file').map((b) => b.path)).toEqual(['my-os/derivative.yaml']);
    expect(byRole('run').length).toBeGreaterThanOrEqual(7);
  });

  it('runs init, validate, plan, build --target iso and test --media iso, in that order', () => {
    const order = runCommands.map((argv) => argv[0]);
    const at = (command: string) => order.indexOf(command);
    expect(runCommands).toContainEqual(['init', 'my-os', '--family', 'debian']);
    expect(runCommands).toContainEqual(['plan', '--target', 'iso']);
    expect(runCommands).toContainEqual(['build', '--target', 'iso']);
    expect(runCommands.find((argv) => argv[0] === 'test')?.slice(0, 3)).toEqual(['test', '--media', 'iso']);
    expect(at('doctor')).toBeGreaterThanOrEqual(0);
    expect([at('init'), at('validate'), at('plan'), at('build'), at('test')].every((i, n, all) => i >= 0 && (n === 0 || i > all[n - 1]!))).toBe(true);
    // The manifest is written after init made its folder, and before validate reads it.
    const line = (command: string) => byRole('run').find((b) => derivcCommands(b.text).some((argv) => argv[0] === command))!.line;
    expect(byRole('file')[0]!.line).toBeGreaterThan(line('init'));
    expect(byRole('file')[0]!.line).toBeLessThan(line('validate'));
  });

  it('installs exactly the Debian packages `derivc doctor` names (the Engine and every host tool)', () => {
    const bare: DoctorReport = {
      doctorVersion: 1,
      engine: { found: false, endpoint: null, chosenBy: { kind: 'default' }, error: 'none', hint: '' },
      tools: HOST_REQUIREMENTS.map((r) => ({ name: r.name, package: r.package, neededFor: r.neededFor, found: false, version: null })),
    };
    const installs = aptPackages(byRole('packages')[0]!.text);
    expect(new Set(installs).size).toBe(installs.length);
    expect([...installs].sort()).toEqual(missingPackages(bare).sort());
  });

  it('puts dist/derivc.mjs on PATH, as the e2e test does with its link', () => {
    const install = byRole('install')[0]!.text;
    expect(simpleCommands(install)).toContainEqual(['npm', 'ci']);
    expect(install).toMatch(/ln -s "\$PWD\/dist\/derivc\.mjs" \S+\/derivc$/m);
  });

  it('makes the base image the e2e fixtures make, with mmdebstrap and the host apt sources, only when it is missing', () => {
    const base = byRole('run').find((b) => b.text.includes('mmdebstrap'))!;
    const commands = simpleCommands(base.text);
    expect(commands).toContainEqual(['docker', 'image', 'inspect', DEBIAN_BASE, '>/dev/null', '2>&1']);
    // No mirror argument: suite and target only, like test/e2e/fixtures.ts.
    expect(commands).toContainEqual(['mmdebstrap', '--variant=minbase', 'bookworm', 'debian-bookworm.tar']);
    expect(commands).toContainEqual(['docker', 'import', 'debian-bookworm.tar', DEBIAN_BASE]);
    expect(base.text).toMatch(/^if ! docker image inspect /m);
  });

  it('has the reader write a manifest that validates under --strict, on the base image made before, with a boot test', () => {
    const block = byRole('file')[0]!;
    const path = join(tmp, block.path!);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, block.text);
    const r = runCli(['validate', '--strict', path]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('no problems\n');
    expect(r.code).toBe(0);
    const manifest = parse(block.text) as { metadata: { name: string }; base: { image: string }; targets: object; tests: { boot: { expect: string[] } } };
    expect(manifest.base.image).toBe(DEBIAN_BASE);
    expect(Object.keys(manifest.targets)).toContain('iso');
    expect(manifest.tests.boot.expect).toEqual([`${manifest.metadata.name} login:`]);
    // `init my-os` names the derivative after its folder; the manifest keeps that name.
    expect(block.path).toBe(`${manifest.metadata.name}/derivative.yaml`);
  });

  it('shows only yaml that parses', () => {
    for (const b of doc.blocks.filter((b) => b.lang === 'yaml')) expect(() => parse(b.text), `${DOC}:${b.line}`).not.toThrow();
  });

  it('names only real derivc commands, flags and values, in its blocks and its prose', () => {
    const shown = [
      ...doc.blocks.filter((b) => b.lang === 'sh').flatMap((b) => derivcCommands(b.text).map((argv) => ({ argv, line: b.line }))),
      ...doc.inlineCommands.flatMap((c) => derivcCommands(c.text).map((argv) => ({ argv, line: c.line }))),
    ];
    expect(shown.length).toBeGreaterThan(15);
    expect(new Set(shown.map((s) => s.argv[0]))).toEqual(
      new Set(['--version', 'doctor', 'init', 'validate', 'plan', 'build', 'test', 'explain', 'schema', 'compile', 'help', 'diff']),
    );
    expect(shown.map((s) => refusal(s.argv) && `${DOC}:${s.line}: ${refusal(s.argv)}`).filter(Boolean)).toEqual([]);
  });

  it('(the command check refuses what derivc refuses)', () => {
    expect(refusal(['bild'])).toMatch(/unknown command `bild`; did you mean `build`/);
    expect(refusal(['build', '--targte', 'iso'])).toMatch(/unknown flag `--targte`/);
    expect(refusal(['test', '--media', 'cd'])).toMatch(/--media/);
    expect(refusal(['plan', '--out', 'x'])).toMatch(/`plan` does not take --out/);
    expect(refusal(['help', 'biuld'])).toMatch(/not a command/);
    expect(refusal(['build', '--target', 'iso'])).toBeUndefined();
    expect(Object.keys(COMMANDS)).toContain('test');
  });
});

describe('the walkthrough reader (test/support/walkthrough.ts)', () => {
  const md = (body: string) => `# T\n\n## 1. One\n\n${body}`;

  it('reads roles, steps, lines and file paths', () => {
    const w = parseWalkthrough(md('```sh walkthrough\nderivc validate\n```\n\n## 2. Two\n\n```yaml file=a/b.yaml\nx: 1\n```\n\n```text\nout\n```\n'));
    expect(w.blocks).toEqual([
      { role: 'run', lang: 'sh', text: 'derivc validate\n', line: 5, step: { title: '1. One', line: 3 } },
      { role: 'file', lang: 'yaml', path: 'a/b.yaml', text: 'x: 1\n', line: 11, step: { title: '2. Two', line: 9 } },
    ]);
    expect(parseWalkthrough(md('Run `derivc test --media iso` then `derivc.json`.\n')).inlineCommands).toEqual([{ text: 'derivc test --media iso', line: 5 }]);
  });

  it('refuses an sh or yaml block without a role, an unknown role, a path outside, an unclosed fence', () => {
    expect(() => parseWalkthrough(md('```sh\nls\n```\n'))).toThrow(/:5: a `sh` block needs exactly one of/);
    expect(() => parseWalkthrough(md('```sh walkthrough=maybe\nls\n```\n'))).toThrow(/:5: unknown `walkthrough=maybe`/);
    expect(() => parseWalkthrough(md('```yaml walkthrough\nx: 1\n```\n'))).toThrow(/a yaml block is written/);
    for (const path of ['/etc/x', '../x', 'a/../../x', './x'])
      expect(() => parseWalkthrough(md(`\`\`\`yaml file=${path}\nx: 1\n\`\`\`\n`))).toThrow(WalkthroughError);
    expect(() => parseWalkthrough(md('```sh walkthrough\nls\n'))).toThrow(/:5: the fence opened here is never closed/);
    expect(() => parseWalkthrough('no title\n')).toThrow(/no `#` title/);
  });

  it('splits shell the way bash would for simple commands', () => {
    expect(simpleCommands('a "b c" \'d $e\' f\\ g # comment\nh && i || j; k | l\nm \\\n  n 2>&1 >/dev/null')).toEqual([
      ['a', 'b c', 'd $e', 'f g'],
      ['h'],
      ['i'],
      ['j'],
      ['k'],
      ['l'],
      ['m', 'n', '2>&1', '>/dev/null'],
    ]);
    expect(simpleCommands('if ! docker image inspect x; then\n  y\nfi')).toEqual([['docker', 'image', 'inspect', 'x'], ['y'], ['fi']]);
    expect(derivcCommands('derivc --version\nsudo apt-get install -y a b\nderivc test --media iso')).toEqual([['--version'], ['test', '--media', 'iso']]);
    expect(aptPackages('sudo apt-get update\nsudo apt-get install -y --no-install-recommends a b\n')).toEqual(['a', 'b']);
    expect(() => derivcCommands('derivc validate "$FILE"')).toThrow(/cannot be checked/);
    expect(() => derivcCommands('derivc validate $(ls)')).toThrow(/cannot be checked/);
  });
});
