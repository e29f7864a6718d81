// One pass, one IR: in every command, each manifest of an upstream chain is read, validated and
// compiled once, and each file it names is opened once — counted through the Host port, which is
// the only way the compiler reads anything.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeHost } from '../cli/node-host.js';
import type { Host } from '../compiler/host.js';
import { runCli, runCliAsync } from './support/cli.js';
import { FakeEngine } from './support/fake-engine.js';

let repo: string;
beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'derivc-once-'));
  mkdirSync(join(repo, '.git'));
  const head = (name: string) => `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n`;
  const layer = (name: string, base: string) => {
    mkdirSync(join(repo, name));
    writeFileSync(join(repo, name, 'motd'), `${name}\n`);
    writeFileSync(
      join(repo, name, 'derivative.yaml'),
      `${head(name)}${base}\nfiles:\n  - {path: /etc/${name}, source: motd}\ntargets: {iso: {}, packer: {builders: [qemu]}}\n`,
    );
  };
  // A user Packer can log in as (the packer target checks it), inherited down the chain.
  layer(
    'base',
    'base: {image: "local/debian:bookworm", family: debian}\nsystem: {users: [{name: root, passwordHash: "$6$Lx5pW2dEy8iO$rUrkczyaifEGLhN/Q8gHD9mhkH2KKZt4kjKaP3A4e.hm68Vvk559ucdv/mk2eWqOTR6Xkn2b.BIEBuuDKn9Cl/"}]}',
  );
  layer('middle', 'base: {derivative: ../base/derivative.yaml}');
  layer('edge', 'base: {derivative: ../middle/derivative.yaml}');
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

/** nodeHost, counting reads of each path (readFile) and checked opens (openFile). */
function counting(): { host: Host; reads: Map<string, number>; opens: Map<string, number> } {
  const reads = new Map<string, number>();
  const opens = new Map<string, number>();
  const bump = (m: Map<string, number>, p: string) => m.set(p, (m.get(p) ?? 0) + 1);
  const host: Host = {
    ...nodeHost,
    readFile: (p) => (bump(reads, p), nodeHost.readFile(p)),
    ...(nodeHost.openFile ? { openFile: (p, within, o) => (bump(opens, p), nodeHost.openFile!(p, within, o)) } : {}),
  };
  return { host, reads, opens };
}

function expectOnce(c: ReturnType<typeof counting>): void {
  const manifests = [...c.reads].filter(([p]) => p.endsWith('derivative.yaml'));
  expect(manifests.map(([p]) => p.slice(repo.length + 1)).sort()).toEqual(['base/derivative.yaml', 'edge/derivative.yaml', 'middle/derivative.yaml']);
  expect(
    manifests.every(([, n]) => n === 1),
    JSON.stringify(manifests),
  ).toBe(true);
  const sources = [...c.opens].filter(([p]) => p.endsWith('motd'));
  expect(sources).toHaveLength(3);
  expect(
    sources.every(([, n]) => n === 1),
    JSON.stringify(sources),
  ).toBe(true);
}

describe('a depth-3 chain is read and compiled once per manifest', () => {
  it('by derivc plan (targets planned from the same IR)', () => {
    const c = counting();
    const r = runCli(['plan', '--format', 'json', join(repo, 'edge')], { host: c.host });
    expect(r.code).toBe(0);
    expectOnce(c);
  });

  it('by derivc compile', () => {
    const c = counting();
    const out = mkdtempSync(join(tmpdir(), 'derivc-once-out-'));
    try {
      expect(runCli(['compile', join(repo, 'edge'), '-o', join(out, 'edge')], { host: c.host }).code).toBe(0);
      expectOnce(c);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('by derivc build, which builds the upstreams first and then makes media from the same IR', async () => {
    const c = counting();
    const engine = new FakeEngine();
    const out = mkdtempSync(join(tmpdir(), 'derivc-once-out-'));
    try {
      const r = await runCliAsync(['build', join(repo, 'edge'), '-o', join(out, 'edge'), '--target', 'packer'], {
        host: c.host,
        docker: () => engine,
        env: { SOURCE_DATE_EPOCH: '1700000000' },
      });
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(engine.builds.map((b) => b.tags[0])).toEqual(['derivc.local/base:1.0', 'derivc.local/middle:1.0', 'derivc.local/edge:1.0']);
      expectOnce(c);
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(join(process.cwd(), '.derivc', 'base'), { recursive: true, force: true });
      rmSync(join(process.cwd(), '.derivc', 'middle'), { recursive: true, force: true });
    }
  });
});
