// The three examples that re-express real derivatives carry a migration guide: a table in their
// README mapping every instruction of the upstream Dockerfile, by line, to what says it now. The
// upstream Dockerfiles are read unchanged from ../shared/reference/dockerfiles at test time and
// parsed with dockerfile-ast, so the guide cannot drift from the file it claims to cover: a
// missing, invented or mis-numbered row fails, and so does a reference to a `files[N]` or
// `build.steps[N]` the manifest does not have (or a step the guide never explains).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const REFERENCE = '../shared/reference/dockerfiles';

/** Example folder → the upstream Dockerfile it re-expresses, under REFERENCE. */
const GUIDES: Record<string, string> = {
  'harvester-os2': 'harvester-os2-20220606/Dockerfile',
  'elemental-green': 'elemental-toolkit-v2.3.2-green/Dockerfile',
  'kairos-ubuntu': 'kairos-v2.4.3/Dockerfile.kairos-ubuntu',
};

/** Each instruction's 1-based lines: `12` for one line, `23–77` for a continued one. */
function instructionLines(dockerfile: string): string[] {
  return DockerfileParser.parse(dockerfile)
    .getInstructions()
    .map((i) => {
      const { start, end } = i.getRange();
      return start.line === end.line ? `${start.line + 1}` : `${start.line + 1}–${end.line + 1}`;
    });
}

interface GuideRow {
  lines: string[];
  now: string;
}

/** The rows of the table under `## Migration guide`: first cell the lines (`5`, `23–77`, `30, 32`), last the key. */
function guideRows(readme: string): GuideRow[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith('Migration guide\n'));
  if (section === undefined) throw new Error('no "## Migration guide" section');
  return section
    .split('\n')
    .filter((l) => /^\|\s*\d/.test(l))
    .map((l) => {
      // Cells split on unescaped pipes (`\|` stays inside a code span).
      const cells = l
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim());
      return { lines: cells[0]!.split(',').map((x) => x.trim().replace('-', '–')), now: cells[cells.length - 1]! };
    });
}

/** `files[3]`, `build.steps[0]` named in the guide's "now" column. */
function indexedRefs(rows: GuideRow[], key: 'files' | 'build.steps'): number[] {
  const re = new RegExp(`${key.replace('.', '\\.')}\\[(\\d+)\\]`, 'g');
  return rows.flatMap((r) => [...r.now.matchAll(re)].map((m) => Number(m[1])));
}

describe('migration guides of the examples re-expressing real derivatives', () => {
  it('are checked for every example with a README that has one', () => {
    const withGuide = readdirSync('examples', { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join('examples', d.name, 'README.md')))
      .filter((d) => readFileSync(join('examples', d.name, 'README.md'), 'utf8').includes('\n## Migration guide\n'))
      .map((d) => d.name);
    expect(withGuide.sort()).toEqual(Object.keys(GUIDES).sort());
  });

  for (const [example, upstream] of Object.entries(GUIDES)) {
    describe(example, () => {
      const dockerfilePath = join(REFERENCE, upstream);
      const readme = readFileSync(join('examples', example, 'README.md'), 'utf8');
      const manifest = parse(readFileSync(join('examples', example, 'derivative.yaml'), 'utf8')) as {
        files?: unknown[];
        build?: { steps?: unknown[] };
      };

      it('names the upstream Dockerfile it re-expresses', () => {
        expect(readme).toContain(`\`${dockerfilePath}\``);
      });

      it('maps every instruction of the upstream Dockerfile, by its lines, exactly once', () => {
        expect(existsSync(dockerfilePath), `${dockerfilePath} is missing: the guide cannot be checked without it`).toBe(true);
        const instructions = instructionLines(readFileSync(dockerfilePath, 'utf8'));
        const rows = guideRows(readme);
        const mapped = rows.flatMap((r) => r.lines);
        expect(new Set(mapped).size, 'a line appears in two rows').toBe(mapped.length);
        expect([...mapped].sort()).toEqual([...instructions].sort());
        for (const r of rows) expect(r.now, `row ${r.lines.join(', ')}`).not.toBe('');
      });

      it('names only files and build steps the manifest has, and explains every build step', () => {
        const rows = guideRows(readme);
        const files = manifest.files ?? [];
        const steps = manifest.build?.steps ?? [];
        for (const i of indexedRefs(rows, 'files')) expect(i, `files[${i}]`).toBeLessThan(files.length);
        const named = new Set(indexedRefs(rows, 'build.steps'));
        for (const i of named) expect(i, `build.steps[${i}]`).toBeLessThan(steps.length);
        expect([...named].sort((a, b) => a - b)).toEqual(steps.map((_, i) => i));
      });
    });
  }

  it('a guide missing a row, or numbering a continued instruction wrongly, does not cover the Dockerfile', () => {
    const dockerfile = 'FROM scratch\n# a comment\nRUN a \\\n  b\nENV X=1\n';
    expect(instructionLines(dockerfile)).toEqual(['1', '3–4', '5']);
    const guide = (rows: string) => `# x\n\n## Migration guide\n\n| line | upstream | now |\n|---|---|---|\n${rows}\n## Next\n\n| 9 | not | counted |\n`;
    const covered = (rows: string) =>
      guideRows(guide(rows))
        .flatMap((r) => r.lines)
        .sort();
    expect(covered('| 1 | FROM | `base.image` |\n| 3-4 | RUN | `build.steps[0]` |\n| 5 | ENV | `build.env` |\n')).toEqual(['1', '3–4', '5']);
    expect(covered('| 1 | FROM | `base.image` |\n| 3 | RUN | `build.steps[0]` |\n| 5 | ENV | `build.env` |\n')).not.toEqual(['1', '3–4', '5']);
    expect(covered('| 1, 5 | FROM, ENV | `base.image` |\n')).not.toEqual(['1', '3–4', '5']);
  });
});
