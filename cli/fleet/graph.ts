// A fleet: the manifests named on the command line and every upstream they name
// (`base.derivative`, also one not named), as one graph. Nodes are manifests, one per real path;
// each has at most one upstream, so the graph is a forest unless manifests form a cycle — which
// validation reports (`base/derivative-cycle`); here such nodes only get no level, never a hang.

import { relative, resolve, sep } from 'node:path';
import { isFailing, type Diagnostic } from '../../compiler/diagnostics.js';
import { defaultTagsOf } from '../../compiler/image-tags.js';
import { targetsOf, type TargetName } from '../../compiler/normalize/targets.js';
import type { ValidatedManifest, ValidationSession } from '../../compiler/validate/index.js';
import { normalize } from 'node:path';

export interface FleetNode {
  /** The manifest as the host reads it (relative to the working directory, or absolute). */
  path: string;
  /** Its real path: two spellings of one manifest are one node. */
  key: string;
  /** Named (or found below a named directory); false: only an upstream of one. */
  named: boolean;
  /** Undefined when it does not validate (errors; warnings raised to errors by its config). */
  manifest: ValidatedManifest | undefined;
  upstream: FleetNode | undefined;
  downstreams: FleetNode[];
  /** Validation's findings for this manifest, its suppressions applied. */
  diagnostics: Diagnostic[];
  /** Upstream hops to the top of its chain; undefined on a cycle or below one. */
  level: number | undefined;
  /** Part of a cycle of `base.derivative` references. */
  onCycle: boolean;
}

export interface Fleet {
  /** Upstreams before their downstreams: by level, then path; nodes without a level last. */
  nodes: FleetNode[];
  /** Every file read, for code frames. */
  sources: Map<string, string>;
}

/** Suppressions of one manifest applied to its findings (cli/suppression.ts), with the sources they read. */
export type CheckManifest = (path: string, diagnostics: Diagnostic[]) => { diagnostics: Diagnostic[]; sources: Map<string, string> };

export function loadFleet(paths: readonly string[], session: ValidationSession, check: CheckManifest): Fleet {
  const byKey = new Map<string, FleetNode>();
  const upstreamOf = new Map<FleetNode, string>();
  let sources = new Map<string, string>();
  const queue = paths.map((path) => ({ path, named: true }));
  while (queue.length > 0) {
    const { path, named } = queue.shift()!;
    const key = session.host.realpath(path) ?? normalize(path);
    const seen = byKey.get(key);
    if (seen) {
      seen.named ||= named;
      continue;
    }
    const validated = session.validate(path);
    const checked = check(path, validated.diagnostics);
    sources = new Map([...sources, ...validated.value.sources, ...checked.sources]);
    const failing = checked.diagnostics.some((d) => isFailing(d, false));
    const node: FleetNode = {
      path,
      key,
      named,
      manifest: failing ? undefined : validated.value.manifest,
      upstream: undefined,
      downstreams: [],
      diagnostics: checked.diagnostics,
      level: undefined,
      onCycle: false,
    };
    byKey.set(key, node);
    const up = validated.value.upstreamPath;
    if (up !== undefined) {
      upstreamOf.set(node, session.host.realpath(up) ?? normalize(up));
      queue.push({ path: up, named: false });
    }
  }
  for (const [node, key] of upstreamOf) {
    node.upstream = byKey.get(key);
    node.upstream?.downstreams.push(node);
  }
  for (const node of byKey.values()) placeInChain(node);
  const nodes = [...byKey.values()].sort((a, b) => (a.level ?? Infinity) - (b.level ?? Infinity) || compare(a.path, b.path) || compare(a.key, b.key));
  for (const n of nodes) n.downstreams.sort((a, b) => nodes.indexOf(a) - nodes.indexOf(b));
  return { nodes, sources };
}

/** Level and cycle membership: follow the upstreams until the top, or until one repeats. */
function placeInChain(node: FleetNode): void {
  const chain: FleetNode[] = [];
  for (let at: FleetNode | undefined = node; at; at = at.upstream) {
    if (chain.includes(at)) {
      node.onCycle = at === node;
      return;
    }
    chain.push(at);
  }
  node.level = chain.length - 1;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The node and every node built from it, directly or further down. */
export function downstreamClosure(nodes: Iterable<FleetNode>): Set<FleetNode> {
  const out = new Set<FleetNode>();
  const visit = (n: FleetNode) => {
    if (out.has(n)) return;
    out.add(n);
    n.downstreams.forEach(visit);
  };
  for (const n of nodes) visit(n);
  return out;
}

/** A path as output shows it: relative to the directory derivc runs in, with `/`. */
export function displayPath(path: string, cwd: string): string {
  return relative(cwd, resolve(path)).split(sep).join('/');
}

/** What graph and matrix say of a node (it validated). */
export interface NodeFacts {
  name: string;
  version: string;
  tags: string[];
  targets: TargetName[];
}

export function factsOf(v: ValidatedManifest): NodeFacts {
  return { name: v.manifest.metadata.name, version: v.manifest.metadata.version, tags: defaultTagsOf(v.manifest), targets: targetsOf(v).enabled };
}
