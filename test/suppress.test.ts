// Suppressions: `--ignore`, derivc.config.yaml (rules, overrides) and `# derivc-ignore CODE: reason`,
// applied once after every stage. Precedence, most specific first: inline > overrides > rules >
// --ignore. Errors are never dropped nor lowered.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { applySuppressions } from '../compiler/suppress/apply.js';
import { globToRegExp } from '../compiler/suppress/glob.js';
import { inlineSuppressions } from '../compiler/suppress/inline.js';
import { runCli } from './support/cli.js';

/** A manifest with one warning, base/unpinned, at line 7. */
const UNPINNED = `apiVersion: derivc.dev/v1alpha1
kind: Derivative
metadata:
  name: acme-os
  version: 1.0.0
base:
  image: registry.opensuse.org/opensuse/leap
`;
const withComment = (comment: string) => UNPINNED.replace('  image:', `  ${comment}\n  image:`);

let repo: string;
/** A repository (a `.git` directory is what derivc looks for) holding `files`; returns its path. */
function repository(files: Record<string, string>): string {
  repo = mkdtempSync(join(tmpdir(), 'derivc-suppress-'));
  mkdirSync(join(repo, '.git'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, name)), { recursive: true });
    writeFileSync(join(repo, name), text);
  }
  return repo;
}
afterEach(() => repo && rmSync(repo, { recursive: true, force: true }));

const validate = (args: string[], cwd: string) => runCli(['validate', '--format', 'json', ...args], { cwd });
const codes = (stdout: string) =>
  (JSON.parse(stdout) as { diagnostics: { code: string; severity: string; range?: { start: { line: number } } }[] }).diagnostics.map(
    (d) => `${d.severity} ${d.code}${d.range ? ` @${d.range.start.line}` : ''}`,
  );

describe('--ignore', () => {
  it('drops the warning; repeatable and comma-separated', () => {
    const r = repository({ 'os/derivative.yaml': UNPINNED });
    expect(codes(validate([join(r, 'os')], r).stdout)).toEqual(['warning base/unpinned @7']);
    expect(validate([join(r, 'os'), '--ignore', 'base/unpinned'], r)).toMatchObject({ code: 0 });
    expect(codes(validate([join(r, 'os'), '--ignore', 'base/unpinned'], r).stdout)).toEqual([]);
    expect(codes(validate([join(r, 'os'), '--ignore', 'toolkit/no-runtime,base/unpinned', '--ignore', 'layout/nested-path'], r).stdout)).toEqual([]);
  });

  it('an unknown code is a usage error with a suggestion', () => {
    const r = runCli(['validate', '--ignore', 'base/unpined', 'x.yaml']);
    expect(r).toEqual({
      code: 3,
      stdout: '',
      stderr:
        'derivc: unknown diagnostic code `base/unpined` in --ignore; did you mean `base/unpinned`? (`derivc explain` lists them all)\nRun `derivc validate --help` for usage.\n',
    });
  });

  it('an error code is refused: errors cannot be suppressed', () => {
    const r = runCli(['compile', '--ignore', 'schema/unknown-key', '-o', 'out', 'x.yaml']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe(
      'derivc: --ignore schema/unknown-key: `schema/unknown-key` is an error, and errors cannot be suppressed (only warnings can)\nRun `derivc compile --help` for usage.\n',
    );
  });

  it('is in the help of validate, compile, plan and build', () => {
    for (const command of ['validate', 'compile', 'plan', 'build'])
      expect(runCli([command, '--help']).stdout).toMatch(/--ignore CODE +drop warnings with this code/);
  });
});

describe('derivc.config.yaml', () => {
  it('is found from the manifest upward to the repository root: rules off, error', () => {
    const r = repository({ 'derivc.config.yaml': 'rules:\n  base/unpinned: off\n', 'os/a/derivative.yaml': UNPINNED });
    expect(codes(validate([join(r, 'os/a')], tmpdir()).stdout)).toEqual([]);
    writeFileSync(join(r, 'derivc.config.yaml'), 'rules:\n  base/unpinned: error\n');
    const raised = validate([join(r, 'os/a')], tmpdir());
    expect(raised.code).toBe(1);
    expect(codes(raised.stdout)).toEqual(['error base/unpinned @7']);
  });

  it('is not looked for above the repository root', () => {
    const r = repository({ 'derivc.config.yaml': 'rules:\n  base/unpinned: off\n', 'inner/.git/HEAD': '', 'inner/derivative.yaml': UNPINNED });
    expect(codes(validate([join(r, 'inner')], r).stdout)).toEqual(['warning base/unpinned @7']);
  });

  it('overrides apply to the files their globs match, relative to the config; the last match wins', () => {
    const r = repository({
      'derivc.config.yaml': [
        'rules: {base/unpinned: error}',
        'overrides:',
        '  - files: ["lab/**"]',
        '    rules: {base/unpinned: off}',
        '  - files: ["lab/keep/*.yaml"]',
        '    rules: {base/unpinned: warning}',
        '',
      ].join('\n'),
      'lab/x/derivative.yaml': UNPINNED,
      'lab/keep/derivative.yaml': UNPINNED,
      'prod/derivative.yaml': UNPINNED,
    });
    expect(codes(validate([join(r, 'lab/x')], r).stdout)).toEqual([]);
    expect(codes(validate([join(r, 'lab/keep')], r).stdout)).toEqual(['warning base/unpinned @7']);
    expect(codes(validate([join(r, 'prod')], r).stdout)).toEqual(['error base/unpinned @7']);
  });

  it('config beats --ignore; inline beats config', () => {
    const r = repository({ 'derivc.config.yaml': 'rules: {base/unpinned: error}\n', 'a/derivative.yaml': UNPINNED });
    expect(codes(validate([join(r, 'a'), '--ignore', 'base/unpinned'], r).stdout)).toEqual(['error base/unpinned @7']);
    writeFileSync(join(r, 'a/derivative.yaml'), withComment('# derivc-ignore base/unpinned: a lab image'));
    expect(codes(validate([join(r, 'a')], r).stdout)).toEqual([]);
  });

  it('never lowers an error', () => {
    const r = repository({ 'derivc.config.yaml': 'rules: {schema/unknown-key: error}\n', 'derivative.yaml': UNPINNED + 'bogus: 1\n' });
    expect(codes(validate([r], r).stdout)).toEqual(['warning base/unpinned @7', 'error schema/unknown-key @8']);
  });

  it('mistakes are positioned errors with suggestions, and nothing of it applies', () => {
    const r = repository({
      'derivc.config.yaml': 'rules:\n  base/unpined: off\n  schema/unknown-key: off\n  base/unpinned: off\n',
      'derivative.yaml': UNPINNED,
    });
    const out = runCli(['validate', r], { cwd: r });
    expect(out.code).toBe(1);
    expect(out.stdout).toContain(
      `error[config/unknown-code]: \`base/unpined\` is not a diagnostic code\n --> ${r}/derivc.config.yaml:2:3\n  |\n1 | rules:\n2 |   base/unpined: off\n  |   ^^^^^^^^^^^^\n`,
    );
    expect(out.stdout).toContain('= hint: did you mean `base/unpinned`? (`derivc explain` lists the codes)\n');
    expect(out.stdout).toContain(
      `error[config/not-suppressible]: \`schema/unknown-key\` is an error; it cannot be set to \`off\`\n --> ${r}/derivc.config.yaml:3:23\n`,
    );
    // The config is refused whole: base/unpinned is still reported.
    expect(out.stdout).toContain('warning[base/unpinned]');
  });

  it('schema mistakes: unknown keys, settings and missing files', () => {
    const r = repository({
      'derivc.config.yaml': 'rule:\n  base/unpinned: off\noverrides:\n  - rules: {base/unpinned: of}\n',
      'derivative.yaml': UNPINNED,
    });
    const out = runCli(['validate', '--format', 'json', r], { cwd: r });
    const found = (JSON.parse(out.stdout) as { diagnostics: { code: string; message: string; hint?: string; file: string }[] }).diagnostics.filter((d) =>
      d.file.endsWith('derivc.config.yaml'),
    );
    expect(found.map((d) => [d.code, d.message, d.hint])).toEqual([
      ['config/unknown-key', 'unknown key `rule` in the config', 'did you mean `rules`?'],
      ['config/missing-key', '`overrides.0` has no `files`', 'add `files: [GLOB…]`, relative to derivc.config.yaml'],
      ['config/invalid-value', '`overrides.0.rules.base/unpinned` is "of"; expected off, warning or error', 'did you mean `off`?'],
    ]);
  });

  it('an empty config configures nothing', () => {
    const r = repository({ 'derivc.config.yaml': '# nothing yet\n', 'derivative.yaml': UNPINNED });
    expect(codes(validate([r], r).stdout)).toEqual(['warning base/unpinned @7']);
  });
});

describe('# derivc-ignore', () => {
  it('suppresses the code on the next line, in every output format', () => {
    const r = repository({ 'derivative.yaml': withComment('# derivc-ignore base/unpinned: a lab image, rebuilt daily') });
    for (const format of ['pretty', 'json', 'github', 'sarif']) {
      const out = runCli(['validate', '--strict', '--format', format, r], { cwd: r });
      expect(out.code, format).toBe(0);
      expect(out.stdout, format).not.toContain('base/unpinned`');
      expect(out.stdout, format).not.toMatch(/warning|"level": "warning"/);
    }
  });

  it('without a reason: suppressed, with a warning asking for one', () => {
    const r = repository({ 'derivative.yaml': withComment('# derivc-ignore base/unpinned') });
    const out = runCli(['validate', r], { cwd: r });
    expect(out.stdout).toBe(
      [
        'warning[suppress/no-reason]: `# derivc-ignore base/unpinned` gives no reason',
        ` --> ${r}/derivative.yaml:7:3`,
        '  |',
        '6 | base:',
        '7 |   # derivc-ignore base/unpinned',
        '  |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
        '8 |   image: registry.opensuse.org/opensuse/leap',
        '  |',
        '  = hint: write `# derivc-ignore CODE: why this is fine here`',
        '',
        '1 warning',
        '',
      ].join('\n'),
    );
  });

  it('one that suppresses nothing is a warning; unknown and error codes too', () => {
    const text = UNPINNED.replace('base:', '# derivc-ignore base/unpinned: wrong line\n# derivc-ignore base/unpined, schema/unknown-key: typo\nbase:');
    const r = repository({ 'derivative.yaml': text });
    const out = validate([r], r);
    expect(codes(out.stdout)).toEqual([
      'warning suppress/unused @6',
      'warning suppress/not-suppressible @7',
      'warning suppress/unknown-code @7',
      'warning base/unpinned @9',
    ]);
    const messages = (JSON.parse(out.stdout) as { diagnostics: { message: string; hint: string }[] }).diagnostics.map((d) => `${d.message} — ${d.hint}`);
    expect(messages).toEqual([
      '`# derivc-ignore base/unpinned` suppresses nothing: line 8 has no `base/unpinned` warning — remove the comment, or move it to the line before the warning',
      '`# derivc-ignore base/unpined, schema/unknown-key` names `schema/unknown-key`, an error; errors cannot be suppressed — fix what it reports and remove the comment',
      '`# derivc-ignore base/unpined, schema/unknown-key` names `base/unpined`, which is not a diagnostic code — did you mean `base/unpinned`? (`derivc explain` lists the codes)',
      expect.stringContaining('has no tag or digest'),
    ]);
  });

  it('unused is not reported when the run has errors (later stages did not run)', () => {
    const r = repository({ 'derivative.yaml': UNPINNED.replace('base:', '# derivc-ignore base/unpinned: x\nbase:') + 'bogus: 1\n' });
    expect(codes(validate([r], r).stdout)).toEqual(['warning base/unpinned @8', 'error schema/unknown-key @9']);
  });

  it('config can turn the suppression warnings off too', () => {
    const r = repository({ 'derivc.config.yaml': 'rules: {suppress/no-reason: off}\n', 'derivative.yaml': withComment('# derivc-ignore base/unpinned') });
    expect(codes(validate([r], r).stdout)).toEqual([]);
  });
});

describe('inline comments, as the YAML lexer finds them', () => {
  it('stacked comments share the next line; block scalars and trailing comments are not suppressions', () => {
    const text = 'a: 1\n# derivc-ignore x: one\n  # derivc-ignore y, z\nb: |\n  # derivc-ignore no\nc: 2 # derivc-ignore trailing\n';
    expect(inlineSuppressions(text)).toEqual([
      { line: 2, column: 1, endColumn: 23, target: 4, codes: ['x'], reason: 'one' },
      { line: 3, column: 3, endColumn: 23, target: 4, codes: ['y', 'z'], reason: undefined },
    ]);
  });

  it('apply: errors stay, whatever asks', () => {
    const error = {
      code: 'toolkit/downstream' as const,
      severity: 'error' as const,
      message: 'm',
      file: 'f.yaml',
      pointer: '',
      range: { start: { line: 2, column: 1 }, end: { line: 2, column: 2 } },
    };
    const r = applySuppressions([error], new Map([['f.yaml', '# derivc-ignore toolkit/downstream: no\ntoolkit: {}\n']]), {
      ignore: new Set(['toolkit/downstream']),
    });
    expect(r.diagnostics).toEqual([error]);
    expect(r.suppressed).toEqual([]);
  });
});

describe('globs', () => {
  it('* and ? stay in a segment, ** spans them', () => {
    expect(globToRegExp('os/*.yaml').test('os/derivative.yaml')).toBe(true);
    expect(globToRegExp('os/*.yaml').test('os/a/derivative.yaml')).toBe(false);
    expect(globToRegExp('os/**/*.yaml').test('os/derivative.yaml')).toBe(true);
    expect(globToRegExp('os/**/*.yaml').test('os/a/b/derivative.yaml')).toBe(true);
    expect(globToRegExp('a.b?').test('a.bc')).toBe(true);
    expect(globToRegExp('a.b?').test('axbc')).toBe(false);
  });
});

describe('derivc explain', () => {
  it('says whether a code can be suppressed', () => {
    expect(runCli(['explain', 'base/unpinned']).stdout).toContain('\nSuppressible: yes, where it is a warning');
    expect(runCli(['explain', 'schema/unknown-key']).stdout).toContain('\nSuppressible: no — derivc never drops an error; fix the manifest instead.\n');
  });
});
