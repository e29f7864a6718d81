// derivc matrix: the CI fan-out of a fleet — one job per derivative and target, after its
// upstream's jobs — for GitHub (a matrix per level, GITHUB_OUTPUT lines), GitLab (a child pipeline
// with needs:) and as JSON, against golden files (test/golden-fleet/, UPDATE_EXPECTED=1 rewrites
// them). --affected on a temporary git repository: what a change since the base affects.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runCli, type CliRun } from './support/cli.js';
import { matrixGitlab } from '../cli/fleet/matrix.js';
import { HOSTILE_DIR, writeFleet } from './support/fleet-fixture.js';
import { updating } from './support/update-mode.js';

const GOLDEN = 'test/golden-fleet';
const update = updating('UPDATE_EXPECTED');

let root: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=derivc', '-c', 'user.email=derivc@example.com', '-c', 'commit.gpgsign=false', ...args], {
    cwd: root,
    stdio: 'pipe',
  }).toString();

beforeAll(() => {
  root = writeFleet();
  git('init', '-q', '-b', 'main');
  writeFileSync(join(root, 'README.md'), 'a fleet\n');
  git('add', '-A');
  git('commit', '-qm', 'base');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function matrix(...argv: string[]): CliRun {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    return runCli(['matrix', ...argv], { cwd: root });
  } finally {
    process.chdir(cwd);
  }
}

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (update) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  if (!existsSync(file)) throw new Error(`${file} is missing: run with UPDATE_EXPECTED=1 and review it`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

interface Job {
  id: string;
  manifest: string;
  target: string;
  level: number;
  needs: string[];
}

/** GITHUB_OUTPUT lines as the runner reads them: KEY=VALUE, one per line. */
function githubOutputs(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .trimEnd()
      .split('\n')
      .map((line) => {
        const eq = line.indexOf('=');
        return [line.slice(0, eq), line.slice(eq + 1)];
      }),
  );
}

describe('derivc matrix', () => {
  it('json: one job per derivative and target, image-only without targets, upstream jobs as needs', () => {
    const r = matrix('--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    golden('matrix.json', r.stdout);
    const m = JSON.parse(r.stdout) as { formatVersion: number; base: string | null; depth: number; jobs: Job[] };
    expect(m).toMatchObject({ formatVersion: 1, base: null, depth: 3 });
    expect(m.jobs.map((j) => [j.id, j.level, j.needs])).toEqual([
      ['base:iso', 0, []],
      ['base:raw', 0, []],
      ['solo:image', 0, []],
      ['edge:image', 1, ['base:iso', 'base:raw']],
      ['weird:raw', 1, ['base:iso', 'base:raw']],
      ['top:iso', 2, ['edge:image']],
    ]);
    expect(m.jobs.find((j) => j.id === 'weird:raw')!.manifest).toBe(`fleet/${HOSTILE_DIR}/derivative.yaml`);
    expect(m.jobs.find((j) => j.id === 'solo:image')!.target).toBe('none');
  });

  it('github: depth, jobs and one {"include":[…]} matrix per level, each on one GITHUB_OUTPUT line', () => {
    const r = matrix('--format', 'github');
    expect(r.code, r.stderr).toBe(0);
    golden('matrix-github.txt', r.stdout);
    const out = githubOutputs(r.stdout);
    expect(Object.keys(out)).toEqual(['depth', 'jobs', 'level0', 'level1', 'level2']);
    expect(out['depth']).toBe('3');
    expect(out['jobs']).toBe('6');
    const levels = [0, 1, 2].map((k) => (JSON.parse(out[`level${k}`]!) as { include: Job[] }).include);
    expect(levels.map((l) => l.map((j) => j.id))).toEqual([['base:iso', 'base:raw', 'solo:image'], ['edge:image', 'weird:raw'], ['top:iso']]);
    // The hostile path is data inside the JSON: its newline never starts a GITHUB_OUTPUT line.
    expect(levels[1]![1]!.manifest).toBe(`fleet/${HOSTILE_DIR}/derivative.yaml`);
  });

  it('gitlab: a child pipeline, a stage per level, needs: for the order, values as unexpanded variables', () => {
    const r = matrix('--format', 'gitlab');
    expect(r.code, r.stderr).toBe(0);
    golden('matrix-gitlab.yml', r.stdout);
    const doc = parse(r.stdout) as Record<
      string,
      { stage: string; needs: string[]; variables: Record<string, { value: string; expand: boolean }>; script: string[] }
    > & {
      stages: string[];
    };
    expect(doc.stages).toEqual(['level-0', 'level-1', 'level-2']);
    const jobs = Object.keys(doc).filter((k) => k !== 'stages');
    expect(jobs).toEqual(['base:iso', 'base:raw', 'solo:image', 'edge:image', 'weird:raw', 'top:iso']);
    for (const id of jobs) for (const need of doc[id]!.needs) expect(jobs).toContain(need);
    expect(doc['weird:raw']!.variables['DERIVC_MANIFEST']).toEqual({ value: `fleet/${HOSTILE_DIR}/derivative.yaml`, expand: false });
    expect(doc['top:iso']).toMatchObject({ stage: 'level-2', needs: ['edge:image'], script: ['derivc build "$DERIVC_MANIFEST" --target "$DERIVC_TARGET"'] });
  });

  it('disambiguates two derivatives of one name by version, then by path', () => {
    const dir = writeFleet({ 'a/acme': 'base: {image: "x/y:1", family: debian}\n', 'b/acme': 'base: {image: "x/y:1", family: debian}\n' });
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'fleet/b/acme/derivative.yaml'), readFileSync(join(dir, 'fleet/b/acme/derivative.yaml'), 'utf8').replace('"1.0"', '"2.0"'));
    writeFileSync(join(dir, 'fleet/c.yaml'), readFileSync(join(dir, 'fleet/a/acme/derivative.yaml'), 'utf8'));
    try {
      const cwd = process.cwd();
      process.chdir(dir);
      let r: CliRun;
      try {
        r = runCli(['matrix', '--format', 'json', 'fleet', 'fleet/c.yaml'], { cwd: dir });
      } finally {
        process.chdir(cwd);
      }
      expect(r.code, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { jobs: Job[] }).jobs.map((j) => j.id)).toEqual([
        'fleet/a/acme/derivative.yaml:image',
        'acme-2.0:image',
        'fleet/c.yaml:image',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gitlab: values YAML 1.1 would read as booleans or numbers stay strings', () => {
    const job = { name: 'yes', version: '0644', tags: [], level: 0, needs: [] };
    const text = matrixGitlab({ base: null, depth: 1, jobs: [{ ...job, id: 'on', manifest: 'no', target: 'none' }] });
    const doc = parse(text, { version: '1.1' }) as Record<string, { variables: Record<string, { value: unknown }> }>;
    expect(doc['on']!.variables['DERIVC_MANIFEST']!.value).toBe('no');
  });

  it('usage: --format is required, --affected and --base go together', () => {
    expect(matrix()).toMatchObject({ code: 3, stderr: expect.stringContaining('derivc: `matrix` needs --format github|gitlab|json\n') });
    expect(matrix('--format', 'json', '--affected')).toMatchObject({ code: 3, stderr: expect.stringContaining('--affected needs --base GIT_REV') });
    expect(matrix('--format', 'json', '--base', 'main')).toMatchObject({ code: 3, stderr: expect.stringContaining('--base GIT_REV goes with --affected') });
    expect(matrix('--format', 'json', '--affected', '--base', 'nosuchrev')).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^derivc: `nosuchrev` does not name a commit in the repository at /),
    });
  });
});

describe('derivc matrix --affected --base REV', () => {
  const affected = (format = 'json') => matrix('--format', format, '--affected', '--base', 'main');
  const ids = (r: CliRun) => (JSON.parse(r.stdout) as { jobs: Job[] }).jobs.map((j) => j.id);

  /** Runs `change`, then restores the work tree to the base commit. */
  function after(change: () => void, check: () => void): void {
    change();
    try {
      check();
    } finally {
      git('checkout', '-q', '--', '.');
      git('clean', '-qfd');
    }
  }

  it('a file an overlay reads changed: that derivative and every one built from it', () => {
    after(
      () => writeFileSync(join(root, 'fleet/base/overlay/etc/motd'), 'changed\n'),
      () => {
        const r = affected();
        expect(r.code, r.stderr).toBe(0);
        expect(ids(r)).toEqual(['base:iso', 'base:raw', 'edge:image', 'weird:raw', 'top:iso']);
        expect(JSON.parse(r.stdout)).toMatchObject({ base: 'main', depth: 3 });
      },
    );
  });

  it('a manifest changed: it and its downstreams; their levels start at 0 where the upstream is left out', () => {
    after(
      () =>
        writeFileSync(
          join(root, 'fleet/edge/derivative.yaml'),
          readFileSync(join(root, 'fleet/edge/derivative.yaml'), 'utf8') + 'packages: {install: [curl]}\n',
        ),
      () => {
        const r = affected();
        const jobs = (JSON.parse(r.stdout) as { jobs: Job[] }).jobs;
        expect(jobs.map((j) => [j.id, j.level, j.needs])).toEqual([
          ['edge:image', 0, []],
          ['top:iso', 1, ['edge:image']],
        ]);
      },
    );
  });

  it('a file added to an overlay folder (untracked), or a derivc.config.yaml beside a manifest, counts too', () => {
    after(
      () => writeFileSync(join(root, 'fleet/base/overlay/etc/new'), 'new\n'),
      () => expect(ids(affected())).toEqual(['base:iso', 'base:raw', 'edge:image', 'weird:raw', 'top:iso']),
    );
    after(
      () => writeFileSync(join(root, 'fleet/solo/derivc.config.yaml'), 'rules: {}\n'),
      () => expect(ids(affected())).toEqual(['solo:image']),
    );
  });

  it('an unrelated change: no job, and every format is still valid output', () => {
    after(
      () => writeFileSync(join(root, 'README.md'), 'changed\n'),
      () => {
        expect(ids(affected())).toEqual([]);
        expect(JSON.parse(affected().stdout)).toMatchObject({ formatVersion: 1, base: 'main', depth: 0, jobs: [] });
        expect(githubOutputs(affected('github').stdout)).toEqual({ depth: '0', jobs: '0' });
        const gitlab = affected('gitlab');
        expect(gitlab.code).toBe(0);
        expect(parse(gitlab.stdout)).toEqual({
          stages: ['level-0'],
          'derivc:nothing-to-build': { stage: 'level-0', script: ['echo "derivc: no derivative is affected"'] },
        });
      },
    );
  });
});
