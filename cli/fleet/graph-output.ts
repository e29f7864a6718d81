// `derivc graph`: a fleet as a tree on the terminal, as Graphviz DOT, or as JSON. Every value from
// a manifest (names, paths, tags) reaches DOT through compiler/quote.ts and JSON through
// JSON.stringify; node IDs in DOT are derivc's own (`n0`, `n1`, …), never a manifest's text.

import { dotString } from '../../compiler/quote.js';
import { shown } from '../format/style.js';
import { displayPath, factsOf, type FleetNode } from './graph.js';

/** Bumped on any incompatible change to the JSON below. */
export const GRAPH_FORMAT_VERSION = 1;

interface GraphNodeJson {
  manifest: string;
  name: string;
  version: string;
  tags: string[];
  targets: string[];
  /** The manifest it is built from, or null. */
  upstream: string | null;
  /** Hops to the top of its chain (0: built from an image). */
  level: number;
  /** False: not named, only the upstream of a manifest that is. */
  named: boolean;
}

/** The graph as documented JSON: nodes in build order, edges upstream → downstream, both by manifest path. */
export function graphJson(nodes: readonly FleetNode[], cwd: string): string {
  const path = (n: FleetNode) => displayPath(n.path, cwd);
  const json = {
    formatVersion: GRAPH_FORMAT_VERSION,
    nodes: nodes.map((n): GraphNodeJson => {
      const facts = factsOf(n.manifest!);
      return { manifest: path(n), ...facts, upstream: n.upstream ? path(n.upstream) : null, level: n.level!, named: n.named };
    }),
    edges: nodes.flatMap((n) => (n.upstream ? [{ from: path(n.upstream), to: path(n) }] : [])),
  };
  return JSON.stringify(json, null, 2) + '\n';
}

/** Graphviz DOT: one box per derivative (name and version, manifest, what is made), an edge from each upstream. */
export function graphDot(nodes: readonly FleetNode[], cwd: string): string {
  const ids = new Map(nodes.map((n, i) => [n, `n${i}`]));
  const lines = ['digraph derivc {', '  rankdir=LR;', '  node [shape=box];'];
  for (const n of nodes) {
    const facts = factsOf(n.manifest!);
    const label = [`${facts.name} ${facts.version}`, displayPath(n.path, cwd), facts.tags.join(', '), made(facts.targets)].map(dotString).join(' + "\\n" + ');
    lines.push(`  ${ids.get(n)} [label=${label}${n.named ? '' : ', style=dashed'}];`);
  }
  for (const n of nodes) if (n.upstream) lines.push(`  ${ids.get(n.upstream)} -> ${ids.get(n)};`);
  lines.push('}', '');
  return lines.join('\n');
}

/** The tree people read: each derivative under the one it is built from. */
export function graphPretty(nodes: readonly FleetNode[], cwd: string): string {
  const lines: string[] = [];
  const visit = (n: FleetNode, indent: string, branch: string) => {
    const facts = factsOf(n.manifest!);
    const also = n.named ? '' : ' (upstream, not named)';
    lines.push(`${indent}${branch}${facts.name} ${shown(facts.version)}  ${shown(displayPath(n.path, cwd))}${also}`);
    const inner = indent + (branch === '' ? '' : branch === '└─ ' ? '   ' : '│  ');
    lines.push(`${inner}${n.downstreams.length ? '│' : ' '}  ${shown(facts.tags.join(', '))}; ${made(facts.targets)}`.trimEnd());
    n.downstreams.forEach((d, i) => visit(d, inner, i === n.downstreams.length - 1 ? '└─ ' : '├─ '));
  };
  for (const root of nodes.filter((n) => n.level === 0)) visit(root, '', '');
  const levels = Math.max(0, ...nodes.map((n) => n.level! + 1));
  lines.push(`${nodes.length} derivative${nodes.length === 1 ? '' : 's'}, ${levels} level${levels === 1 ? '' : 's'}`, '');
  return lines.join('\n');
}

function made(targets: readonly string[]): string {
  return targets.length ? `targets: ${targets.join(', ')}` : 'image only';
}
