// derivc graph: a fleet as a tree, as Graphviz DOT and as JSON, against golden files
// (test/golden-fleet/, UPDATE_EXPECTED=1 rewrites them: review every change). One manifest's folder
// name holds quotes, a backslash, `$(…)` and a newline: it must reach DOT and JSON as data.

import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commentText, dotString } from '../compiler/quote.js';
import { runCli, type CliRun } from './support/cli.js';
import { HOSTILE_DIR, writeFleet } from './support/fleet-fixture.js';
import { updating } from './support/update-mode.js';

const GOLDEN = 'test/golden-fleet';
const update = updating('UPDATE_EXPECTED');

const root = writeFleet();
mkdirSync(join(root, '.git'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** derivc graph in the fleet's repository (paths in the output relative to it). */
function graph(...argv: string[]): CliRun {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    return runCli(['graph', ...argv], { cwd: root });
  } finally {
    process.chdir(cwd);
  }
}

function golden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (update || !existsSync(file)) {
    if (!update) throw new Error(`${file} is missing: run with UPDATE_EXPECTED=1 and review it`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

/** The quoted strings of a DOT text as Graphviz's scanner reads them: `\"` is a quote, a backslash pair stays a pair. */
function dotStrings(text: string): string[] {
  return [...text.matchAll(/"((?:[^"\\]|\\.)*)"/gs)].map((m) => m[1]!.replace(/\\"/g, '"'));
}

/** What a DOT label shows for a quoted string: `\\` is a backslash, `\n` a line break. */
function shownLabel(quoted: string): string {
  return quoted.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

describe('derivc graph', () => {
  it('pretty: each derivative under the one it is built from', () => {
    const r = graph();
    expect(r.code, r.stderr).toBe(0);
    golden('graph.txt', r.stdout);
  });

  it('json: formatVersion, nodes and edges by manifest path; a hostile folder name is data', () => {
    const r = graph('--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    golden('graph.json', r.stdout);
    const json = JSON.parse(r.stdout) as { formatVersion: number; nodes: { manifest: string; level: number }[]; edges: { from: string; to: string }[] };
    expect(json.formatVersion).toBe(1);
    const weird = `fleet/${HOSTILE_DIR}/derivative.yaml`;
    expect(json.nodes.map((n) => n.manifest)).toContain(weird);
    expect(json.edges).toContainEqual({ from: 'fleet/base/derivative.yaml', to: weird });
    expect(json.edges).toContainEqual({ from: 'fleet/edge/derivative.yaml', to: 'fleet/top/derivative.yaml' });
    // Upstreams first.
    expect(json.nodes.map((n) => n.level)).toEqual([...json.nodes.map((n) => n.level)].sort());
  });

  it('dot: derivc-made node IDs, every value a quoted string Graphviz reads back as shown', () => {
    const r = graph('--format', 'dot');
    expect(r.code, r.stderr).toBe(0);
    golden('graph.dot', r.stdout);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('digraph derivc {');
    const quoted = String.raw`"(?:[^"\\]|\\.)*"`;
    const node = new RegExp(String.raw`^  n\d+ \[label=${quoted}(?: \+ ${quoted})*(?:, style=dashed)?\];$`);
    for (const line of lines.slice(3, -2)) expect(line).toMatch(/ -> /.test(line) ? /^ {2}n\d+ -> n\d+;$/ : node);
    // The hostile path, as one label line, shows what commentText shows (no newline, no escape left).
    const labels = dotStrings(r.stdout).map(shownLabel);
    expect(labels).toContain(commentText(`fleet/${HOSTILE_DIR}/derivative.yaml`));
  });

  it('dotString ends its string where it means to, whatever the value ends with', () => {
    for (const value of ['x\\', 'a"b', '\\"', 'x\\N\\G\\l', 'line\nbreak', '\u001b[31m']) {
      const q = dotString(value);
      expect(dotStrings(q), value).toHaveLength(1);
      expect(`"${dotStrings(q)[0]!.replace(/"/g, '\\"')}"`).toBe(q);
      expect(shownLabel(dotStrings(q)[0]!)).toBe(commentText(value));
    }
  });

  it('names upstreams no PATH names, dashed and marked', () => {
    const r = graph('fleet/top');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('base 1.0  fleet/base/derivative.yaml (upstream, not named)');
    expect(r.stdout).toMatch(/^ {3}└─ top 1\.0 {2}fleet\/top\/derivative\.yaml$/m);
    const dot = graph('--format', 'dot', 'fleet/top').stdout;
    expect(dot.match(/style=dashed/g)).toHaveLength(2);
  });

  it('a manifest that does not validate: its diagnostics, exit 1, no graph', () => {
    writeFleet({ broken: 'base: {derivative: ../nowhere/derivative.yaml}\n' }, root);
    try {
      const r = graph('--format', 'json');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('error[base/derivative-not-found]: upstream manifest `../nowhere/derivative.yaml` does not exist');
    } finally {
      rmSync(join(root, 'fleet', 'broken'), { recursive: true });
    }
  });
});
