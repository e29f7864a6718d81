// `toolkit.features` and the initrd with `mode: elemental`: `elemental init --force <features…>`
// (none: all that release has); from Elemental v1.2 on, init runs dracut itself (with derivc's
// dracut configuration, copied in before it), so derivc builds the initrd again only when a later
// step — files, overlay — can change it, and otherwise only checks /boot/vmlinuz and /boot/initrd.

import { describe, expect, it } from 'vitest';
import { compile, type Compiled } from '../compiler/compile.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { execArgs, parseDockerfile } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

function compiled(...lines: string[]): Compiled {
  const manifest = [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    'metadata: {name: e, version: "1.0"}',
    'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
    ...lines,
    '',
  ];
  const host = new MemoryHost({ 'derivative.yaml': manifest.join('\n') });
  const v = new ValidationSession(host).validate('derivative.yaml');
  expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const c = compile(v.value.manifest!, host, { version: '0.0.0-test' });
  expect(c.diagnostics).toEqual([]);
  return c.value;
}

const image = (tag: string) => `  image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:${tag}"`;
/** The instructions as `KEYWORD args` (RUN as its exec arguments joined by spaces). */
function instructions(c: Compiled): string[] {
  const text = c.files.find((f) => f.path === 'Dockerfile')!.content as string;
  return parseDockerfile(text).instructions.map((i) =>
    i.getKeyword() === 'RUN' ? `RUN ${execArgs(i).join(' ')}` : `${i.getKeyword()} ${i.getRawArgumentsContent()}`,
  );
}

describe('elemental init', () => {
  it('gets the features in the order given; without features, all the release has', () => {
    const chosen = instructions(compiled('toolkit:', '  source: image', image('v2.3.2'), '  features: [grub-config, dracut-config]'));
    expect(chosen).toContain('RUN /usr/bin/elemental init --force grub-config dracut-config');
    expect(instructions(compiled('toolkit:', '  source: image', image('v2.3.2')))).toContain('RUN /usr/bin/elemental init --force');
  });

  it.each(['v1.3.0', 'v2.3.2'])('%s: builds the initrd with derivc’s dracut configuration; derivc only checks it when nothing later changes it', (tag) => {
    const ins = instructions(compiled('toolkit:', '  source: image', image(tag)));
    const init = ins.indexOf('RUN /usr/bin/elemental init --force');
    expect(ins[init - 1]).toBe('COPY boot/ /');
    expect(ins.filter((i) => i.startsWith('RUN /bin/sh /usr/lib/derivc/initrd.sh'))).toEqual(['RUN /bin/sh /usr/lib/derivc/initrd.sh --check']);
    expect(ins.indexOf('RUN /bin/sh /usr/lib/derivc/initrd.sh --check')).toBeGreaterThan(init);
  });

  it.each([
    ['files', ['files:', '  - {path: /etc/dracut.conf.d/90-acme.conf, content: "add_drivers+=\\" virtio_blk \\"\\n"}']],
    ['overlay', ['overlay: overlay']],
  ])('%s after elemental init can change the initrd: derivc builds it again', (_, extra) => {
    const manifest = [
      'apiVersion: derivc.dev/v1alpha1',
      'kind: Derivative',
      'metadata: {name: e, version: "1.0"}',
      'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
    ];
    const host = new MemoryHost({
      'derivative.yaml': [...manifest, 'toolkit:', '  source: image', image('v2.3.2'), ...extra, ''].join('\n'),
      'overlay/etc/motd': 'hi\n',
    });
    const v = new ValidationSession(host).validate('derivative.yaml');
    const ins = instructions(compile(v.value.manifest!, host, { version: '0.0.0-test' }).value);
    expect(ins.filter((i) => i.startsWith('RUN /bin/sh /usr/lib/derivc/initrd.sh'))).toEqual(['RUN /bin/sh /usr/lib/derivc/initrd.sh']);
    expect(ins.indexOf('RUN /bin/sh /usr/lib/derivc/initrd.sh')).toBeGreaterThan(ins.indexOf('RUN /usr/bin/elemental init --force'));
  });

  it('v1.1: init is not known to build the initrd there, so derivc builds it after the toolkit as before', () => {
    const ins = instructions(compiled('toolkit:', '  source: image', image('v1.1.8'), '  features: [grub-config]'));
    const init = ins.indexOf('RUN /usr/bin/elemental init --force grub-config');
    expect(ins[init - 1]).toBe('COPY /usr/bin/elemental /usr/bin/elemental');
    expect(ins.indexOf('RUN /bin/sh /usr/lib/derivc/initrd.sh')).toBeGreaterThan(init);
  });
});
