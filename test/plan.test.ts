// derivc plan: one versioned JSON plan of what compile and build would do, and the human view
// rendered from that JSON alone.

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPlan, type Plan } from '../cli/plan-view.js';
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
  '  - {path: /usr/local/bin/hi, content: "#!/bin/sh\\necho hi\\n", mode: "0755"}',
  '',
].join('\n');
// The same manifest with every mapping's keys in another order.
const REORDERED = [
  'files:',
  '  - {content: "hello\\n", path: /etc/motd}',
  '  - {mode: "0755", content: "#!/bin/sh\\necho hi\\n", path: /usr/local/bin/hi}',
  'system: {hostname: acme-box}',
  'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
  'metadata: {version: "1.0", name: acme}',
  'kind: Derivative',
  'apiVersion: derivc.dev/v1alpha1',
  '',
].join('\n');

const host = new MemoryHost({
  'derivative.yaml': MANIFEST,
  'other/derivative.yaml': REORDERED,
  'bad.yaml': MANIFEST.replace('name: acme', 'name: Acme'),
  'warn.yaml': MANIFEST.replace(':15.5', ''),
});

function planJson(file?: string): Plan {
  const r = runCli(['plan', '--format', 'json', ...(file ? [file] : [])], { host });
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(r.stdout) as Plan;
}

describe('derivc plan --format json', () => {
  it('is one versioned object with the manifest, identity, compiled files, build steps and targets', () => {
    const plan = planJson();
    expect(Object.keys(plan)).toEqual(['planVersion', 'manifest', 'name', 'version', 'buildId', 'from', 'tags', 'compile', 'build', 'bootArgs', 'targets']);
    expect(plan).toMatchObject({
      planVersion: 1,
      manifest: 'derivative.yaml',
      name: 'acme',
      version: '1.0',
      from: 'registry.opensuse.org/opensuse/leap:15.5',
      tags: ['derivc.local/acme:1.0'],
      targets: [],
    });
    expect(plan.buildId).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const f of plan.compile.files) expect(Object.keys(f)).toEqual(['path', 'sha256', 'mode', 'bytes', 'origin']);
    expect(plan.build.steps.length).toBeGreaterThan(0);
    for (const s of plan.build.steps) expect(Object.keys(s)).toEqual(['comment', 'lines']);
  });

  it('lists each file with its digest, octal mode, size and the manifest part it comes from', () => {
    const files = planJson().compile.files;
    const script = '#!/bin/sh\necho hi\n';
    expect(files.find((f) => f.path === 'files/usr/local/bin/hi')).toEqual({
      path: 'files/usr/local/bin/hi',
      sha256: createHash('sha256').update(script).digest('hex'),
      mode: '0755',
      bytes: script.length,
      origin: { file: 'derivative.yaml', pointer: '/files/1' },
    });
    expect(files.find((f) => f.path === 'rootfs/etc/hostname')?.origin).toEqual({ file: 'derivative.yaml', pointer: '/system' });
    // derivc.json is derivc's own record, produced by no part of the manifest.
    expect(files.at(-1)).toMatchObject({ path: 'derivc.json', mode: '0644', origin: null });
  });

  it('lists exactly the files `derivc compile` writes, with their bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'derivc-plan-'));
    try {
      expect(runCli(['compile', '-o', dir], { host }).code).toBe(0);
      const files = planJson().compile.files;
      const written = JSON.parse(readFileSync(join(dir, 'derivc.json'), 'utf8')).files.map((f: { path: string }) => f.path);
      expect(files.map((f) => f.path)).toEqual([...written, 'derivc.json']);
      for (const f of files) {
        const bytes = readFileSync(join(dir, f.path));
        expect([f.path, f.bytes, f.sha256]).toEqual([f.path, bytes.length, createHash('sha256').update(bytes).digest('hex')]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic: the same bytes twice, and from a key-reordered manifest', () => {
    const once = runCli(['plan', '--format', 'json'], { host }).stdout;
    expect(runCli(['plan', '--format', 'json'], { host }).stdout).toBe(once);
    const reordered = planJson('other');
    expect(reordered.manifest).toBe('other/derivative.yaml');
    expect({ ...reordered, manifest: 'derivative.yaml' }).toEqual(JSON.parse(once));
  });

  it('keeps stdout to the plan: warnings go to stderr, errors exit 1 with nothing on stdout', () => {
    const warned = runCli(['plan', '--format', 'json', 'warn.yaml'], { host });
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('base/unpinned');
    expect(JSON.parse(warned.stdout).planVersion).toBe(1);

    const failed = runCli(['plan', '--format', 'json', 'bad.yaml'], { host });
    expect(failed).toMatchObject({ code: 1, stdout: '' });
    expect(failed.stderr).toContain('metadata/invalid-name');
  });

  it.each([[['plan', '--format', 'github']], [['plan', 'a.yaml', 'b.yaml']], [['plan', '--check']]])('usage error %j exits 3', (argv) => {
    expect(runCli(argv, { host })).toMatchObject({ code: 3, stdout: '' });
  });
});

describe('derivc plan (pretty)', () => {
  it('is the view of the JSON plan, nothing more', () => {
    const r = runCli(['plan'], { host });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toBe(renderPlan(planJson()));
  });

  it('renders a plan exactly', () => {
    const plan: Plan = {
      planVersion: 1,
      manifest: 'examples/tiny/derivative.yaml',
      name: 'tiny',
      version: '2.0.1',
      buildId: 'sha256:0123',
      from: 'registry.example.com/base:1',
      tags: ['registry.example.com/tiny:2.0.1', 'registry.example.com/tiny:2.0'],
      compile: {
        files: [
          { path: 'Dockerfile', sha256: 'aa', mode: '0644', bytes: 1234, origin: { file: 'derivative.yaml', pointer: '' } },
          { path: 'files/usr/bin/x', sha256: 'bb', mode: '0755', bytes: 7, origin: { file: 'derivative.yaml', pointer: '/files/0' } },
          { path: 'derivc.json', sha256: 'cc', mode: '0644', bytes: 512, origin: null },
        ],
      },
      build: {
        steps: [
          { comment: 'files', lines: ['COPY files/ /'] },
          { comment: 'image labels', lines: ['LABEL "a"="1"', 'LABEL "b"="2"'] },
        ],
      },
      bootArgs: { file: '/etc/elemental/bootargs.cfg', action: 'append', toolkit: 'Elemental v2.3.2' },
      targets: [],
    };
    expect(renderPlan(plan)).toBe(
      [
        'Plan for examples/tiny/derivative.yaml: tiny 2.0.1',
        '  build ID  sha256:0123',
        '  from      registry.example.com/base:1',
        '  tags      registry.example.com/tiny:2.0.1',
        '            registry.example.com/tiny:2.0',
        '',
        'compile: 3 files',
        '  0644  1234  Dockerfile',
        '  0755     7  files/usr/bin/x  ← /files/0',
        '  0644   512  derivc.json',
        '',
        'build: 2 steps after FROM registry.example.com/base:1',
        '  1. files',
        '       COPY files/ /',
        '  2. image labels',
        '       LABEL "a"="1"',
        '       LABEL "b"="2"',
        '',
        "boot arguments: derivc appends the manifest's kernel arguments to /etc/elemental/bootargs.cfg, which Elemental v2.3.2 ships and its GRUB reads last; the toolkit's content stays",
        '',
        'targets: none (the manifest enables none; `--target iso` plans one)',
        '',
      ].join('\n'),
    );
  });
});

describe('derivc plan: targets', () => {
  const withTargets = new MemoryHost({ 'derivative.yaml': `${MANIFEST}targets: {iso: {label: ACME_LIVE}, raw: {}}\n` });

  it('plans each target the manifest enables, against the first tag, without an Engine', () => {
    const r = runCli(['plan', '--format', 'json'], { host: withTargets });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const plan = JSON.parse(r.stdout) as Plan;
    expect(plan.targets.map((t) => t.target)).toEqual(['iso', 'raw']);
    expect(plan.targets[1]).toMatchObject({ target: 'raw', outputs: ['.derivc/acme/acme-1.0.raw', '.derivc/acme/acme-1.0.raw.sha256'] });
    const iso = plan.targets[0]!;
    expect(iso.outputs).toEqual(['.derivc/acme/acme-1.0.iso', '.derivc/acme/acme-1.0.iso.sha256']);
    expect(iso.steps.map((s) => s.action.kind)).toEqual(['mkdir', 'exec', 'extract', 'write', 'exec', 'set-efi-serial', 'checksum', 'publish']);
    expect(iso.steps[1]!.action).toMatchObject({ tool: 'sqfstar', stdin: { image: 'derivc.local/acme:1.0' } });
    // SOURCE_DATE_EPOCH defaults to the image's creation time, unknown until it is built.
    expect(iso.sourceDateEpoch).toBeNull();
    expect(iso.steps[4]!.action).toMatchObject({
      tool: 'grub-mkrescue',
      args: expect.arrayContaining(['-volid', 'ACME_LIVE', '<SOURCE_DATE_EPOCH as YYYYMMDDhhmmss00>']),
    });
  });

  it('takes SOURCE_DATE_EPOCH from the environment, and plans what --target names', () => {
    const r = runCli(['plan', '--format', 'json', '--target', 'iso'], { host, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    const [iso] = (JSON.parse(r.stdout) as Plan).targets;
    expect(iso).toMatchObject({ target: 'iso', sourceDateEpoch: 1700000000 });
    expect(runCli(['plan', '--target', 'floppy'], { host })).toMatchObject({ code: 3, stdout: '' });
  });

  it('shows each step as it runs: commands, files, the GRUB menu', () => {
    const r = runCli(['plan'], { host: withTargets });
    expect(r.stdout).toContain('targets: 2 media\n  iso → .derivc/acme/acme-1.0.iso, .derivc/acme/acme-1.0.iso.sha256\n');
    expect(r.stdout).toContain("    2. stream the image's filesystem into squashfs");
    expect(r.stdout).toContain(
      "| SOURCE_DATE_EPOCH='<SOURCE_DATE_EPOCH>' TZ=UTC LC_ALL=C sqfstar -comp zstd -no-progress -root-mode 755 -root-uid 0 -root-gid 0 iso/rootfs.squashfs\n",
    );
    expect(r.stdout).toContain('           menuentry "acme" {\n');
    expect(r.stdout).toContain('  raw → .derivc/acme/acme-1.0.raw, .derivc/acme/acme-1.0.raw.sha256\n');
    expect(r.stdout).toContain('           menuentry "acme" --id active {\n');
    expect(r.stdout).toBe(renderPlan(JSON.parse(runCli(['plan', '--format', 'json'], { host: withTargets }).stdout) as Plan));
  });
});
