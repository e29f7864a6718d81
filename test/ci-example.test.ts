// examples/ci/github-fleet.yml reads only what `derivc matrix --format github` writes: every
// output the level jobs read is one the plan job declares, every one it declares is a key derivc
// writes for a fleet as deep as the workflow's levels, and every `matrix.X` a job reads is a field
// of derivc's jobs. Its plan script is run as the runner would (bash, GITHUB_OUTPUT a file) on a
// temporary repository with a base and a head commit.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { writeFleet } from './support/fleet-fixture.js';

const ROOT = path.resolve(__dirname, '..');
const DERIVC = path.join(ROOT, 'dist/derivc.mjs');

interface Step {
  id?: string;
  name?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string | number>;
  if?: string;
}
interface Job {
  needs?: string | string[];
  if?: string;
  name?: string;
  outputs?: Record<string, string>;
  strategy?: { 'fail-fast'?: boolean; matrix?: string };
  steps: Step[];
}
const workflow = parse(fs.readFileSync(path.join(ROOT, 'examples/ci/github-fleet.yml'), 'utf8')) as { env: Record<string, string>; jobs: Record<string, Job> };
const levelJobs = Object.keys(workflow.jobs).filter((j) => /^level\d+$/.test(j));
const planStep = workflow.jobs['plan']!.steps.find((s) => s.id === 'matrix')!;

/** base ← edge ← top ← tip, and solo: as many levels as the workflow has level jobs. */
const DEEP = {
  base: 'base: {image: "local/debian:bookworm", family: debian}\ntargets: {iso: {}}\n',
  edge: 'base: {derivative: ../base/derivative.yaml}\n',
  top: 'base: {derivative: ../edge/derivative.yaml}\ntargets: {raw: {}, iso: {}}\n',
  tip: 'base: {derivative: ../top/derivative.yaml}\n',
  solo: 'base: {image: "local/debian:bookworm", family: debian}\n',
};

let repo: string;
let bin: string;
const git = (...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=derivc', '-c', 'user.email=derivc@example.com', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, stdio: 'pipe' })
    .toString()
    .trim();

beforeAll(() => {
  if (!fs.existsSync(DERIVC)) throw new Error('dist/derivc.mjs is missing: run `npm run build` first');
  repo = writeFleet(DEEP);
  fs.renameSync(path.join(repo, 'fleet'), path.join(repo, 'os'));
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'base');
  // `derivc` on PATH, as the workflow installs it.
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-bin-'));
  fs.writeFileSync(path.join(bin, 'derivc'), `#!/bin/sh\nexec node ${JSON.stringify(DERIVC)} "$@"\n`, { mode: 0o755 });
});
afterAll(() => [repo, bin].forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Runs the plan step's script as the runner does; returns GITHUB_OUTPUT as KEY → VALUE. */
function plan(base: string): { status: number | null; stdout: string; stderr: string; outputs: Record<string, string> } {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-runner-'));
  const output = path.join(temp, 'output');
  fs.writeFileSync(output, '');
  try {
    const env = { ...workflow.env, ...planStep.env, BASE: base };
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', planStep.run!], {
      cwd: repo,
      env: {
        PATH: `${bin}:${process.env['PATH']}`,
        HOME: temp,
        RUNNER_TEMP: temp,
        GITHUB_OUTPUT: output,
        ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      },
      encoding: 'utf8',
    });
    const outputs = Object.fromEntries(
      fs
        .readFileSync(output, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, outputs };
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

describe('examples/ci/github-fleet.yml', () => {
  it('plans with `derivc matrix --format github --affected --base`, then runs one matrix job per level, each after the one before', () => {
    expect(planStep.run).toMatch(/derivc matrix --format github "\$\{affected\[@\]\}" -- "\$FLEET"/);
    expect(planStep.run).toContain('affected=(--affected --base "$BASE")');
    expect(levelJobs).toEqual(['level0', 'level1', 'level2', 'level3']);
    expect(planStep.env!['LEVELS']).toBe(levelJobs.length);
    levelJobs.forEach((name, k) => {
      const job = workflow.jobs[name]!;
      expect(job.needs).toEqual(k === 0 ? 'plan' : ['plan', `level${k - 1}`]);
      expect(job.if).toBe(`fromJSON(needs.plan.outputs.depth) > ${k}`);
      expect(job.strategy).toEqual({ 'fail-fast': false, matrix: `\${{ fromJSON(needs.plan.outputs.level${k}) }}` });
    });
  });

  it('reads only outputs derivc writes, and only fields of the jobs it plans', () => {
    const text = fs.readFileSync(path.join(ROOT, 'examples/ci/github-fleet.yml'), 'utf8');
    const declared = workflow.jobs['plan']!.outputs!;
    // Every output read is declared by the plan job, as the matrix step's output of the same name.
    const read = [...text.matchAll(/needs\.plan\.outputs\.([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
    expect(new Set(read)).toEqual(new Set(['depth', ...levelJobs]));
    for (const key of read) expect(declared).toHaveProperty(key);
    for (const [key, value] of Object.entries(declared)) expect(value).toBe(`\${{ steps.matrix.outputs.${key} }}`);

    const r = spawnSync('node', [DERIVC, 'matrix', '--format', 'github', 'os'], { cwd: repo, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const written = Object.fromEntries(
      r.stdout
        .trimEnd()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(Object.keys(written).sort()).toEqual(Object.keys(declared).sort());
    const jobs = levelJobs.flatMap((k) => (JSON.parse(written[k]!) as { include: Record<string, unknown>[] }).include);
    const fields = [...text.matchAll(/(?<![.\w])matrix\.(\w+)/g)].map((m) => m[1]!);
    expect(new Set(fields)).toEqual(new Set(['id', 'manifest', 'target', 'name', 'version']));
    for (const field of fields) for (const job of jobs) expect(job, field).toHaveProperty(field);
  });

  it('passes manifest values to the shell through env: only, and builds with them quoted', () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps.filter((s) => s.run !== undefined)) expect(step.run, step.name).not.toContain('${{');
    }
    for (const name of levelJobs) {
      const build = workflow.jobs[name]!.steps.find((s) => s.name === 'Build')!;
      expect(build.env).toEqual({ MANIFEST: '${{ matrix.manifest }}', TARGET: '${{ matrix.target }}' });
      expect(build.run).toBe('derivc build --target "$TARGET" -- "$MANIFEST"');
    }
  });

  it('the plan script writes the levels of what changed since the base; nothing when nothing did; every level when there is no base', () => {
    const none = plan('main');
    expect(none.status, none.stderr).toBe(0);
    expect(none.outputs).toEqual({ depth: '0', jobs: '0' });

    fs.appendFileSync(path.join(repo, 'os/edge/derivative.yaml'), 'system: {hostname: edge}\n');
    try {
      const some = plan('main');
      expect(some.status, some.stderr).toBe(0);
      expect(some.stdout).toBe('derivc: 4 job(s) in 3 level(s)\n');
      expect(Object.keys(some.outputs)).toEqual(['depth', 'jobs', 'level0', 'level1', 'level2']);
      expect((JSON.parse(some.outputs['level1']!) as { include: { id: string }[] }).include.map((j) => j.id)).toEqual(['top:iso', 'top:raw']);
    } finally {
      git('checkout', '-q', '--', '.');
    }

    const all = plan('0000000000000000000000000000000000000000');
    expect(all.status, all.stderr).toBe(0);
    expect(all.outputs['depth']).toBe('4');
    expect(all.outputs['jobs']).toBe('6');
  });

  it('the plan fails, naming the depth, when derivatives are chained deeper than its level jobs', () => {
    const deeper = plan('0000000000000000000000000000000000000000');
    expect(deeper.status).toBe(0);
    fs.mkdirSync(path.join(repo, 'os/tail'));
    fs.writeFileSync(
      path.join(repo, 'os/tail/derivative.yaml'),
      'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: tail, version: "1.0"}\nbase: {derivative: ../tip/derivative.yaml}\n',
    );
    try {
      const r = plan('0000000000000000000000000000000000000000');
      expect(r.status).toBe(1);
      expect(r.stdout).toContain('::error title=derivc::derivatives are chained 5 deep; this workflow has 4 level jobs: add level4 and up');
      expect(r.outputs).toEqual({});
    } finally {
      fs.rmSync(path.join(repo, 'os/tail'), { recursive: true });
    }
  });
});
