// A fleet of manifests in a temporary repository, for graph, matrix and the CI example: a chain
// base ← edge ← top, a manifest on its own, and one in a folder whose name tries to break every
// output language (quotes, backslash, `$(…)`, a newline). base reads an overlay file.

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A folder name a shell would run, YAML or DOT would end a string at, and that holds a newline. */
export const HOSTILE_DIR = 'we "ird" \\ $(touch pwned) ;x\nline';

const IMAGE = 'base: {image: "local/debian:bookworm", family: debian}\n';

export const FLEET: Record<string, string> = {
  base: `${IMAGE}overlay: overlay\ntargets: {iso: {}, raw: {}}\n`,
  edge: 'base: {derivative: ../base/derivative.yaml}\nsystem: {hostname: edge}\n',
  top: 'base: {derivative: ../edge/derivative.yaml}\ntargets: {iso: {}}\n',
  solo: `${IMAGE}system: {hostname: solo}\n`,
  [HOSTILE_DIR]: 'base: {derivative: ../base/derivative.yaml}\ntargets: {raw: {}}\n',
};

/** Writes `manifests` under DIR/fleet (DIR a repository: it holds `.git`, or is made one by the caller); returns DIR. */
export function writeFleet(manifests: Record<string, string> = FLEET, root = mkdtempSync(join(tmpdir(), 'derivc-fleet-'))): string {
  for (const [dir, body] of Object.entries(manifests)) {
    const folder = join(root, 'fleet', dir);
    mkdirSync(folder, { recursive: true });
    const name = dir === HOSTILE_DIR ? 'weird' : dir.split('/').pop()!;
    writeFileSync(join(folder, 'derivative.yaml'), `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n${body}`);
    if (body.includes('overlay: overlay')) {
      mkdirSync(join(folder, 'overlay', 'etc'), { recursive: true });
      writeFileSync(join(folder, 'overlay', 'etc', 'motd'), 'hello\n');
    }
  }
  return root;
}
