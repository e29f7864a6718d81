// What `derivc diff` leaves out of a review. derivc.json is derived from the other files (their
// digests, the build ID), so its churn repeats what the rest of the diff shows: hidden unless asked
// for. The build ID is a digest of everything else plus the upstream's build ID; with
// `--ignore-build-id` a change of the ID alone (a new upstream, nothing else) is no difference.

import { sha256 } from '../compiler/emit/build-id.js';
import { unsealDockerfile } from '../compiler/emit/dockerfile.js';
import { MANIFEST_FILE, type GeneratedFile } from '../compiler/emit/types.js';

export const DOCKERFILE = 'Dockerfile';

/**
 * derivc.json without `buildId`, and with the Dockerfile's sha256 of its unsealed text: the
 * Dockerfile's digest otherwise changes with every build ID. Always derivc's own JSON (compiled in
 * memory just now), so it is read and written back in the shape derivc writes it.
 */
function unsealedRecord(text: string, dockerfile: string | undefined): string {
  const doc = JSON.parse(text) as { buildId?: string; files?: { path: string; sha256?: string }[] };
  delete doc.buildId;
  const entry = doc.files?.find((f) => f.path === DOCKERFILE);
  if (entry && dockerfile !== undefined) entry.sha256 = sha256(unsealDockerfile(dockerfile));
  return JSON.stringify(doc, null, 2) + '\n';
}

/** A regular file's text (derivc writes the Dockerfile and derivc.json as strings). */
const textOf = (f: GeneratedFile | undefined): string | undefined => (f && f.symlink === undefined && typeof f.content === 'string' ? f.content : undefined);

/** One side of the diff with the build ID taken out of the Dockerfile and derivc.json. */
export function withoutBuildId(files: readonly GeneratedFile[]): GeneratedFile[] {
  const dockerfile = textOf(files.find((f) => f.path === DOCKERFILE));
  return files.map((f): GeneratedFile => {
    if (f.symlink !== undefined || typeof f.content !== 'string') return f;
    if (f.path === DOCKERFILE) return { ...f, content: unsealDockerfile(f.content) };
    if (f.path === MANIFEST_FILE) return { ...f, content: unsealedRecord(f.content, dockerfile) };
    return f;
  });
}

/** Whether the diff shows this output path by default (`--all` shows every one). */
export function shownByDefault(path: string): boolean {
  return path !== MANIFEST_FILE;
}
