// What differs per distro family: the package manager (as fixed scripts that take package names
// as arguments, never interpolated), where repository files go, and the boot glue packages.

import type { Family } from './family.js';

export type Arch = 'amd64' | 'arm64';

export interface FamilyInfo {
  /**
   * `sh -c` script installing "$@"; packages arrive as positional arguments. Like `remove` and
   * `upgrade` it works with and without the `cache` mounts: it tells by the first one being a mount
   * point, keeps downloads there when it is (BuildKit), and cleans up in the image when it is not.
   */
  install: string;
  /** `sh -c` script removing "$@". */
  remove: string;
  /** `sh -c` script for a full distribution upgrade (`packages.upgrade`); takes no arguments. */
  upgrade: string;
  /** The kernel package the boot glue installs unless `packages.kernel` names another. */
  kernel(arch: Arch): string;
  /** Dracut (+ dracut-live), GRUB, systemd, squashfs and partitioning tools the contract needs (the kernel aside). */
  bootGlue(arch: Arch): string[];
  /** Repository file for a package repository, or undefined when the family uses another form. */
  repoFile: 'rpm' | 'apt';
  /** The luet toolkit flavor (cOS repositories), when the toolkit published one. */
  luetFlavor?: string;
  /** Where the package manager keeps downloads and metadata: BuildKit cache mounts of its RUN steps (the first is the one the scripts test). */
  cache: string[];
}

/** The scripts' test for the cache mount: a line of /proc/self/mountinfo has it as mount point. */
const mounted = (dir: string) => `grep -qs ' ${dir} ' /proc/self/mountinfo`;

// apt-get keeps what it downloads by default; Docker's Debian and Ubuntu images add a hook
// (apt.conf.d/docker-clean) that deletes /var/cache/apt/archives/*.deb after every run, so
// downloads go to a directory of the cache the hook does not name.
const APT_CACHED = '-o Dir::Cache::Archives=/var/cache/apt/derivc-archives/ -o APT::Keep-Downloaded-Packages=true';
const aptPrelude = `set -eu; export DEBIAN_FRONTEND=noninteractive INITRD=No; o=; if ${mounted('/var/cache/apt')}; then o='${APT_CACHED}'; fi`;
const APT_CLEAN = 'if [ -z "$o" ]; then apt-get clean; rm -rf /var/lib/apt/lists/*; fi';

// zypper keeps packages only of repositories marked keeppackages: with the cache mounted it reads
// copies of the repository files that say so, in the cache (the image's files stay as they are).
const ZYPPER_REPOS = '/var/cache/zypp/derivc-repos.d';
const zypperPrelude = [
  'set -eu',
  "z='zypper --non-interactive'",
  `if ${mounted('/var/cache/zypp')}; then rm -rf ${ZYPPER_REPOS}; mkdir -p ${ZYPPER_REPOS}; for f in /etc/zypp/repos.d/*.repo; do [ -e "$f" ] || continue; sed -e '/^keeppackages[[:space:]]*=/d' -e 's/^\\[.*\\]$/&\\nkeeppackages=1/' "$f" > "${ZYPPER_REPOS}/\${f##*/}"; done; z="$z --reposd-dir ${ZYPPER_REPOS}"; fi`,
].join('; ');
const ZYPPER_CLEAN = `if ! ${mounted('/var/cache/zypp')}; then zypper clean --all; fi`;

// dnf 4 caches in /var/cache/dnf, dnf 5 in /var/cache/libdnf5; keepcache keeps the packages.
const dnfPrelude = `set -eu; o=; if ${mounted('/var/cache/dnf')}; then o='--setopt=keepcache=True'; fi`;
const DNF_CLEAN = 'if [ -z "$o" ]; then dnf clean all; fi';

// INITRD=No: Debian's kernel hooks would build an initrd on every kernel install; derivc builds
// the one that counts once, later (initrd.sh).
const apt = (kernel: (arch: Arch) => string): Omit<FamilyInfo, 'luetFlavor'> => ({
  install: `${aptPrelude}; apt-get $o update; apt-get $o install -y --no-install-recommends "$@"; ${APT_CLEAN}`,
  remove: `${aptPrelude}; apt-get $o purge -y --auto-remove "$@"; if [ -z "$o" ]; then apt-get clean; fi`,
  // confold: a configuration file the image changed stays as it is, without a question.
  upgrade: `${aptPrelude}; apt-get $o update; apt-get $o dist-upgrade -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold; ${APT_CLEAN}`,
  kernel,
  bootGlue: (arch) => [
    'dracut',
    'dracut-live',
    'systemd',
    'systemd-sysv',
    'grub-common',
    arch === 'amd64' ? 'grub-pc-bin' : 'grub-efi-arm64-bin',
    ...(arch === 'amd64' ? ['grub-efi-amd64-bin'] : []),
    'squashfs-tools',
    'e2fsprogs',
    'dosfstools',
    'parted',
    'rsync',
  ],
  repoFile: 'apt',
  cache: ['/var/cache/apt', '/var/lib/apt/lists'],
});

export const FAMILY_INFO: Record<Family, FamilyInfo> = {
  opensuse: {
    install: `${zypperPrelude}; $z --gpg-auto-import-keys refresh; $z install --no-recommends "$@"; ${ZYPPER_CLEAN}`,
    remove: `${zypperPrelude}; $z remove --clean-deps "$@"; ${ZYPPER_CLEAN}`,
    upgrade: `${zypperPrelude}; $z --gpg-auto-import-keys refresh; $z update --no-recommends; ${ZYPPER_CLEAN}`,
    kernel: () => 'kernel-default',
    bootGlue: (arch) => [
      'dracut',
      'grub2',
      ...(arch === 'amd64' ? ['grub2-i386-pc', 'grub2-x86_64-efi'] : ['grub2-arm64-efi']),
      'systemd',
      'systemd-sysvinit',
      'squashfs',
      'dosfstools',
      'e2fsprogs',
      'gptfdisk',
      'parted',
      'rsync',
    ],
    repoFile: 'rpm',
    luetFlavor: 'green',
    cache: ['/var/cache/zypp'],
  },
  fedora: {
    install: `${dnfPrelude}; dnf -y $o install --setopt=install_weak_deps=False "$@"; ${DNF_CLEAN}`,
    remove: `${dnfPrelude}; dnf -y $o remove "$@"; ${DNF_CLEAN}`,
    upgrade: `${dnfPrelude}; dnf -y $o upgrade --setopt=install_weak_deps=False; ${DNF_CLEAN}`,
    kernel: () => 'kernel',
    bootGlue: (arch) => [
      'dracut',
      'dracut-live',
      'grub2',
      ...(arch === 'amd64' ? ['grub2-pc', 'grub2-efi-x64', 'grub2-efi-x64-modules', 'shim-x64'] : ['grub2-efi-aa64', 'shim-aa64']),
      'systemd',
      'squashfs-tools',
      'dosfstools',
      'e2fsprogs',
      'parted',
      'rsync',
    ],
    repoFile: 'rpm',
    luetFlavor: 'blue',
    cache: ['/var/cache/dnf', '/var/cache/libdnf5'],
  },
  ubuntu: { ...apt(() => 'linux-image-generic'), luetFlavor: 'orange' },
  debian: apt((arch) => (arch === 'amd64' ? 'linux-image-amd64' : 'linux-image-arm64')),
};

/** The boot glue: the kernel (`packages.kernel`, the family's by default, none for `none`) first. */
export function bootPackages(family: Family, arch: Arch, kernel: string | undefined): string[] {
  const info = FAMILY_INFO[family];
  const chosen = kernel ?? info.kernel(arch);
  return [...(chosen === KERNEL_NONE ? [] : [chosen]), ...info.bootGlue(arch)];
}

/** `packages.kernel: none`: the base image's kernel stays, no kernel package is installed. */
export const KERNEL_NONE = 'none';

/** Where the family's package manager reads repository definitions. */
export function repoPath(family: Family, name: string): string {
  return family === 'opensuse' || family === 'fedora' ? `${repoDir(family)}/${name}.repo` : `/etc/apt/sources.list.d/${name}.sources`;
}

/** The directory of an rpm family's `.repo` files. */
export function repoDir(family: 'opensuse' | 'fedora'): string {
  return family === 'opensuse' ? '/etc/zypp/repos.d' : '/etc/yum.repos.d';
}
