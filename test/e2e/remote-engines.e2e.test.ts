// derivc against engines that are not the local socket, each a real part started by the test
// (infra.ts): a second dockerd — the "fresh runner", with its own data root, bridge and a TLS tcp
// port — and an sshd on loopback in front of the first engine. The bare example is built
// (i) through tcp+TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) on the second engine, with its ISO
// made from the image there (its filesystem streamed over that connection); (ii) through ssh://
// on the first engine; (iii) through the current docker context, made by the docker CLI itself,
// pointing at the second engine — this one by the built CLI, as a user runs it. `derivc doctor`
// names each engine and how it was chosen. Gated like the other e2e tests: under DERIVC_E2E=1 a
// missing piece fails.

import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../targets/io/engine.js';
import { lazyEngine } from '../../targets/io/lazy-engine.js';
import { runCliAsync } from '../support/cli.js';
import { requireBuiltCli } from '../security/support/built-cli.js';
import { DEBIAN_BASE, ensureDebianBase } from './fixtures.js';
import { makeTestCa, requireInfra, startSecondEngine, startSshServer, type SecondEngine, type SshServer, type TestCa } from './infra.js';
import { e2eEngine, requireTool } from './require.js';

const ISO_TOOLS = ['sqfstar', 'grub-mkrescue', 'xorriso', 'mformat', 'mcopy', '/usr/lib/grub/i386-pc', '/usr/lib/grub/x86_64-efi', 'unsquashfs'];

const engine = await e2eEngine();
const infra = engine !== undefined && (await requireInfra(['ca', 'engine', 'sshd']));
const tools = infra ? await Promise.all(ISO_TOOLS.map((t) => requireTool(t))) : [];
const ready = infra && tools.every((t) => t !== undefined);

const run = `${process.pid}-${Date.now()}`;
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-remote-'));
const PATH = process.env['PATH'] ?? '';

/**
 * The bare example under a tag of its own (`build.tags`), so no other test's image is touched and
 * the tag is new on every engine. Name and version stay: they are in the generated files, and
 * keeping them lets an engine that built the example before reuse every layer but the last.
 */
function example(kind: string): { manifest: string; tag: string } {
  const tag = `derivc.local/e2e-${kind}-${run}:1`;
  const at = join(dir, kind);
  cpSync('examples/debian-bare', at, { recursive: true });
  const manifest = join(at, 'derivative.yaml');
  writeFileSync(manifest, `${readFileSync(manifest, 'utf8')}\nbuild:\n  tags: ["${tag}"]\n`);
  return { manifest, tag };
}

/** Whether the engine at `host` has the image (the docker CLI, not derivc, says). */
async function hasImage(host: string | undefined, ref: string): Promise<boolean> {
  const r = await execa('docker', [...(host ? ['-H', host] : []), 'image', 'inspect', '--format', '{{.Id}}', ref], { reject: false });
  return r.exitCode === 0;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe.skipIf(!ready)('derivc against remote engines: tcp+TLS, ssh://, a docker context', () => {
  let ca: TestCa;
  let second: SecondEngine;
  let sshd: SshServer;
  const firstTags: string[] = [];
  const timings: string[] = [];

  beforeAll(async () => {
    const started = performance.now();
    await ensureDebianBase(engine!);
    ca = await makeTestCa();
    [second, sshd] = await Promise.all([startSecondEngine({ ca }), startSshServer()]);
    // The fresh runner has nothing, and nothing can be pulled here: it gets the base image as a
    // user would give it to an air-gapped engine.
    await second.loadImage(DEBIAN_BASE);
    timings.push(`fixtures ${seconds(performance.now() - started)}`);
  }, 900_000);

  afterAll(async () => {
    for (const tag of firstTags) await execa('docker', ['image', 'rm', '-f', tag], { reject: false });
    try {
      await Promise.all([second?.stop(), sshd?.stop()]);
    } finally {
      ca?.remove();
      rmSync(dir, { recursive: true, force: true });
      console.log(`remote engines e2e: ${timings.join(', ')}`);
    }
  }, 120_000);

  it('doctor names each engine, how it was chosen, and its builder', async () => {
    const doctor = async (env: Record<string, string>) => {
      const r = await runCliAsync(['doctor', '--format', 'json'], { env, docker: () => lazyEngine(env) });
      return JSON.parse(r.stdout).engine;
    };
    const overTls = await doctor(second.tlsEnv());
    expect(overTls).toMatchObject({ found: true, endpoint: second.tls!.host, chosenBy: { kind: 'DOCKER_HOST' }, os: 'linux' });
    // 20.10 states no Builder-Version; its API (1.41) has BuildKit.
    expect(overTls.builder).toMatchObject({ builder: 'buildkit', version: '2' });
    expect(await doctor(sshd.env())).toMatchObject({ found: true, endpoint: sshd.dockerHost, chosenBy: { kind: 'DOCKER_HOST' } });
  });

  it('tcp+TLS is verified both ways: a server from another CA, or a client certificate from one, is refused', async () => {
    const stranger = await makeTestCa();
    try {
      const client = await stranger.issue('stranger', 'client');
      const certs = second.tls!.certPath;
      const mixed = (name: string, files: { ca: string; cert: string; key: string }) => {
        const at = join(dir, name);
        mkdirSync(at);
        for (const [file, from] of Object.entries({ 'ca.pem': files.ca, 'cert.pem': files.cert, 'key.pem': files.key })) copyFileSync(from, join(at, file));
        return { DOCKER_HOST: second.tls!.host, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: at };
      };
      const ours = { ca: join(certs, 'ca.pem'), cert: join(certs, 'cert.pem'), key: join(certs, 'key.pem') };
      const wrongServerCa = mixed('wrong-ca', { ...ours, ca: stranger.cert });
      const wrongClient = mixed('wrong-client', { ...ours, ...client });
      for (const env of [wrongServerCa, wrongClient]) {
        const r = await runCliAsync(['doctor', '--format', 'json'], { env, docker: () => lazyEngine(env) });
        expect(r.code).toBe(1);
        expect(JSON.parse(r.stdout).engine).toMatchObject({ found: false, endpoint: second.tls!.host });
      }
      const refused = (env: Record<string, string>) =>
        lazyEngine(env)
          .info()
          .then(
            () => 'answered',
            (e: Error) => e.message,
          );
      expect(await refused(wrongServerCa)).toMatch(/certificate/i);
      expect(await refused(wrongClient)).toMatch(new RegExp(`^cannot reach the Docker Engine at ${second.tls!.host.replace(/[.]/g, '\\.')}: `));
    } finally {
      stranger.remove();
    }
  }, 120_000);

  it('(i) builds the bare example on the second engine through tcp+TLS, and makes its ISO from the image there', async () => {
    const { manifest, tag } = example('tls');
    const env = { ...second.tlsEnv(), PATH };
    const out = join(dir, 'out-tls');
    const started = performance.now();
    const r = await runCliAsync(['build', manifest, '-o', out, '--target', 'iso'], { env, docker: () => lazyEngine(env) });
    timings.push(`(i) tcp+TLS cold build + ISO ${seconds(performance.now() - started)}`);
    expect(r.stderr).toContain(`built ${tag} (`);
    expect(r.code).toBe(0);
    // Built there, and only there: the first engine never saw this tag.
    expect(await hasImage(second.host, tag)).toBe(true);
    expect(await hasImage(undefined, tag)).toBe(false);

    // The ISO holds the remote image's filesystem and kernel, read over that connection.
    const iso = join(out, 'derivc-debian-12.0.1.iso');
    expect(readdirSync(out)).toContain('derivc-debian-12.0.1.iso');
    const tree = join(dir, 'iso-tree');
    await execa('xorriso', [
      '-osirrox',
      'on',
      '-indev',
      iso,
      '-extract',
      '/boot/vmlinuz',
      join(tree, 'vmlinuz'),
      '-extract',
      '/rootfs.squashfs',
      join(tree, 'rootfs.squashfs'),
    ]);
    expect((await execa('unsquashfs', ['-cat', join(tree, 'rootfs.squashfs'), 'etc/hostname'])).stdout).toBe('derivc-debian');
    const remote: DockerEngine = lazyEngine(second.tlsEnv());
    const kernel = (await remote.readFiles!(tag, ['/boot/vmlinuz'])).get('/boot/vmlinuz')!;
    expect(readFileSync(join(tree, 'vmlinuz')).equals(Buffer.from(kernel))).toBe(true);
  }, 1_800_000);

  it('(ii) builds the bare example through ssh:// on the first engine', async () => {
    const { manifest, tag } = example('ssh');
    firstTags.push(tag);
    const env = sshd.env();
    const started = performance.now();
    const r = await runCliAsync(['build', manifest, '-o', join(dir, 'out-ssh'), '--target', 'none'], { env, docker: () => lazyEngine(env) });
    timings.push(`(ii) ssh:// build ${seconds(performance.now() - started)}`);
    expect(r.stderr).toContain(`built ${tag} (`);
    expect(r.code).toBe(0);
    expect(await hasImage(undefined, tag)).toBe(true);
    expect(await hasImage(second.host, tag)).toBe(false);
    // Through sshd, with the agent's key: its log has the logins.
    expect(sshd.log()).toMatch(/Accepted publickey for root from 127\.0\.0\.1 port \d+ ssh2: ED25519/);
  }, 1_800_000);

  it('(iii) builds through the current docker context, made by the docker CLI, pointing at the second engine', async () => {
    const cli = requireBuiltCli();
    const { manifest, tag } = example('context');
    const config = join(dir, 'docker-config');
    const certs = second.tls!.certPath;
    const cliEnv = { PATH, HOME: dir, DOCKER_CONFIG: config };
    const docker = (args: string[]) => execa('docker', args, { env: cliEnv, extendEnv: false });
    await docker([
      'context',
      'create',
      'derivc-fresh',
      '--docker',
      `host=${second.tls!.host},ca=${join(certs, 'ca.pem')},cert=${join(certs, 'cert.pem')},key=${join(certs, 'key.pem')}`,
    ]);
    await docker(['context', 'use', 'derivc-fresh']);

    // No DOCKER_HOST anywhere: the context decides.
    const doctor = await execa('node', [cli, 'doctor', '--format', 'json'], { env: cliEnv, extendEnv: false, reject: false });
    expect(JSON.parse(doctor.stdout).engine).toMatchObject({
      found: true,
      endpoint: second.tls!.host,
      chosenBy: { kind: 'context', name: 'derivc-fresh', setBy: 'config', configFile: join(config, 'config.json') },
    });
    const started = performance.now();
    const r = await execa('node', [cli, 'build', manifest, '-o', join(dir, 'out-context'), '--target', 'none'], {
      env: cliEnv,
      extendEnv: false,
      reject: false,
    });
    timings.push(`(iii) docker context build ${seconds(performance.now() - started)}`);
    expect(r.stderr).toContain(`built ${tag} (`);
    expect(r.exitCode).toBe(0);
    expect(await hasImage(second.host, tag)).toBe(true);
    expect(await hasImage(undefined, tag)).toBe(false);

    // A context that is gone is an error naming it, from the same binary.
    const gone = await execa('node', [cli, 'build', manifest, '-o', join(dir, 'out-context'), '--target', 'none'], {
      env: { ...cliEnv, DOCKER_CONTEXT: 'derivc-gone' },
      extendEnv: false,
      reject: false,
    });
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain('cannot reach the Docker Engine at docker context "derivc-gone" (DOCKER_CONTEXT): the context does not exist');
  }, 1_800_000);

  it('stop ends the second engine, sshd and the agent by pid and undoes their setup', async () => {
    const { pid, dataRoot, bridge, subnet, socket } = second;
    await Promise.all([second.stop(), sshd.stop()]);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(existsSync(dataRoot)).toBe(false);
    expect(existsSync(socket)).toBe(false);
    expect((await execa('ip', ['link', 'show', bridge], { reject: false })).exitCode).not.toBe(0);
    expect((await execa('iptables', ['-t', 'nat', '-S', 'POSTROUTING'])).stdout).not.toContain(subnet);
    expect((await execa('iptables', ['-S', 'FORWARD'])).stdout).not.toContain(bridge);
    expect(existsSync(sshd.agentSocket)).toBe(false);
    expect(
      (await execa('ssh', ['-F', '/dev/null', '-p', String(sshd.port), '-o', 'BatchMode=yes', 'root@127.0.0.1', 'true'], { reject: false })).exitCode,
    ).not.toBe(0);
  }, 120_000);
});
