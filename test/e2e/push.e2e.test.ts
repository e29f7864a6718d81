// derivc build --push through the real Engine to the loopback registry (infra.ts: TLS from a test
// CA, htpasswd auth): a bare Debian derivative and a downstream pinned to it (`build.pin: digest`)
// built and pushed in one run, credentials from a docker config of the test's own (`auths`, as
// `docker login` writes them); the digest derivc recorded is the one the registry serves (pulled
// back by digest, the same image), and the downstream is built FROM it by BuildKit. Lighter cases
// below, without a build: the Engine port's push alone, and `derivc build --push` of images found
// up to date with a credential helper on PATH and with no credentials. No password reaches any output.
// Gated like the other e2e tests: under DERIVC_E2E=1 a missing piece fails.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineAuth } from '../../cli/build/push.js';
import { dockerCredentials } from '../../targets/io/docker-credentials.js';
import { PushError, type PushEvent } from '../../targets/io/engine.js';
import { dockerodeEngine } from '../../targets/io/dockerode-engine.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import type { PushRecord } from '../../cli/build/push-record.js';
import { runCliAsync } from '../support/cli.js';
import { ensureDebianBase, tinyRootfs } from './fixtures.js';
import { makeTestCa, requireInfra, startRegistry, type TestCa, type TestRegistry } from './infra.js';
import { e2eEngine } from './require.js';

const engine = await e2eEngine();
const ready = engine !== undefined && (await requireInfra(['ca', 'registry']));

describe.skipIf(!ready)('derivc build --push to a registry with credentials, and build.pin: digest', () => {
  let ca: TestCa;
  let registry: TestRegistry;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-e2e-push-'));
  const config = path.join(work, 'docker-config');
  const run = `${process.pid}-${Date.now()}`;
  const started = performance.now();
  let upTag: string;
  let downTag: string;
  const cleanup: string[] = [];
  let env: Record<string, string>;
  let docker: () => DockerEngine;

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    ca = await makeTestCa();
    registry = await startRegistry(ca);
    fs.mkdirSync(config);
    await registry.login(config);
    upTag = `${registry.address}/derivc-e2e/push-up:${run}`;
    downTag = `${registry.address}/derivc-e2e/push-down:${run}`;
    const head = (name: string) => `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n`;
    fs.writeFileSync(
      path.join(work, 'up.yaml'),
      `${head('push-up')}base: {image: "local/debian:bookworm", family: debian}\nsystem: {hostname: push-up}\nbuild:\n  tags: ["${upTag}"]\n`,
    );
    fs.writeFileSync(
      path.join(work, 'down.yaml'),
      `${head('push-down')}base: {derivative: up.yaml}\nsystem: {hostname: push-down}\nbuild:\n  pin: digest\n  tags: ["${downTag}"]\n`,
    );
    fs.mkdirSync(path.join(work, '.git'));
    // The Engine client with the same environment as the push: BuildKit resolves FROM with it too.
    env = pushEnv(work, config);
    const real = dockerodeEngine(env);
    docker = () => real;
  }, 600_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', ...cleanup], { reject: false });
    await registry?.stop();
    ca?.remove();
    fs.rmSync(work, { recursive: true, force: true });
    console.log(`push e2e: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  const record = (dir: string): PushRecord => JSON.parse(fs.readFileSync(path.join(dir, 'derivc.pushed.json'), 'utf8')) as PushRecord;

  it('builds and pushes the upstream and then the downstream FROM its digest; the registry serves those digests', async () => {
    const r = await runCliAsync(['build', path.join(work, 'down.yaml'), '-o', path.join(work, 'out-down'), '--push', '--target', 'none'], {
      docker,
      env,
      cwd: work,
    });
    expect(r.code, r.stderr).toBe(0);
    for (const text of [r.stdout, r.stderr]) expect(text).not.toContain(registry.password);
    // The upstream is not named: it went to .derivc/push-up relative to where derivc ran (this process's directory).
    const upDir = path.join(process.cwd(), '.derivc', 'push-up');
    const up = record(upDir);
    fs.rmSync(upDir, { recursive: true, force: true });
    const down = record(path.join(work, 'out-down'));
    cleanup.push(upTag, downTag, up.reference, down.reference);
    expect(up.reference).toBe(`${registry.address}/derivc-e2e/push-up@${up.digest}`);
    expect(down.tags).toEqual([{ tag: downTag, digest: down.digest }]);
    expect(r.stderr).toContain(`pushed ${down.reference}\n`);

    // The downstream was built FROM the upstream's digest.
    expect(fs.readFileSync(path.join(work, 'out-down', 'Dockerfile'), 'utf8')).toContain(`\nFROM ${up.reference}\n`);

    // What the registry serves under that digest is the image built: removed here, pulled back by digest.
    const imageId = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', downTag])).stdout.trim();
    expect(down.image).toBe(imageId);
    await execa('docker', ['image', 'rm', '-f', downTag, down.reference]);
    expect((await execa('docker', ['image', 'inspect', imageId], { reject: false })).exitCode).not.toBe(0);
    await execa('docker', ['--config', config, 'pull', down.reference]);
    expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', down.reference])).stdout.trim()).toBe(imageId);
    expect(registry.logTail(400)).toMatch(new RegExp(`GET /v2/derivc-e2e/push-down/manifests/${down.digest}`));
  }, 1_800_000);
});

// The Engine port alone, on a tiny imported image (no build: light enough to run anywhere the
// registry fixture runs): the push's digest is the one the registry serves, and a wrong password
// is a PushError the CLI reports as build/push-unauthorized.
describe.skipIf(!ready)('the Engine port pushes with X-Registry-Auth and names the digest the registry stored', () => {
  let ca: TestCa;
  let registry: TestRegistry;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-e2e-push-port-'));
  const run = `${process.pid}-${Date.now()}`;
  let ref: string;
  const cleanup: string[] = [];

  beforeAll(async () => {
    ca = await makeTestCa();
    registry = await startRegistry(ca);
    await registry.login(work);
    ref = `${registry.address}/derivc-e2e/port:${run}`;
    await execa('docker', ['import', '-', ref], { input: await tinyRootfs(`derivc push ${run}\n`) });
    cleanup.push(ref);
  }, 120_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', ...cleanup], { reject: false });
    await registry?.stop();
    ca?.remove();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('pushes with the docker config’s credentials; pulled back by that digest it is the same image', async () => {
    const env = { ...process.env, DOCKER_CONFIG: work };
    const real = dockerodeEngine(env);
    const creds = await dockerCredentials(env)(registry.address);
    expect(creds?.username).toBe(registry.user);
    const events: PushEvent[] = [];
    const { digest } = await real.push!(ref, engineAuth(registry.address, creds!), (e) => events.push(e));
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(events.some((e) => e.status === 'Pushed')).toBe(true);
    const imageId = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    const byDigest = `${registry.address}/derivc-e2e/port@${digest}`;
    cleanup.push(byDigest, imageId);
    await execa('docker', ['image', 'rm', '-f', imageId]);
    await execa('docker', ['--config', work, 'pull', byDigest]);
    expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', byDigest])).stdout.trim()).toBe(imageId);
    await execa('docker', ['tag', byDigest, ref]);

    // A wrong password: the registry's refusal, sorted as unauthorized; the password in no message.
    const wrong = await real.push!(ref, engineAuth(registry.address, { username: registry.user, secret: 'wrong-password-x' }), () => {}).catch(
      (e: unknown) => e,
    );
    expect(wrong).toBeInstanceOf(PushError);
    expect((wrong as PushError).reason).toBe('unauthorized');
    expect((wrong as PushError).message).not.toContain('wrong-password-x');
  }, 300_000);
});

// The whole CLI path without a build: images derivc finds up to date (a tiny imported image
// carrying the build ID `derivc compile` gives the manifest), pushed with `auths`, then with a
// credential helper on PATH, a downstream pinned by digest, and a config without credentials.
describe.skipIf(!ready)('derivc build --push of images found up to date', () => {
  let ca: TestCa;
  let registry: TestRegistry;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-e2e-push-light-'));
  const run = `${process.pid}-${Date.now()}`;
  const upDir = path.join(process.cwd(), '.derivc', 'pushlight-up');
  const cleanup: string[] = [];
  let env: Record<string, string>;
  let docker: () => DockerEngine;
  let upTag: string;
  let downTag: string;

  /** Imports a tiny image as `tag`, labelled with the build ID `derivc compile` gives `manifest`. */
  async function upToDate(manifest: string, tag: string): Promise<string> {
    const ctx = fs.mkdtempSync(path.join(work, 'ctx-'));
    const r = await runCliAsync(['compile', manifest, '-o', ctx], { env });
    expect(r.code, r.stderr).toBe(0);
    const { buildId } = JSON.parse(fs.readFileSync(path.join(ctx, 'derivc.json'), 'utf8')) as { buildId: string };
    await execa('docker', ['import', '--change', `LABEL derivc.build-id=${buildId}`, '-', tag], { input: await tinyRootfs(`${tag}\n`) });
    cleanup.push(tag);
    return ctx;
  }

  beforeAll(async () => {
    ca = await makeTestCa();
    registry = await startRegistry(ca);
    const config = path.join(work, 'docker-config');
    fs.mkdirSync(config);
    await registry.login(config);
    upTag = `${registry.address}/derivc-e2e/light-up:${run}`;
    downTag = `${registry.address}/derivc-e2e/light-down:${run}`;
    const head = (name: string) => `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n`;
    fs.writeFileSync(
      path.join(work, 'up.yaml'),
      `${head('pushlight-up')}base: {image: "local/debian:bookworm", family: debian}\nbuild:\n  tags: ["${upTag}"]\n`,
    );
    fs.writeFileSync(path.join(work, 'down.yaml'), `${head('pushlight-down')}base: {derivative: up.yaml}\nbuild:\n  pin: digest\n  tags: ["${downTag}"]\n`);
    fs.mkdirSync(path.join(work, '.git'));
    env = pushEnv(work, config);
    const real = dockerodeEngine(env);
    docker = () => real;
  }, 120_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', ...cleanup], { reject: false });
    await registry?.stop();
    ca?.remove();
    fs.rmSync(work, { recursive: true, force: true });
    fs.rmSync(upDir, { recursive: true, force: true });
  });

  it('pushes, records the digest the registry serves, pins a downstream to it, with auths and with a credential helper', async () => {
    await upToDate(path.join(work, 'up.yaml'), upTag);
    const r = await runCliAsync(['build', path.join(work, 'up.yaml'), '--push', '--target', 'none'], { docker, env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^up to date: .*, pushed /m);
    expect(r.stderr).not.toContain(registry.password);
    const up = JSON.parse(fs.readFileSync(path.join(upDir, 'derivc.pushed.json'), 'utf8')) as PushRecord;
    expect(up.reference).toBe(`${registry.address}/derivc-e2e/light-up@${up.digest}`);

    // What the registry serves under that digest is the image: removed here, pulled back by digest.
    const imageId = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', upTag])).stdout.trim();
    cleanup.push(up.reference, imageId);
    await execa('docker', ['image', 'rm', '-f', imageId]);
    await execa('docker', ['--config', env['DOCKER_CONFIG']!, 'pull', up.reference]);
    expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', up.reference])).stdout.trim()).toBe(imageId);
    await execa('docker', ['tag', up.reference, upTag]);

    // compile reads the upstream's record: the downstream's FROM is the digest.
    const ctx = await upToDate(path.join(work, 'down.yaml'), downTag);
    expect(fs.readFileSync(path.join(ctx, 'Dockerfile'), 'utf8')).toContain(`\nFROM ${up.reference}\n`);

    // Both pushed again, credentials from a helper on PATH this time.
    const bin = path.join(work, 'bin');
    fs.mkdirSync(bin);
    fs.writeFileSync(
      path.join(bin, 'docker-credential-derivc-e2e'),
      `#!/bin/sh\n[ "$1" = get ] || exit 1\nread server\n[ "$server" = "${registry.address}" ] || { echo "credentials not found in native keychain"; exit 1; }\nprintf '{"ServerURL":"%s","Username":"${registry.user}","Secret":"${registry.password}"}\\n' "$server"\n`,
      { mode: 0o755 },
    );
    const helperConfig = path.join(work, 'helper-config');
    fs.mkdirSync(helperConfig);
    fs.writeFileSync(path.join(helperConfig, 'config.json'), JSON.stringify({ credHelpers: { [registry.address]: 'derivc-e2e' } }));
    const out = path.join(work, 'out-down');
    const helped = await runCliAsync(['build', path.join(work, 'down.yaml'), '-o', out, '--push', '--target', 'none', '--json'], {
      docker,
      env: { ...env, DOCKER_CONFIG: helperConfig, PATH: `${bin}:${env['PATH']}` },
    });
    expect(helped.code, helped.stderr).toBe(0);
    expect(helped.stdout + helped.stderr).not.toContain(registry.password);
    const result = helped.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; pushed?: { reference: string; digest: string } })
      .find((l) => l.kind === 'result')!;
    const down = JSON.parse(fs.readFileSync(path.join(out, 'derivc.pushed.json'), 'utf8')) as PushRecord;
    expect(result.pushed?.reference).toBe(down.reference);
    expect(fs.readFileSync(path.join(out, 'Dockerfile'), 'utf8')).toContain(`\nFROM ${up.reference}\n`);
    cleanup.push(down.reference);
    // The upstream pushed again (it is pinned): the same digest.
    expect((JSON.parse(fs.readFileSync(path.join(upDir, 'derivc.pushed.json'), 'utf8')) as PushRecord).digest).toBe(up.digest);
    expect(registry.logTail(400)).toMatch(new RegExp(`PUT /v2/derivc-e2e/light-down/manifests/${run}`));

    // No credentials: the registry refuses, and derivc says none were found.
    const empty = path.join(work, 'empty-config');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'config.json'), '{}');
    const anon = await runCliAsync(['build', path.join(work, 'up.yaml'), '--push', '--target', 'none'], { docker, env: { ...env, DOCKER_CONFIG: empty } });
    expect(anon.code).toBe(1);
    expect(anon.stderr).toContain(`error[build/push-unauthorized]: the registry ${registry.address} refused the push of \`${upTag}\``);
    expect(anon.stderr).toContain(`no credentials for ${registry.address} were found in the docker config`);
  }, 300_000);
});

/** The environment of a push: the test's own HOME and docker config, the Engine the tests use. */
function pushEnv(home: string, config: string): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: home,
    DOCKER_CONFIG: config,
    ...(process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {}),
  };
}
