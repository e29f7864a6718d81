// What README.md states about the repository, checked against it: the /system/oem file names it
// promises are the ones compile writes (the golden outputs), the diagnostic codes it names are
// catalogued, its Commands table names only commands and flags the CLI has, the files and links it
// names exist, it points nowhere outside the repository (but for the tests' fixtures in
// Development), and the tarball name of its install section carries the package's version.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CODES, isDiagnosticCode } from '../compiler/codes.js';
import { COMMANDS, COMMAND_NAMES, FLAGS, GLOBAL_FLAGS, type FlagName } from '../cli/usage.js';
import { codeSpans, fences, linkTargets, prose } from './support/markdown.js';

const README = readFileSync('README.md', 'utf8');
const PROSE = prose(README);
const SPANS = codeSpans(PROSE);
const TRACKED = execFileSync('git', ['ls-files', '-z'], { encoding: 'utf8' }).split('\0').filter(Boolean);

/** The prose of one `## Section` (up to the next `## `). */
function section(title: string): string {
  const start = PROSE.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no section \`## ${title}\``);
  const end = PROSE.indexOf('\n## ', start + 1);
  return PROSE.slice(start, end < 0 ? undefined : end);
}

/** `test/errors/*.txt` → a regular expression over repository paths. */
function globRegExp(glob: string): RegExp {
  const source = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*\*\/?|\*/g, (m) => (m === '*' ? '[^/]*' : '(?:.*/)?'));
  return new RegExp(`^${source}(?:/.*)?$`);
}

describe('README.md states what is true of the repository', () => {
  it('names only /system/oem files that compile writes', () => {
    const golden = new Set(readdirSync('test/golden', { recursive: true, encoding: 'utf8' }).map((p) => p.split('/').pop()!));
    const named = [...new Set([...README.matchAll(/\b\d\d_[\w-]+\.yaml\b/g)].map((m) => m[0]))];
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !golden.has(name))).toEqual([]);
  });

  it('names only diagnostic codes that exist', () => {
    const codes = Object.keys(CODES);
    // `family/name` spans (no dot, no second slash) are codes unless they are a path here; `family/*` a family.
    const spans = SPANS.filter((s) => /^[a-z][a-z-]*\/(?:[a-z0-9][a-z0-9-]*|\*)$/.test(s) && !existsSync(s));
    const shown = [...README.matchAll(/\b(?:error|warning|info)\[([^\]\s]+)\]/g)].map((m) => m[1]!);
    expect(shown.length).toBeGreaterThan(0);
    const known = (code: string) => (code.endsWith('/*') ? codes.some((c) => c.startsWith(code.slice(0, -1))) : isDiagnosticCode(code));
    expect([...spans, ...shown].filter((code) => !known(code))).toEqual([]);
  });

  it('lists in its Commands table only commands and flags the CLI has, and every command', () => {
    const rows = section('Commands')
      .split('\n')
      .filter((l) => l.startsWith('| `derivc '));
    const listed = new Set<string>();
    for (const row of rows) {
      const cell = row.slice(1, row.indexOf(' | '));
      for (const span of codeSpans(cell)) {
        const command = /^derivc (\w+)/.exec(span)?.[1];
        expect(command !== undefined && COMMAND_NAMES.includes(command), `README.md: \`${span}\` names a command derivc has`).toBe(true);
        listed.add(command!);
        const uses = [...COMMANDS[command!]!.flags, ...GLOBAL_FLAGS];
        for (const [, long, short, value] of span.replace(/\\\|/g, '|').matchAll(/(?:^|[\s[])(?:--([a-z][a-z-]*)|-([a-z]))(?: ([^\s\]]+))?/g)) {
          const flag = (long ?? Object.keys(FLAGS).find((f) => (FLAGS[f as FlagName] as { short?: string }).short === short)) as FlagName | undefined;
          const use = uses.find((u) => u.flag === flag);
          expect(use, `README.md: \`${span}\`: \`derivc ${command}\` takes ${long ? `--${long}` : `-${short}`}`).toBeDefined();
          // Values written out (not a placeholder such as DIR, nor …) are values the flag accepts.
          const values = (value ?? '').split(/[|,]/).filter((v) => /^[a-z][a-z0-9-]*$/.test(v));
          if (use!.values) for (const v of values) expect(use!.values, `README.md: \`${span}\`: --${use!.flag} ${v}`).toContain(v);
        }
      }
    }
    expect([...listed].sort()).toEqual(COMMAND_NAMES.filter((c) => c !== 'help').sort());
  });

  it('names only files and links that exist in the repository', () => {
    const topLevel = new Set(TRACKED.map((p) => p.split('/')[0]!));
    const paths = SPANS.filter((s) => /^[\w.-]+(\/[\w.*-]+)*\/?$/.test(s) && topLevel.has(s.split('/')[0]!));
    expect(paths).toContain('schema/derivative.schema.json');
    expect(paths.filter((p) => !(p.includes('*') ? TRACKED.some((t) => globRegExp(p).test(t)) : existsSync(p)))).toEqual([]);
    const links = linkTargets(PROSE).filter((t) => !/^[a-z]+:|^#/.test(t));
    expect(links).toContain('docs/manifest.md');
    expect(links.filter((link) => !existsSync(link.split('#')[0]!))).toEqual([]);
  });

  it('points nowhere outside the repository, but for the test fixtures in Development', () => {
    const development = section('Development');
    const outside = [...codeSpans(PROSE.replace(development, '')), ...linkTargets(PROSE)].filter((s) => s.startsWith('../'));
    expect(outside).toEqual([]);
  });

  it('installs the tarball of the current version', () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const named = [...README.matchAll(/\bderivc-(\d[^\s/]*)\.tgz\b/g)].map((m) => m[1]);
    expect(named.length).toBeGreaterThan(0);
    expect(new Set(named)).toEqual(new Set([version]));
    expect(fences(README).some((f) => f.info.includes('derivc-install-tarball') && f.body.includes(`derivc-${version}.tgz`))).toBe(true);
  });
});
