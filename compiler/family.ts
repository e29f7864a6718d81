// Which distro family a base image belongs to, from well-known image names. The family picks
// the package manager (zypper, dnf, apt-get) and the kernel/initrd commands.

export const FAMILIES = ['opensuse', 'fedora', 'ubuntu', 'debian'] as const;
export type Family = (typeof FAMILIES)[number];

const BY_COMPONENT: [RegExp, Family][] = [
  [/^(opensuse|leap|tumbleweed|suse|sles|sle-micro(-rancher)?|sl-micro|bci-(base|minimal|micro|init|busybox))$/, 'opensuse'],
  [/^(fedora|fedora-minimal|fedora-toolbox)$/, 'fedora'],
  [/^ubuntu$/, 'ubuntu'],
  [/^debian$/, 'debian'],
];

/** `registry.opensuse.org/opensuse/leap:15.5` → opensuse; `local/debian:bookworm` → debian. */
export function inferFamily(imageRef: string): Family | undefined {
  const path = imageRef.split('@')[0]!.replace(/:[^/]*$/, '');
  const parts = path.split('/');
  // A first component with a dot, a port or `localhost` is a registry host, not a name.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  for (const part of [...parts].reverse()) {
    for (const [re, family] of BY_COMPONENT) if (re.test(part)) return family;
  }
  return undefined;
}

/** A tag-less reference without a digest follows whatever `latest` is today. */
export function isPinned(imageRef: string): boolean {
  if (imageRef.includes('@')) return true;
  const last = imageRef.split('/').at(-1) ?? '';
  return last.includes(':');
}
