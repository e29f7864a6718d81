// /usr/lib/derivc/os-release.sh — sets KEY="value" lines in /etc/os-release (static script; the
// lines arrive as arguments, each already quoted for a shell-sourced file by quote.ts).

import type { Build } from '../../normalize/build.js';
import { envAssignment } from '../../quote.js';

export const OS_RELEASE_SCRIPT = '/usr/lib/derivc/os-release.sh';

export const OS_RELEASE_SH = `#!/bin/sh
# Usage: os-release.sh 'KEY="value"'... Each line replaces the key's line, or is added; every
# other line stays. /etc/os-release is usually a symlink to /usr/lib/os-release: edit the file it
# points to, keep the link.
set -eu
file=$(readlink -f /etc/os-release)
tmp=$(mktemp)
if [ -e "$file" ]; then cat "$file" > "$tmp"; fi
for line in "$@"; do
  key=\${line%%=*}
  grep -v "^$key=" "$tmp" > "$tmp.new" || true
  printf '%s\\n' "$line" >> "$tmp.new"
  mv -f "$tmp.new" "$tmp"
done
cat "$tmp" > "$file"
rm -f "$tmp"
`;

/**
 * The one os-release step: `metadata.osRelease` and `boot.grubEntryName` (validation refuses
 * both naming GRUB_ENTRY_NAME), sorted by key. `lines` are the script's arguments.
 */
export function osReleaseStep(build: Build): { comment: string; lines: string[]; pointer: string } | undefined {
  const grub = build.boot.grubEntryName;
  const keys: [string, string][] = [...build.osRelease, ...(grub !== undefined ? [['GRUB_ENTRY_NAME', grub] as [string, string]] : [])];
  if (!keys.length) return undefined;
  keys.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const lines = keys.map(([k, v]) => envAssignment(k, v));
  if (!build.osRelease.length)
    return { comment: 'GRUB menu title, read from /etc/os-release by the installer and upgrades', lines, pointer: '/boot/grubEntryName' };
  return { comment: `/etc/os-release: ${keys.map(([k]) => k).join(', ')} (the base's other keys stay)`, lines, pointer: '/metadata/osRelease' };
}
