// derivc diff OLD NEW | --base GIT_REV [FILE]  [--format pretty|github] [--ignore-build-id] [--all]
// The PR review view: compiles two manifests (or one manifest at two git revisions) in memory and
// prints how the compiled outputs differ, file by file. Exit 2 when they differ, 0 when identical
// or when only what the review leaves out differs (derivc.json; the build ID, when ignored).

import type { GeneratedFile } from '../../compiler/emit/types.js';
import { markdownCode } from '../../compiler/quote.js';
import { LARGE_FILES } from '../content.js';
import { entryDiff, sideOf } from '../entry-diff.js';
import { choice } from '../choices.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { GitError, GitHost } from '../git-host.js';
import type { CliIO } from '../io.js';
import { compileToMemory } from './compile.js';
import { manifestPaths } from './validate.js';
import { continued, shown } from '../format/style.js';
import { shownByDefault, withoutBuildId } from '../diff-filter.js';

export const DIFF_FORMATS = ['pretty', 'github'] as const;

export interface DiffArgs {
  files: string[];
  base: string | undefined;
  format: string;
  /** The `derivc.build-id` label and derivc.json's `buildId` are no difference. */
  ignoreBuildId?: boolean;
  /** Show derivc.json too (hidden by default: it records the other files). */
  all?: boolean;
}

/** How one output file differs between the two sides. */
export interface FileChange {
  path: string;
  /** `added`, `removed`, `modified`, `mode 100644 → 100755` or `modified, mode …` (a symlink's mode: 120000). */
  change: string;
  /** The unified diff (with a mode line first when the mode changed), as `pretty` prints it. */
  text: string;
  /** Changed lines; null for binary content and files too large for a text diff (compared by digest). */
  lines: { added: number; removed: number } | null;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Lines added and removed in a unified diff's hunks (headers excluded); null for binary and large files. */
function lineCounts(diff: string): FileChange['lines'] {
  if (diff.startsWith('Binary files ') || diff.startsWith(`${LARGE_FILES} `)) return null;
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n').slice(2)) {
    if (line.startsWith('+')) added++;
    else if (line.startsWith('-')) removed++;
  }
  return { added, removed };
}

/** Every file that differs between two compiled outputs (absent side: []), sorted by path. */
export function diffOutputs(before: readonly GeneratedFile[], after: readonly GeneratedFile[]): FileChange[] {
  const old = new Map(before.map((f) => [f.path, f]));
  const now = new Map(after.map((f) => [f.path, f]));
  const changes: FileChange[] = [];
  for (const path of [...new Set([...old.keys(), ...now.keys()])].sort(byPath)) {
    const a = old.get(path);
    const b = now.get(path);
    // A symlink is compared as git compares it: mode 120000, its link text as content.
    const { content, modes, text } = entryDiff(path, a ? sideOf(a) : null, b ? sideOf(b) : null);
    if (!text) continue;
    const modeText = modes ? `mode ${modes[0]} → ${modes[1]}` : '';
    const change = !a ? 'added' : !b ? 'removed' : content && modes ? `modified, ${modeText}` : modes ? modeText : 'modified';
    changes.push({ path, change, text, lines: content ? lineCounts(content) : { added: 0, removed: 0 } });
  }
  return changes;
}

function html(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/[\r\n]/g, ' ');
}

function counts(c: FileChange): string {
  if (c.lines) return `+${c.lines.added} −${c.lines.removed}`;
  return c.text.startsWith(`${LARGE_FILES} `) || c.text.includes(`\n${LARGE_FILES} `) ? 'large, by digest' : 'binary';
}

/**
 * Markdown for a PR comment or $GITHUB_STEP_SUMMARY: heading, table, one collapsible diff per file.
 * `left` says what differs but is not shown (see `LeftOut`).
 */
export function renderGithub(title: string, changes: readonly FileChange[], left?: LeftOut): string {
  const out = [`## ${title}`, ''];
  if (!changes.length) {
    const apart = left ? ` apart from ${LEFT_OUT[left].join(' ')}` : '';
    return [...out, `No changes in the compiled output${apart}.`, ''].join('\n');
  }
  const tally = (word: string) => changes.filter((c) => c.change === word).length;
  const kinds = [
    ['added', tally('added')],
    ['removed', tally('removed')],
    ['modified', changes.length - tally('added') - tally('removed')],
  ] as const;
  out.push(
    `${changes.length} ${changes.length === 1 ? 'file differs' : 'files differ'}: ${kinds
      .filter(([, n]) => n)
      .map(([w, n]) => `${n} ${w}`)
      .join(', ')}.`,
    '',
  );
  if (left === 'manifest') out.push(`${LEFT_OUT.manifest[0]} also differs ${LEFT_OUT.manifest[1]}.`, '');
  out.push('| File | Change | Lines |', '| --- | --- | --- |');
  for (const c of changes) out.push(`| ${markdownCode(c.path).replace(/\|/g, '\\|')} | ${c.change} | ${counts(c)} |`);
  out.push('');
  for (const c of changes) {
    // The fence must be longer than any backtick run in the diff, or the diff could close it.
    const fence = '`'.repeat(Math.max(3, ...(c.text.match(/`+/g) ?? []).map((run) => run.length + 1)));
    out.push(
      `<details><summary><code>${html(c.path)}</code> (${counts(c)})</summary>`,
      '',
      `${fence}diff`,
      c.text.replace(/\n$/, ''),
      fence,
      '',
      '</details>',
      '',
    );
  }
  return out.join('\n');
}

/** What differs but is not shown: derivc.json (without `--all`), or only the build ID (`--ignore-build-id`). */
export type LeftOut = 'manifest' | 'build-id' | undefined;

/** What was left out, and why: `[name, why]`. */
const LEFT_OUT = {
  manifest: ['`derivc.json`', "(derivc's record of the other files; `--all` shows it)"],
  'build-id': ['the build ID', '(`--ignore-build-id`)'],
} as const;

/** The changes the diff shows, and what it leaves out (for the note that says so). */
export function reviewChanges(
  before: readonly GeneratedFile[],
  after: readonly GeneratedFile[],
  opts: { ignoreBuildId?: boolean; all?: boolean },
): { changes: FileChange[]; left: LeftOut } {
  const every = opts.ignoreBuildId ? diffOutputs(withoutBuildId(before), withoutBuildId(after)) : diffOutputs(before, after);
  const changes = opts.all ? every : every.filter((c) => shownByDefault(c.path));
  if (changes.length < every.length) return { changes, left: 'manifest' };
  if (!every.length && opts.ignoreBuildId && diffOutputs(before, after).length) return { changes, left: 'build-id' };
  return { changes, left: undefined };
}

/** Compiles one side; [] when the manifest does not exist there (`absentIsEmpty`), undefined on errors. */
function compileSide(path: string, io: CliIO, absentIsEmpty: boolean): GeneratedFile[] | undefined {
  if (absentIsEmpty && io.host.kind(path) === 'missing') return [];
  return compileToMemory(path, io, { strict: false, format: 'pretty' })?.files;
}

/**
 * Compiles the REV side. Its diagnostics are about the past and would repeat the working tree's,
 * so they are shown only when they stop the diff, under a line saying which revision they are from.
 */
function compileBase(path: string, io: CliIO, rev: string): GeneratedFile[] | undefined {
  let held = '';
  const files = compileSide(path, { ...io, stderr: (text) => void (held += text) }, true);
  if (!files && held) io.stderr(`${shown(path)} at ${shown(rev)}:\n${held}`);
  return files;
}

export function diffCommand(args: DiffArgs, io: CliIO): number {
  choice('--format', args.format, DIFF_FORMATS);
  let before: GeneratedFile[] | undefined;
  let after: GeneratedFile[] | undefined;
  let title: string;
  if (args.base !== undefined) {
    if (args.files.length > 1) throw new UsageError('`diff --base REV` takes one manifest');
    if (args.base === '' || args.base.startsWith('-')) throw new UsageError(`\`${args.base}\` is not a git revision`);
    const [path] = manifestPaths(args.files, io);
    let git: GitHost;
    try {
      git = GitHost.open(path!, args.base);
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      io.stderr(`derivc: ${continued(err.message, '  ')}\n`);
      return EXIT.failed;
    }
    // A manifest added (or deleted) since REV: one side has no output, so every file shows.
    if (git.kind(path!) === 'missing' && io.host.kind(path!) === 'missing') {
      io.stderr(`derivc: ${shown(path!)} exists neither in the working tree nor at ${shown(args.base)}\n`);
      return EXIT.failed;
    }
    before = compileBase(path!, { ...io, host: git }, args.base);
    after = compileSide(path!, io, true);
    title = `derivc diff: ${markdownCode(path!)} since ${markdownCode(args.base)}`;
  } else {
    if (args.files.length !== 2) throw new UsageError('`diff` takes two manifests (OLD NEW), or --base REV [FILE]');
    const [oldPath, newPath] = manifestPaths(args.files, io);
    before = compileSide(oldPath!, io, false);
    after = compileSide(newPath!, io, false);
    title = `derivc diff: ${markdownCode(oldPath!)} → ${markdownCode(newPath!)}`;
  }
  if (!before || !after) return EXIT.failed;
  const { changes, left } = reviewChanges(before, after, args);
  if (args.format === 'github') io.stdout(renderGithub(title, changes, left));
  else {
    io.stdout(changes.map((c) => c.text).join(''));
    // Exit 0 with an empty diff must not read as "identical" when something was left out.
    if (!changes.length && left) io.stderr(`derivc: no differences shown: only ${LEFT_OUT[left][0]} differs ${LEFT_OUT[left][1]}\n`);
  }
  return changes.length ? EXIT.changed : EXIT.ok;
}
