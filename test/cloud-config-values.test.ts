// Values as yip's Go decoders read them (research/yip-schema.md §8, checked against go-yaml v2
// and v3): derivc accepts what yip accepts and keeps rejecting what yip rejects or misreads, and
// the manifest's stages are emitted with the values yip would have read.

import { describe, expect, it } from 'vitest';
import { compile } from '../compiler/compile.js';
import { toolkitEra } from '../compiler/toolkit-era.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { bytes } from './golden/harness.js';
import { MemoryHost } from './support/memory-host.js';
import { runCli } from './support/cli.js';

function check(text: string, era = undefined as ReturnType<typeof toolkitEra> | undefined) {
  const host = new MemoryHost({ 'oem/10_x.yaml': text });
  const r = new ValidationSession(host).cloudConfigFile('oem/10_x.yaml', era);
  return { data: r.value, found: r.diagnostics.map((d) => [d.code, d.range?.start.line, d.message] as const) };
}

const step = (body: string) => `stages:\n  boot:\n    - ${body.replace(/\n/g, '\n      ')}\n`;

describe('accepted as yip accepts it', () => {
  it.each([
    ['an empty list', 'commands:'],
    ['an empty map', 'sysctl:'],
    ['an empty step list', null],
    ['booleans, numbers and empties as sysctl values', 'sysctl:\n  net.ipv4.ip_forward: true\n  vm.swappiness: 10\n  kernel.x:'],
    [
      'booleans in timesyncd, environment, systemd_firstboot',
      'timesyncd:\n  NTP: yes\nenvironment:\n  DEBUG: true\n  EMPTY:\nsystemd_firstboot:\n  force: true',
    ],
    ['YAML 1.1 words in a boolean field', 'users:\n  ops:\n    no_create_home: yes\n    lock_passwd: on\n    system: N'],
    ['any scalar in a string field', 'hostname: 1234\nif: true\nname: 5'],
    ['owner -1: leave it unchanged', 'files:\n  - path: /x\n    owner: -1\n    group: -1'],
    [
      'the newest keys',
      'only_os: Ubuntu\nonly_arch: amd64\nif_files:\n  none: [/x]\npackage_pins:\n  curl: 8.5.0\npackages:\n  install: [curl]\n  upgrade: true\nunpack_images:\n  - source: quay.io/x/y:1\n    target: /opt/y',
    ],
    [
      'swap, fat32 and unformatted partitions, a script:// device',
      'layout:\n  device:\n    path: script://lsblk -no PKNAME /dev/root\n    init_disk: true\n  add_partitions:\n    - fsLabel: SWAP\n      filesystem: swap\n    - fsLabel: EFI\n      filesystem: fat32\n      bootable: true\n    - pLabel: raw\n      filesystem: "-"',
    ],
  ])('%s', (_, body) => {
    const text = body === null ? 'stages:\n  boot:\n' : step(body);
    expect(check(text).found).toEqual([]);
  });

  it('a #cloud-config file: empty keys, unquoted write_files modes, the header after comment lines (yip v1.22+)', () => {
    const text =
      '# users of this machine\n\n#cloud-config\nname: accounts\nusers:\n  - name: ops\n    ssh_authorized_keys:\n    groups:\nwrite_files:\n  - path: /etc/x\n    permissions: 0600\nruncmd:\n';
    const { data, found } = check(text);
    expect(found).toEqual([]);
    expect((data as { write_files: { permissions: unknown }[] }).write_files[0]!.permissions).toBe('0600');
  });

  it('reads string fields as their text and YAML 1.1 booleans as booleans', () => {
    const { data } = check(step('only_os_version: 22.10\nhostname: 0x1F\nusers:\n  ops:\n    uid: 1000\n    no_create_home: Off'));
    expect((data as { stages: { boot: Record<string, unknown>[] } }).stages.boot[0]).toEqual({
      only_os_version: '22.10',
      hostname: '0x1F',
      users: { ops: { uid: '1000', no_create_home: false } },
    });
  });
});

describe('rejected as yip rejects it', () => {
  it.each([
    ['a quoted boolean', 'users:\n  ops:\n    lock_passwd: "true"', 'cloud-config/wrong-type'],
    ['a quoted YAML 1.1 word in a boolean field', 'users:\n  ops:\n    no_create_home: "yes"', 'cloud-config/wrong-type'],
    ['a quoted mode', 'files:\n  - path: /x\n    permissions: "0644"', 'cloud-config/quoted-permissions'],
    ['a string where yip wants a list', 'commands: echo hi', 'cloud-config/wrong-type'],
    ['a map as a sysctl value', 'sysctl:\n  a:\n    b: c', 'cloud-config/wrong-type'],
    ['a negative size', 'layout:\n  expand_partition:\n    size: -1', 'cloud-config/invalid-size'],
    ['an owner below -1', 'files:\n  - path: /x\n    owner: -2', 'cloud-config/invalid-owner'],
    ['an if_files check yip does not know', 'if_files:\n  some: [/x]', 'cloud-config/unknown-key'],
  ])('%s', (_, body, code) => {
    expect(check(step(body)).found.map((f) => f[0])).toContain(code);
  });

  it('a duplicate key (yaml.v3 rejects the file; yaml.v2 keeps the last)', () => {
    expect(check('stages:\n  boot:\n    - commands: [a]\n      commands: [b]\n').found.map((f) => f[0])).toEqual(['parse/duplicate-key']);
  });
});

describe('the header where an older yip does not look', () => {
  const late = '# ops\n#cloud-config\nhostname: node-1\n';
  it('is an error on an era before yip v1.22.0, fine on one after', () => {
    expect(check(late, toolkitEra('kairos', 'v3.7.2')).found).toEqual([
      [
        'cloud-config/late-header',
        2,
        '`#cloud-config` is on line 2; Kairos v3.7.2 runs mudler/yip v1.21.2, which reads it only on the first line, so it would ignore every cloud-init key in this file',
      ],
    ]);
    expect(check(late, toolkitEra('kairos', 'v4.1.0')).found).toEqual([]);
    expect(check(late).found).toEqual([]);
  });
});

describe("the manifest's stages", () => {
  it('are emitted with the values yip reads from the manifest', () => {
    const manifest = [
      'apiVersion: derivc.dev/v1alpha1',
      'kind: Derivative',
      'metadata: {name: values, version: "1"}',
      'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
      'toolkit: {source: image, image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"}',
      'stages:',
      '  boot:',
      '    - hostname: 0x1F',
      '      environment: {RELEASE: 22.10, ON: yes}',
      '      users:',
      '        ops: {no_create_home: yes, uid: 1000}',
      '',
    ].join('\n');
    const host = new MemoryHost({ 'derivative.yaml': manifest });
    const v = new ValidationSession(host).validate('derivative.yaml');
    expect(v.diagnostics).toEqual([]);
    const out = compile(v.value.manifest!, host, { version: '0.0.0-test' });
    const stages = out.value.files.find((f) => f.path.endsWith('_derivc_stages.yaml'))!;
    const text = new TextDecoder().decode(bytes(stages.content!));
    expect(text).toContain('hostname: "0x1F"');
    expect(text).toContain('RELEASE: "22.10"');
    expect(text).toContain('"ON": "yes"');
    expect(text).toContain('no_create_home: true');
    expect(text).toContain('uid: "1000"');
  });
});

describe('`derivc validate` of a file without apiVersion', () => {
  const host = new MemoryHost({
    // A Kairos user file: the header after a comment, Kairos keys, no `stages`.
    'kairos.yaml': '# node config\n#cloud-config\nusers:\n  - name: kairos\n    ssh_authorized_keys:\nk3s:\n  enabled: true\n',
    'yip.yaml': 'name: x\nstages:\n  boot:\n    - commands: [true]\nstage: {}\n',
    'manifest.yaml': 'kind: Derivative\nmetadata: {name: acme, version: "1"}\n',
  });

  it('checks it as cloud-config, never as a manifest', () => {
    expect(runCli(['validate', 'kairos.yaml'], { host })).toEqual({ code: 0, stdout: 'no problems\n', stderr: '' });
    const { code, stdout } = runCli(['validate', '--format', 'json', 'yip.yaml'], { host });
    expect(code).toBe(1);
    expect(JSON.parse(stdout).diagnostics.map((d: { code: string; hint: string }) => [d.code, d.hint])).toEqual([
      ['cloud-config/unknown-key', 'did you mean `stages`?'],
    ]);
  });

  it('but a manifest that lost its apiVersion line is told so', () => {
    expect(JSON.parse(runCli(['validate', '--format', 'json', 'manifest.yaml'], { host }).stdout).diagnostics.map((d: { code: string }) => d.code)).toEqual([
      'api/missing-version',
    ]);
  });
});
