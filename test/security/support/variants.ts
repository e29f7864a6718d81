// Kitchen-sink manifests for the injection sweep: between them, every string field of the
// manifest schema (and of a cloud-config step) holds a valid value, so the sweep can replace
// each one with hostile text. Three toolkit modes, because `system` compiles to different files
// with a toolkit (cloud-config) and without one (files and RUN steps at build time), and a Kairos
// era whose yip reads the newest directives (older toolkits would warn about them).

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIP1CeUAuee5uuKMgxEXjFzJn3j36cyqwyDxFpW3rVG48 ops@acme.example.com';
const SHA512 = '$6$Qh2vX9tLm3RkPz7a$nzvS8sapOrUbSo5s83V4UGnr/JageKDKvXPPym2akijoGiLW0MNPe6/ZLDX9FTRbqYkyh7VnurQ8f1eeEIzek/';

export interface Variant {
  name: string;
  manifest: Record<string, unknown>;
}

/** Files every variant's manifest names, relative to its directory. */
export const SUPPORT_FILES: Record<string, string> = {
  'files/tool.sh': '#!/bin/sh\necho tool\n',
  'overlay/etc/acme/overlay.conf': 'overlay=1\n',
  'oem/90_custom.yaml': 'stages:\n  boot:\n    - name: custom\n      commands: ["echo custom"]\n',
  'iso-overlay/README.txt': 'live\n',
};

/** One step with every directive a cloud-config step has, each string field set. */
const STEP = {
  name: 'every directive',
  if: '[ -f /etc/acme ]',
  node: 'acme-.*',
  files: [
    { path: '/etc/acme/a.conf', content: 'a=1\n', permissions: 0o644, owner: 0, group: 0, ownerstring: 'root:root' },
    { path: '/etc/acme/b.conf', content: 'Yj0yCg==', encoding: 'b64', permissions: 0o600 },
  ],
  directories: [{ path: '/var/lib/acme', permissions: 0o755, owner: 0, group: 0 }],
  downloads: [{ path: '/opt/acme/tool', url: 'https://acme.example.com/tool', permissions: 0o755, owner: 0, group: 0, ownerstring: 'root:root', timeout: 30 }],
  git: {
    url: 'https://git.example.com/acme/conf.git',
    path: '/opt/acme/conf',
    branch: 'main',
    branch_only: true,
    auth: { username: 'acme', password: 'secret', private_key: 'KEY', insecure: false, public_key: 'PUB' },
  },
  commands: ['echo step'],
  ensure_entities: [
    { path: '/etc/passwd', entity: 'kind: user\nusername: svc\npassword: x\nuid: 990\ngid: 990\ninfo: svc\nhomedir: /var/lib/svc\nshell: /sbin/nologin\n' },
  ],
  delete_entities: [{ path: '/etc/passwd', entity: 'kind: user\nusername: old\n' }],
  users: {
    svc: {
      name: 'svc',
      passwd: '!',
      lock_passwd: true,
      groups: ['wheel'],
      ssh_authorized_keys: [ED25519],
      primary_group: 'svc',
      gecos: 'Service account',
      homedir: '/var/lib/svc',
      shell: '/sbin/nologin',
      uid: '990',
      system: true,
      no_create_home: false,
    },
  },
  authorized_keys: { svc: [ED25519] },
  hostname: 'acme-{{ trunc 4 .MachineID }}',
  dns: { nameservers: ['9.9.9.9'], search: ['acme.internal'], options: ['rotate'], path: '/etc/resolv.conf' },
  sysctl: { 'vm.swappiness': '10' },
  modules: ['overlay'],
  systemctl: { enable: ['sshd'], disable: ['systemd-timesyncd'], start: ['sshd'], mask: ['ctrl-alt-del.target'] },
  environment: { ACME_STEP: 'yes' },
  environment_file: '/etc/acme/env',
  timesyncd: { NTP: 'pool.ntp.org' },
  systemd_firstboot: { keymap: 'us' },
  datasource: { providers: ['cdrom'], path: '/oem' },
  layout: {
    device: { label: 'COS_PERSISTENT', path: '/dev/sda' },
    expand_partition: { size: 0 },
    add_partitions: [{ fsLabel: 'DATA', size: 100, pLabel: 'data', filesystem: 'ext4' }],
  },
};

/** The directives newer yip releases added (v1.0 … v1.24), each string field set. */
const NEWER_STEP = {
  name: 'newer directives',
  only_os: 'openSUSE.*',
  only_os_version: '15[.].*',
  only_arch: 'amd64',
  only_service_manager: 'systemd',
  if_files: { any: ['/etc/acme'], all: ['/etc/os-release'], none: ['/etc/acme/off'] },
  after: [{ name: 'acme.every directive' }],
  systemctl: { overrides: [{ service: 'sshd', name: 'acme', content: '[Service]\nRestart=always\n' }] },
  datasource: { providers: ['cdrom'], userdata_name: 'userdata.yaml' },
  layout: { device: { path: '/dev/sda', init_disk: true, disk_name: 'ACME_DISK' }, add_partitions: [{ fsLabel: 'SWAP', filesystem: 'swap', bootable: false }] },
  package_pins: { curl: '8.5.0' },
  packages: { install: ['curl'], remove: ['nano'], refresh: true, upgrade: false },
  unpack_images: [{ source: 'quay.io/acme/tools:1', target: '/opt/tools', platform: 'linux/amd64' }],
};

function base(name: string, toolkit: Record<string, unknown>, steps: Record<string, unknown>[] = [STEP]): Record<string, unknown> {
  return {
    apiVersion: 'derivc.dev/v1alpha1',
    kind: 'Derivative',
    metadata: {
      name: 'acme-os',
      version: '1.4.0',
      description: 'Acme OS for edge nodes',
      vendor: 'Acme Corp.',
      url: 'https://acme.example.com/os',
      labels: { 'com.acme.team': 'platform' },
      osRelease: { PRETTY_NAME: 'Acme OS {{version}}', IMAGE_REPO: '{{image}}' },
    },
    base: { image: 'registry.opensuse.org/opensuse/leap:15.5', family: 'opensuse', platform: 'linux/amd64' },
    toolkit,
    packages: {
      repositories: [
        {
          name: 'utilities',
          url: 'https://packages.example.com/opensuse/utilities/15.5/',
          gpgKeyUrl: 'https://packages.example.com/opensuse/utilities/15.5/repodata/repomd.xml.key',
          auth: { username: 'acme-ci', env: 'DERIVC_SECRET_UTILITIES' },
        },
      ],
      disableRepositories: ['repo-oss'],
      upgrade: true,
      kernel: 'kernel-default',
      install: ['openssh-server', 'curl', { name: 'raspberrypi-firmware', platforms: ['linux/amd64'] }],
      remove: ['nano', { name: 'vim-small', platforms: ['linux/amd64'] }],
    },
    files: [
      { path: '/etc/motd', content: 'Acme OS\n', mode: '0644', owner: 'root:root' },
      { path: '/usr/sbin/acme-tool', source: 'files/tool.sh', mode: '0755', owner: '0:0' },
      { path: '/etc/acme/build', content: '{{name}} {{version}}\n', template: true },
      { path: '/usr/local/bin/k9s', url: 'https://downloads.example.com/k9s/k9s_Linux_amd64', sha256: 'a'.repeat(64), mode: '0755' },
      { path: '/etc/localtime', symlink: '/usr/share/zoneinfo/Europe/Berlin', owner: '0:0' },
      { path: '/var/lib/acme', directory: true, owner: '0:0' },
      { path: '/usr/share/doc', absent: true },
      { path: '/etc/ssh/sshd_config', mode: '0600' },
    ],
    overlay: 'overlay',
    system: {
      hostname: 'acme-node',
      timezone: 'Europe/Berlin',
      keymap: 'de-latin1',
      locale: 'en_US.UTF-8',
      users: [{ name: 'ops', passwordHash: SHA512, sshAuthorizedKeys: [ED25519], groups: ['wheel'], shell: '/bin/bash', homeDir: '/home/ops', uid: 1000 }],
      sysctl: { 'vm.swappiness': '10' },
      modules: ['br_netfilter'],
      services: { enable: ['sshd'], disable: ['systemd-timesyncd'], mask: ['ctrl-alt-del.target'] },
      environment: { ACME_ENV: 'production' },
      dns: { nameservers: ['9.9.9.9'], search: ['acme.internal'], options: ['rotate'] },
    },
    ...(name === 'bare'
      ? {}
      : {
          layout: {
            volumes: [
              { label: 'ACME_OEM', mountpoint: '/oem' },
              { uuid: '0b5d1c4e-6f8a-4f3e-9c1d-2a7b8e9f0a1b', mountpoint: '/srv' },
            ],
            overlay: 'tmpfs:25%',
            rwPaths: ['/etc', '/srv'],
            persistentPaths: ['/home', '/var/lib'],
            persistentTarget: '/usr/local/.state',
            persistentBind: true,
          },
          stages: { initramfs: steps, 'network.after': [{ name: 'second', commands: ['echo two'] }] },
          oemDir: 'oem',
        }),
    boot: {
      grubEntryName: 'Acme OS',
      cmdline: ['net.ifnames=0'],
      console: ['tty1', 'ttyS0,115200n8'],
      labels: {
        oem: 'ACME_OEM',
        state: 'ACME_STATE',
        recovery: 'ACME_RECOVERY',
        persistent: 'ACME_PERSISTENT',
        active: 'ACME_ACTIVE',
        passive: 'ACME_PASSIVE',
        system: 'ACME_SYSTEM',
      },
      selinux: false,
    },
    upgrade: { image: 'registry.acme.example.com/acme/acme-os', recoveryImage: 'registry.acme.example.com/acme/acme-recovery', channel: false, verify: false },
    build: {
      tags: ['registry.acme.example.com/acme/acme-os:1.4.0'],
      args: { ACME_BUILD: 'ci' },
      labels: { 'com.acme.build': 'ci' },
      env: { ACME_ENV: 'build' },
      steps: [
        // The string form is the user's own shell by definition; the list form reaches none.
        { name: 'acme script', at: 'after-files', run: 'echo acme > /etc/acme-built' },
        { name: 'acme exec', at: 'final', run: ['touch', '/var/lib/acme-built'] },
      ],
    },
    targets: {
      iso: { label: 'ACME_LIVE', firmware: ['bios', 'uefi'], compression: 'zstd', name: 'acme-live', overlay: 'iso-overlay' },
      raw: { format: 'raw', firmware: ['uefi', 'bios'], size: '8GiB', partitions: { oem: '64MiB', state: '4GiB', recovery: '2GiB', persistent: 'rest' } },
      ova: { cpus: 2, memory: '2GiB', diskSize: '16GiB', osType: 'otherLinux64Guest', firmware: 'bios', network: 'nat' },
      packer: {
        // VirtualBox and VMware install from the live ISO: a bare derivative has no installer (targets/packer-no-installer).
        builders:
          name === 'bare'
            ? ['qemu', 'amazon-ebs', 'googlecompute', 'azure-arm']
            : ['qemu', 'virtualbox-iso', 'vmware-iso', 'amazon-ebs', 'googlecompute', 'azure-arm'],
        qemu: { accelerator: 'kvm', cpus: 2, memory: '2GiB', diskSize: '20GiB', headless: true, format: 'qcow2' },
        virtualboxIso: { cpus: 2, memory: '2GiB', diskSize: '20GiB', headless: true, guestOsType: 'OpenSUSE_64', firmware: 'efi' },
        vmwareIso: { cpus: 2, memory: '2GiB', diskSize: '20GiB', guestOsType: 'opensuse-64', hardwareVersion: 19 },
        amazonEbs: {
          region: 'eu-central-1',
          instanceType: 'm6i.large',
          amiName: 'acme-os-1.4.0',
          volumeSize: '20GiB',
          volumeType: 'gp3',
          subnetId: 'subnet-0123456789abcdef0',
        },
        googlecompute: { projectId: 'acme-images', zone: 'europe-west1-b', machineType: 'n2-standard-2', imageFamily: 'acme-os', diskSize: '20GiB' },
        azureArm: { location: 'westeurope', vmSize: 'Standard_D4s_v5', resourceGroup: 'acme-images', imageName: 'acme-os-1.4.0', osDiskSizeGb: 30 },
      },
    },
    tests: { boot: { firmware: ['bios', 'uefi'], media: ['iso', 'raw'], timeout: '5m', expect: ['login:'], forbid: ['Kernel panic'] } },
  };
}

export const VARIANTS: Variant[] = [
  { name: 'bare', manifest: base('bare', { source: 'none' }) },
  {
    name: 'luet',
    manifest: base('luet', {
      source: 'luet',
      luetImage: 'quay.io/luet/base:0.32.0',
      repository: 'quay.io/costoolkit/releases-green',
      packages: ['meta/cos-minimal'],
    }),
  },
  {
    name: 'elemental',
    manifest: base('elemental', {
      source: 'image',
      image: 'ghcr.io/rancher/elemental-toolkit/elemental-cli:v1.1.8',
      mode: 'elemental',
      binary: '/usr/bin/elemental',
      features: ['grub-config', 'grub-default-bootargs'],
      luetImage: 'quay.io/luet/base:0.32.0',
      packages: ['utils/k9s'],
      repository: { url: 'quay.io/acme/luet', reference: '20240101000000-repository.yaml', verify: true },
    }),
  },
  {
    name: 'kairos',
    manifest: base('kairos', { source: 'image', mode: 'framework', image: 'quay.io/kairos/framework:v2.22.0', flavor: 'kairos', version: 'v4.2.0' }, [
      NEWER_STEP,
    ]),
  },
];

/** Ubuntu: the apt-only repository keys (suites, components, a pin priority, credentials from a file) and a PPA. */
export const APT: Variant = {
  name: 'apt',
  manifest: {
    apiVersion: 'derivc.dev/v1alpha1',
    kind: 'Derivative',
    metadata: { name: 'acme-apt', version: '1.4.0' },
    base: { image: 'ubuntu:22.04', family: 'ubuntu' },
    packages: {
      repositories: [
        {
          name: 'mirror',
          url: 'https://mirror.acme.example.com/ubuntu/',
          gpgKeyUrl: 'https://mirror.acme.example.com/key.gpg',
          gpgCheck: true,
          priority: 900,
          suites: ['jammy', 'jammy-updates'],
          components: ['main', 'universe'],
          auth: { username: 'acme-ci', file: 'secrets/mirror.txt' },
        },
        { name: 'git', ppa: 'git-core/ppa' },
      ],
      install: ['git'],
    },
  },
};

/** A downstream of the luet variant: the only place `base.derivative` is set. */
export const DOWNSTREAM: Variant = {
  name: 'downstream',
  manifest: {
    apiVersion: 'derivc.dev/v1alpha1',
    kind: 'Derivative',
    metadata: { name: 'acme-edge', version: '1.4.0' },
    base: { derivative: 'upstream/derivative.yaml' },
    system: { hostname: 'acme-edge' },
    // `digest` would need a pushed upstream (compile warns without one): the sweep's `tag` reaches the same slot.
    build: { pin: 'tag' },
  },
};
