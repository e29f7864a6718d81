// Unified diffs of one output file, in the shape `git diff` prints (a/ b/ headers, /dev/null for a
// missing side, 3 lines of context) so that reviewers and patch tools read them as usual.

import { structuredPatch } from 'diff';

const CONTEXT = 3;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The text of `bytes`, or undefined when they are not UTF-8 (shown as "binary files differ"). */
function asText(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The diff of one file between `before` (null: absent) and `after` (null: removed); empty when the
 * contents are equal. Paths are printed as given: they are validated output paths, never user text.
 */
export function unifiedDiff(path: string, before: Uint8Array | null, after: Uint8Array | null): string {
  const oldName = before === null ? '/dev/null' : `a/${path}`;
  const newName = after === null ? '/dev/null' : `b/${path}`;
  const oldText = before === null ? '' : asText(before);
  const newText = after === null ? '' : asText(after);
  if (oldText === undefined || newText === undefined) {
    if (before !== null && after !== null && Buffer.from(before).equals(after)) return '';
    return `Binary files ${oldName} and ${newName} differ\n`;
  }
  if (before !== null && after !== null && oldText === newText) return '';
  const out = [`--- ${oldName}`, `+++ ${newName}`];
  for (const hunk of structuredPatch(oldName, newName, oldText, newText, undefined, undefined, { context: CONTEXT }).hunks) {
    // Unified-format quirk: an empty range names the line *before* it (`-0,0` for an added file).
    const oldStart = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart;
    out.push(`@@ -${oldStart},${hunk.oldLines} +${newStart},${hunk.newLines} @@`, ...hunk.lines);
  }
  return out.join('\n') + '\n';
}

/** Git-style file mode (`100755`) of permission bits. */
export function gitMode(mode: number): string {
  return (0o100000 | mode).toString(8);
}

/** The one-line entry for a permission change, e.g. `mode 100644 → 100755 bin/run.sh`. */
export function modeChangeLine(path: string, from: number, to: number): string {
  return `mode ${gitMode(from)} → ${gitMode(to)} ${path}\n`;
}
