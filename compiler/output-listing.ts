// Reading back derivc.json: which files derivc says it wrote into an output directory, with the
// sha256 and mode it wrote them with. The writer trusts an entry only as far as this parser lets
// it: a path derivc could never have generated (outside its namespace, `..`, derivc.json itself)
// proves nothing and is set aside, so a forged derivc.json cannot widen what derivc may touch.

import { contentDigest, sha256 as sha256Of } from './emit/build-id.js';
import { MANIFEST_FILE, type GeneratedFile } from './emit/types.js';
import { linkTargetProblem } from './link-target.js';
import { inOutputNamespace, outputPathProblem } from './output-path.js';

/** A regular file derivc wrote, or a symlink (`symlink` set: its link text; no mode). */
export type ListedFile =
  | {
      path: string;
      /** Lowercase hex. */
      sha256: string;
      mode: number;
      symlink?: undefined;
    }
  | {
      path: string;
      /** The sha256 of the link text (as git digests a symlink: its text is its content). */
      sha256: string;
      symlink: string;
      mode?: undefined;
    };

/** How derivc.json lists a generated file. */
export function listedFileOf(f: GeneratedFile): ListedFile {
  if (f.symlink !== undefined) return { path: f.path, sha256: sha256Of(f.symlink), symlink: f.symlink };
  return { path: f.path, sha256: contentDigest(f.content), mode: f.mode };
}

/** derivc.json's entry for a generated file: `{path, sha256, mode}`, or `{path, sha256, symlink}` for a symlink. */
export function listingEntry(f: GeneratedFile): Record<string, string> {
  const l = listedFileOf(f);
  return l.symlink !== undefined ? { path: l.path, sha256: l.sha256, symlink: l.symlink } : { path: l.path, sha256: l.sha256, mode: `0${l.mode.toString(8)}` };
}

export interface Listing {
  /** Valid entries, in the order listed, each path once. */
  files: ListedFile[];
  /** Entries that are not something derivc writes, described for the user. */
  ignored: string[];
}

function entry(raw: unknown): ListedFile | string {
  if (typeof raw !== 'object' || raw === null) return `${JSON.stringify(raw)} is not an entry`;
  const { path, sha256, mode, symlink } = raw as Record<string, unknown>;
  const problem = outputPathProblem(path);
  if (problem) return `${JSON.stringify(path)}: ${problem}`;
  const p = path as string;
  if (p === MANIFEST_FILE || !inOutputNamespace(p)) return `${JSON.stringify(p)}: not a name derivc generates`;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return `${JSON.stringify(p)}: no sha256`;
  if (symlink !== undefined) {
    const bad = typeof symlink === 'string' ? linkTargetProblem(symlink) : 'is not text';
    if (bad) return `${JSON.stringify(p)}: a symlink whose target ${bad}`;
    if (mode !== undefined) return `${JSON.stringify(p)}: a symlink with a mode`;
    if (sha256Of(symlink as string) !== sha256) return `${JSON.stringify(p)}: a symlink whose sha256 is not its target's`;
    return { path: p, sha256, symlink: symlink as string };
  }
  if (typeof mode !== 'string' || !/^0[0-7]{1,4}$/.test(mode)) return `${JSON.stringify(p)}: no octal mode`;
  return { path: p, sha256, mode: parseInt(mode, 8) };
}

/** The listing in derivc.json's text, or why the text is not a listing derivc writes. */
export function parseListing(text: string): { listing: Listing; problem?: undefined } | { listing?: undefined; problem: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { problem: 'not JSON' };
  }
  const files = (doc as { files?: unknown } | null)?.files;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Array.isArray(files)) return { problem: 'no `files` list' };
  const listing: Listing = { files: [], ignored: [] };
  const seen = new Set<string>();
  for (const raw of files) {
    const e = entry(raw);
    if (typeof e === 'string') listing.ignored.push(e);
    else if (seen.has(e.path)) listing.ignored.push(`${JSON.stringify(e.path)}: listed twice`);
    else {
      seen.add(e.path);
      listing.files.push(e);
    }
  }
  return { listing };
}
