// /usr/lib/derivc/bootargs-append.sh — appends derivc's block to the bootargs file the toolkit
// ships (a static script: both paths arrive as arguments, and they are derivc's, not the manifest's).
export const BOOTARGS_APPEND_SH = `#!/bin/sh
# Usage: bootargs-append.sh TOOLKIT_FILE BLOCK. The toolkit's GRUB reads TOOLKIT_FILE last before
# booting; BLOCK adds the manifest's kernel arguments after the toolkit's own. Each derivative of a
# chain appends its own block: an upstream's stays.
set -eu
target=$1 block=$2
if [ ! -f "$target" ]; then
  echo "derivc: $target is missing: the toolkit's GRUB reads the kernel arguments from it, and derivc appends the manifest's boot settings to it; install the toolkit, or set toolkit.flavor and toolkit.version to the toolkit the image carries" >&2
  exit 1
fi
# A last line without its newline would run into the block's first.
if [ -s "$target" ] && [ -n "$(tail -c 1 "$target")" ]; then echo >> "$target"; fi
cat "$block" >> "$target"
echo "derivc: appended $block to $target"
`;
