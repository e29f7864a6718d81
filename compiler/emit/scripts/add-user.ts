// /usr/lib/derivc/add-user.sh — creates or updates a user at build time, for derivatives without
// a toolkit (static script; every value arrives as an argument).
export const ADD_USER_SH = `#!/bin/sh
# Usage: add-user.sh NAME HOME SHELL UID GROUPS SYSTEM PASSWORD_HASH
# GROUPS is comma-separated; SYSTEM is 1 or 0; empty arguments mean "not set". SSH keys, if any,
# are in /usr/lib/derivc/users/NAME.keys.
set -eu
name=$1 home=$2 shell=$3 uid=$4 groups=$5 system=$6 hash=$7
if ! id "$name" >/dev/null 2>&1; then
  set -- --create-home --home-dir "$home"
  if [ -n "$shell" ]; then set -- "$@" --shell "$shell"; fi
  if [ -n "$uid" ]; then set -- "$@" --uid "$uid"; fi
  if [ "$system" = 1 ]; then set -- "$@" --system; fi
  useradd "$@" "$name"
fi
if [ -n "$groups" ]; then
  old_ifs=$IFS
  IFS=,
  for group in $groups; do
    getent group "$group" >/dev/null || groupadd "$group"
  done
  IFS=$old_ifs
  usermod --append --groups "$groups" "$name"
fi
if [ -n "$hash" ]; then usermod --password "$hash" "$name"; fi
keys=/usr/lib/derivc/users/$name.keys
if [ -f "$keys" ]; then
  gid=$(id -g "$name")
  install -d -m 0700 -o "$name" -g "$gid" "$home/.ssh"
  install -m 0600 -o "$name" -g "$gid" "$keys" "$home/.ssh/authorized_keys"
fi
`;
