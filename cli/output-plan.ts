// What writing the generated files into DIR changes, decided by reading DIR only. The ownership
// rule: derivc replaces a file only when the previous derivc.json lists it (or it already holds the
// new bytes), and removes one only when, besides, its sha256 is still the one recorded there — all
// within its namespace (compiler/output-path.ts). Everything else in DIR is carried into the new
// tree as it is; what lies in the namespace without being listed is reported (and never sent to
// the build). A generated path taken by something derivc did not write is refused, never
// overwritten. Symlinks derivc wrote (from `overlay`, `oemDir`) follow the same rule, compared by
// their link text; no symlink in DIR is ever followed here — its text is read with readlink.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { MANIFEST_FILE, type GeneratedFile } from '../compiler/emit/types.js';
import { linkTargetProblem } from '../compiler/link-target.js';
import { listedFileOf, parseListing, type ListedFile } from '../compiler/output-listing.js';
import { inOutputNamespace, outputPathProblem } from '../compiler/output-path.js';
import { contentBytes, contentSha256, contentSize } from './content.js';
import { fdDigest } from './fd-chunks.js';
import { ioError, OutputDirError } from './output-error.js';

type OldKind = 'file' | 'dir' | 'symlink' | 'other';

interface OldEntry {
  kind: OldKind;
  mode: number;
  size: number;
}

export interface Plan {
  /** Generated files to write: new, or changed in bytes or mode. Sorted. */
  write: GeneratedFile[];
  /** Generated files already in DIR with the same bytes and mode: the very same files stay (same inode, same mtime). Sorted. */
  unchanged: string[];
  /** The generated symlinks among `unchanged`, made again from their generated link text. */
  unchangedLinks: { path: string; target: string }[];
  /** Files the previous derivc.json lists, no longer generated, still holding the recorded bytes. Sorted. */
  removed: string[];
  /** Files the previous derivc.json lists, no longer generated, but changed since: kept. Sorted. */
  kept: string[];
  /** Files (or symlinks) in derivc's namespace that derivc.json does not list: kept, never sent to the build. Sorted. */
  unlisted: string[];
  /** Generated files to write over that were changed since derivc wrote them (the change is lost). Sorted. */
  edited: string[];
  /** Entries of the old DIR that stay as they are (files, symlinks; directories in `dirs`). Sorted. */
  carried: { path: string; kind: 'file' | 'symlink' }[];
  /** Every directory of the new tree, parents first, with the old mode where it existed. */
  dirs: { path: string; mode: number | undefined }[];
  /** Entries of the old derivc.json that derivc could never have written: they prove nothing. */
  ignoredListing: string[];
  /** False when DIR already is what this write would make: it is then left completely untouched. */
  changes: boolean;
}

function quote(p: string): string {
  return JSON.stringify(p);
}

/** Checks the generated files themselves; throws before anything is read or written. */
export function checkGenerated(files: readonly GeneratedFile[]): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    const problem = outputPathProblem(file.path) ?? (inOutputNamespace(file.path) ? undefined : 'not a name derivc generates (see compiler/output-path.ts)');
    if (problem) problems.push(`${quote(file.path)}: ${problem}`);
    else if (seen.has(file.path)) problems.push(`${quote(file.path)}: generated twice`);
    if (file.symlink !== undefined) {
      const bad = typeof file.symlink === 'string' ? linkTargetProblem(file.symlink) : 'is not text';
      if (bad) problems.push(`${quote(file.path)}: a symlink whose target ${bad}`);
    } else if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777) problems.push(`${quote(file.path)}: invalid mode ${file.mode}`);
    seen.add(file.path);
  }
  for (const p of seen) {
    for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
      if (seen.has(p.slice(0, i))) problems.push(`${quote(p)}: ${quote(p.slice(0, i))} is generated as a file`);
    }
  }
  if (!problems.length) {
    // derivc.json is what the next write trusts: it must list exactly what is written, as written.
    const record = files.find((f) => f.path === MANIFEST_FILE);
    const parsed = record?.content !== undefined ? parseListing(contentBytes(record.content).toString('utf8')) : undefined;
    const listed = new Map(parsed?.listing?.files.map((f) => [f.path, f]));
    const others = files.filter((f) => f.path !== MANIFEST_FILE);
    const exact =
      parsed?.listing &&
      parsed.listing.ignored.length === 0 &&
      listed.size === others.length &&
      others.every((f) => sameListing(listed.get(f.path), listedFileOf(f)));
    if (!exact)
      problems.push(
        `${quote(MANIFEST_FILE)}: ${record ? 'does not list exactly the generated files with their sha256 and mode' : 'missing from the generated files'}`,
      );
  }
  if (problems.length) throw new OutputDirError(`refusing to write the output directory (nothing written):\n  ${problems.join('\n  ')}`);
}

function sameListing(a: ListedFile | undefined, b: ListedFile): boolean {
  return a !== undefined && a.sha256 === b.sha256 && a.mode === b.mode && a.symlink === b.symlink;
}

/** The link text of the symlink `rel` (readlink: never followed). */
function linkText(root: string, rel: string): Buffer {
  const link = path.join(root, ...rel.split('/'));
  try {
    return fs.readlinkSync(link, { encoding: 'buffer' });
  } catch (err) {
    throw ioError(`cannot read the symlink ${link}`, err);
  }
}

/** Every entry under `root` (lstat: symlinks are entries, never followed). */
function readTree(root: string): Map<string, OldEntry> {
  const out = new Map<string, OldEntry>();
  const walk = (rel: string) => {
    const full = rel === '' ? root : path.join(root, ...rel.split('/'));
    let names: string[];
    try {
      names = fs.readdirSync(full).sort();
    } catch (err) {
      throw ioError(`cannot read ${full}`, err);
    }
    for (const name of names) {
      const p = rel === '' ? name : `${rel}/${name}`;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(full, name));
      } catch (err) {
        throw ioError(`cannot inspect ${path.join(full, name)}`, err);
      }
      const kind: OldKind = st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : 'other';
      out.set(p, { kind, mode: st.mode & 0o7777, size: st.size });
      if (kind === 'dir') walk(p);
    }
  };
  walk('');
  return out;
}

/** The previous derivc.json: its listing, nothing when there is none, or a problem when derivc did not write it. */
function previousListing(root: string, old: Map<string, OldEntry>): { listed: Map<string, ListedFile>; ignored: string[]; problem?: string } {
  const none = { listed: new Map<string, ListedFile>(), ignored: [] };
  const entry = old.get(MANIFEST_FILE);
  if (!entry) return none;
  if (entry.kind !== 'file') return { ...none, problem: `a ${kindName(entry.kind)}, not the listing derivc writes` };
  let text: string;
  try {
    text = fs.readFileSync(path.join(root, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw ioError(`cannot read ${path.join(root, MANIFEST_FILE)}`, err);
  }
  const parsed = parseListing(text);
  if (!parsed.listing) return { ...none, problem: `not a listing derivc writes (${parsed.problem})` };
  return { listed: new Map(parsed.listing.files.map((f) => [f.path, f])), ignored: parsed.listing.ignored };
}

function kindName(kind: OldKind): string {
  return kind === 'dir' ? 'directory' : kind === 'other' ? 'special file' : kind;
}

/** The sha256 of the regular file `rel` (read in chunks; a symlink there is not followed). */
function sha(root: string, rel: string, size: number): string {
  const file = path.join(root, ...rel.split('/'));
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    throw ioError(`cannot read ${file}`, err);
  }
  try {
    return fdDigest(fd, fs.readSync, size).sha256;
  } catch (err) {
    throw ioError(`cannot read ${file}`, err);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * What writing `files` into the directory `root` (null: it does not exist yet) changes. Reads
 * only. Throws OutputDirError, naming every path, when something derivc did not write is in the way.
 */
export function makePlan(root: string | null, files: readonly GeneratedFile[], label: string): Plan {
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (root === null) {
    const dirs = new Set<string>();
    for (const f of sorted) for (let i = f.path.indexOf('/'); i !== -1; i = f.path.indexOf('/', i + 1)) dirs.add(f.path.slice(0, i));
    return {
      write: sorted,
      unchanged: [],
      unchangedLinks: [],
      removed: [],
      kept: [],
      unlisted: [],
      edited: [],
      carried: [],
      dirs: [...dirs].sort().map((d) => ({ path: d, mode: undefined })),
      ignoredListing: [],
      changes: true,
    };
  }

  const old = readTree(root);
  const previous = previousListing(root, old);
  const generated = new Map(sorted.map((f) => [f.path, f]));
  const problems: string[] = [];
  // Whether the entry at `p` is still what the previous derivc.json says derivc wrote there.
  const asListed = (p: string, o: OldEntry, listed: ListedFile): boolean =>
    listed.symlink !== undefined
      ? o.kind === 'symlink' && linkText(root, p).equals(Buffer.from(listed.symlink, 'utf8'))
      : o.kind === 'file' && sha(root, p, o.size) === listed.sha256;

  // Each old non-directory that is not generated again: removed (provably derivc's and unchanged), or it stays.
  const fate = new Map<string, 'removed' | 'kept' | 'unlisted' | 'carried'>();
  for (const [p, o] of old) {
    if (o.kind === 'dir' || generated.has(p)) continue;
    if (o.kind === 'other') {
      problems.push(`${quote(p)}: a special file (fifo, socket or device) that derivc cannot carry into the new output; move it away`);
      continue;
    }
    const listed = previous.listed.get(p);
    // Listed as what it is (a file as a file, a symlink as a symlink): derivc's, removed unless changed.
    if (listed && (listed.symlink !== undefined ? o.kind === 'symlink' : o.kind === 'file')) fate.set(p, asListed(p, o, listed) ? 'removed' : 'kept');
    else fate.set(p, inOutputNamespace(p) ? 'unlisted' : 'carried');
  }

  // A directory stays when something stays in it, or when it was empty; it is dropped when all it held was removed.
  const children = new Map<string, string[]>();
  for (const p of old.keys()) {
    const slash = p.lastIndexOf('/');
    const parent = slash === -1 ? '' : p.slice(0, slash);
    (children.get(parent) ?? children.set(parent, []).get(parent)!).push(p);
  }
  const stays = new Map<string, boolean>();
  const dirStays = (d: string): boolean => {
    let result = stays.get(d);
    if (result !== undefined) return result;
    const kids = children.get(d) ?? [];
    result = kids.length === 0 || kids.some((k) => (old.get(k)!.kind === 'dir' ? dirStays(k) : fate.get(k) !== 'removed' && fate.get(k) !== undefined));
    stays.set(d, result);
    return result;
  };

  const write: GeneratedFile[] = [];
  const unchanged: string[] = [];
  const unchangedLinks: Plan['unchangedLinks'] = [];
  const edited: string[] = [];
  for (const f of sorted) {
    for (let i = f.path.indexOf('/'); i !== -1; i = f.path.indexOf('/', i + 1)) {
      const q = f.path.slice(0, i);
      const o = old.get(q);
      if (!o || o.kind === 'dir' || fate.get(q) === 'removed') continue;
      problems.push(
        `${quote(q)}: a ${kindName(o.kind)} derivc did not write${fate.get(q) === 'kept' ? ' (changed since)' : ''} is where ${quote(f.path)} needs a directory; move it away`,
      );
      break;
    }
    const o = old.get(f.path);
    if (!o) {
      write.push(f);
    } else if (f.symlink !== undefined && (o.kind === 'file' || o.kind === 'symlink')) {
      const listed = previous.listed.get(f.path);
      if (o.kind === 'symlink' && linkText(root, f.path).equals(Buffer.from(f.symlink, 'utf8'))) {
        unchanged.push(f.path);
        unchangedLinks.push({ path: f.path, target: f.symlink });
      } else if (listed) {
        write.push(f);
        if (!asListed(f.path, o, listed)) edited.push(f.path);
      } else {
        problems.push(
          `${quote(f.path)}: a ${kindName(o.kind)} derivc did not write (${MANIFEST_FILE} does not list it) is where derivc writes a symlink; move it away`,
        );
      }
    } else if (o.kind === 'symlink' && f.symlink === undefined && previous.listed.has(f.path)) {
      // A symlink derivc wrote, now a file: replaced in the new tree (never written through).
      write.push(f);
      if (!asListed(f.path, o, previous.listed.get(f.path)!)) edited.push(f.path);
    } else if (o.kind === 'file' && f.symlink === undefined) {
      let digest: string | undefined;
      const onDisk = () => (digest ??= sha(root, f.path, o.size));
      const listed = previous.listed.get(f.path);
      if (o.mode === f.mode && o.size === contentSize(f.content) && onDisk() === contentSha256(f.content)) {
        unchanged.push(f.path);
      } else if (f.path === MANIFEST_FILE && !previous.problem) {
        write.push(f);
      } else if (listed) {
        write.push(f);
        if (listed.symlink !== undefined || onDisk() !== listed.sha256) edited.push(f.path);
      } else if (f.path === MANIFEST_FILE) {
        problems.push(`${quote(f.path)}: ${previous.problem}; derivc does not overwrite it — remove it if nothing of yours is in ${label}`);
      } else {
        problems.push(`${quote(f.path)}: exists, but derivc did not write it (${MANIFEST_FILE} does not list it); derivc does not overwrite it — move it away`);
      }
    } else if (o.kind === 'dir' && !dirStays(f.path)) {
      write.push(f);
    } else {
      problems.push(
        `${quote(f.path)}: a ${kindName(o.kind)} derivc did not write is where derivc writes a ${f.symlink !== undefined ? 'symlink' : 'file'}; move it away`,
      );
    }
  }
  if (problems.length) throw new OutputDirError(`refusing to write ${label} (nothing written):\n  ${problems.join('\n  ')}`);

  const carried: Plan['carried'] = [];
  const of = (wanted: string) => [...fate].filter(([, v]) => v === wanted).map(([p]) => p);
  for (const [p, v] of fate) if (v !== 'removed') carried.push({ path: p, kind: old.get(p)!.kind === 'symlink' ? 'symlink' : 'file' });

  const dirSet = new Set<string>();
  const addParents = (p: string) => {
    for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) dirSet.add(p.slice(0, i));
  };
  for (const f of sorted) addParents(f.path);
  for (const c of carried) addParents(c.path);
  let dropped = false;
  for (const [p, o] of old) {
    if (o.kind !== 'dir' || generated.has(p)) continue;
    if (dirStays(p)) {
      dirSet.add(p);
      addParents(p);
    }
  }
  for (const [p, o] of old) if (o.kind === 'dir' && !dirSet.has(p)) dropped = true;
  const dirs = [...dirSet].sort().map((d) => ({ path: d, mode: old.get(d)?.kind === 'dir' ? old.get(d)!.mode : undefined }));

  const removed = of('removed');
  return {
    write,
    unchanged,
    unchangedLinks,
    removed: removed.sort(),
    kept: of('kept').sort(),
    unlisted: of('unlisted').sort(),
    edited,
    carried: carried.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    dirs,
    ignoredListing: previous.ignored,
    changes: write.length > 0 || removed.length > 0 || dropped,
  };
}
