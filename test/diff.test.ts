// derivc diff: the compiled outputs of two manifests, or of one manifest in the working tree and
// at a git revision, compared file by file — the PR review view.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffOutputs, renderGithub } from '../cli/commands/diff.js';
import { GitHost } from '../cli/git-host.js';
import type { GeneratedFile } from '../compiler/emit/types.js';
import { runCli } from './support/cli.js';
import { MemoryHost } from './support/memory-host.js';

const MANIFEST = [
  'apiVersion: derivc.dev/v1alpha1',
  'kind: Derivative',
  'metadata: {name: acme, version: "1.0"}',
  'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
  'system: {hostname: acme-box}',
  'files:',
  '  - {path: /etc/motd, content: "hello\\n"}',
  '',
].join('\n');

/** The files a unified diff shows, in order: the `b/` path, or the `a/` path of a removed file. */
function diffedPaths(diff: string): string[] {
  return [...diff.matchAll(/^--- (.+)\n\+\+\+ (.+)$/gm)].map(([, a, b]) => (b === '/dev/null' ? a! : b!).replace(/^[ab]\//, ''));
}

describe('derivc diff OLD NEW', () => {
  const host = new MemoryHost({
    'old/derivative.yaml': MANIFEST,
    'same/derivative.yaml': MANIFEST,
    'hostname/derivative.yaml': MANIFEST.replace('acme-box', 'acme-server'),
    'nomotd/derivative.yaml': MANIFEST.replace(/files:\n.*\n/, ''),
    'exec/derivative.yaml': MANIFEST.replace('content: "hello\\n"', 'content: "hello\\n", mode: "0755"'),
    'bad/derivative.yaml': MANIFEST.replace('name: acme', 'name: Acme'),
  });

  it('prints nothing and exits 0 when the outputs are identical', () => {
    expect(runCli(['diff', 'old', 'same'], { host })).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('shows only the files one setting changes, and exits 2', () => {
    const r = runCli(['diff', 'old', 'hostname'], { host });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('');
    // The hostname file, and the Dockerfile's label with the new build ID (derivc.json, which
    // records both, is hidden: test/diff-review.test.ts).
    expect(diffedPaths(r.stdout)).toEqual(['Dockerfile', 'rootfs/etc/hostname']);
    expect(r.stdout).toContain('--- a/rootfs/etc/hostname\n+++ b/rootfs/etc/hostname\n@@ -1,1 +1,1 @@\n-acme-box\n+acme-server\n');
  });

  it('shows added and removed files against /dev/null', () => {
    const removed = runCli(['diff', 'old', 'nomotd'], { host });
    expect(removed.code).toBe(2);
    expect(removed.stdout).toContain('--- a/files/etc/motd\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-hello\n');
    const added = runCli(['diff', 'nomotd', 'old'], { host });
    expect(added.stdout).toContain('--- /dev/null\n+++ b/files/etc/motd\n@@ -0,0 +1,1 @@\n+hello\n');
  });

  it('shows a mode change', () => {
    const r = runCli(['diff', 'old', 'exec'], { host });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('mode 100644 → 100755 files/etc/motd\n');
  });

  it('exits 1 with the diagnostics on stderr when a side does not compile', () => {
    const r = runCli(['diff', 'old', 'bad'], { host });
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toContain('metadata/invalid-name');
    expect(runCli(['diff', 'old', 'missing'], { host })).toMatchObject({ code: 1, stdout: '' });
  });

  it('writes a GitHub Markdown summary with --format github', () => {
    const r = runCli(['diff', '--format', 'github', 'old', 'hostname'], { host });
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^## derivc diff: `old\/derivative.yaml` → `hostname\/derivative.yaml`\n\n2 files differ: 2 modified\.\n/);
    expect(r.stdout).toContain('| `rootfs/etc/hostname` | modified | +1 −1 |\n');
    expect(r.stdout).toContain('<details><summary><code>rootfs/etc/hostname</code> (+1 −1)</summary>\n\n```diff\n--- a/rootfs/etc/hostname\n');
    expect(runCli(['diff', '--format', 'github', 'old', 'same'], { host })).toEqual({
      code: 0,
      stdout: '## derivc diff: `old/derivative.yaml` → `same/derivative.yaml`\n\nNo changes in the compiled output.\n',
      stderr: '',
    });
  });

  it.each([
    [['diff', 'old']],
    [['diff', 'a', 'b', 'c']],
    [['diff', '--format', 'json', 'old', 'same']],
    [['diff', '--base', 'HEAD', 'a', 'b']],
    [['diff', '--base', '--help']],
    [['diff', '--strict', 'old', 'same']],
  ])('usage error %j exits 3', (argv) => {
    expect(runCli(argv, { host })).toMatchObject({ code: 3, stdout: '' });
  });
});

describe('the GitHub summary', () => {
  const file = (p: string, content: string | Uint8Array, mode = 0o644): GeneratedFile => ({ path: p, content, mode });

  it('is pinned: heading, counts, table, and one collapsible diff per file', () => {
    const before = [
      file('Dockerfile', 'FROM a\nRUN x\n'),
      file('gone.txt', 'bye\n'),
      file('run.sh', 'echo\n'),
      file('logo.png', new Uint8Array([0x89, 0xff, 0])),
    ];
    const after = [
      file('Dockerfile', 'FROM b\nRUN x\n'),
      file('new `odd|name`.md', 'has ```fence\n'),
      file('run.sh', 'echo\n', 0o755),
      file('logo.png', new Uint8Array([0x89, 0xfe, 0])),
    ];
    expect(renderGithub('derivc diff: `x` since `main`', diffOutputs(before, after))).toBe(
      [
        '## derivc diff: `x` since `main`',
        '',
        '5 files differ: 1 added, 1 removed, 3 modified.',
        '',
        '| File | Change | Lines |',
        '| --- | --- | --- |',
        '| `Dockerfile` | modified | +1 −1 |',
        '| `gone.txt` | removed | +0 −1 |',
        '| `logo.png` | modified | binary |',
        '| ``new `odd\\|name`.md`` | added | +1 −0 |',
        '| `run.sh` | mode 100644 → 100755 | +0 −0 |',
        '',
        '<details><summary><code>Dockerfile</code> (+1 −1)</summary>',
        '',
        '```diff',
        '--- a/Dockerfile',
        '+++ b/Dockerfile',
        '@@ -1,2 +1,2 @@',
        '-FROM a',
        '+FROM b',
        ' RUN x',
        '```',
        '',
        '</details>',
        '',
        '<details><summary><code>gone.txt</code> (+0 −1)</summary>',
        '',
        '```diff',
        '--- a/gone.txt',
        '+++ /dev/null',
        '@@ -1,1 +0,0 @@',
        '-bye',
        '```',
        '',
        '</details>',
        '',
        '<details><summary><code>logo.png</code> (binary)</summary>',
        '',
        '```diff',
        'Binary files a/logo.png and b/logo.png differ',
        '```',
        '',
        '</details>',
        '',
        '<details><summary><code>new `odd|name`.md</code> (+1 −0)</summary>',
        '',
        // The fence outgrows the backticks inside, so the diff cannot end the block.
        '````diff',
        '--- /dev/null',
        '+++ b/new `odd|name`.md',
        '@@ -0,0 +1,1 @@',
        '+has ```fence',
        '````',
        '',
        '</details>',
        '',
        '<details><summary><code>run.sh</code> (+0 −0)</summary>',
        '',
        '```diff',
        'mode 100644 → 100755 run.sh',
        '```',
        '',
        '</details>',
        '',
      ].join('\n'),
    );
  });

  it('escapes HTML in the summary line', () => {
    expect(renderGithub('t', diffOutputs([], [file('a<b>&.txt', 'x\n')]))).toContain('<summary><code>a&lt;b&gt;&amp;.txt</code> (+1 −0)</summary>');
  });
});

describe('derivc diff --base GIT_REV (a real repository)', () => {
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=derivc', '-c', 'user.email=derivc@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: 'pipe' });
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(repo, rel)), { recursive: true });
    fs.writeFileSync(path.join(repo, rel), text);
  };
  const at = (rel: string) => path.join(repo, rel);
  const LUET = MANIFEST.replace('system:', 'toolkit: {source: luet}\noemDir: oem\nsystem:');

  beforeAll(() => {
    repo = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-diff-')));
    git('init', '-q');
    write('os/derivative.yaml', LUET);
    write('os/oem/90_custom.yaml', 'stages:\n  boot:\n    - commands: ["echo one"]\n');
    fs.symlinkSync('oem', at('os/oem-link'));
    fs.symlinkSync('/etc/passwd', at('os/passwd'));
    fs.symlinkSync('../..', at('os/up'));
    git('add', '-A');
    git('commit', '-q', '-m', 'first');
    // The working tree moves on: the manifest and the oemDir file both change, a manifest appears.
    write('os/derivative.yaml', LUET.replace('"1.0"', '"1.1"'));
    write('os/oem/90_custom.yaml', 'stages:\n  boot:\n    - commands: ["echo two"]\n');
    write('new/derivative.yaml', MANIFEST);
    write('edge/derivative.yaml', MANIFEST.replace(/^base: .*$/m, 'base: {derivative: ../new/derivative.yaml}').replace('name: acme', 'name: edge'));
  });
  afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));

  it('diffs the working tree against REV, reading referenced files at REV too', () => {
    const r = runCli(['diff', '--all', '--base', 'HEAD', at('os/derivative.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('-    - commands: ["echo one"]\n+    - commands: ["echo two"]\n');
    expect(r.stdout).toContain('\n-  "version": "1.0",\n');
    expect(r.stdout).toContain('\n+  "version": "1.1",\n');
    expect(diffedPaths(r.stdout)).toContain('rootfs/system/oem/90_custom.yaml');
  });

  it('finds the manifest from its directory, and exits 0 when nothing changed since REV', () => {
    expect(runCli(['diff', '--base', 'HEAD', at('os')]).code).toBe(2);
    git('stash', '-q', '--include-untracked');
    try {
      expect(runCli(['diff', '--base', 'HEAD', at('os')])).toEqual({ code: 0, stdout: '', stderr: '' });
    } finally {
      git('stash', 'pop', '-q');
    }
  });

  it('shows every file as added for a manifest that did not exist at REV', () => {
    const r = runCli(['diff', '--all', '--base', 'HEAD', at('new/derivative.yaml')]);
    expect(r.code).toBe(2);
    const plan = JSON.parse(runCli(['plan', '--format', 'json', at('new/derivative.yaml')]).stdout) as { compile: { files: { path: string }[] } };
    expect(diffedPaths(r.stdout).sort()).toEqual(plan.compile.files.map((f) => f.path).sort());
    expect(r.stdout.match(/^--- (.*)$/gm)?.every((l) => l === '--- /dev/null')).toBe(true);
  });

  it('reads an upstream elsewhere in the repository at REV (the tree at REV has no .git to find)', () => {
    git('add', 'new', 'edge');
    git('commit', '-q', '-m', 'chain');
    try {
      expect(runCli(['diff', '--base', 'HEAD', at('edge/derivative.yaml')])).toEqual({ code: 0, stdout: '', stderr: '' });
    } finally {
      git('reset', '-q', 'HEAD~1');
    }
  });

  it('shows every file as removed for a manifest deleted since REV', () => {
    const file = at('os/derivative.yaml');
    const saved = fs.readFileSync(file);
    fs.rmSync(file);
    try {
      const r = runCli(['diff', '--base', 'HEAD', file]);
      expect(r.code).toBe(2);
      expect(r.stdout.match(/^\+\+\+ (.*)$/gm)?.every((l) => l === '+++ /dev/null')).toBe(true);
      expect(r.stdout).toContain('--- a/rootfs/system/oem/90_custom.yaml\n');
    } finally {
      fs.writeFileSync(file, saved);
    }
  });

  it('exits 1 for a revision that is not a commit, or a path outside any repository', () => {
    const r = runCli(['diff', '--base', 'no-such-rev', at('os/derivative.yaml')]);
    expect(r).toMatchObject({ code: 1, stdout: '' });
    expect(r.stderr).toMatch(/^derivc: `no-such-rev` does not name a commit/);
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-norepo-'));
    try {
      fs.writeFileSync(path.join(outside, 'derivative.yaml'), MANIFEST);
      expect(runCli(['diff', '--base', 'HEAD', path.join(outside, 'derivative.yaml')])).toMatchObject({ code: 1, stdout: '' });
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });

  it('reads the tree at REV, following symlinks only inside the repository', () => {
    const host = GitHost.open(at('os/derivative.yaml'), 'HEAD');
    expect(new TextDecoder().decode(host.readFile(at('os/oem/90_custom.yaml')))).toContain('echo one');
    expect(host.readDir(at('os'))).toEqual(['derivative.yaml', 'oem', 'oem-link', 'passwd', 'up']);
    expect(host.kind(at('os/oem'))).toBe('directory');
    expect(host.kind(at('new/derivative.yaml'))).toBe('missing');
    expect(host.mode(at('os/derivative.yaml'))).toBe(0o644);
    // A link inside the repository resolves like the working tree's would.
    expect(host.kind(at('os/oem-link'))).toBe('directory');
    expect(host.realpath(at('os/oem-link/90_custom.yaml'))).toBe(at('os/oem/90_custom.yaml'));
    // Links out of the repository are never read: `other`, with the place they name as realpath.
    expect([host.kind(at('os/passwd')), host.readFile(at('os/passwd')), host.realpath(at('os/passwd'))]).toEqual(['other', undefined, '/etc/passwd']);
    expect([host.kind(at('os/up/etc')), host.readDir(at('os/up')), host.realpath(at('os/up/x'))]).toEqual(['other', [], path.join(repo, '..', 'x')]);
    expect(host.kind(path.join(repo, '..'))).toBe('missing');
  });
});
