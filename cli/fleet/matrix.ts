// `derivc matrix`: the CI fan-out of a fleet. One job per derivative and target (one image-only
// job, `--target none`, for a derivative without targets, and for an upstream no PATH named, as
// `derivc build` builds those), each after every job of its upstream.
//
// GitHub's matrix cannot order its own entries, so the jobs are cut into levels — level 0 builds
// from images, level k from derivatives of level k-1 — and a workflow runs one matrix job per
// level, each `needs:` the one before (examples/ci/github-fleet.yml). GitLab's `needs:` orders
// jobs directly: a child pipeline. Values from manifests are serialized by JSON.stringify and the
// yaml library, never pasted into text.

import { stringify } from 'yaml';
import { displayPath, factsOf, type FleetNode } from './graph.js';

/** Bumped on any incompatible change to the JSON below. */
export const MATRIX_FORMAT_VERSION = 1;

export interface MatrixJob {
  /** Unique: `DERIVATIVE:TARGET` (`:image` for the image alone). */
  id: string;
  name: string;
  version: string;
  /** As `derivc build` takes it, relative to the directory derivc ran in. */
  manifest: string;
  /** For `--target`: a target, or `none` for the image alone. */
  target: string;
  tags: string[];
  /** 0: built from an image; k: after level k-1. */
  level: number;
  /** Ids of the jobs that build its upstream. */
  needs: string[];
}

export interface Matrix {
  /** The revision `--affected` compared with; null without it. */
  base: string | null;
  depth: number;
  jobs: MatrixJob[];
}

/**
 * A derivative's part of its jobs' ids, over the whole fleet (so `--affected` never renames a
 * job): its name; name-version when names repeat; its manifest path when both do.
 */
function derivativeIds(fleet: readonly FleetNode[], cwd: string): Map<FleetNode, string> {
  const count = (key: (n: FleetNode) => string) => {
    const c = new Map<string, number>();
    for (const n of fleet) c.set(key(n), (c.get(key(n)) ?? 0) + 1);
    return c;
  };
  const name = (n: FleetNode) => n.manifest!.manifest.metadata.name;
  const nameVersion = (n: FleetNode) => `${name(n)}-${n.manifest!.manifest.metadata.version}`;
  const names = count(name);
  const versions = count(nameVersion);
  return new Map(fleet.map((n) => [n, names.get(name(n)) === 1 ? name(n) : versions.get(nameVersion(n)) === 1 ? nameVersion(n) : displayPath(n.path, cwd)]));
}

/** The jobs for `selected` (a part of `fleet`, in its order: upstreams first). */
export function matrixOf(fleet: readonly FleetNode[], selected: ReadonlySet<FleetNode>, cwd: string, base: string | null): Matrix {
  const ids = derivativeIds(fleet, cwd);
  const levels = new Map<FleetNode, number>();
  const jobIds = new Map<FleetNode, string[]>();
  const jobs: MatrixJob[] = [];
  for (const n of fleet) {
    if (!selected.has(n)) continue;
    const up = n.upstream && selected.has(n.upstream) ? n.upstream : undefined;
    const level = up ? levels.get(up)! + 1 : 0;
    levels.set(n, level);
    const facts = factsOf(n.manifest!);
    const targets = n.named && facts.targets.length ? facts.targets : ['none'];
    const own = targets.map((t) => `${ids.get(n)}:${t === 'none' ? 'image' : t}`);
    jobIds.set(n, own);
    targets.forEach((target, i) =>
      jobs.push({
        id: own[i]!,
        name: facts.name,
        version: facts.version,
        manifest: displayPath(n.path, cwd),
        target,
        tags: facts.tags,
        level,
        needs: up ? [...jobIds.get(up)!] : [],
      }),
    );
  }
  jobs.sort((a, b) => a.level - b.level);
  return { base, depth: Math.max(0, ...jobs.map((j) => j.level + 1)), jobs };
}

export function matrixJson(m: Matrix): string {
  return JSON.stringify({ formatVersion: MATRIX_FORMAT_VERSION, ...m }, null, 2) + '\n';
}

/**
 * `KEY=VALUE` lines for `>> "$GITHUB_OUTPUT"`: `depth` (how many levels), `jobs` (how many jobs),
 * and for each level k < depth `level<k>`, a matrix `{"include":[job, …]}` on one line
 * (JSON.stringify escapes every newline a value could hold).
 */
export function matrixGithub(m: Matrix): string {
  const lines = [`depth=${m.depth}`, `jobs=${m.jobs.length}`];
  for (let level = 0; level < m.depth; level++) lines.push(`level${level}=${JSON.stringify({ include: m.jobs.filter((j) => j.level === level) })}`);
  return lines.join('\n') + '\n';
}

/** The command every generated GitLab job runs: its values come in as variables, quoted. */
const GITLAB_SCRIPT = 'derivc build "$DERIVC_MANIFEST" --target "$DERIVC_TARGET"';

/**
 * A GitLab child pipeline: a stage per level and `needs:` for the order. Values are variables
 * with `expand: false`, so a `$` in a manifest's path stays a `$`. Images, runners and
 * `before_script` come from a file included beside it (its `default:`). Nothing affected: one job
 * saying so, as a pipeline needs a job.
 */
export function matrixGitlab(m: Matrix): string {
  const stages = Array.from({ length: Math.max(1, m.depth) }, (_, i) => `level-${i}`);
  const doc: Record<string, unknown> = { stages };
  for (const j of m.jobs) {
    doc[j.id] = {
      stage: `level-${j.level}`,
      needs: j.needs,
      variables: {
        DERIVC_MANIFEST: { value: j.manifest, expand: false },
        DERIVC_TARGET: { value: j.target, expand: false },
      },
      script: [GITLAB_SCRIPT],
    };
  }
  if (m.jobs.length === 0) doc['derivc:nothing-to-build'] = { stage: stages[0], script: ['echo "derivc: no derivative is affected"'] };
  const header = `# derivc matrix --format gitlab: ${m.jobs.length} job${m.jobs.length === 1 ? '' : 's'} in ${m.depth} level${m.depth === 1 ? '' : 's'}${m.base !== null ? ' (affected since the base revision)' : ''}\n`;
  // YAML 1.1, as GitLab reads it: `on`, `yes`, `0644` and the like are quoted, so they stay strings.
  return header + stringify(doc, { lineWidth: 0, version: '1.1', aliasDuplicateObjects: false });
}
