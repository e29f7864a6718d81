// derivc build PATH… against the recording fake Engine: a fleet of manifests is one graph, built
// upstreams first, up to --jobs at a time; a failure skips what is built from it (and, without
// --keep-going, starts nothing new); a summary table ends the run; the exit code is the worst.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeEngine } from './support/fake-engine.js';
import { runCliAsync, type CliRun } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

const IMAGE = 'base: {image: "local/debian:bookworm", family: debian}\n';

/** A folder holding `fleet/NAME/derivative.yaml` for each entry (body after apiVersion, kind, metadata). */
function fleet(manifests: Record<string, string>, version = '1.0'): string {
  const root = mkdtempSync(join(tmpdir(), 'derivc-fleet-'));
  scratch.push(root);
  // The repository: upstreams are read from inside it only.
  mkdirSync(join(root, '.git'));
  for (const [dir, body] of Object.entries(manifests)) {
    mkdirSync(join(root, 'fleet', dir), { recursive: true });
    const name = dir.split('/').pop()!;
    writeFileSync(
      join(root, 'fleet', dir, 'derivative.yaml'),
      `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "${version}"}\n${body}`,
    );
  }
  return root;
}

/** base ← edge ← top, and solo on its own. */
const CHAIN = {
  base: `${IMAGE}system: {hostname: base}\n`,
  edge: 'base: {derivative: ../base/derivative.yaml}\nsystem: {hostname: edge}\n',
  top: 'base: {derivative: ../edge/derivative.yaml}\nsystem: {hostname: top}\n',
  solo: `${IMAGE}system: {hostname: solo}\n`,
};

/** Runs derivc in `root` (relative paths, so outputs are .derivc/NAME inside it). */
async function build(root: string, argv: string[], engine = new FakeEngine(), opts: { isTTY?: boolean } = {}): Promise<CliRun & { engine: FakeEngine }> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const r = await runCliAsync(['build', ...argv], { docker: () => engine, cwd: root, ...opts });
    return { ...r, engine };
  } finally {
    process.chdir(cwd);
  }
}

/** The summary table's rows by manifest: [image, result, time, media] (cells are 2+ spaces apart). */
function summary(stderr: string): Record<string, string[]> {
  const table = stderr
    .slice(stderr.lastIndexOf('\nmanifest  ') + 1)
    .trimEnd()
    .split('\n');
  expect(table[0]).toMatch(/^manifest {2,}image {2,}result {2,}time {2,}media$/);
  return Object.fromEntries(
    table
      .slice(1, -1)
      .map((line) => line.split(/ {2,}/))
      .map(([manifest, ...cells]) => [manifest!, cells]),
  );
}

const order = (e: FakeEngine) => e.builds.map((b) => b.tags[0]!.replace(/^derivc\.local\/|:1\.0$/g, ''));
const failing = (engine: FakeEngine, name: string) =>
  engine.scripts.set(`derivc.local/${name}:1.0`, [
    { kind: 'step', index: 1, total: 2, instruction: 'FROM x' },
    { kind: 'error', message: "The command '/bin/sh -c false' returned a non-zero code: 1", code: 1 },
  ]);

describe('derivc build PATH…: a fleet', () => {
  it('builds a directory of manifests upstreams first, and ends with a summary table', async () => {
    const root = fleet(CHAIN);
    const r = await build(root, ['fleet']);
    expect(r.code, r.stderr).toBe(0);
    expect(order(r.engine)).toEqual(['base', 'solo', 'edge', 'top']);
    // Each upstream's build ended before its downstream's started.
    const at = (what: string) => r.engine.log.indexOf(what);
    expect(at('end derivc.local/base:1.0')).toBeLessThan(at('start derivc.local/edge:1.0'));
    expect(at('end derivc.local/edge:1.0')).toBeLessThan(at('start derivc.local/top:1.0'));
    const rows = summary(r.stderr);
    expect(Object.keys(rows)).toEqual(['base', 'solo', 'edge', 'top'].map((n) => `fleet/${n}/derivative.yaml`));
    expect(rows['fleet/base/derivative.yaml']).toEqual(['derivc.local/base:1.0', 'built', expect.stringMatching(/^\d+\.\ds$/), '-']);
    expect(rows['fleet/top/derivative.yaml']).toEqual(['derivc.local/top:1.0', 'built', expect.stringMatching(/^\d+\.\ds$/), '-']);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('4 manifests: 4 built, 0 up-to-date, 0 failed, 0 skipped');
    // Each in its own output directory.
    for (const name of ['base', 'edge', 'top', 'solo']) expect(existsSync(join(root, '.derivc', name, 'Dockerfile'))).toBe(true);

    const again = await build(root, ['fleet'], r.engine);
    expect(again.code).toBe(0);
    expect(again.engine.builds).toHaveLength(4);
    expect(again.stderr).toContain('4 manifests: 0 built, 4 up-to-date, 0 failed, 0 skipped');
    expect(summary(again.stderr)['fleet/solo/derivative.yaml']!.slice(0, 2)).toEqual(['derivc.local/solo:1.0', 'up-to-date']);
  });

  it('builds independent manifests side by side, never more than --jobs at once, upstreams still first', async () => {
    const root = fleet({ ...CHAIN, 'more/a': IMAGE, 'more/b': IMAGE, 'more/c': IMAGE });
    for (const jobs of [1, 2, 3]) {
      const engine = new FakeEngine();
      engine.buildMs = 40;
      const r = await build(root, ['--jobs', String(jobs), 'fleet'], engine);
      expect(r.code, r.stderr).toBe(0);
      expect(engine.builds).toHaveLength(7);
      expect(engine.peakRunning).toBe(jobs);
      const at = (what: string) => engine.log.indexOf(what);
      expect(at('end derivc.local/base:1.0')).toBeLessThan(at('start derivc.local/edge:1.0'));
      expect(at('end derivc.local/edge:1.0')).toBeLessThan(at('start derivc.local/top:1.0'));
    }
  });

  it('with --jobs above 1, every line says whose it is; JSON lines carry the manifest', async () => {
    const root = fleet(CHAIN);
    const r = await build(root, ['--jobs', '2', 'fleet']);
    expect(r.code).toBe(0);
    const lines = r.stderr.slice(0, r.stderr.indexOf('manifest  ')).trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^\[(base|edge|top|solo)\] /);
    expect(lines).toContain('[edge] building edge 1.0 from derivc.local/base:1.0 with BuildKit (context .derivc/edge)');
    expect(lines.filter((l) => /^\[top\] built derivc\.local\/top:1\.0 \(/.test(l))).toHaveLength(1);

    const json = await build(root, ['--jobs', '2', '--json', 'fleet'], new FakeEngine());
    expect(json.code).toBe(0);
    const objects = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const o of objects.slice(0, -1)) expect(o['manifest']).toMatch(/^fleet\/(base|edge|top|solo)\/derivative\.yaml$/);
    expect(objects.filter((o) => o['kind'] === 'result').map((o) => o['manifest'])).toHaveLength(4);
    expect(objects.at(-1)).toEqual({
      kind: 'summary',
      manifests: ['base', 'solo', 'edge', 'top'].map((n) => ({
        manifest: `fleet/${n}/derivative.yaml`,
        name: n,
        tag: `derivc.local/${n}:1.0`,
        result: 'built',
        seconds: expect.any(Number),
        media: [],
      })),
    });
  });

  it('stops starting builds at the first failure, skips what is built from it, and exits 1', async () => {
    const root = fleet(CHAIN);
    const engine = new FakeEngine();
    failing(engine, 'base');
    const r = await build(root, ['fleet'], engine);
    expect(r.code).toBe(1);
    expect(order(engine)).toEqual(['base']);
    expect(r.stderr).toContain('error[build/step-failed]');
    expect(summary(r.stderr)).toEqual({
      'fleet/base/derivative.yaml': ['derivc.local/base:1.0', 'failed', expect.stringMatching(/^\d+\.\ds$/), '-'],
      'fleet/solo/derivative.yaml': ['derivc.local/solo:1.0', 'skipped: not started: base failed', '-', '-'],
      'fleet/edge/derivative.yaml': ['derivc.local/edge:1.0', 'skipped: upstream base failed', '-', '-'],
      'fleet/top/derivative.yaml': ['derivc.local/top:1.0', 'skipped: upstream base failed', '-', '-'],
    });
    expect(r.stderr).toContain('4 manifests: 0 built, 0 up-to-date, 1 failed, 3 skipped');
  });

  it('lets builds that are running finish after a failure', async () => {
    const root = fleet({ a: IMAGE, b: IMAGE, c: IMAGE });
    const engine = new FakeEngine();
    failing(engine, 'a');
    // b is still building when a fails.
    const slow = engine.build.bind(engine);
    engine.build = async (request, onEvent, signal) => {
      if (request.tags[0] === 'derivc.local/b:1.0') await new Promise((r) => setTimeout(r, 300));
      return slow(request, onEvent, signal);
    };
    const r = await build(root, ['--jobs', '2', 'fleet'], engine);
    expect(r.code).toBe(1);
    expect(order(engine)).toEqual(['a', 'b']);
    expect(r.stderr).toMatch(/^\[b\] built derivc\.local\/b:1\.0/m);
    expect(r.stderr).toContain('3 manifests: 1 built, 0 up-to-date, 1 failed, 1 skipped');
  });

  it('--keep-going builds everything not built from the failure', async () => {
    const root = fleet(CHAIN);
    const engine = new FakeEngine();
    failing(engine, 'edge');
    const r = await build(root, ['--keep-going', 'fleet'], engine);
    expect(r.code).toBe(1);
    expect(order(engine)).toEqual(['base', 'solo', 'edge']);
    expect(summary(r.stderr)['fleet/top/derivative.yaml']!.slice(0, 2)).toEqual(['derivc.local/top:1.0', 'skipped: upstream edge failed']);
    expect(r.stderr).toContain('4 manifests: 2 built, 0 up-to-date, 1 failed, 1 skipped');
  });

  it('checks every manifest against the builder before building: credentials with --builder classic fail that manifest alone', async () => {
    const auth = 'packages:\n  repositories:\n    - {name: private, url: "https://repo.example.com/os/", auth: {username: ci, env: DERIVC_SECRET_PRIVATE}}\n';
    const root = fleet({ ...CHAIN, base: `${IMAGE}${auth}` });
    const r = await build(root, ['--keep-going', '--builder', 'classic', 'fleet']);
    expect(r.code).toBe(1);
    expect(r.stderr.match(/error\[build\/buildkit-required\]/g)).toHaveLength(1);
    expect(r.stderr).toContain('fleet/base/derivative.yaml:');
    expect(order(r.engine)).toEqual(['solo']);
    expect(summary(r.stderr)['fleet/edge/derivative.yaml']!.slice(1, 2)).toEqual(['skipped: upstream base failed']);
    // Without --keep-going nothing starts; with BuildKit the missing variable is the finding, still before any build.
    const stopped = await build(root, ['fleet']);
    expect(stopped.engine.builds).toEqual([]);
    expect(stopped.stderr).toContain('error[build/secret-unavailable]');
  });

  it("reports every manifest's diagnostics: one that does not validate hides no other's result or build failure", async () => {
    const root = fleet({ ...CHAIN, broken: `${IMAGE}system: {hostnme: x}\n` });
    const engine = new FakeEngine();
    failing(engine, 'solo');
    const r = await build(root, ['--keep-going', 'fleet'], engine);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[schema/unknown-key]: unknown key `hostnme` in `system`');
    expect(r.stderr).toContain('error[build/step-failed]');
    expect(order(engine)).toEqual(['base', 'solo', 'edge', 'top']);
    expect(summary(r.stderr)['fleet/broken/derivative.yaml']).toEqual(['-', 'failed', '-', '-']);
    expect(r.stderr).toContain('5 manifests: 3 built, 0 up-to-date, 2 failed, 0 skipped');
    // Without --keep-going, a manifest that does not validate starts nothing.
    const stopped = await build(root, ['fleet'], new FakeEngine());
    expect(stopped.code).toBe(1);
    expect(stopped.engine.builds).toEqual([]);
    expect(stopped.stderr).toContain('skipped: not started: fleet/broken/derivative.yaml failed');
  });

  it('a manifest whose upstream does not validate is skipped, not failed', async () => {
    const root = fleet({ ...CHAIN, base: `${IMAGE}system: {hostnme: x}\n` });
    const r = await build(root, ['--keep-going', 'fleet']);
    expect(r.code).toBe(1);
    expect(order(r.engine)).toEqual(['solo']);
    expect(summary(r.stderr)).toEqual({
      'fleet/base/derivative.yaml': ['-', 'failed', '-', '-'],
      'fleet/solo/derivative.yaml': ['derivc.local/solo:1.0', 'built', expect.stringMatching(/^\d+\.\ds$/), '-'],
      'fleet/edge/derivative.yaml': ['-', 'skipped: upstream fleet/base/derivative.yaml failed', '-', '-'],
      'fleet/top/derivative.yaml': ['-', 'skipped: upstream fleet/base/derivative.yaml failed', '-', '-'],
    });
  });

  it('a cycle of base.derivative is a diagnostic, not a hang', async () => {
    const root = fleet({
      a: 'base: {derivative: ../b/derivative.yaml}\n',
      b: 'base: {derivative: ../a/derivative.yaml}\n',
      c: 'base: {derivative: ../a/derivative.yaml}\n',
      solo: IMAGE,
    });
    const r = await build(root, ['--keep-going', 'fleet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[base/derivative-cycle]: upstream derivatives form a cycle');
    expect(order(r.engine)).toEqual(['solo']);
    const rows = summary(r.stderr);
    expect(rows['fleet/a/derivative.yaml']).toEqual(['-', 'failed', '-', '-']);
    expect(rows['fleet/b/derivative.yaml']).toEqual(['-', 'failed', '-', '-']);
    expect(rows['fleet/c/derivative.yaml']).toEqual(['-', 'skipped: upstream fleet/a/derivative.yaml failed', '-', '-']);
  });

  it('the exit code is the worst: an internal error in one build (4) over a failed one (1)', async () => {
    const root = fleet({ a: IMAGE, b: IMAGE, c: IMAGE });
    const engine = new FakeEngine();
    failing(engine, 'a');
    const labels = engine.imageLabels.bind(engine);
    engine.imageLabels = async (ref) => {
      if (ref === 'derivc.local/b:1.0') throw new TypeError('a bug');
      return labels(ref);
    };
    const r = await build(root, ['--keep-going', 'fleet'], engine);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('derivc: internal error: TypeError: a bug');
    expect(r.stderr).toContain('3 manifests: 1 built, 0 up-to-date, 2 failed, 0 skipped');
  });

  it('names manifests by quoted patterns derivc expands; a pattern matching nothing is a usage error', async () => {
    const root = fleet(CHAIN);
    const only = await build(root, ['fleet/t*/derivative.yaml', 'fleet/nothing*']);
    expect(only.stderr).toBe('derivc: no file or directory matches `fleet/nothing*`\nRun `derivc build --help` for usage.\n');
    expect(only.code).toBe(3);
    const r = await build(root, ['fleet/t*/derivative.yaml', 'fleet/s?lo']);
    expect(r.code, r.stderr).toBe(0);
    // top's upstreams are built too, though no pattern names them.
    expect(order(r.engine)).toEqual(['base', 'solo', 'edge', 'top']);
    expect(r.stderr).toContain('4 manifests: 4 built');
    const deep = await build(root, ['**/derivative.yaml'], new FakeEngine());
    expect(order(deep.engine)).toEqual(['base', 'solo', 'edge', 'top']);
  });

  it('walks directories past .git, node_modules, .derivc and output directories', async () => {
    const root = fleet(CHAIN);
    const decoy = `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: decoy, version: "1.0"}\n${IMAGE}`;
    for (const dir of ['fleet/.git/x', 'fleet/node_modules/x', 'fleet/out/x']) {
      mkdirSync(join(root, dir), { recursive: true });
      writeFileSync(join(root, dir, 'derivative.yaml'), decoy);
    }
    writeFileSync(join(root, 'fleet', 'out', 'derivc.json'), '{}');
    const first = await build(root, ['fleet']);
    expect(first.code, first.stderr).toBe(0);
    // An overlay copying a manifest puts one into .derivc/NAME: not a manifest of the fleet.
    mkdirSync(join(root, 'fleet', '.derivc', 'x'), { recursive: true });
    writeFileSync(join(root, 'fleet', '.derivc', 'x', 'derivative.yaml'), decoy);
    const r = await build(root, ['.'], first.engine);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('decoy');
    expect(r.stderr).toContain('4 manifests: 0 built, 4 up-to-date');
  });

  it('two manifests that would share an output directory are both refused, with a diagnostic each', async () => {
    const root = fleet({ ...CHAIN, 'v2/base': IMAGE });
    const r = await build(root, ['--keep-going', 'fleet']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error[build/shared-output-dir]: this manifest and `fleet/v2/base/derivative.yaml` would both be built in .derivc/base: each would replace the other',
    );
    expect(r.stderr).toContain(
      'error[build/shared-output-dir]: this manifest and `fleet/base/derivative.yaml` would both be built in .derivc/base: each would replace the other',
    );
    expect(order(r.engine)).toEqual(['solo']);
    expect(summary(r.stderr)['fleet/edge/derivative.yaml']!.slice(0, 2)).toEqual(['derivc.local/edge:1.0', 'skipped: upstream base failed']);
  });

  it('-o DIR with several manifests: DIR/NAME for each', async () => {
    const root = fleet(CHAIN);
    const r = await build(root, ['fleet', '-o', 'out']);
    expect(r.code, r.stderr).toBe(0);
    for (const name of ['base', 'edge', 'top', 'solo']) expect(readFileSync(join(root, 'out', name, 'Dockerfile'), 'utf8')).toContain('FROM ');
    expect(existsSync(join(root, '.derivc'))).toBe(false);
  });

  it('one manifest, however named, builds as it always did: no table, no labels', async () => {
    const root = fleet({ solo: CHAIN.solo });
    for (const path of ['fleet', 'fleet/solo', 'fleet/s*']) {
      const r = await build(root, ['--jobs', '3', path]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/^(building solo 1\.0 .*\n.*\n)?(built|up to date:) derivc\.local\/solo:1\.0 \([^)]*\)\n$/);
    }
  });

  it('on a terminal, builds side by side print labelled plain lines, never live ones', async () => {
    const root = fleet(CHAIN);
    const r = await build(root, ['--jobs', '2', 'fleet'], new FakeEngine(), { isTTY: true });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain('\r');
    expect(r.stderr).toMatch(/^\[base\] \d\d:\d\d:\d\d \[1\/1\] base image$/m);
    const one = await build(root, ['--jobs', '1', '--target', 'none', 'fleet/top'], new FakeEngine(), { isTTY: true });
    expect(one.stderr).toContain('\r\u001b[2K[1/1] base image …');
  });

  it('Ctrl-C: running builds are cancelled, nothing more starts', async () => {
    const root = fleet(CHAIN);
    const engine = new FakeEngine();
    engine.script = [
      { kind: 'step', index: 1, total: 1, instruction: 'FROM x' },
      { kind: 'output', text: '<wait>\n' },
    ];
    const abort = new AbortController();
    // Ctrl-C while the first build runs.
    const build = engine.build.bind(engine);
    engine.build = (request, onEvent, signal) => {
      setTimeout(() => abort.abort(), 5);
      return build(request, onEvent, signal);
    };
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const r = await runCliAsync(['build', '--keep-going', 'fleet'], { docker: () => engine, cwd: root, signal: abort.signal });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('build cancelled; no image was tagged');
      expect(engine.images.size).toBe(0);
      const rows = summary(r.stderr);
      expect(rows['fleet/base/derivative.yaml']![1]).toBe('failed');
      expect(rows['fleet/solo/derivative.yaml']![1]).toBe('skipped: cancelled');
      expect(rows['fleet/edge/derivative.yaml']![1]).toBe('skipped: upstream base failed');
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses an output directory inside what any manifest of the fleet reads, for that manifest, before building', async () => {
    const root = fleet({ ...CHAIN, base: `${IMAGE}overlay: overlay\n` });
    mkdirSync(join(root, 'fleet/base/overlay/etc'), { recursive: true });
    writeFileSync(join(root, 'fleet/base/overlay/etc/motd'), 'hi\n');
    const r = await build(root, ['--keep-going', '--jobs', '2', 'fleet/solo', 'fleet/base', '-o', 'fleet/base/overlay']);
    expect(r.code).toBe(1);
    expect(r.engine.builds).toEqual([]);
    expect(r.stderr).toContain(
      '[solo] derivc: refusing -o fleet/base/overlay/solo: it is inside fleet/base/overlay, a directory the manifest reads: the output would become input; nothing was written\n',
    );
    expect(r.stderr).toContain('2 manifests: 0 built, 0 up-to-date, 2 failed, 0 skipped');
  });

  it('--jobs takes a whole number from 1', async () => {
    const root = fleet(CHAIN);
    for (const bad of ['0', 'two', '-1', '1.5']) {
      const r = await build(root, ['--jobs', bad, 'fleet']);
      expect(r.code, bad).toBe(3);
    }
    expect((await build(root, ['--jobs', '0', 'fleet'])).stderr).toContain(
      'derivc: --jobs takes how many manifests build at once, a whole number from 1 to 9999 (`--jobs 0` given)',
    );
  });
});
