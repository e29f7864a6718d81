// derivc build --push against the recording fake Engine: every tag pushed with the credentials the
// docker CLI would send, the digest recorded in DIR/derivc.pushed.json (kept out of compile's
// output, believed only for its build ID), `build.pin: digest` building FROM it, and each failure
// a diagnostic at the tag. No credential reaches any output. The real Engine and registry:
// test/e2e/push.e2e.test.ts.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PushError } from '../targets/io/engine.js';
import { FakeEngine } from './support/fake-engine.js';
import { runCli, runCliAsync } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'derivc-push-'));
  scratch.push(d);
  return d;
}

const PASSWORD = 's3cret-Passw0rd';
const TOKEN = 'identity-token-XYZ123';
const REGISTRY = 'registry.example.com:5000';

/** A docker config with `auths` for REGISTRY (user `ci`, PASSWORD), as `docker login` writes it. */
function dockerConfig(
  dir: string,
  config: unknown = { auths: { [REGISTRY]: { auth: Buffer.from(`ci:${PASSWORD}`).toString('base64') } } },
): Record<string, string> {
  const config_dir = join(dir, 'docker-config');
  mkdirSync(config_dir, { recursive: true });
  writeFileSync(join(config_dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { DOCKER_CONFIG: config_dir, HOME: dir };
}

const HEAD = (name: string) => `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n`;
const BASE = 'base: {image: "local/debian:bookworm", family: debian}\nsystem: {hostname: acme}\n';
const TAGS = `build:\n  tags: ["${REGISTRY}/acme/os:1.0", "${REGISTRY}/acme/os:latest"]\n`;

function write(dir: string, name: string, body: string): string {
  writeFileSync(join(dir, `${name}.yaml`), HEAD(name) + body);
  return join(dir, `${name}.yaml`);
}

function noCredentialIn(...texts: string[]): void {
  for (const t of texts) {
    expect(t).not.toContain(PASSWORD);
    expect(t).not.toContain(TOKEN);
    expect(t).not.toContain(Buffer.from(`ci:${PASSWORD}`).toString('base64'));
  }
}

describe('derivc build --push', () => {
  it('pushes every tag with the config’s credentials and records the digest beside derivc.json', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const env = dockerConfig(dir);
    const out = join(dir, 'out');
    const r = await runCliAsync(['build', write(dir, 'acme', BASE + TAGS), '-o', out, '--push', '--target', 'none'], { docker: () => engine, env });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.pushes).toEqual([
      { ref: `${REGISTRY}/acme/os:1.0`, auth: { serveraddress: REGISTRY, username: 'ci', password: PASSWORD } },
      { ref: `${REGISTRY}/acme/os:latest`, auth: { serveraddress: REGISTRY, username: 'ci', password: PASSWORD } },
    ]);
    // Built first, then pushed.
    expect(engine.log).toEqual([
      `start ${REGISTRY}/acme/os:1.0`,
      `end ${REGISTRY}/acme/os:1.0`,
      `push ${REGISTRY}/acme/os:1.0`,
      `push ${REGISTRY}/acme/os:latest`,
    ]);
    const derivcJson = JSON.parse(readFileSync(join(out, 'derivc.json'), 'utf8')) as { buildId: string };
    const record = JSON.parse(readFileSync(join(out, 'derivc.pushed.json'), 'utf8')) as Record<string, unknown>;
    expect(record).toEqual({
      buildId: derivcJson.buildId,
      image: expect.stringMatching(/^sha256:/),
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reference: `${REGISTRY}/acme/os@${record['digest'] as string}`,
      tags: [
        { tag: `${REGISTRY}/acme/os:1.0`, digest: record['digest'] },
        { tag: `${REGISTRY}/acme/os:latest`, digest: record['digest'] },
      ],
    });
    expect(r.stderr).toContain(`pushing ${REGISTRY}/acme/os:1.0 to ${REGISTRY}\n`);
    expect(r.stderr).toMatch(new RegExp(`built .*, pushed ${REGISTRY}/acme/os@${record['digest'] as string}\\n$`));
    noCredentialIn(r.stdout, r.stderr, readFileSync(join(out, 'build.log'), 'utf8'), readFileSync(join(out, 'derivc.pushed.json'), 'utf8'));

    // The record is not compile output: the same manifest's output directory stays clean for --check.
    const check = runCli(['compile', join(dir, 'acme.yaml'), '-o', out, '--check']);
    expect(check.code, check.stdout + check.stderr).toBe(0);
  });

  it('says each push in --json, and the result line carries the digest', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await runCliAsync(['build', write(dir, 'acme', BASE + TAGS), '-o', join(dir, 'out'), '--push', '--json', '--target', 'none'], {
      docker: () => engine,
      env: dockerConfig(dir),
    });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = lines.find((l) => l['kind'] === 'result')!;
    const digest = (result['pushed'] as { digest: string }).digest;
    expect(result['pushed']).toEqual({
      digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      reference: `${REGISTRY}/acme/os@${digest}`,
      tags: [
        { tag: `${REGISTRY}/acme/os:1.0`, digest },
        { tag: `${REGISTRY}/acme/os:latest`, digest },
      ],
    });
    expect(lines.filter((l) => l['kind'] === 'push').map((l) => l['tag'])).toEqual([`${REGISTRY}/acme/os:1.0`, `${REGISTRY}/acme/os:latest`]);
    expect(lines.filter((l) => l['kind'] === 'pushed')).toEqual([
      { kind: 'pushed', tag: `${REGISTRY}/acme/os:1.0`, digest },
      { kind: 'pushed', tag: `${REGISTRY}/acme/os:latest`, digest },
    ]);
    noCredentialIn(r.stdout, r.stderr);
  });

  it('pushes an image found up to date without building it, and without --push records nothing', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const path = write(dir, 'acme', BASE + TAGS);
    const out = join(dir, 'out');
    const env = dockerConfig(dir);
    expect((await runCliAsync(['build', path, '-o', out, '--target', 'none'], { docker: () => engine, env })).code).toBe(0);
    expect(engine.pushes).toEqual([]);
    expect(existsSync(join(out, 'derivc.pushed.json'))).toBe(false);
    const r = await runCliAsync(['build', path, '-o', out, '--push', '--target', 'none'], { docker: () => engine, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^up to date: .*, pushed registry\.example\.com:5000\/acme\/os@sha256:[0-9a-f]{64}\n$/m);
    expect(engine.builds).toHaveLength(1);
    expect(engine.pushes).toHaveLength(2);
  });

  it('drops the record once the manifest changed: a new build ID never keeps the old digest', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const path = write(dir, 'acme', BASE + TAGS);
    const out = join(dir, 'out');
    const env = dockerConfig(dir);
    expect((await runCliAsync(['build', path, '-o', out, '--push', '--target', 'none'], { docker: () => engine, env })).code).toBe(0);
    const first = readFileSync(join(out, 'derivc.pushed.json'), 'utf8');
    writeFileSync(path, readFileSync(path, 'utf8').replace('hostname: acme', 'hostname: acme2'));
    expect((await runCliAsync(['build', path, '-o', out, '--target', 'none'], { docker: () => engine, env })).code).toBe(0);
    expect(existsSync(join(out, 'derivc.pushed.json'))).toBe(false);
    // Pushed again: a record of the new build, another digest.
    expect((await runCliAsync(['build', path, '-o', out, '--push', '--target', 'none'], { docker: () => engine, env })).code).toBe(0);
    const second = readFileSync(join(out, 'derivc.pushed.json'), 'utf8');
    expect(JSON.parse(second).buildId).not.toBe(JSON.parse(first).buildId);
    expect(JSON.parse(second).digest).not.toBe(JSON.parse(first).digest);
  });

  it('sends an identity token as one, and a credential helper’s answer (credHelpers)', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const env = dockerConfig(dir, { auths: { [`https://${REGISTRY}/v1/`]: { identitytoken: TOKEN } } });
    const r = await runCliAsync(['build', write(dir, 'acme', BASE + TAGS), '-o', join(dir, 'out'), '--push', '--target', 'none'], {
      docker: () => engine,
      env,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.pushes[0]!.auth).toEqual({ serveraddress: REGISTRY, identitytoken: TOKEN });
    noCredentialIn(r.stdout, r.stderr);

    // A helper on PATH, named by credHelpers for this registry.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'docker-credential-fake'),
      `#!/bin/sh\nread server\n[ "$server" = "${REGISTRY}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${REGISTRY}","Username":"helper-user","Secret":"${PASSWORD}"}'\n`,
      { mode: 0o755 },
    );
    const helperEnv = { ...dockerConfig(dir, { credHelpers: { [REGISTRY]: 'fake' } }), PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const engine2 = new FakeEngine();
    const r2 = await runCliAsync(['build', join(dir, 'acme.yaml'), '-o', join(dir, 'out2'), '--push', '--target', 'none'], {
      docker: () => engine2,
      env: helperEnv,
    });
    expect(r2.code, r2.stderr).toBe(0);
    expect(engine2.pushes[0]!.auth).toEqual({ serveraddress: REGISTRY, username: 'helper-user', password: PASSWORD });
    noCredentialIn(r2.stdout, r2.stderr);
  });
});

describe('derivc build --push: refusals and failures', () => {
  it('refuses, before building, tags that name no registry: derivc.local and Docker Hub unasked', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const env = dockerConfig(dir);
    const r = await runCliAsync(['build', write(dir, 'acme', BASE), '-o', join(dir, 'out'), '--push'], { docker: () => engine, env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/push-no-registry]: `--push` cannot push `derivc.local/acme:1.0`');
    expect(r.stderr).toContain('acme.yaml:3:');
    expect(engine.builds).toEqual([]);

    const hub = await runCliAsync(
      ['build', write(dir, 'hub', `${BASE}build:\n  tags: ["${REGISTRY}/ok:1", "acme/os:1"]\n`), '-o', join(dir, 'out'), '--push'],
      {
        docker: () => engine,
        env,
      },
    );
    expect(hub.code).toBe(1);
    expect(hub.stderr).toContain('error[build/push-no-registry]: `--push` cannot push `acme/os:1`: its first component is no registry host');
    expect(hub.stderr).toMatch(/hub\.yaml:7:44/);
    expect(hub.stderr).toContain('for Docker Hub: `docker.io/ORG/NAME:TAG`');
    expect(engine.builds).toEqual([]);
  });

  it('a refused login is build/push-unauthorized at the tag, saying whether credentials were sent, never which', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.pushFailures.set(`${REGISTRY}/acme/os:1.0`, new PushError('unauthorized', 'unauthorized: authentication required'));
    const path = write(dir, 'acme', BASE + TAGS);
    const r = await runCliAsync(['build', path, '-o', join(dir, 'out'), '--push', '--target', 'none'], { docker: () => engine, env: dockerConfig(dir) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error[build/push-unauthorized]: the registry ${REGISTRY} refused the push of \`${REGISTRY}/acme/os:1.0\`: unauthorized: authentication required; derivc sent the credentials the docker config has for ${REGISTRY} (a user name and password)`,
    );
    expect(r.stderr).toMatch(/acme\.yaml:7:10/);
    expect(r.stderr).toContain(`docker login ${REGISTRY}`);
    expect(existsSync(join(dir, 'out', 'derivc.pushed.json'))).toBe(false);
    noCredentialIn(r.stdout, r.stderr);

    const none = await runCliAsync(['build', path, '-o', join(dir, 'out'), '--push', '--target', 'none'], { docker: () => engine, env: dockerConfig(dir, {}) });
    expect(none.stderr).toContain(`no credentials for ${REGISTRY} were found in the docker config (DOCKER_CONFIG or ~/.docker/config.json), so none were sent`);
    expect(engine.pushes.at(-1)!.auth).toBeUndefined();
  });

  it('an unreachable registry, another failure, and an unreadable config are diagnostics of their own', async () => {
    const dir = temp();
    const path = write(dir, 'acme', BASE + TAGS);
    const engine = new FakeEngine();
    engine.pushFailures.set(
      `${REGISTRY}/acme/os:1.0`,
      new PushError('unreachable', `Get "https://${REGISTRY}/v2/": dial tcp 10.0.0.1:5000: connect: connection refused`),
    );
    const r = await runCliAsync(['build', path, '-o', join(dir, 'out'), '--push', '--target', 'none'], { docker: () => engine, env: dockerConfig(dir) });
    expect(r.stderr).toContain(`error[build/push-unreachable]: the Docker Engine cannot reach the registry ${REGISTRY} to push`);

    engine.pushFailures.set(`${REGISTRY}/acme/os:1.0`, new PushError('failed', 'manifest invalid'));
    const failed = await runCliAsync(['build', path, '-o', join(dir, 'out'), '--push', '--target', 'none'], { docker: () => engine, env: dockerConfig(dir) });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`error[build/push-failed]: the push of \`${REGISTRY}/acme/os:1.0\` to ${REGISTRY} failed: manifest invalid`);

    // A config that is not JSON: said without quoting the file (it holds the credentials).
    const broken = await runCliAsync(['build', path, '-o', join(dir, 'out'), '--push', '--target', 'none'], {
      docker: () => new FakeEngine(),
      env: dockerConfig(dir, `{"auths": {"${REGISTRY}": {"auth": "${Buffer.from(`ci:${PASSWORD}`).toString('base64')}"}`),
    });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`error[build/push-credentials]: cannot read the credentials for ${REGISTRY}: the docker config file`);
    noCredentialIn(r.stderr, failed.stderr, broken.stdout, broken.stderr);
  });
});

describe('build.pin: digest', () => {
  const UP = `${BASE}build:\n  tags: ["${REGISTRY}/acme/base:1.0"]\n`;
  const DOWN = `base: {derivative: pin-upstream.yaml}\nsystem: {hostname: edge}\nbuild:\n  pin: digest\n  tags: ["${REGISTRY}/acme/edge:1.0"]\n`;

  it('builds a downstream FROM the upstream as pushed in the same run, upstream first', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    write(dir, 'pin-upstream', UP);
    const down = write(dir, 'down', DOWN);
    const out = join(dir, 'out');
    const r = await runCliAsync(['build', down, '-o', out, '--push', '--target', 'none'], { docker: () => engine, env: dockerConfig(dir) });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.log).toEqual([
      `start ${REGISTRY}/acme/base:1.0`,
      `end ${REGISTRY}/acme/base:1.0`,
      `push ${REGISTRY}/acme/base:1.0`,
      `start ${REGISTRY}/acme/edge:1.0`,
      `end ${REGISTRY}/acme/edge:1.0`,
      `push ${REGISTRY}/acme/edge:1.0`,
    ]);
    // The upstream (not named) went to its default directory, .derivc/pin-upstream relative to where derivc runs.
    const upRecord = JSON.parse(readFileSync('.derivc/pin-upstream/derivc.pushed.json', 'utf8')) as { reference: string };
    rmSync('.derivc/pin-upstream', { recursive: true, force: true });
    expect(upRecord.reference).toMatch(new RegExp(`^${REGISTRY}/acme/base@sha256:[0-9a-f]{64}$`));
    const dockerfile = readFileSync(join(out, 'Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`\nFROM ${upRecord.reference}\n`);
    expect(dockerfile).not.toContain(`${REGISTRY}/acme/base:1.0`);
    expect(JSON.parse(readFileSync(join(out, 'derivc.json'), 'utf8')).from).toBe(upRecord.reference);
  });

  it('pushes an upstream only when a pushed downstream pins it', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    // An upstream with derivc's placeholder tag: not pushed, so not refused.
    write(dir, 'push-local-up', BASE);
    const down = write(dir, 'down', `base: {derivative: push-local-up.yaml}\nbuild:\n  tags: ["${REGISTRY}/acme/edge:1.0"]\n`);
    const r = await runCliAsync(['build', down, '-o', join(dir, 'out'), '--push', '--target', 'none'], { docker: () => engine, env: dockerConfig(dir) });
    rmSync('.derivc/push-local-up', { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.pushes.map((p) => p.ref)).toEqual([`${REGISTRY}/acme/edge:1.0`]);
    expect(engine.builds.map((b) => b.tags[0])).toEqual(['derivc.local/push-local-up:1.0', `${REGISTRY}/acme/edge:1.0`]);
  });

  it('refuses to build a pinned downstream whose upstream was never pushed; compile warns and uses the tag', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const up = write(dir, 'pin-upstream', UP);
    const down = write(dir, 'down', DOWN);
    const r = await runCliAsync(['build', down, '-o', join(dir, 'out'), '--target', 'none'], { docker: () => engine, env: dockerConfig(dir) });
    rmSync('.derivc/pin-upstream', { recursive: true, force: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /error\[build\/pin-unpushed\]: `build\.pin: digest` builds FROM the pushed digest of upstream `pin-upstream`, and no push of its build sha256:[0-9a-f]{12}… is recorded\n/,
    );
    expect(r.stderr).toMatch(/down\.yaml:7:8/);
    expect(engine.builds.map((b) => b.tags[0])).toEqual([`${REGISTRY}/acme/base:1.0`]);

    const compiled = runCli(['compile', down, '-o', join(dir, 'ctx')], { cwd: dir });
    expect(compiled.code, compiled.stderr).toBe(0);
    expect(compiled.stderr).toContain(`warning[build/pin-unpushed]`);
    expect(compiled.stderr).toContain(`: \`${REGISTRY}/acme/base:1.0\` is used until one is`);
    expect(readFileSync(join(dir, 'ctx', 'Dockerfile'), 'utf8')).toContain(`\nFROM ${REGISTRY}/acme/base:1.0\n`);

    // Once the upstream is pushed (its record in .derivc/pin-upstream, where compile looks), compile pins too.
    const pushed = await runCliAsync(['build', up, '-o', join(dir, '.derivc', 'pin-upstream'), '--push', '--target', 'none'], {
      docker: () => engine,
      env: dockerConfig(dir),
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const { reference } = JSON.parse(readFileSync(join(dir, '.derivc', 'pin-upstream', 'derivc.pushed.json'), 'utf8')) as { reference: string };
    const again = runCli(['compile', down, '-o', join(dir, 'ctx')], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('pin-unpushed');
    expect(readFileSync(join(dir, 'ctx', 'Dockerfile'), 'utf8')).toContain(`\nFROM ${reference}\n`);
  });
});
