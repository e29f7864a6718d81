// /usr/lib/derivc/disable-repositories.sh — `packages.disableRepositories` (a static script: the
// names arrive as arguments, compared as strings, never read as code or patterns).
export const DISABLE_REPOSITORIES_SH = `#!/bin/sh
# Usage: disable-repositories.sh DIR|apt NAME...
# DIR (zypper /etc/zypp/repos.d, dnf /etc/yum.repos.d): \`enabled=0\` in the [NAME] section of
# the .repo file that has it — what \`zypper mr -d\` and \`dnf config-manager\` write, without
# needing either tool (dnf's plugin is often missing). apt: the source file
# sources.list.d/NAME.list or NAME.sources is removed; the name \`sources.list\` means the legacy
# /etc/apt/sources.list. A name that matches nothing fails the build.
set -eu
where=$1
shift

# Rewrites FILE with the [NAME] section disabled; fails when FILE has no such section.
disable_section() {
  tmp=$1.derivc-tmp
  found=1
  inside=0
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    \\[*\\]*)
      section=\${line#?}
      section=\${section%%\\]*}
      inside=0
      if [ "$section" = "$2" ]; then
        inside=1
        found=0
        printf '%s\\nenabled=0\\n' "$line"
        continue
      fi
      ;;
    esac
    if [ "$inside" = 1 ]; then
      case $line in
      enabled=* | enabled[[:space:]]*=*) continue ;;
      esac
    fi
    printf '%s\\n' "$line"
  done <"$1" >"$tmp"
  if [ "$found" = 0 ]; then cat "$tmp" >"$1"; fi
  rm -f "$tmp"
  return "$found"
}

for name in "$@"; do
  hit=
  if [ "$where" = apt ]; then
    for f in /etc/apt/sources.list.d/"$name".list /etc/apt/sources.list.d/"$name".sources; do
      if [ -e "$f" ]; then rm -f "$f" && hit=1; fi
    done
    if [ "$name" = sources.list ] && [ -e /etc/apt/sources.list ]; then rm -f /etc/apt/sources.list && hit=1; fi
  else
    for f in "$where"/*.repo; do
      if [ -f "$f" ] && disable_section "$f" "$name"; then hit=1; fi
    done
  fi
  if [ -z "$hit" ]; then
    echo "derivc: no repository named \\"$name\\" to disable in the image (looked in $where)" >&2
    exit 1
  fi
  echo "derivc: repository $name disabled"
done
`;
