// `toolkit.packages` with every source that has luet: the luet toolkit itself, and on top of a
// toolkit image, a base image or an upstream derivative (with the image's luet or one copied from
// `luetImage`, and derivc's own configuration so the toolkit's stays); `repository` may pin a
// snapshot as `{url, reference, verify}`.

import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compile, type Compiled } from '../compiler/compile.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { execArgs, parseDockerfile } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

const head = (name: string) => ['apiVersion: derivc.dev/v1alpha1', 'kind: Derivative', `metadata: {name: ${name}, version: "1.0"}`];
const LEAP = 'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}';

function run(files: Record<string, string>, path = 'derivative.yaml'): { c: Compiled; diagnostics: Diagnostic[] } {
  const host = new MemoryHost({ '.git/HEAD': 'ref: refs/heads/main\n', ...files });
  const v = new ValidationSession(host).validate(path);
  // A manifest with errors is not compiled (as the CLI does).
  if (!v.value.manifest) return { c: undefined as unknown as Compiled, diagnostics: v.diagnostics };
  const c = compile(v.value.manifest, host, { version: '0.0.0-test' });
  return { c: c.value, diagnostics: [...v.diagnostics, ...c.diagnostics] };
}
const dockerfile = (c: Compiled) => c.files.find((f) => f.path === 'Dockerfile')!.content as string;
const file = (c: Compiled, path: string) => c.files.find((f) => f.path === path)?.content as string | undefined;
const runs = (c: Compiled) =>
  parseDockerfile(dockerfile(c))
    .instructions.filter((i) => i.getKeyword() === 'RUN')
    .map(execArgs);

describe('toolkit.packages on top of a toolkit image', () => {
  const elemental = [
    ...head('e'),
    LEAP,
    'toolkit:',
    '  source: image',
    '  image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"',
    '  luetImage: "quay.io/luet/base:0.32.0"',
    '  packages: [utils/k9s]',
    '',
  ].join('\n');

  it('Elemental: luet copied from luetImage to derivc’s own path, the image’s luet configuration as is (no repository)', () => {
    const { c, diagnostics } = run({ 'derivative.yaml': elemental });
    expect(diagnostics).toEqual([]);
    const text = dockerfile(c);
    expect(text).toContain('FROM quay.io/luet/base:0.32.0 AS luet\n');
    expect(text).toContain('COPY --from=luet /usr/bin/luet /usr/lib/derivc/luet\n');
    const luet = runs(c).find((r) => r.at(-1) === 'utils/k9s')!;
    expect(luet[2]).not.toContain('--config');
    expect(luet.slice(3)).toEqual(['derivc', 'utils/k9s']);
    expect(file(c, 'luet/packages.yaml')).toBeUndefined();
  });

  it('luet packages come after elemental init and can change the initrd: derivc builds it again', () => {
    const { c } = run({ 'derivative.yaml': elemental });
    const all = runs(c).map((r) => r.join(' '));
    const luet = all.findIndex((r) => r.endsWith('utils/k9s'));
    expect(all.findIndex((r) => r.startsWith('/usr/bin/elemental init'))).toBeLessThan(luet);
    expect(all.indexOf('/bin/sh /usr/lib/derivc/initrd.sh')).toBeGreaterThan(luet);
  });

  it('a pinned repository: derivc’s own luet configuration with reference and verify', () => {
    const { c, diagnostics } = run({
      'derivative.yaml': elemental.replace('  packages:', '  repository: {url: quay.io/acme/luet, reference: 20240101000000-repository.yaml}\n  packages:'),
    });
    expect(diagnostics).toEqual([]);
    expect(parse(file(c, 'luet/packages.yaml')!)).toEqual({
      repositories: [{ name: 'derivc', type: 'docker', enable: true, priority: 1, urls: ['quay.io/acme/luet'], reference: '20240101000000-repository.yaml' }],
    });
    expect(dockerfile(c)).toContain('COPY luet/packages.yaml /usr/lib/derivc/luet.yaml\n');
    expect(runs(c).find((r) => r.at(-1) === 'utils/k9s')![2]).toContain('"$luet" --config /usr/lib/derivc/luet.yaml install -y "$@"');
  });

  it('Elemental without luetImage: an error at toolkit.packages', () => {
    const { diagnostics } = run({ 'derivative.yaml': elemental.replace('  luetImage: "quay.io/luet/base:0.32.0"\n', '') });
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual([['toolkit/packages-without-luet', '/toolkit/packages']]);
  });
});

describe('toolkit.packages in a downstream derivative', () => {
  const upstream = [...head('up'), LEAP, 'toolkit: {source: luet}', ''].join('\n');
  const down = [...head('down'), 'base: {derivative: ../up/derivative.yaml}', 'toolkit: {source: base, packages: [utils/k9s]}', ''].join('\n');

  it('`source: base` with packages on an upstream toolkit: the upstream’s luet installs them, no warning', () => {
    const { c, diagnostics } = run({ 'up/derivative.yaml': upstream, 'down/derivative.yaml': down }, 'down/derivative.yaml');
    expect(diagnostics).toEqual([]);
    expect(runs(c).some((r) => r.at(-1) === 'utils/k9s')).toBe(true);
    // No toolkit is installed again.
    expect(dockerfile(c)).not.toContain('COPY --from=luet /usr/bin/luet /usr/bin/luet');
  });

  it('on an upstream without a toolkit: errors at toolkit and toolkit.packages', () => {
    const { diagnostics } = run(
      { 'up/derivative.yaml': upstream.replace('toolkit: {source: luet}\n', ''), 'down/derivative.yaml': down },
      'down/derivative.yaml',
    );
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual(
      expect.arrayContaining([
        ['toolkit/downstream', '/toolkit'],
        ['toolkit/packages-without-luet', '/toolkit/packages'],
      ]),
    );
  });
});

describe('the luet toolkit’s repository', () => {
  it('pinned as {url, reference, verify}: /etc/luet/luet.yaml carries them', () => {
    const { c, diagnostics } = run({
      'derivative.yaml': [
        ...head('l'),
        LEAP,
        'toolkit: {source: luet, repository: {url: quay.io/costoolkit/releases-green, reference: 20220622-repository.yaml, verify: true}}',
        '',
      ].join('\n'),
    });
    expect(diagnostics).toEqual([]);
    expect(parse(file(c, 'luet/luet.yaml')!).repositories).toEqual([
      {
        name: 'cos',
        type: 'docker',
        enable: true,
        priority: 1,
        urls: ['quay.io/costoolkit/releases-green'],
        reference: '20220622-repository.yaml',
        verify: true,
      },
    ]);
  });
});
