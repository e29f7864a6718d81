// The packages block and build steps, per family: the base's repositories disabled, repositories
// added (files in the family's own format, apt keys, PPAs), the upgrade, the boot glue with the
// chosen kernel, per-platform packages; build.env and build.steps at their four points. Every
// manifest value is an exec-form argument of a static script or a line of a repository file.

import { describe, expect, it } from 'vitest';
import { compile, type Compiled } from '../compiler/compile.js';
import { FAMILY_INFO } from '../compiler/families.js';
import { contentBytes } from '../cli/content.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { execArgs, parseDockerfile } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

const IMAGES = {
  opensuse: 'registry.opensuse.org/opensuse/leap:15.5',
  fedora: 'registry.fedoraproject.org/fedora:40',
  ubuntu: 'ubuntu:22.04',
  debian: 'debian:12',
} as const;
type Family = keyof typeof IMAGES;

function compiled(family: Family, ...lines: string[]): Compiled {
  return compiledOn('linux/amd64', family, ...lines);
}

function compiledOn(platform: string, family: Family, ...lines: string[]): Compiled {
  const manifest = [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    'metadata: {name: p, version: "1.0"}',
    `base: {image: "${IMAGES[family]}", platform: ${platform}}`,
    ...lines,
    '',
  ];
  const host = new MemoryHost({ 'derivative.yaml': manifest.join('\n') });
  const v = new ValidationSession(host).validate('derivative.yaml');
  expect(v.diagnostics).toEqual([]);
  const c = compile(v.value.manifest!, host, { version: '0.0.0-test' });
  expect(c.diagnostics).toEqual([]);
  return c.value;
}

/** The instructions as `KEYWORD args` (RUN as its exec arguments joined by ` | `, to keep arguments apart). */
function instructions(c: Compiled): string[] {
  return parseDockerfile(file(c, 'Dockerfile')).instructions.map((i) =>
    i.getKeyword() === 'RUN' ? `RUN ${execArgs(i).join(' | ')}` : `${i.getKeyword()} ${i.getRawArgumentsContent()}`,
  );
}

function file(c: Compiled, path: string): string {
  const f = c.files.find((x) => x.path === path);
  if (!f || f.content === undefined) throw new Error(`no regular file ${path} in ${c.files.map((x) => x.path).join(', ')}`);
  return new TextDecoder().decode(contentBytes(f.content));
}

/** A file without its generated-by header line. */
const body = (c: Compiled, path: string) => file(c, path).split('\n').slice(1).join('\n');

/** The RUN lines of the packages block: everything before the initrd, the FROM lines aside. */
const beforeInitrd = (c: Compiled) => {
  const ins = instructions(c).filter((i) => !i.startsWith('FROM '));
  return ins.slice(0, ins.indexOf('COPY boot/ /'));
};

const FULL = (kernel: string, priority: number) => [
  'packages:',
  '  disableRepositories: [base-one, base-two]',
  '  repositories:',
  `    - {name: mirror, url: "https://mirror.example.com/os/", gpgKeyUrl: "https://mirror.example.com/key.gpg", priority: ${priority}}`,
  '  upgrade: true',
  `  kernel: ${kernel}`,
  '  install: [vim, {name: amd-tool, platforms: [linux/amd64]}, {name: arm-tool, platforms: [linux/arm64]}]',
  '  remove: [{name: nano, platforms: [linux/amd64, linux/arm64]}]',
];

// The scripts are the family's (compiler/families.ts; their text is pinned by the goldens). Their
// mounts, which the classic builder drops, are in test/package-mounts.test.ts.
const ZYPPER_INSTALL = FAMILY_INFO.opensuse.install;
const DNF_INSTALL = FAMILY_INFO.fedora.install;
const APT_INSTALL = FAMILY_INFO.debian.install;
const APT_UPGRADE = FAMILY_INFO.debian.upgrade;
const DISABLE = ['COPY packages/usr/lib/derivc/disable-repositories.sh /usr/lib/derivc/disable-repositories.sh'];

describe('the packages block, per family, in order: disable, repositories, upgrade, boot glue, install, remove', () => {
  it('opensuse: .repo files in /etc/zypp/repos.d, `enabled=0` for the disabled ones, zypper update', () => {
    const c = compiled('opensuse', ...FULL('kernel-longterm', 10));
    expect(beforeInitrd(c)).toEqual([
      ...DISABLE,
      'RUN /bin/sh | /usr/lib/derivc/disable-repositories.sh | /etc/zypp/repos.d | base-one | base-two',
      'COPY repos/ /',
      `RUN /bin/sh | -c | ${FAMILY_INFO.opensuse.upgrade} | derivc`,
      `RUN /bin/sh | -c | ${ZYPPER_INSTALL} | derivc | kernel-longterm | dracut | grub2 | grub2-i386-pc | grub2-x86_64-efi | systemd | systemd-sysvinit | squashfs | dosfstools | e2fsprogs | gptfdisk | parted | rsync`,
      `RUN /bin/sh | -c | ${ZYPPER_INSTALL} | derivc | vim | amd-tool`,
      `RUN /bin/sh | -c | ${FAMILY_INFO.opensuse.remove} | derivc | nano`,
    ]);
    expect(body(c, 'repos/etc/zypp/repos.d/mirror.repo')).toBe(
      [
        '[mirror]',
        'name=mirror',
        'baseurl=https://mirror.example.com/os/',
        'enabled=1',
        'autorefresh=1',
        'gpgcheck=1',
        'gpgkey=https://mirror.example.com/key.gpg',
        'priority=10',
        '',
      ].join('\n'),
    );
  });

  it('fedora: .repo files in /etc/yum.repos.d, dnf upgrade', () => {
    const c = compiled('fedora', ...FULL('kernel-lts', 50));
    expect(beforeInitrd(c)).toEqual([
      ...DISABLE,
      'RUN /bin/sh | /usr/lib/derivc/disable-repositories.sh | /etc/yum.repos.d | base-one | base-two',
      'COPY repos/ /',
      `RUN /bin/sh | -c | ${FAMILY_INFO.fedora.upgrade} | derivc`,
      `RUN /bin/sh | -c | ${DNF_INSTALL} | derivc | kernel-lts | dracut | dracut-live | grub2 | grub2-pc | grub2-efi-x64 | grub2-efi-x64-modules | shim-x64 | systemd | squashfs-tools | dosfstools | e2fsprogs | parted | rsync`,
      `RUN /bin/sh | -c | ${DNF_INSTALL} | derivc | vim | amd-tool`,
      `RUN /bin/sh | -c | ${FAMILY_INFO.fedora.remove} | derivc | nano`,
    ]);
    expect(body(c, 'repos/etc/yum.repos.d/mirror.repo')).toBe(
      [
        '[mirror]',
        'name=mirror',
        'baseurl=https://mirror.example.com/os/',
        'enabled=1',
        'gpgcheck=1',
        'gpgkey=https://mirror.example.com/key.gpg',
        'priority=50',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['ubuntu', 'linux-image-generic-hwe-22.04'],
    ['debian', 'linux-image-rt-amd64'],
  ] as const)('%s: deb822 sources, the key added readable by _apt, a pin file for the priority, apt-get dist-upgrade', (family, kernel) => {
    const c = compiled(family, ...FULL(kernel, 900));
    expect(beforeInitrd(c)).toEqual([
      ...DISABLE,
      'RUN /bin/sh | /usr/lib/derivc/disable-repositories.sh | apt | base-one | base-two',
      'COPY repos/ /',
      'ADD ["https://mirror.example.com/key.gpg","/etc/apt/keyrings/mirror.gpg"]',
      'RUN chmod | 0644 | /etc/apt/keyrings/mirror.gpg',
      `RUN /bin/sh | -c | ${APT_UPGRADE} | derivc`,
      `RUN /bin/sh | -c | ${APT_INSTALL} | derivc | ${kernel} | dracut | dracut-live | systemd | systemd-sysv | grub-common | grub-pc-bin | grub-efi-amd64-bin | squashfs-tools | e2fsprogs | dosfstools | parted | rsync`,
      `RUN /bin/sh | -c | ${APT_INSTALL} | derivc | vim | amd-tool`,
      `RUN /bin/sh | -c | ${FAMILY_INFO[family].remove} | derivc | nano`,
    ]);
    expect(body(c, 'repos/etc/apt/sources.list.d/mirror.sources')).toBe(
      ['Types: deb', 'URIs: https://mirror.example.com/os/', 'Suites: /', 'Signed-By: /etc/apt/keyrings/mirror.gpg', ''].join('\n'),
    );
    expect(body(c, 'repos/etc/apt/preferences.d/mirror.pref')).toBe(['Package: *', 'Pin: origin "mirror.example.com"', 'Pin-Priority: 900', ''].join('\n'));
  });

  it('installs no kernel with `kernel: none`, and the family default without `kernel`, per architecture', () => {
    const glue = (c: Compiled) => beforeInitrd(c)[0]!.split(' | ').slice(4, 6);
    expect(glue(compiled('debian', 'packages: {kernel: none}'))).toEqual(['dracut', 'dracut-live']);
    expect(glue(compiled('debian'))).toEqual(['linux-image-amd64', 'dracut']);
    expect(glue(compiledOn('linux/arm64', 'debian'))).toEqual(['linux-image-arm64', 'dracut']);
    expect(glue(compiled('ubuntu'))).toEqual(['linux-image-generic', 'dracut']);
    expect(glue(compiled('fedora'))).toEqual(['kernel', 'dracut']);
    expect(glue(compiled('opensuse', 'packages: {kernel: none}'))).toEqual(['dracut', 'grub2']);
  });

  it('picks per-platform items for the platform built, and leaves out a step with nothing for it', () => {
    const lists =
      'packages: {install: [vim, {name: amd-tool, platforms: [linux/amd64]}, {name: arm-tool, platforms: [linux/arm64]}], remove: [{name: x, platforms: [linux/amd64]}]}';
    const amd = beforeInitrd(compiled('opensuse', lists));
    expect(amd.slice(-2)).toEqual([
      `RUN /bin/sh | -c | ${ZYPPER_INSTALL} | derivc | vim | amd-tool`,
      `RUN /bin/sh | -c | ${FAMILY_INFO.opensuse.remove} | derivc | x`,
    ]);
    const arm = beforeInitrd(compiledOn('linux/arm64', 'opensuse', lists));
    expect(arm.at(-1)).toBe(`RUN /bin/sh | -c | ${ZYPPER_INSTALL} | derivc | vim | arm-tool`);
    expect(arm.filter((i) => i.includes(' remove '))).toEqual([]);
  });
});

describe('repository forms', () => {
  it('apt: suites with components, a flat repository, `gpgCheck: false` as `Trusted: yes`', () => {
    const c = compiled(
      'debian',
      'packages:',
      '  repositories:',
      '    - {name: normal, url: "https://deb.example.com/debian/", suites: [bookworm, bookworm-updates], components: [main, contrib]}',
      '    - {name: flat-sub, url: "https://deb.example.com/flat/", suites: [amd64/, all/]}',
    );
    expect(body(c, 'repos/etc/apt/sources.list.d/normal.sources')).toBe(
      ['Types: deb', 'URIs: https://deb.example.com/debian/', 'Suites: bookworm bookworm-updates', 'Components: main contrib', ''].join('\n'),
    );
    expect(body(c, 'repos/etc/apt/sources.list.d/flat-sub.sources')).toBe(
      ['Types: deb', 'URIs: https://deb.example.com/flat/', 'Suites: amd64/ all/', ''].join('\n'),
    );
  });

  it('unchecked signatures: `Trusted: yes` for apt, `gpgcheck=0` for rpm, each a warning at the key', () => {
    const manifest = (image: string) =>
      [
        'apiVersion: derivc.dev/v1alpha1',
        'kind: Derivative',
        'metadata: {name: p, version: "1.0"}',
        `base: {image: "${image}"}`,
        'packages: {repositories: [{name: lab, url: "http://lab.example.com/r/", gpgCheck: false}]}',
        '',
      ].join('\n');
    for (const [image, path, line] of [
      [IMAGES.debian, 'repos/etc/apt/sources.list.d/lab.sources', 'Trusted: yes'],
      [IMAGES.fedora, 'repos/etc/yum.repos.d/lab.repo', 'gpgcheck=0'],
    ] as const) {
      const host = new MemoryHost({ 'derivative.yaml': manifest(image) });
      const v = new ValidationSession(host).validate('derivative.yaml');
      expect(v.diagnostics.map((d) => [d.code, d.severity, d.pointer])).toEqual([['packages/no-gpg-check', 'warning', '/packages/repositories/0/gpgCheck']]);
      const c = compile(v.value.manifest!, host, { version: '0.0.0-test' }).value;
      expect(file(c, path).split('\n')).toContain(line);
    }
  });

  it('ubuntu PPAs: add-ppa.sh with each `owner/name` as an argument, no repos/ copy without a URL repository', () => {
    const c = compiled('ubuntu', 'packages: {repositories: [{name: git, ppa: git-core/ppa}, {name: py, ppa: deadsnakes/ppa}]}');
    expect(beforeInitrd(c).slice(0, 2)).toEqual([
      'COPY packages/usr/lib/derivc/add-ppa.sh /usr/lib/derivc/add-ppa.sh',
      'RUN /bin/sh | /usr/lib/derivc/add-ppa.sh | git-core/ppa | deadsnakes/ppa',
    ]);
    expect(c.files.filter((f) => f.path.startsWith('repos/'))).toEqual([]);
    const script = file(c, 'packages/usr/lib/derivc/add-ppa.sh');
    // A static script: the manifest's values arrive as "$@" only.
    expect(script).not.toMatch(/git-core|deadsnakes/);
    expect(script).toContain('add-apt-repository -y "ppa:$ppa"');
  });

  it('the static scripts are the same bytes for every manifest but their header', () => {
    const a = compiled('debian', 'packages: {disableRepositories: [debian]}');
    const b = compiled('ubuntu', 'packages: {disableRepositories: [ubuntu, sources.list]}');
    expect(body(a, 'packages/usr/lib/derivc/disable-repositories.sh')).toBe(body(b, 'packages/usr/lib/derivc/disable-repositories.sh'));
  });
});

describe('build.env and build.steps', () => {
  const STEPS = [
    'build:',
    '  env: {ZED: "last $HOME", ALPHA: "first \\"quoted\\""}',
    '  steps:',
    '    - {name: after packages, at: after-packages, run: [touch, /a]}',
    '    - {name: after toolkit, at: after-toolkit, run: [touch, /b]}',
    '    - {name: after files, run: "touch /c && echo \\"$ALPHA\\""}',
    '    - {name: last, at: final, run: [touch, /d]}',
  ];

  it('runs each step at its point, each its own RUN in exec form; ENV sorted, just before the first step', () => {
    const c = compiled('opensuse', 'toolkit: {source: luet}', 'files: [{path: /etc/motd, content: hi}]', ...STEPS);
    const ins = instructions(c);
    const at = (prefix: string) => ins.findIndex((i) => i.startsWith(prefix));
    const order = [
      at('RUN /bin/sh | -c | ' + ZYPPER_INSTALL),
      at('ENV ALPHA'),
      at('RUN touch | /a'),
      at('COPY luet/luet.yaml'),
      at('RUN touch | /b'),
      at('COPY files/'),
      at('RUN /bin/sh | -eu | -c'),
      at('RUN /bin/sh | /usr/lib/derivc/initrd.sh'),
      at('COPY rootfs/'),
      at('RUN touch | /d'),
      at('LABEL'),
    ];
    expect(
      order.filter((x) => x < 0),
      ins.join('\n'),
    ).toEqual([]);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(ins.slice(at('ENV ALPHA'), at('ENV ALPHA') + 2)).toEqual(['ENV ALPHA="first \\"quoted\\""', 'ENV ZED="last \\$HOME"']);
    // The string form is the user's shell, exactly as written.
    expect(ins[at('RUN /bin/sh | -eu | -c')]).toBe('RUN /bin/sh | -eu | -c | touch /c && echo "$ALPHA"');
    expect(c.steps.filter((s) => s.pointer.startsWith('/build')).map((s) => [s.pointer, s.comment])).toEqual([
      ['/build/env', 'environment (build.env)'],
      ['/build/steps/0', 'build step "after packages" (after-packages)'],
      ['/build/steps/1', 'build step "after toolkit" (after-toolkit)'],
      ['/build/steps/2', 'build step "after files" (after-files)'],
      ['/build/steps/3', 'build step "last" (final)'],
    ]);
  });

  it('puts ENV right after the initrd without steps, and before the first final step with final steps only', () => {
    const none = instructions(compiled('debian', 'build: {env: {A: "1"}}'));
    expect(none[none.indexOf('RUN /bin/sh | /usr/lib/derivc/initrd.sh') + 1]).toBe('ENV A="1"');
    const final = instructions(compiled('debian', 'build: {env: {A: "1"}, steps: [{name: x, at: final, run: [/bin/true]}]}'));
    expect(final.slice(-5, -2)).toEqual(['ENV A="1"', 'RUN /bin/true', expect.stringMatching(/^LABEL /)]);
  });

  it('with `elemental init` building the initrd: a step after the toolkit makes derivc build it again; one before it or a final one does not', () => {
    const toolkit = 'toolkit: {source: image, image: "ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2"}';
    const initrd = (at: string) =>
      instructions(compiled('opensuse', toolkit, `build: {steps: [{name: s, at: ${at}, run: [/bin/true]}]}`)).filter((i) =>
        i.includes('/usr/lib/derivc/initrd.sh'),
      );
    expect(initrd('after-toolkit')).toEqual(['RUN /bin/sh | /usr/lib/derivc/initrd.sh']);
    expect(initrd('after-files')).toEqual(['RUN /bin/sh | /usr/lib/derivc/initrd.sh']);
    expect(initrd('after-packages')).toEqual(['RUN /bin/sh | /usr/lib/derivc/initrd.sh | --check']);
    expect(initrd('final')).toEqual(['RUN /bin/sh | /usr/lib/derivc/initrd.sh | --check']);
  });

  it('keeps the cache: a runtime setting changes nothing up to the initrd (packages, repositories, steps, the initrd itself)', () => {
    const lines = [...FULL('linux-image-generic', 900), 'toolkit: {source: luet}', ...STEPS];
    const a = compiled('ubuntu', ...lines);
    const b = compiled(
      'ubuntu',
      ...lines,
      'system: {hostname: other, users: [{name: ops, groups: [wheel]}], sysctl: {vm.swappiness: 1}}',
      'boot: {cmdline: [quiet], selinux: true}',
      'upgrade: {image: registry.example.com/acme/os}',
    );
    const upToInitrd = (c: Compiled) => {
      const ins = instructions(c);
      return ins.slice(0, ins.indexOf('RUN /bin/sh | /usr/lib/derivc/initrd.sh') + 1);
    };
    expect(upToInitrd(b)).toEqual(upToInitrd(a));
    // …nor anything those instructions copy in.
    const copied = (c: Compiled) =>
      c.files
        .filter((f) => /^(repos|packages|boot|luet)\//.test(f.path))
        .map((f) => [f.path, f.content === undefined ? `-> ${f.symlink}` : new TextDecoder().decode(contentBytes(f.content)).split('\n').slice(1).join('\n')]);
    expect(copied(b)).toEqual(copied(a));
  });

  it('reports a failing step at its line, by name (duplicate lines map in order)', async () => {
    const { instructionOrigins } = await import('../cli/build/steps.js');
    const c = compiled('debian', 'build: {steps: [{name: one, run: [make]}, {name: two, at: final, run: [make]}]}');
    const makes = instructionOrigins(c).filter((o) => o.instruction === 'RUN ["make"]');
    expect(makes.map((o) => o.pointer)).toEqual(['/build/steps/0', '/build/steps/1']);
  });
});

describe('validation of the packages keys', () => {
  it('refuses a kernel in a downstream derivative, which installs no boot glue', () => {
    const head = ['apiVersion: derivc.dev/v1alpha1', 'kind: Derivative'];
    const host = new MemoryHost({
      'repo/.git/HEAD': 'ref: refs/heads/main\n',
      'repo/up/derivative.yaml': [...head, 'metadata: {name: up, version: "1.0"}', 'base: {image: "debian:12"}', ''].join('\n'),
      'repo/derivative.yaml': [
        ...head,
        'metadata: {name: down, version: "1.0"}',
        'base: {derivative: up/derivative.yaml}',
        'packages: {kernel: linux-image-rt-amd64}',
        '',
      ].join('\n'),
    });
    const v = new ValidationSession(host).validate('repo/derivative.yaml');
    expect(v.diagnostics.map((d) => [d.code, d.pointer, d.range?.start.line])).toEqual([['packages/kernel-downstream', '/packages/kernel', 5]]);
  });
});
