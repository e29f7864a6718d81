// How one entry of a build context differs between two states, for `derivc diff` and `--check`.
// Entries are seen as git sees them: a regular file is its bytes and mode (`100644`), a symlink is
// mode `120000` whose content is its link text — so a changed link target shows as a one-line
// diff of the target, and a file replaced by a symlink as a mode change plus the new text.

import type { FileContent, GeneratedFile } from '../compiler/emit/types.js';
import { contentDiff } from './content.js';
import { gitMode } from './unified-diff.js';

export interface DiffSide {
  content: FileContent;
  /** Git-style: `100644`, `100755`, `120000`. */
  mode: string;
}

export const SYMLINK_GIT_MODE = '120000';

export function fileSide(content: FileContent, mode: number): DiffSide {
  return { content, mode: gitMode(mode) };
}

export function linkSide(target: string): DiffSide {
  return { content: target, mode: SYMLINK_GIT_MODE };
}

export function sideOf(f: GeneratedFile): DiffSide {
  return f.symlink !== undefined ? linkSide(f.symlink) : fileSide(f.content, f.mode);
}

export interface EntryDiff {
  /** The content's unified diff (empty when equal). */
  content: string;
  /** `[from, to]` when both sides exist with different modes. */
  modes?: [string, string];
  /** The mode line (if any), then the content diff: empty when the entry did not change. */
  text: string;
}

/** `before`/`after` null: the entry is absent on that side. */
export function entryDiff(path: string, before: DiffSide | null, after: DiffSide | null): EntryDiff {
  const content = contentDiff(path, before ? before.content : null, after ? after.content : null);
  const modes: [string, string] | undefined = before && after && before.mode !== after.mode ? [before.mode, after.mode] : undefined;
  const modeLine = modes ? `mode ${modes[0]} → ${modes[1]} ${path}\n` : '';
  return { content, ...(modes ? { modes } : {}), text: modeLine + content };
}
