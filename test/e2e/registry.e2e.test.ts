// The loopback registry fixture (infra.ts) against the docker CLI and the Engine: Debian's
// docker-registry with TLS from a test CA and htpasswd auth answers only over that TLS and only
// to its user; `docker login` stores the credentials in a docker config of the test's own; a
// tiny image is pushed and pulled back by digest. derivc's own --push builds on this fixture.
// Gated like the other e2e tests: under DERIVC_E2E=1 a missing piece fails.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpsStatus, makeTestCa, requireInfra, startRegistry, type TestCa, type TestRegistry } from './infra.js';
import { e2eEngine } from './require.js';
import { tinyRootfs } from './fixtures.js';

const engine = await e2eEngine();
const ready = engine !== undefined && (await requireInfra(['ca', 'registry']));

describe.skipIf(!ready)('the loopback registry: TLS from a test CA, htpasswd auth, push and pull by digest', () => {
  let ca: TestCa;
  let registry: TestRegistry;
  let config: string;
  const run = `${process.pid}-${Date.now()}`;
  let ref: string;
  let pushed: { digest: string; imageId: string } | undefined;
  const started = performance.now();

  beforeAll(async () => {
    ca = await makeTestCa();
    registry = await startRegistry(ca);
    config = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-e2e-docker-config-'));
    ref = `${registry.address}/derivc-e2e/smoke:${run}`;
  }, 120_000);

  afterAll(async () => {
    await execa('docker', ['image', 'rm', '-f', ref, ...(pushed ? [`${registry.address}/derivc-e2e/smoke@${pushed.digest}`, pushed.imageId] : [])], {
      reject: false,
    });
    await registry?.stop();
    ca?.remove();
    if (config) fs.rmSync(config, { recursive: true, force: true });
    console.log(`registry e2e: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  });

  it('answers over TLS from the test CA only, and only to its user', async () => {
    expect(await httpsStatus(registry.port, '/v2/', registry.caCert)).toBe(401);
    expect(await httpsStatus(registry.port, '/v2/', registry.caCert, `${registry.user}:${registry.password}`)).toBe(200);
    expect(await httpsStatus(registry.port, '/v2/', registry.caCert, `${registry.user}:wrong`)).toBe(401);
    // Not a certificate anyone else trusts: without the test CA the handshake fails.
    expect(await httpsStatus(registry.port, '/v2/', undefined)).toMatch(
      /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/,
    );
    expect(fs.readFileSync(registry.trustFile, 'utf8')).toBe(fs.readFileSync(registry.caCert, 'utf8'));
    expect(registry.trustFile).toBe(`/etc/docker/certs.d/${registry.address}/ca.crt`);
  });

  it('docker login refuses a wrong password and stores the right one in the given docker config only', async () => {
    const wrong = await execa('docker', ['--config', config, 'login', registry.address, '--username', registry.user, '--password-stdin'], {
      input: 'wrong',
      reject: false,
    });
    expect(wrong.exitCode).not.toBe(0);
    expect(wrong.stderr).toMatch(/unauthorized/i);
    await registry.login(config);
    const stored = JSON.parse(fs.readFileSync(path.join(config, 'config.json'), 'utf8'));
    expect(Buffer.from(stored.auths[registry.address].auth, 'base64').toString()).toBe(`${registry.user}:${registry.password}`);
  }, 60_000);

  it('pushes a tiny image and pulls it back by digest, the same image', async () => {
    await execa('docker', ['import', '-', ref], { input: await tinyRootfs(`derivc ${run}\n`) });
    const imageId = (await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])).stdout;
    const push = await execa('docker', ['--config', config, 'push', ref]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    expect(digest, push.stdout).toBeDefined();
    pushed = { digest: digest!, imageId };
    const byDigest = `${registry.address}/derivc-e2e/smoke@${digest}`;

    // Gone from the engine, then back from the registry by digest alone.
    await execa('docker', ['image', 'rm', '-f', imageId]);
    expect((await execa('docker', ['image', 'inspect', imageId], { reject: false })).exitCode).not.toBe(0);
    await execa('docker', ['--config', config, 'pull', byDigest]);
    expect((await execa('docker', ['image', 'inspect', '--format', '{{.Id}}', byDigest])).stdout).toBe(imageId);
    expect(JSON.parse((await execa('docker', ['image', 'inspect', '--format', '{{json .RepoDigests}}', byDigest])).stdout)).toContain(byDigest);
    // The registry's log shows the pull of that manifest by the authenticated user.
    expect(registry.logTail(200)).toMatch(new RegExp(`GET /v2/derivc-e2e/smoke/manifests/${digest!}`));
  }, 120_000);

  it('stop ends the registry by pid and removes its trust file and directory', async () => {
    const { pid, trustFile, dir } = registry;
    await registry.stop();
    expect(fs.existsSync(`/proc/${pid}`)).toBe(false);
    expect(fs.existsSync(path.dirname(trustFile))).toBe(false);
    expect(fs.existsSync(dir)).toBe(false);
    expect(await httpsStatus(registry.port, '/v2/', registry.caCert)).toBe('ECONNREFUSED');
  }, 60_000);
});
