// derivc build chooses the Engine's builder (BuildKit where the Engine has it, `--builder`,
// DOCKER_BUILDKIT) and hands each what it takes: BuildKit the compiled Dockerfile and the
// repositories' credentials for its session; the classic builder the Dockerfile without mount
// flags, and no manifest with credentials, which it refuses before building anything. A
// repository password never shows in the build context, derivc.json, plan, the log or the output.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeEngine } from './support/fake-engine.js';
import { runCli, runCliAsync } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'derivc-builder-'));
  scratch.push(d);
  return d;
}

const SECRET = 'hunter2-very-secret';
const HEAD = 'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\n';
const BASE = 'base: {image: "local/debian:bookworm", family: debian}\nsystem: {hostname: acme}\n';
const repo = (auth: string) =>
  `packages:\n  install: [curl]\n  repositories:\n    - name: private\n      url: "http://repo.example.com/debian/"\n      auth: ${auth}\n`;

function manifest(dir: string, body: string): string {
  writeFileSync(join(dir, 'derivative.yaml'), HEAD + BASE + body);
  return join(dir, 'derivative.yaml');
}

/** Every file under `dir`, read whole (the output directory: context, derivc.json, build.log). */
function everyFile(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

describe('the builder', () => {
  const build = (dir: string, engine: FakeEngine, args: string[] = [], env: Record<string, string> = {}) =>
    runCliAsync(['build', manifest(dir, 'packages: {install: [curl]}\n'), '-o', join(dir, 'out'), ...args], { docker: () => engine, env });

  it('is BuildKit on an Engine that has it, with the Dockerfile as compiled (mounts included)', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('with BuildKit (context');
    const [b] = engine.builds;
    expect(b!.builder).toBe('buildkit');
    expect(b!.dockerfile).toBe(readFileSync(join(dir, 'out', 'Dockerfile'), 'utf8'));
    expect(b!.dockerfile).toContain('RUN --mount=type=cache,id=derivc-debian-var-cache-apt');
    expect(b!.context.includes(Buffer.from('RUN --mount=type=cache'))).toBe(true);
  });

  it('is the classic one on an older Engine, or when asked; its Dockerfile has no mount flags, the one on disk stays as compiled', async () => {
    for (const [args, env, api] of [
      [[], {}, '1.38'],
      [['--builder', 'classic'], {}, '1.41'],
      [[], { DOCKER_BUILDKIT: '0' }, '1.41'],
    ] as const) {
      const dir = temp();
      const engine = new FakeEngine();
      engine.apiVersion = api;
      const r = await build(dir, engine, [...args], { ...env });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('with the classic builder (context');
      const [b] = engine.builds;
      expect(b!.builder).toBe('classic');
      expect(b!.context.includes(Buffer.from('--mount='))).toBe(false);
      expect(b!.context.includes(Buffer.from('RUN ["/bin/sh","-c","set -eu; export DEBIAN_FRONTEND'))).toBe(true);
      // On disk: as compiled, and as derivc.json records it.
      expect(readFileSync(join(dir, 'out', 'Dockerfile'), 'utf8')).toContain('RUN --mount=type=cache');
      expect(runCli(['compile', '--check', join(dir, 'derivative.yaml'), '-o', join(dir, 'out')]).code).toBe(0);
    }
  });

  it('--builder buildkit on an Engine without it is an error, before anything is built', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.apiVersion = '1.38';
    const r = await build(dir, engine, ['--builder', 'buildkit']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error[build/buildkit-unavailable]: BuildKit was asked for, but the Docker Engine at unix:///fake/docker.sock (20.10.24, API 1.38, linux) has none',
    );
    expect(engine.builds).toEqual([]);
  });

  it('--builder takes auto, buildkit or classic', async () => {
    const r = await build(temp(), new FakeEngine(), ['--builder', 'kit']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('--builder');
  });
});

describe('repository credentials', () => {
  it('are read from a DERIVC_SECRET_ variable and served to BuildKit in apt’s format, never written anywhere', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    // The Engine echoes the password: the log and the output must not.
    engine.script = [
      { kind: 'step', index: 1, total: 1, instruction: 'FROM x' },
      { kind: 'output', text: `Get:1 http://ci:${SECRET}@repo.example.com/debian/ InRelease\n` },
    ];
    const path = manifest(dir, repo('{username: ci, env: DERIVC_SECRET_ACME}'));
    const r = await runCliAsync(['build', path, '-o', join(dir, 'out')], { docker: () => engine, env: { DERIVC_SECRET_ACME: SECRET } });
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
    const [b] = engine.builds;
    expect(Buffer.from(b!.secrets!.get('derivc-repo-private')!).toString()).toBe(`machine http://repo.example.com/debian/ login ci password ${SECRET}\n`);
    expect(b!.context.includes(Buffer.from(SECRET))).toBe(false);
    expect(everyFile(join(dir, 'out'))).not.toContain(SECRET);
    expect(readFileSync(join(dir, 'out', 'build.log'), 'utf8')).toContain('http://ci:***@repo.example.com/debian/');
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    // plan says which builder and where the password comes from, never the password.
    const plan = runCli(['plan', '--format', 'json', path], { env: { DERIVC_SECRET_ACME: SECRET } });
    expect(plan.code).toBe(0);
    expect(plan.stdout).not.toContain(SECRET);
    expect(JSON.parse(plan.stdout).build).toMatchObject({
      builder: 'buildkit',
      secrets: [{ id: 'derivc-repo-private', repository: 'private', from: 'env DERIVC_SECRET_ACME' }],
    });
    const pretty = runCli(['plan', path], { env: { DERIVC_SECRET_ACME: SECRET } });
    expect(pretty.stdout).toContain('  with BuildKit: credentials of private (from env DERIVC_SECRET_ACME) as secret mounts\n');
    expect(pretty.stdout).not.toContain(SECRET);
  });

  it('are refused by the classic builder at the repository’s auth, before anything is built', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const path = manifest(dir, repo('{username: ci, env: DERIVC_SECRET_ACME}'));
    const r = await runCliAsync(['build', path, '-o', join(dir, 'out'), '--builder', 'classic'], { docker: () => engine, env: { DERIVC_SECRET_ACME: SECRET } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error[build/buildkit-required]: repository `private` has credentials, which reach the package manager only through BuildKit secret mounts, and the build uses the classic builder',
    );
    expect(r.stderr).toMatch(/--> .*derivative\.yaml:11:7/);
    expect(engine.builds).toEqual([]);
  });

  it('an unset variable is reported at `env` before anything is built', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await runCliAsync(['build', manifest(dir, repo('{username: ci, env: DERIVC_SECRET_ACME}')), '-o', join(dir, 'out')], { docker: () => engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error[build/secret-unavailable]: the password of repository `private` cannot be read: the environment variable DERIVC_SECRET_ACME is not set',
    );
    expect(engine.builds).toEqual([]);
  });

  it('a password apt cannot take is refused without showing it', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await runCliAsync(['build', manifest(dir, repo('{username: ci, env: DERIVC_SECRET_ACME}')), '-o', join(dir, 'out')], {
      docker: () => engine,
      env: { DERIVC_SECRET_ACME: 'has a space' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      "error[build/secret-invalid]: the password of repository `private` cannot be handed to the package manager: it has whitespace, which ends a field of apt's auth.conf.d",
    );
    expect(r.stderr).not.toContain('has a space');
    expect(engine.builds).toEqual([]);
  });

  it('only a variable named DERIVC_SECRET_* can be named (a pull request cannot reach the job’s other secrets)', () => {
    const dir = temp();
    const r = runCli(['validate', manifest(dir, repo('{username: ci, env: GITHUB_TOKEN}'))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[packages/secret-env-name]');
  });

  describe('from a file', () => {
    /** A git work tree with the manifest; `secret` as an untracked file. */
    function repoWithFile(file = 'secrets/acme.txt', body = `${SECRET}\n`): string {
      const dir = temp();
      execFileSync('git', ['init', '-q', dir]);
      mkdirSync(join(dir, 'secrets'), { recursive: true });
      writeFileSync(join(dir, file), body);
      return dir;
    }
    const buildWith = async (dir: string, auth: string, engine = new FakeEngine()) => ({
      engine,
      r: await runCliAsync(['build', manifest(dir, repo(auth)), '-o', join(dir, 'out')], { docker: () => engine }),
    });

    it('an untracked file inside the repository: its content, the final newline dropped', async () => {
      const dir = repoWithFile();
      const { engine, r } = await buildWith(dir, '{username: ci, file: secrets/acme.txt}');
      expect(r.stderr).not.toContain('error');
      expect(Buffer.from(engine.builds[0]!.secrets!.get('derivc-repo-private')!).toString()).toBe(
        `machine http://repo.example.com/debian/ login ci password ${SECRET}\n`,
      );
      expect(everyFile(join(dir, 'out'))).not.toContain(SECRET);
    });

    it('a file git tracks is no secret', async () => {
      const dir = repoWithFile();
      execFileSync('git', ['-C', dir, 'add', 'secrets/acme.txt']);
      const { engine, r } = await buildWith(dir, '{username: ci, file: secrets/acme.txt}');
      expect(r.stderr).toContain('error[build/secret-unavailable]: the password of repository `private` cannot be read: `secrets/acme.txt` is tracked by git');
      expect(engine.builds).toEqual([]);
    });

    it('never through a symlink, never outside the repository or inside .git', async () => {
      const dir = repoWithFile();
      const outside = temp();
      writeFileSync(join(outside, 'key'), 'x'.repeat(10));
      symlinkSync(join(outside, 'key'), join(dir, 'secrets', 'link.txt'));
      const link = await buildWith(dir, '{username: ci, file: secrets/link.txt}');
      expect(link.r.stderr).toContain('`secrets/link.txt` is reached through a symlink');
      const up = runCli(['validate', manifest(dir, repo('{username: ci, file: ../key}'))]);
      expect(up.stdout).toContain('error[packages/invalid-auth]: the password file `../key` must be inside the repository and outside .git');
      const git = runCli(['validate', manifest(dir, repo('{username: ci, file: .git/config}'))]);
      expect(git.stdout).toContain('error[packages/invalid-auth]: the password file `.git/config` must be inside the repository and outside .git');
      expect(link.engine.builds).toEqual([]);
    });

    it('a missing file is reported at `file`', async () => {
      const dir = repoWithFile();
      const { r } = await buildWith(dir, '{username: ci, file: secrets/none.txt}');
      expect(r.stderr).toContain('error[build/secret-unavailable]: the password of repository `private` cannot be read: `secrets/none.txt` does not exist');
    });
  });
});
