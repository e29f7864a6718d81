// derivc diff as a review shows it: derivc.json (derivc's record of the other files) is hidden
// unless `--all`, `--ignore-build-id` takes the build ID out of the Dockerfile and derivc.json, and
// a diff whose only differences were left out exits 0 and says what was left out.

import { describe, expect, it } from 'vitest';
import { withoutBuildId } from '../cli/diff-filter.js';
import type { GeneratedFile } from '../compiler/emit/types.js';
import { runCli } from './support/cli.js';
import { MemoryHost } from './support/memory-host.js';

const MANIFEST = [
  'apiVersion: derivc.dev/v1alpha1',
  'kind: Derivative',
  'metadata: {name: acme, version: "1.0"}',
  'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
  'system: {hostname: acme-box}',
  '',
].join('\n');

const DOWNSTREAM = MANIFEST.replace(/^base: .*$/m, 'base: {derivative: ../up/derivative.yaml}').replace('name: acme', 'name: edge');

const host = new MemoryHost({
  'old/derivative.yaml': MANIFEST,
  'hostname/derivative.yaml': MANIFEST.replace('acme-box', 'acme-server'),
  // Image tags are recorded in derivc.json only: with the build ID ignored, derivc.json alone differs.
  'tagged/derivative.yaml': `${MANIFEST}build: {tags: ["registry.example.com/acme:1.0"]}\n`,
  // Two downstreams alike but for their upstream: only the build ID differs between them. (An
  // upstream is read only inside the manifest's repository: `.git` marks each.)
  'chain1/.git': '',
  'chain2/.git': '',
  'chain1/up/derivative.yaml': MANIFEST,
  'chain1/edge/derivative.yaml': DOWNSTREAM,
  'chain2/up/derivative.yaml': MANIFEST.replace('acme-box', 'acme-server'),
  'chain2/edge/derivative.yaml': DOWNSTREAM,
});

const diff = (...argv: string[]) => {
  const r = runCli(['diff', ...argv], { host });
  // Build IDs are digests of the whole output: pinned by the golden tests, not here.
  return { ...r, stdout: r.stdout.replace(/sha256:[0-9a-f]{64}/g, 'sha256:ID') };
};

const LABEL_DIFF = [
  '--- a/Dockerfile',
  '+++ b/Dockerfile',
  '@@ -15,4 +15,4 @@',
  ' # image labels',
  ' LABEL "org.opencontainers.image.title"="acme"',
  ' LABEL "org.opencontainers.image.version"="1.0"',
  '-LABEL "derivc.build-id"="sha256:ID"',
  '+LABEL "derivc.build-id"="sha256:ID"',
  '',
].join('\n');

const HOSTNAME_DIFF = ['--- a/rootfs/etc/hostname', '+++ b/rootfs/etc/hostname', '@@ -1,1 +1,1 @@', '-acme-box', '+acme-server', ''].join('\n');

describe('derivc diff hides derivc.json unless --all', () => {
  it('shows the files that changed, not their record in derivc.json', () => {
    expect(diff('old', 'hostname')).toEqual({ code: 2, stdout: LABEL_DIFF + HOSTNAME_DIFF, stderr: '' });
  });

  it('shows derivc.json with --all', () => {
    const r = diff('--all', 'old', 'hostname');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${LABEL_DIFF}--- a/derivc.json\n+++ b/derivc.json\n`);
    expect(r.stdout).toContain('-  "buildId": "sha256:ID",\n+  "buildId": "sha256:ID",\n');
    expect(r.stdout.endsWith(HOSTNAME_DIFF)).toBe(true);
  });

  it('says in the summary that derivc.json also differs', () => {
    const r = diff('--format', 'github', 'old', 'tagged');
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^## derivc diff: `old\/derivative.yaml` → `tagged\/derivative.yaml`\n\n1 file differs: 1 modified\.\n\n`derivc.json` also differs \(derivc's record of the other files; `--all` shows it\)\.\n\n\| File \| Change \| Lines \|\n\| --- \| --- \| --- \|\n\| `Dockerfile` \| modified \| \+1 −1 \|\n\n/,
    );
  });

  it('exits 0 and says so when only derivc.json differs', () => {
    expect(diff('--ignore-build-id', 'old', 'tagged')).toEqual({
      code: 0,
      stdout: '',
      stderr: "derivc: no differences shown: only `derivc.json` differs (derivc's record of the other files; `--all` shows it)\n",
    });
    expect(diff('--ignore-build-id', '--format', 'github', 'old', 'tagged')).toEqual({
      code: 0,
      stdout: [
        '## derivc diff: `old/derivative.yaml` → `tagged/derivative.yaml`',
        '',
        "No changes in the compiled output apart from `derivc.json` (derivc's record of the other files; `--all` shows it).",
        '',
      ].join('\n'),
      stderr: '',
    });
    expect(diff('--ignore-build-id', '--all', 'old', 'tagged')).toEqual({
      code: 2,
      stdout: [
        '--- a/derivc.json',
        '+++ b/derivc.json',
        '@@ -5,7 +5,7 @@',
        '   "version": "1.0",',
        '   "from": "registry.opensuse.org/opensuse/leap:15.5",',
        '   "tags": [',
        '-    "derivc.local/acme:1.0"',
        '+    "registry.example.com/acme:1.0"',
        '   ],',
        '   "files": [',
        '     {',
        '',
      ].join('\n'),
      stderr: '',
    });
  });
});

describe('derivc diff --ignore-build-id', () => {
  it('drops the build-ID label from the Dockerfile diff', () => {
    expect(diff('--ignore-build-id', 'old', 'hostname')).toEqual({ code: 2, stdout: HOSTNAME_DIFF, stderr: '' });
  });

  it('exits 0 and says so when only the build ID differs (a downstream of a changed upstream)', () => {
    const relabel = LABEL_DIFF.replace('"acme"', '"edge"').replace('@@ -15,4 +15,4 @@', '@@ -12,4 +12,4 @@');
    expect(diff('chain1/edge', 'chain2/edge')).toEqual({ code: 2, stdout: relabel, stderr: '' });
    const only = { code: 0, stdout: '', stderr: 'derivc: no differences shown: only the build ID differs (`--ignore-build-id`)\n' };
    expect(diff('--ignore-build-id', 'chain1/edge', 'chain2/edge')).toEqual(only);
    // derivc.json without its build ID, and with the Dockerfile's digest without its label, is equal too.
    expect(diff('--ignore-build-id', '--all', 'chain1/edge', 'chain2/edge')).toEqual(only);
    expect(diff('--ignore-build-id', '--format', 'github', 'chain1/edge', 'chain2/edge')).toEqual({
      code: 0,
      stdout: [
        '## derivc diff: `chain1/edge/derivative.yaml` → `chain2/edge/derivative.yaml`',
        '',
        'No changes in the compiled output apart from the build ID (`--ignore-build-id`).',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('takes out only the sealing line: the last one', () => {
    const file = (path: string, content: string): GeneratedFile => ({ path, content, mode: 0o644 });
    const dockerfile = 'FROM x\nLABEL "derivc.build-id"="mine"\nRUN y\nLABEL "derivc.build-id"="sha256:1"\n';
    const record = JSON.stringify({ name: 'n', buildId: 'sha256:1', files: [{ path: 'Dockerfile', sha256: 'old', mode: '0644' }] }, null, 2) + '\n';
    const [d, j] = withoutBuildId([file('Dockerfile', dockerfile), file('derivc.json', record)]);
    expect(d!.content).toBe('FROM x\nLABEL "derivc.build-id"="mine"\nRUN y\n');
    expect(JSON.parse(j!.content as string)).toEqual({
      name: 'n',
      files: [{ path: 'Dockerfile', sha256: '49b29e7c689bef783a23f92eebbfb105cac191268b400e818fb0c9e76d8b23f0', mode: '0644' }],
    });
  });
});

describe('derivc diff --help', () => {
  it('lists both flags', () => {
    const r = runCli(['diff', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('[--ignore-build-id] [--all]\n');
    expect(r.stdout).toMatch(/\n {2}--ignore-build-id +the derivc\.build-id label and the build ID in derivc\.json are no difference\n/);
    expect(r.stdout).toMatch(/\n {2}--all +show derivc\.json too \(hidden by default: it is derivc's record of the other files\)\n/);
    expect(r.stdout).toContain('A diff whose only differences are left out exits 0 and says what was left out.\n');
  });
});
