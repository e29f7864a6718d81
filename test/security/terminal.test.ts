// What derivc prints reaches a terminal or a CI log, where a line starting `::` is a workflow
// command and escape sequences drive the terminal. Text from a manifest, a file name or a path
// never starts a line of derivc's output and never carries a control character.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const root = mkdtempSync(join(tmpdir(), 'derivc-terminal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const EVIL = '\n::error file=x::pwned\u001b[2J\u202e';
const MANIFEST =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';

/** Every line of the output: derivc's own start, no control character but tab. */
function expectSafe(output: string): void {
  for (const line of output.split('\n')) {
    expect(line, JSON.stringify(output)).not.toMatch(/^::/);
    expect(line).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  }
}

describe('output meant for terminals and CI logs', () => {
  it('shows a hostile manifest file name inside its lines (compile status, diagnostics)', () => {
    const dir = join(root, 'a');
    mkdirSync(join(dir, '.git'), { recursive: true });
    const path = join(dir, `derivative${EVIL}.yaml`);
    writeFileSync(path, MANIFEST);
    const ok = runCli(['compile', path, '-o', join(dir, 'out')]);
    expect(ok.code).toBe(0);
    expectSafe(ok.stderr);
    writeFileSync(path, `${MANIFEST}system: {hostname: "-bad-"}\n`);
    const bad = runCli(['validate', path]);
    expect(bad.code).toBe(1);
    expectSafe(bad.stdout);
  });

  it('indents a diagnostic message that names a hostile file in an overlay', () => {
    const dir = join(root, 'b');
    mkdirSync(join(dir, '.git'), { recursive: true });
    mkdirSync(join(dir, 'overlay', 'etc'), { recursive: true });
    writeFileSync(join(dir, 'overlay', 'etc', `x${EVIL}.derivc-tmp`), 'x');
    writeFileSync(join(dir, 'derivative.yaml'), `${MANIFEST}overlay: overlay\n`);
    const r = runCli(['validate', join(dir, 'derivative.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('pwned');
    expectSafe(r.stdout);
  });

  it('indents a usage error naming a hostile path', () => {
    const r = runCli(['compile', join(root, `missing${EVIL}`), '-o', join(root, `out${EVIL}`)]);
    expectSafe(r.stderr);
  });
});
