// /usr/lib/derivc/initrd.sh — the last RUN of every derivative (a static script: no manifest data).
export const INITRD_SH = `#!/bin/sh
# Builds the initrd for the one kernel in the image and makes /boot/vmlinuz and /boot/initrd
# resolve: the cOS boot contract. derivc runs it after the packages, the toolkit, your files and
# overlay are in place (dracut's modules and configuration come from them). With --check it only
# checks the contract: \`elemental init\` built the initrd and nothing after it could change it.
set -eu
check=
if [ "\${1:-}" = --check ]; then check=1; fi
cd /lib/modules
set -- */
if [ "$#" -ne 1 ] || [ ! -d "$1" ]; then
  echo "derivc: expected exactly one kernel under /lib/modules, found: $*" >&2
  exit 1
fi
kver=\${1%/}
kernel=
for candidate in /boot/vmlinuz-"$kver" /boot/Image-"$kver" /lib/modules/"$kver"/vmlinuz; do
  if [ -e "$candidate" ]; then kernel=$candidate; break; fi
done
if [ -z "$kernel" ]; then
  echo "derivc: no kernel image for $kver in /boot or /lib/modules/$kver" >&2
  exit 1
fi
# Some kernel packages keep the image only under /lib/modules inside containers.
if [ -z "$check" ] && [ "$kernel" = /lib/modules/"$kver"/vmlinuz ]; then
  cp "$kernel" /boot/vmlinuz-"$kver"
  kernel=/boot/vmlinuz-"$kver"
fi
if [ -z "$check" ]; then
  depmod -a "$kver"
  dracut --force --no-hostonly /boot/initrd-"$kver" "$kver"
  ln -sfn "\${kernel##*/}" /boot/vmlinuz
  ln -sfn initrd-"$kver" /boot/initrd
fi
for link in /boot/vmlinuz /boot/initrd; do
  if [ ! -e "$link" ]; then
    echo "derivc: $link does not resolve" >&2
    exit 1
  fi
done
echo "derivc: kernel $kver: /boot/vmlinuz -> $(readlink /boot/vmlinuz), /boot/initrd -> $(readlink /boot/initrd)"
`;
