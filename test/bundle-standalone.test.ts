// The installed package is dist/ and package.json and nothing else: `npm run build` bundles every
// library, and package.json's `dependencies` (what an install adds) are exactly what the bundle
// leaves out. Here the real build script bundles into a directory with no node_modules anywhere
// above it, and derivc runs there: --version, validate, compile, and doctor against a Docker
// Engine reached over ssh:// — which loads dockerode and the bundled ssh2 client without its
// native binding, as every install runs it.

import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { builtinModules, createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve('.');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
const EXAMPLE = 'examples/opensuse-luet';

/**
 * Native addons the bundle leaves out (esbuild cannot bundle a compiled `.node` file), by the
 * module that requires them, and why derivc works without them.
 */
const OPTIONAL_ADDONS: Record<string, string> = {
  'ssh2/lib/protocol/crypto.js': 'required in try/catch; ssh2 falls back to Node crypto and WebAssembly poly1305',
  'cpu-features/lib/index.js': 'ssh2 requires cpu-features in try/catch, only to order its ciphers',
};

interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
}

let tmp: string;
let pkgDir: string;
let meta: Metafile;
/** No NODE_PATH or NODE_OPTIONS: module resolution sees only the directories above the package. */
const ENV = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: tmpdir(), LANG: 'C.UTF-8' };

function derivc(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(pkgDir, 'dist/derivc.mjs'), ...args], { cwd: tmp, env: { ...ENV, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'derivc-standalone-'));
  for (let d = tmp; ; d = dirname(d)) {
    // A node_modules above the package would let a missing module resolve: the test would prove nothing.
    if (existsSync(join(d, 'node_modules')))
      throw new Error(`${join(d, 'node_modules')} exists: run this test with a temporary directory outside any node_modules tree`);
    if (dirname(d) === d) break;
  }
  pkgDir = join(tmp, 'pkg');
  const built = spawnSync(process.execPath, ['build.js', '--outdir', join(pkgDir, 'dist'), '--metafile', join(tmp, 'meta.json')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`node build.js failed: ${built.stderr}`);
  cpSync(join(ROOT, 'package.json'), join(pkgDir, 'package.json'));
  cpSync(join(ROOT, EXAMPLE), join(tmp, 'example'), { recursive: true });
  meta = JSON.parse(readFileSync(join(tmp, 'meta.json'), 'utf8')) as Metafile;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the bundle with nothing installed', () => {
  it("leaves out exactly package.json's dependencies, besides Node's built-ins and optional native addons", () => {
    const builtin = (p: string) => p.startsWith('node:') || builtinModules.includes(p) || builtinModules.includes(p.split('/')[0]!);
    const externals = new Set<string>();
    const addons: { importer: string; path: string }[] = [];
    for (const [input, { imports }] of Object.entries(meta.inputs)) {
      for (const i of imports) {
        // `<runtime>`: esbuild's own helpers, inside the bundle.
        if (!i.external || builtin(i.path) || i.path === '<runtime>') continue;
        if (i.path.endsWith('.node')) addons.push({ importer: input.replace(/^.*node_modules\//, ''), path: i.path });
        else externals.add(i.path.startsWith('@') ? i.path.split('/').slice(0, 2).join('/') : i.path.split('/')[0]!);
      }
    }
    expect([...externals].sort()).toEqual(Object.keys(PKG.dependencies ?? {}).sort());
    // The addons are found (the check below is not vacuous), and each one is known to be optional.
    expect(addons.length).toBeGreaterThan(0);
    for (const a of addons) expect(Object.keys(OPTIONAL_ADDONS), `${a.importer} requires ${a.path}`).toContain(a.importer);
  });

  it('prints its version', () => {
    expect(derivc(['--version'])).toMatchObject({ code: 0, stdout: `${PKG.version}\n` });
  });

  it('validates and compiles an example', () => {
    expect(derivc(['validate', '--strict', 'example'])).toMatchObject({ code: 0, stdout: 'no problems\n' });
    const compiled = derivc(['compile', 'example', '-o', 'out']);
    expect(compiled).toMatchObject({ code: 0, stderr: expect.stringMatching(/^compiled example\/derivative\.yaml → out: \d+ written/) });
    expect(existsSync(join(tmp, 'out/derivc.json'))).toBe(true);
    expect(derivc(['compile', '--check', 'example', '-o', 'out']).code).toBe(0);
  });

  it('reaches a Docker Engine over ssh:// with the bundled ssh2 and no native binding', async () => {
    const engine = await fakeEngine(join(tmp, 'engine.sock'));
    const sshd = await fakeSshd(join(tmp, 'engine.sock'));
    try {
      const r = await derivcAsync(['doctor', '--format', 'json'], { DOCKER_HOST: `ssh://derivc@127.0.0.1:${sshd.port}` });
      expect(JSON.parse(r.stdout).engine, r.stderr).toMatchObject({ found: true, version: '99.0.0-fake', apiVersion: '1.43' });
      // docker-modem's warning about its own `ssh:` address is not the user's business (cli/dependency-warnings.ts).
      expect(r.stderr).not.toContain('DEP0170');
      // One ssh session per Engine connection (info, then /_ping for the builder), each only the docker CLI's relay.
      expect(sshd.commands.length).toBeGreaterThan(0);
      expect(new Set(sshd.commands)).toEqual(new Set(['docker system dial-stdio']));
    } finally {
      sshd.close();
      engine.close();
    }
  });
});

/** doctor waits for the ssh server, which runs in this process: spawnSync would block it. */
function derivcAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(pkgDir, 'dist/derivc.mjs'), ...args], { cwd: tmp, env: { ...ENV, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => void (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => void (stderr += b.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** An HTTP server on a unix socket that answers GET /version as a Docker Engine would. */
async function fakeEngine(socket: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    if (req.method === 'GET' && /\/version$/.test(req.url ?? '')) {
      res.end(JSON.stringify({ Version: '99.0.0-fake', ApiVersion: '1.43', Os: 'linux', Arch: 'amd64' }));
    } else {
      res.statusCode = 404;
      res.end('{"message":"not in this fake"}');
    }
  });
  await new Promise<void>((ok) => server.listen(socket, ok));
  return server;
}

// ssh2's server side (a devDependency; derivc only bundles the client), typed for what is used here.
interface SshChannel extends Duplex {
  exit(code: number): void;
}
interface SshClient {
  on(event: 'authentication', fn: (ctx: { accept(): void }) => void): SshClient;
  on(event: 'ready', fn: () => void): SshClient;
  on(event: 'session', fn: (accept: () => SshSession) => void): SshClient;
  on(event: 'error', fn: () => void): SshClient;
}
interface SshSession {
  on(event: 'exec', fn: (accept: () => SshChannel, reject: () => void, info: { command: string }) => void): void;
}
interface SshServer {
  listen(port: number, host: string, cb: () => void): unknown;
  address(): net.AddressInfo;
  close(): void;
}
const { Server } = createRequire(import.meta.url)('ssh2') as { Server: new (opts: { hostKeys: string[] }, fn: (c: SshClient) => void) => SshServer };

/**
 * An ssh server that lets anyone in and answers `docker system dial-stdio` (what docker-modem runs
 * for ssh:// engines, as the docker CLI does) by connecting the channel to the engine's socket.
 */
async function fakeSshd(engineSocket: string): Promise<{ port: number; commands: string[]; close(): void }> {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const commands: string[] = [];
  const server = new Server({ hostKeys: [privateKey] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () =>
      client.on('session', (accept) =>
        accept().on('exec', (acceptExec, _reject, info) => {
          commands.push(info.command);
          const channel = acceptExec();
          const socket = net.connect(engineSocket);
          channel.pipe(socket).pipe(channel);
          socket.on('close', () => {
            channel.exit(0);
            channel.end();
          });
        }),
      ),
    );
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { port: server.address().port, commands, close: () => server.close() };
}
