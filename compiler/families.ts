// What differs per distro family: the package manager (as fixed scripts that take package names
// as arguments, never interpolated), where repository files go, and the boot glue packages.

import type { Family } from './family.js';

export type Arch = 'amd64' | 'arm64';

export interface FamilyInfo {
  /** `sh -c` script installing "$@"; packages arrive as positional arguments. */
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
}

// INITRD=No: Debian's kernel hooks would build an initrd on every kernel install; derivc builds
// the one that counts once, later (initrd.sh).
const apt = (kernel: (arch: Arch) => string): Omit<FamilyInfo, 'luetFlavor'> => ({
  install:
    'set -eu; export DEBIAN_FRONTEND=noninteractive INITRD=No; apt-get update; apt-get install -y --no-install-recommends "$@"; apt-get clean; rm -rf /var/lib/apt/lists/*',
  remove: 'set -eu; export DEBIAN_FRONTEND=noninteractive; apt-get purge -y --auto-remove "$@"; apt-get clean',
  // confold: a configuration file the image changed stays as it is, without a question.
  upgrade:
    'set -eu; export DEBIAN_FRONTEND=noninteractive INITRD=No; apt-get update; apt-get dist-upgrade -y --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold; apt-get clean; rm -rf /var/lib/apt/lists/*',
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
});

export const FAMILY_INFO: Record<Family, FamilyInfo> = {
  opensuse: {
    install: 'set -eu; zypper --non-interactive --gpg-auto-import-keys refresh; zypper --non-interactive install --no-recommends "$@"; zypper clean --all',
    remove: 'set -eu; zypper --non-interactive remove --clean-deps "$@"; zypper clean --all',
    upgrade: 'set -eu; zypper --non-interactive --gpg-auto-import-keys refresh; zypper --non-interactive update --no-recommends; zypper clean --all',
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
  },
  fedora: {
    install: 'set -eu; dnf -y install --setopt=install_weak_deps=False "$@"; dnf clean all',
    remove: 'set -eu; dnf -y remove "$@"; dnf clean all',
    upgrade: 'set -eu; dnf -y upgrade --setopt=install_weak_deps=False; dnf clean all',
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
