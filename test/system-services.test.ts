// `system.services` is applied in the image at build time for every toolkit (and without one):
// a unit is on from the first boot, before any cloud-config runs, and nothing re-applies it at boot.

import { describe, expect, it } from 'vitest';
import { compile, type Compiled } from '../compiler/compile.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { execArgs, parseDockerfile } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

const SERVICES = 'system: {hostname: box, services: {enable: [sshd, acme.timer], disable: [dnf-makecache.timer], mask: [ctrl-alt-del.target]}}';
const BASE = 'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}';

function compiled(files: Record<string, string>, path = 'derivative.yaml'): Compiled {
  const host = new MemoryHost(files);
  const v = new ValidationSession(host).validate(path);
  expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const c = compile(v.value.manifest!, host, { version: '0.0.0-test' });
  expect(c.diagnostics).toEqual([]);
  return c.value;
}

const manifest = (name: string, ...lines: string[]) =>
  ['apiVersion: derivc.dev/v1alpha1', 'kind: Derivative', `metadata: {name: ${name}, version: "1.0"}`, ...lines, ''].join('\n');
const text = (c: Compiled, path: string) => c.files.find((f) => f.path === path)?.content as string | undefined;
const systemctlRuns = (c: Compiled) =>
  parseDockerfile(text(c, 'Dockerfile')!)
    .instructions.filter((i) => i.getKeyword() === 'RUN')
    .map(execArgs)
    .filter((a) => a[0] === 'systemctl');

const EXPECTED = [
  ['systemctl', 'enable', 'sshd.service', 'acme.timer'],
  ['systemctl', 'disable', 'dnf-makecache.timer'],
  ['systemctl', 'mask', 'ctrl-alt-del.target'],
];

describe('system.services', () => {
  it.each([
    ['no toolkit', [BASE]],
    ['luet (cOS)', [BASE, 'toolkit: {source: luet}']],
    ['Elemental image', [BASE, 'toolkit: {source: image, image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"}']],
    ['Kairos framework', [BASE, 'toolkit: {source: image, mode: framework, image: "quay.io/kairos/framework:v2.11.7"}']],
    ['Kairos base image', ['base: {image: "quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.7.2"}', 'toolkit: {source: base}']],
  ])('%s: systemctl enable, disable, mask in the image; no systemctl in /system/oem', (_, lines) => {
    const c = compiled({ 'derivative.yaml': manifest('svc', ...lines, SERVICES) });
    expect(systemctlRuns(c)).toEqual(EXPECTED);
    for (const f of c.files.filter((x) => x.path.startsWith('rootfs/system/oem/'))) expect(f.content as string).not.toContain('systemctl');
  });

  it('a downstream derivative sets its own units in the image too, after the initrd', () => {
    const files = {
      '.git/HEAD': 'ref: refs/heads/main\n',
      'up/derivative.yaml': manifest('up', BASE, 'toolkit: {source: luet}'),
      'down/derivative.yaml': manifest('down', 'base: {derivative: ../up/derivative.yaml}', SERVICES),
    };
    const down = compiled(files, 'down/derivative.yaml');
    expect(systemctlRuns(down)).toEqual(EXPECTED);
    const docker = text(down, 'Dockerfile')!;
    expect(docker.indexOf('initrd.sh')).toBeLessThan(docker.indexOf('"systemctl"'));
  });
});
