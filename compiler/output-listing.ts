// Reading back derivc.json: which files derivc says it wrote into an output directory, with the
// sha256 and mode it wrote them with. The writer trusts an entry only as far as this parser lets
// it: a path derivc could never have generated (outside its namespace, `..`, derivc.json itself)
// proves nothing and is set aside, so a forged derivc.json cannot widen what derivc may touch.

import { MANIFEST_FILE } from './emit/types.js';
import { inOutputNamespace, outputPathProblem } from './output-path.js';

export interface ListedFile {
  path: string;
  /** Lowercase hex. */
  sha256: string;
  mode: number;
}

export interface Listing {
  /** Valid entries, in the order listed, each path once. */
  files: ListedFile[];
  /** Entries that are not something derivc writes, described for the user. */
  ignored: string[];
}

function entry(raw: unknown): ListedFile | string {
  if (typeof raw !== 'object' || raw === null) return `${JSON.stringify(raw)} is not an entry`;
  const { path, sha256, mode } = raw as Record<string, unknown>;
  const problem = outputPathProblem(path);
  if (problem) return `${JSON.stringify(path)}: ${problem}`;
  const p = path as string;
  if (p === MANIFEST_FILE || !inOutputNamespace(p)) return `${JSON.stringify(p)}: not a name derivc generates`;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return `${JSON.stringify(p)}: no sha256`;
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
