// /usr/lib/derivc/add-ppa.sh — Ubuntu PPAs from `packages.repositories` (a static script: each
// PPA arrives as an argument, `owner/name`).
export const ADD_PPA_SH = `#!/bin/sh
# Usage: add-ppa.sh OWNER/NAME... — adds each PPA with add-apt-repository, which also fetches the
# PPA's signing key. software-properties-common (which has add-apt-repository) is installed
# first when the image lacks it, and stays.
set -eu
export DEBIAN_FRONTEND=noninteractive
# add-apt-repository reads PPA descriptions as UTF-8.
export LC_ALL=C.UTF-8
if ! command -v add-apt-repository >/dev/null 2>&1; then
  apt-get update
  apt-get install -y --no-install-recommends software-properties-common ca-certificates gnupg
fi
for ppa in "$@"; do
  add-apt-repository -y "ppa:$ppa"
done
apt-get clean
rm -rf /var/lib/apt/lists/*
`;
