// The Engine's large streams over every DOCKER_HOST form docker-modem speaks, not only the unix
// socket: here tcp://, through a socat proxy to the Engine's socket started by the test. An
// export (`docker export`) and a layer read (`docker save`) over tcp:// give exactly what they
// give over the unix socket. (TLS and ssh engines get their own e2e tests later.) Gated like the
// other e2e tests: under DERIVC_E2E=1 a missing Engine or socat fails the suite.

import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionFromEnv, dockerodeEngine } from '../../targets/io/dockerode-engine.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { DEBIAN_BASE, ensureDebianBase } from './fixtures.js';
import { e2eEngine, e2eRequired, requireTool } from './require.js';

const engine = await e2eEngine();
const socat = engine ? await requireTool('socat') : undefined;
/** The proxy forwards to the Engine's unix socket: the engine under test must be on one. */
const socket = connectionFromEnv(process.env).options?.socketPath;
if (engine && socket === undefined) {
  const reason = `the tcp:// proxy test needs the Engine on a unix socket, not DOCKER_HOST=${process.env['DOCKER_HOST']}`;
  if (e2eRequired()) throw new Error(`${reason} (DERIVC_E2E=1: end-to-end tests must run, not skip)`);
  console.warn(`e2e skipped: ${reason}`);
}
const ready = engine !== undefined && socat !== undefined && socket !== undefined;

const dirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function accepting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const probe = net.connect(port, '127.0.0.1', () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`socat did not listen on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every entry of an export: type, mode, owner, size, and the SHA-256 of its content. */
async function exportListing(through: DockerEngine): Promise<Map<string, string>> {
  return through.exportContainer!(DEBIAN_BASE, async (stream) => {
    const listing = new Map<string, string>();
    const extract = tar.extract();
    stream.pipe(extract);
    for await (const entry of extract) {
      const hash = createHash('sha256');
      for await (const chunk of entry) hash.update(chunk as Buffer);
      const h = entry.header;
      listing.set(h.name, `${h.type} ${h.mode?.toString(8)} ${h.uid}:${h.gid} ${h.size} ${h.linkname ?? ''} ${hash.digest('hex')}`);
    }
    return listing;
  });
}

describe.skipIf(!ready)('the Engine over tcp:// (a socat proxy to its unix socket)', () => {
  let proxy: ChildProcess;
  let proxyLog = '';
  let overTcp: DockerEngine;

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    const port = await freePort();
    // -d -d: socat logs each connection it accepts. Nothing else listens on that port, so every
    // call to tcp://127.0.0.1:<port> goes through it; the log shows the first one did.
    proxy = spawn(socat!, ['-d', '-d', `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${socket}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    proxy.stderr!.on('data', (b: Buffer) => (proxyLog += b.toString()));
    await accepting(port, 10_000);
    overTcp = dockerodeEngine({ DOCKER_HOST: `tcp://127.0.0.1:${port}`, DERIVC_CACHE_DIR: tempDir('derivc-e2e-tcp-cache-') });
  }, 12 * 60_000);

  afterAll(() => {
    proxy?.kill();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers info through the proxy', async () => {
    expect((await overTcp.info()).os).toBe('linux');
    expect(proxyLog).toMatch(/accepting connection from/);
  });

  it('streams an export over tcp:// with exactly the entries and bytes of one over the unix socket', async () => {
    const viaTcp = await exportListing(overTcp);
    const viaUnix = await exportListing(engine!);
    expect(viaTcp.size).toBeGreaterThan(1000); // a whole Debian, not an empty or cut stream
    expect(viaTcp.get('usr/bin/bash')).toMatch(/^file 100755 0:0 \d+ {2}[0-9a-f]{64}$/);
    expect([...viaTcp]).toEqual([...viaUnix]);
  }, 300_000);

  it("reads the image's layers (docker save) over tcp:// as over the unix socket", async () => {
    const paths = ['/etc/hostname', '/etc/passwd', '/usr/bin/sh', '/etc/missing'];
    const viaTcp = await overTcp.readEntries!(DEBIAN_BASE, paths);
    const viaUnix = await dockerodeEngine({ ...process.env, DERIVC_CACHE_DIR: tempDir('derivc-e2e-unix-cache-') }).readEntries!(DEBIAN_BASE, paths);
    expect(viaTcp).toEqual(viaUnix);
    expect(Buffer.from(viaTcp.get('/etc/passwd')!.content!).toString()).toMatch(/^root:x:0:0:/);
    expect(viaTcp.get('/usr/bin/sh')).toMatchObject({ type: 'symlink', linkname: 'dash' });
    expect(viaTcp.get('/etc/missing')).toBeUndefined();
  }, 300_000);
});
