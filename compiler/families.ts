// What differs per distro family: the package manager (as fixed scripts that take package names
// as arguments, never interpolated), where repository files go, and the boot glue packages.

import type { Family } from './family.js';

export type Arch = 'amd64' | 'arm64';

export interface FamilyInfo {
  /** `sh -c` script installing "$@"; packages arrive as positional arguments. */
  install: string;
  /** `sh -c` script removing "$@". */
  remove: string;
  /** Kernel, dracut (+ dracut-live), GRUB, systemd, squashfs and partitioning tools the contract needs. */
  bootPackages(arch: Arch): string[];
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
  bootPackages: (arch) => [
    kernel(arch),
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
    bootPackages: (arch) => [
      'kernel-default',
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
    bootPackages: (arch) => [
      'kernel',
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

/** Where the family's package manager reads repository definitions. */
export function repoPath(family: Family, name: string): string {
  if (family === 'opensuse') return `/etc/zypp/repos.d/${name}.repo`;
  if (family === 'fedora') return `/etc/yum.repos.d/${name}.repo`;
  return `/etc/apt/sources.list.d/${name}.sources`;
}
