// The pre-commit hooks (.pre-commit-hooks.yaml) in a temporary git repository with a good and a
// bad manifest: through pre-commit itself when it is installed (CI installs it: required there),
// else by running each hook's entry as pre-commit would (entry, args, the matching file names).

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '..');
const DERIVC = path.join(ROOT, 'dist/derivc.mjs');

interface Hook {
  id: string;
  name: string;
  description: string;
  entry: string;
  language: string;
  files: string;
  pass_filenames?: boolean;
}
const hooks = parse(fs.readFileSync(path.join(ROOT, '.pre-commit-hooks.yaml'), 'utf8')) as Hook[];
const hook = (id: string) => hooks.find((h) => h.id === id)!;

const MANIFEST = [
  'apiVersion: derivc.dev/v1alpha1',
  'kind: Derivative',
  'metadata: {name: acme, version: "1.0"}',
  'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
  'system: {hostname: acme-box}',
  '',
].join('\n');

const preCommit = spawnSync('pre-commit', ['--version'], { encoding: 'utf8' }).status === 0;
/** `derivc fmt` is another change's; its hook's entry is tested once the command exists. */
const hasFmt = spawnSync('node', [DERIVC, 'help'], { encoding: 'utf8' }).stdout.includes('derivc fmt');

describe('.pre-commit-hooks.yaml', () => {
  it('defines derivc-validate, derivc-fmt and derivc-compile-check on manifests, as Node hooks of this package', () => {
    expect(hooks.map((h) => [h.id, h.entry, h.language, h.pass_filenames ?? true])).toEqual([
      ['derivc-validate', 'derivc validate', 'node', true],
      ['derivc-fmt', 'derivc fmt', 'node', true],
      ['derivc-compile-check', 'derivc compile --check', 'node', false],
    ]);
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin)).toEqual(['derivc']);
    for (const h of hooks) {
      const files = new RegExp(h.files);
      expect(
        ['derivative.yaml', 'os/derivative.yml', 'a b/derivative.yaml'].every((f) => files.test(f)),
        h.id,
      ).toBe(true);
      expect(
        ['myderivative.yaml', 'derivative.yaml.bak', 'os/build/derivc.json'].some((f) => files.test(f)),
        h.id,
      ).toBe(false);
    }
  });
});

describe('the hooks in a repository with a good and a bad manifest', () => {
  let repo: string;
  let home: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=derivc', '-c', 'user.email=derivc@example.com', '-c', 'commit.gpgsign=false', ...args], {
      cwd: repo,
      encoding: 'utf8',
    });
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), text);
  };

  beforeAll(() => {
    if (!fs.existsSync(DERIVC)) throw new Error('dist/derivc.mjs is missing: run `npm run build` first');
    if (!preCommit && process.env['CI']) throw new Error('pre-commit is not installed: CI installs it (.ci/run) so the hooks run through it');
    repo = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-hooks-')));
    home = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-pre-commit-home-')));
    git('init', '-q');
    write('good/derivative.yaml', MANIFEST);
    write('bad/derivative.yaml', MANIFEST.replace('name: acme', 'name: Acme'));
    execFileSync('node', [DERIVC, 'compile', 'good', '-o', 'good/build'], { cwd: repo, stdio: 'pipe' });
    git('add', '-A');
    git('commit', '-q', '-m', 'manifests');
  });
  afterAll(() => {
    fs.rmSync(repo, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  });

  /** The hook's entry as pre-commit runs it: entry, args, then the staged files its `files` matches. */
  const runEntry = (id: string, args: string[] = [], files: string[] = git('ls-files').split('\n').filter(Boolean)) => {
    const h = hook(id);
    const [bin, ...rest] = h.entry.split(' ');
    expect(bin).toBe('derivc');
    const names = h.pass_filenames === false ? [] : files.filter((f) => new RegExp(h.files).test(f));
    const r = spawnSync('node', [DERIVC, ...rest, ...args, ...names], { cwd: repo, encoding: 'utf8' });
    return { code: r.status, output: r.stdout + r.stderr };
  };

  describe.runIf(preCommit)('through pre-commit', () => {
    /** A snapshot of this repository's working tree as a git repository, as pre-commit installs hooks from one. */
    let hooksRepo: string;
    let rev: string;
    beforeAll(() => {
      hooksRepo = path.join(home, 'derivc');
      fs.mkdirSync(hooksRepo);
      const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' }).split('\0');
      for (const f of tracked.filter((t) => t && fs.existsSync(path.join(ROOT, t)) && !fs.lstatSync(path.join(ROOT, t)).isSymbolicLink())) {
        fs.mkdirSync(path.dirname(path.join(hooksRepo, f)), { recursive: true });
        fs.copyFileSync(path.join(ROOT, f), path.join(hooksRepo, f));
      }
      const g = (...args: string[]) =>
        execFileSync('git', ['-c', 'user.name=derivc', '-c', 'user.email=derivc@example.com', '-c', 'commit.gpgsign=false', ...args], {
          cwd: hooksRepo,
          encoding: 'utf8',
        });
      g('init', '-q');
      g('add', '-A');
      g('commit', '-q', '-m', 'snapshot');
      rev = g('rev-parse', 'HEAD').trim();
    });

    const preCommitRun = (hooksConfig: string, ...args: string[]) => {
      fs.writeFileSync(
        path.join(repo, '.pre-commit-config.yaml'),
        `repos:\n  - repo: ${JSON.stringify(hooksRepo)}\n    rev: ${rev}\n    hooks:\n${hooksConfig}`,
      );
      const r = spawnSync('pre-commit', ['run', '--color', 'never', ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, PRE_COMMIT_HOME: home } });
      return { code: r.status, output: r.stdout + r.stderr };
    };

    it('derivc-validate fails on the bad manifest, passes on the good one', () => {
      const all = preCommitRun('      - id: derivc-validate\n', '--all-files');
      expect(all.code, all.output).toBe(1);
      expect(all.output).toMatch(/derivc validate\.+Failed/);
      expect(all.output).toContain('error[metadata/invalid-name]');
      expect(all.output).toContain('--> bad/derivative.yaml:3:');
      const good = preCommitRun('      - id: derivc-validate\n', '--files', 'good/derivative.yaml');
      expect(good.code, good.output).toBe(0);
      expect(good.output).toMatch(/derivc validate\.+Passed/);
    }, 600_000);

    it('derivc-compile-check passes on a fresh output and fails on a stale one', () => {
      const config = '      - id: derivc-compile-check\n        args: [good/derivative.yaml, -o, good/build]\n';
      const fresh = preCommitRun(config, '--all-files');
      expect(fresh.code, fresh.output).toBe(0);
      expect(fresh.output).toMatch(/derivc compile --check\.+Passed/);
      write('good/derivative.yaml', MANIFEST.replace('acme-box', 'acme-stale'));
      try {
        const stale = preCommitRun(config, '--all-files');
        expect(stale.code, stale.output).toBe(1);
        expect(stale.output).toContain('good/build is stale');
      } finally {
        git('checkout', '-q', '--', 'good');
      }
    }, 600_000);

    it.runIf(hasFmt)(
      'derivc-fmt rewrites a manifest into its canonical form once, then passes',
      () => {
        try {
          preCommitRun('      - id: derivc-fmt\n', '--files', 'good/derivative.yaml');
          const again = preCommitRun('      - id: derivc-fmt\n', '--files', 'good/derivative.yaml');
          expect(again.code, again.output).toBe(0);
          expect(again.output).toMatch(/derivc fmt\.+Passed/);
        } finally {
          git('checkout', '-q', '--', 'good');
        }
      },
      600_000,
    );
  });

  describe('their entries, run directly as pre-commit runs them', () => {
    it('derivc-validate fails on the bad manifest, passes on the good one', () => {
      const all = runEntry('derivc-validate');
      expect(all.code).toBe(1);
      expect(all.output).toContain('error[metadata/invalid-name]');
      expect(all.output).toContain('--> bad/derivative.yaml:3:');
      expect(runEntry('derivc-validate', [], ['good/derivative.yaml'])).toEqual({ code: 0, output: 'no problems\n' });
    });

    it('derivc-compile-check passes on a fresh output and fails on a stale one', () => {
      const args = ['good/derivative.yaml', '-o', 'good/build'];
      expect(runEntry('derivc-compile-check', args).code).toBe(0);
      write('good/derivative.yaml', MANIFEST.replace('acme-box', 'acme-stale'));
      try {
        const stale = runEntry('derivc-compile-check', args);
        expect(stale.code).toBe(2);
        expect(stale.output).toContain('good/build is stale');
      } finally {
        git('checkout', '-q', '--', 'good');
      }
    });

    it.runIf(hasFmt)('derivc-fmt rewrites a manifest into its canonical form, and --check then agrees', () => {
      try {
        // Whatever the first run rewrites, the result is canonical.
        runEntry('derivc-fmt', [], ['good/derivative.yaml']);
        expect(runEntry('derivc-fmt', ['--check'], ['good/derivative.yaml']).code).toBe(0);
      } finally {
        git('checkout', '-q', '--', 'good');
      }
    });
  });
});
