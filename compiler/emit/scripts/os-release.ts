// /usr/lib/derivc/os-release.sh — sets one KEY="value" line in /etc/os-release (static script;
// the line arrives as an argument, already quoted for a shell-sourced file).
export const OS_RELEASE_SH = `#!/bin/sh
# Usage: os-release.sh 'KEY="value"'. /etc/os-release is usually a symlink to
# /usr/lib/os-release: edit the file it points to, keep the link.
set -eu
file=$(readlink -f /etc/os-release)
key=\${1%%=*}
tmp=$(mktemp)
grep -v "^$key=" "$file" > "$tmp" || true
printf '%s\\n' "$1" >> "$tmp"
cat "$tmp" > "$file"
rm -f "$tmp"
`;
