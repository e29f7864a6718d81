// The toolkit era of a manifest (compiler/toolkit-era.ts): flavor and release as stated or
// inferred, and what follows from them — the yip the runner links, the keys it decodes, its YAML
// reader, what it does not run, the boot files it ships — as read from each toolkit's go.mod.

import { describe, expect, it } from 'vitest';
import { cloudConfigHeaderLine, compareVersions, inferEra, isKnownStage, toolkitEra, versionInTag } from '../compiler/toolkit-era.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { normalize } from '../compiler/normalize/index.js';
import { MemoryHost } from './support/memory-host.js';

const LEAP = 'registry.opensuse.org/opensuse/leap:15.5';

describe('inferring the era of a manifest', () => {
  it('luet is the cOS toolkit its repository serves: the last cOS release, no warning', () => {
    expect(inferEra({ source: 'luet' }, LEAP)).toEqual({
      era: expect.objectContaining({ flavor: 'cos', version: 'v0.10.7', versionFrom: 'luet-repository', boot: 'cos-v0' }),
    });
    expect(inferEra({ source: 'luet', version: '0.8.14' }, LEAP).era).toMatchObject({
      version: 'v0.8.14',
      versionFrom: 'manifest',
      yip: { module: 'mudler/yip 0.10.1-3-g2617d71', keys: '0.10.1', decoder: 'yaml.v2' },
    });
  });

  it('an Elemental image names its release in its tag', () => {
    const { era, problem } = inferEra({ source: 'image', image: 'ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2' }, LEAP);
    expect(problem).toBeUndefined();
    expect(era).toEqual({
      flavor: 'elemental',
      version: 'v2.3.2',
      versionFrom: 'image-tag',
      release: 'v2.2.1',
      boot: 'elemental-v2',
      yip: { module: 'rancher/yip v1.9.6', keys: 'v1.4.6', decoder: 'yaml.v3' },
      notRun: ['git', 'modules'],
    });
  });

  it('a tag that is not a release: the newest release is assumed, with a problem to report', () => {
    for (const image of [
      'ghcr.io/rancher/elemental-toolkit/elemental-cli:latest',
      'ghcr.io/rancher/elemental-toolkit/elemental-cli',
      'registry.example.com/elemental:1',
    ]) {
      const { era, problem } = inferEra({ source: 'image', image }, LEAP);
      expect(problem, image).toBe('unknown-version');
      expect(era, image).toMatchObject({ flavor: 'elemental', version: 'v2.3.2', versionFrom: 'assumed' });
    }
  });

  it('a kairos-framework tag is the framework version, mapped to the Kairos release that pinned it', () => {
    const at = (tag: string) => inferEra({ source: 'image', mode: 'framework', image: `quay.io/kairos/framework:${tag}` }, 'ubuntu:24.04').era;
    expect(at('v2.11.7')).toMatchObject({
      flavor: 'kairos',
      version: 'v3.1.0',
      versionFrom: 'kairos-framework-tag',
      boot: 'kairos-v2',
      yip: { keys: 'v1.9.0' },
    });
    expect(at('v2.4.4')).toMatchObject({ version: 'v2.4.3', yip: { keys: 'v1.4.5', decoder: 'yaml.v2' } });
    expect(at('v2.7.14')).toMatchObject({ version: 'v3.0.0' });
    expect(at('v2.22.0')).toMatchObject({ version: 'v3.4.0', boot: 'kairos-v3', notRun: expect.arrayContaining(['only_os', 'packages']) });
  });

  it('a stated release wins over the tag', () => {
    expect(inferEra({ source: 'image', mode: 'framework', image: 'quay.io/kairos/framework:v2.11.7', version: 'v3.7.2' }, 'ubuntu:24.04').era).toMatchObject({
      version: 'v3.7.2',
      versionFrom: 'manifest',
      yip: { keys: 'v1.21.2', decoder: 'yaml.v3' },
      notRun: ['git'],
    });
  });

  it('`source: base` reads flavor and release from well-known image names, else needs `flavor:`', () => {
    expect(inferEra({ source: 'base' }, 'quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.7.2').era).toMatchObject({
      flavor: 'kairos',
      version: 'v3.7.2',
      versionFrom: 'image-tag',
    });
    expect(inferEra({ source: 'base' }, 'quay.io/kairos/kairos-opensuse-leap:v2.4.3-k3sv1.28.2-k3s1').era).toMatchObject({
      flavor: 'kairos',
      version: 'v2.4.3',
    });
    expect(inferEra({ source: 'base' }, 'ghcr.io/rancher/elemental-toolkit/elemental-green:v2.1.0').era).toMatchObject({
      flavor: 'elemental',
      version: 'v2.1.0',
      yip: { module: 'rancher/yip v1.4.10' },
      notRun: [],
    });
    // An OS built on Elemental: its tag is the OS's version, not the toolkit's.
    expect(inferEra({ source: 'base' }, 'registry.suse.com/rancher/elemental-teal/5.4:1.2.3')).toMatchObject({
      era: { flavor: 'elemental', versionFrom: 'assumed' },
      problem: 'unknown-version',
    });
    expect(inferEra({ source: 'base' }, 'quay.io/costoolkit/releases-green:cos-system-0.8.14-3').era).toMatchObject({ flavor: 'cos', version: 'v0.8.14' });
    expect(inferEra({ source: 'base' }, LEAP)).toEqual({ era: undefined, problem: 'flavor-required' });
    // A distro tag is no toolkit release, even with the flavor stated.
    expect(inferEra({ source: 'base', flavor: 'elemental' }, LEAP)).toMatchObject({
      era: { flavor: 'elemental', version: 'v2.3.2' },
      problem: 'unknown-version',
    });
    expect(inferEra({ source: 'base', flavor: 'elemental', version: 'v1.3.0' }, LEAP)).toEqual({
      era: expect.objectContaining({ version: 'v1.3.0', boot: 'elemental-v1.3' }),
    });
  });

  it('no toolkit, or a source the schema rejects: no era', () => {
    expect(inferEra(undefined, LEAP)).toEqual({ era: undefined });
    expect(inferEra({ source: 'none' }, LEAP)).toEqual({ era: undefined });
    expect(inferEra({ source: 'lute' }, LEAP)).toEqual({ era: undefined });
  });
});

describe('the release table', () => {
  it.each([
    ['cos', 'v0.5.3', 'mudler/yip 0.9.2', '0.9.2', 'yaml.v2', []],
    ['cos', 'v0.7.4', 'mudler/yip 0.9.21', '0.9.21', 'yaml.v2', []],
    ['cos', 'v0.10.7', 'mudler/yip 0.11.1', '0.11.1', 'yaml.v2', []],
    ['elemental', 'v0.8.14', 'mudler/yip 0.10.1-3-g2617d71', '0.10.1', 'yaml.v2', []],
    ['elemental', 'v1.0.0', 'mudler/yip v1.1.0', 'v1.1.0', 'yaml.v2', []],
    ['elemental', 'v1.1.7', 'mudler/yip v1.4.0', 'v1.4.0', 'yaml.v2', []],
    ['elemental', 'v1.1.8', 'mudler/yip v1.4.4', 'v1.4.4', 'yaml.v2', []],
    ['elemental', 'v1.3.0', 'mudler/yip v1.4.6', 'v1.4.6', 'yaml.v2', []],
    ['elemental', 'v2.1.1', 'rancher/yip v1.4.10', 'v1.4.6', 'yaml.v3', []],
    ['elemental', 'v2.1.5', 'rancher/yip v1.9.6', 'v1.4.6', 'yaml.v3', ['git', 'modules']],
    ['elemental', 'v2.2.0', 'rancher/yip v1.9.3', 'v1.4.6', 'yaml.v3', ['git', 'modules']],
    ['kairos', 'v2.4.3', 'mudler/yip v1.4.5', 'v1.4.5', 'yaml.v2', []],
    ['kairos', 'v3.3.0', 'mudler/yip v1.12.0', 'v1.12.0', 'yaml.v2', []],
    ['kairos', 'v3.5.0', 'mudler/yip v1.16.3', 'v1.16.3', 'yaml.v2', []],
    ['kairos', 'v3.7.2', 'mudler/yip v1.21.2', 'v1.21.2', 'yaml.v3', ['git']],
    ['kairos', 'v4.0.0', 'mudler/yip v1.21.2', 'v1.21.2', 'yaml.v3', ['git']],
    ['kairos', 'v4.1.0', 'mudler/yip v1.23.6', 'v1.23.6', 'yaml.v3', ['git']],
    ['kairos', 'v4.2.0', 'mudler/yip v1.25.1', 'v1.25.1', 'yaml.v3', ['git']],
  ] as const)('%s %s links %s', (flavor, version, module, keys, decoder, notRun) => {
    expect(toolkitEra(flavor, version)).toMatchObject({ flavor, version, yip: { module, keys, decoder }, notRun });
  });

  it('boot files per era', () => {
    expect(['v0.8.14', 'v1.1.8', 'v1.2.0', 'v2.0.0'].map((v) => toolkitEra('elemental', v).boot)).toEqual([
      'cos-v0',
      'elemental-v1.1',
      'elemental-v1.3',
      'elemental-v2',
    ]);
    expect(['v2.4.3', 'v3.3.0', 'v3.4.0', 'v4.2.0'].map((v) => toolkitEra('kairos', v).boot)).toEqual(['kairos-v2', 'kairos-v2', 'kairos-v3', 'kairos-v3']);
  });

  it('compares release numbers numerically, with or without `v`', () => {
    expect(compareVersions('v1.10.0', 'v1.9.6')).toBeGreaterThan(0);
    expect(compareVersions('0.10.1', 'v1.0.0')).toBeLessThan(0);
    expect(compareVersions('v1.4', '1.4.0')).toBe(0);
  });

  it('finds a release in an image tag', () => {
    expect(
      ['v2.1.0', '2.1.0', 'cos-system-0.8.14-3', '24.04-core-amd64-generic-v3.7.2', 'v2.4.3-k3sv1.28.2+k3s1', '15.5', 'latest', '1'].map(versionInTag),
    ).toEqual(['v2.1.0', 'v2.1.0', 'v0.8.14', 'v3.7.2', 'v2.4.3', undefined, undefined, undefined]);
  });
});

describe('what the runners read', () => {
  it('`#cloud-config` only on the first line before yip v1.22.0, after blank and comment lines from then on', () => {
    const late = '# a comment\n\n#cloud-config\nusers: []\n';
    expect(cloudConfigHeaderLine(late, 'v1.21.2')).toBeUndefined();
    expect(cloudConfigHeaderLine(late, 'v1.22.0')).toBe(3);
    expect(cloudConfigHeaderLine('#cloud-config  \r\nusers: []\n', '0.10.1')).toBe(1);
    expect(cloudConfigHeaderLine('name: x\n#cloud-config\n', 'v1.24.0')).toBeUndefined();
    expect(cloudConfigHeaderLine('\n'.repeat(9) + '#cloud-config\n', 'v1.24.0')).toBeUndefined();
  });

  it('stage names: every hook with .before/.after, per flavor', () => {
    expect(isKnownStage('after-disk.before', 'elemental')).toBe(true);
    expect(isKnownStage('post-install', 'elemental')).toBe(true);
    expect(isKnownStage('after-disk', 'cos')).toBe(false);
    expect(isKnownStage('kairos-uki-reset.pre.after', 'kairos')).toBe(true);
    expect(isKnownStage('provider-kairos.bootstrap.after.master', 'kairos')).toBe(true);
    expect(isKnownStage('provider-kairos.bootstrap.after.master', 'elemental')).toBe(false);
    expect(isKnownStage('kairos-install.pre', undefined)).toBe(true);
    expect(isKnownStage('install-after', undefined)).toBe(false);
  });
});

describe('the era through validation', () => {
  const UPSTREAM =
    'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: up, version: "1"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\ntoolkit: {source: image, image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"}\n';
  const DOWNSTREAM =
    'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: down, version: "1"}\nbase: {derivative: up.yaml}\nstages:\n  boot:\n    - only_arch: amd64\n      commands: [uname -m]\n';

  it("a downstream derivative inherits its upstream's era, and the era reaches the IR", () => {
    const host = new MemoryHost({ 'up.yaml': UPSTREAM, 'down.yaml': DOWNSTREAM });
    const v = new ValidationSession(host).validate('down.yaml');
    expect(v.diagnostics.map((d) => [d.code, d.message])).toEqual([
      [
        'cloud-config/newer-than-toolkit',
        '`only_arch` needs yip v1.14.1 or later; Elemental v2.3.2 runs rancher/yip v1.9.6 (the yip v1.4.6 schema), which ignores it, so the step runs unconditionally',
      ],
    ]);
    const build = normalize(v.value.manifest!, host).value;
    expect(build.era).toMatchObject({ flavor: 'elemental', version: 'v2.3.2' });
  });

  it('a bare derivative has no era', () => {
    const host = new MemoryHost({
      'bare.yaml':
        'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: bare, version: "1"}\nbase: {image: "registry.opensuse.org/opensuse/leap:15.5"}\n',
    });
    const v = new ValidationSession(host).validate('bare.yaml');
    expect(v.value.manifest?.era).toBeUndefined();
    expect(normalize(v.value.manifest!, host).value).not.toHaveProperty('era');
  });
});
