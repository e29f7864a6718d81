// The DockerEngine port against a real Docker Engine (dockerd, classic builder), FROM the local
// base image the e2e fixture makes (local/debian:bookworm; nothing can be pulled here).
// With DERIVC_E2E=1 a missing engine fails; otherwise the suite skips and says why.
// The adapter's pieces that need no engine (addresses, unreachable engines, the progress stream,
// Go file modes, layer resolution) are specified at the end and always run.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contextStream } from '../../targets/io/build-context.js';
import { BuildStreamParser, connectionFromEnv, dockerodeEngine, pathStatFromGoMode } from '../../targets/io/dockerode-engine.js';
import { emptyLayerScan, recordLayerEntry, resolveInLayers, type LayerScan } from '../../targets/io/image-layers.js';
import { EngineUnreachableError, type BuildEvent } from '../../targets/io/engine.js';
import { DEBIAN_BASE, ensureDebianBase } from './fixtures.js';

const BASE = DEBIAN_BASE;
const REPO = 'derivc-test.local/engine-e2e';
const required = process.env['DERIVC_E2E'] === '1';
const engine = dockerodeEngine(process.env);

const unavailable = await engine.info().then(
  () => undefined,
  (err: Error) => err.message,
);
if (unavailable !== undefined && !required) console.warn(`engine e2e skipped (DERIVC_E2E=1 makes this a failure): ${unavailable}`);

/** A unique word per run: no build step is cached from an earlier run, and containers are found by it. */
const run = randomBytes(4).toString('hex');
const tag = (suffix: string): string => `${REPO}:${run}${suffix}`;

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});
/** A build context as derivc writes one: the files, and a derivc.json listing them (all that is sent). */
function context(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-e2e-'));
  tempDirs.push(dir);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  const listing = Object.entries(files).map(([rel, content]) => ({ path: rel, sha256: createHash('sha256').update(content).digest('hex'), mode: '0644' }));
  fs.writeFileSync(path.join(dir, 'derivc.json'), JSON.stringify({ files: listing }));
  return dir;
}

async function build(
  dir: string,
  tags: string[],
  extra: { labels?: Record<string, string>; buildArgs?: Record<string, string>; signal?: AbortSignal; onEvent?: (e: BuildEvent) => void } = {},
) {
  const events: BuildEvent[] = [];
  const started = Date.now();
  const result = engine.build(
    { context: contextStream(dir), tags, buildArgs: extra.buildArgs ?? {}, platform: 'linux/amd64', labels: extra.labels ?? {} },
    (event) => {
      events.push(event);
      extra.onEvent?.(event);
    },
    extra.signal,
  );
  return { result, events, started };
}

const docker = new Docker();

/** Containers (running or not) whose command mentions `word`. */
async function containersMentioning(word: string): Promise<Docker.ContainerInfo[]> {
  return (await docker.listContainers({ all: true })).filter((c) => c.Command.includes(word));
}

async function waitFor(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const MAIN_DOCKERFILE = `FROM ${BASE}
LABEL derivc.test="engine-e2e"
ARG GREETING
COPY files/hello.txt /opt/hello.txt
# Through COPY, not RUN: during RUN, /etc/hostname is Docker's bind mount and writes never reach the layer.
COPY files/hostname /etc/hostname
RUN echo "said-${run}" && echo "$GREETING" > /opt/greeting && ln -s hello.txt /opt/link && ln -s /opt /opt/dirlink \\
 && mkdir /opt/dir /opt/opaque && echo gone > /opt/gone.txt && echo old > /opt/opaque/old.txt
RUN rm /opt/gone.txt && rm -rf /opt/opaque && mkdir /opt/opaque && echo new > /opt/opaque/new.txt
`;

describe.skipIf(unavailable !== undefined && !required)('DockerEngine on a real Docker Engine (dockerode)', () => {
  const hello = `hello ${run}\n`;
  let mainDir: string;
  let first: { imageId: string; events: BuildEvent[]; ms: number };

  beforeAll(async () => {
    if (unavailable !== undefined) throw new Error(unavailable);
    await ensureDebianBase(engine); // made once per machine (mmdebstrap + docker import), then reused
    mainDir = context({ Dockerfile: MAIN_DOCKERFILE, 'files/hello.txt': hello, 'files/hostname': 'myhost\n' });
    const { result, events, started } = await build(mainDir, [tag(''), tag('-extra')], {
      labels: { 'derivc.build-id': run },
      buildArgs: { GREETING: `hi-${run}` },
    });
    const { imageId } = await result;
    first = { imageId, events, ms: Date.now() - started };
  }, 12 * 60_000);

  afterAll(async () => {
    for (const ref of [tag(''), tag('-extra'), tag('-again'), first?.imageId].filter((r): r is string => r !== undefined)) {
      await docker
        .getImage(ref)
        .remove({ force: true })
        .catch(() => undefined);
    }
  }, 60_000);

  it('tells the engine version, API version and platform', async () => {
    const info = await engine.info();
    expect(info.version).toMatch(/^\d+\.\d+/);
    expect(info.apiVersion).toMatch(/^1\.\d+$/);
    expect(info.os).toBe('linux');
    expect(info.arch).not.toBe('');
  });

  it('reads image labels, and undefined for a reference no image has', async () => {
    expect(await engine.imageLabels(BASE)).toBeTypeOf('object');
    expect(await engine.imageLabels(`${REPO}:missing-${run}`)).toBeUndefined();
  });

  it('builds: step events, all output kept, labels from the Dockerfile and the request, every tag', async () => {
    expect(first.imageId).toMatch(/^sha256:[0-9a-f]{64}$/);
    const steps = first.events.filter((e) => e.kind === 'step');
    expect(steps[0]).toEqual({ kind: 'step', index: 1, total: steps.length, instruction: `FROM ${BASE}` });
    expect(steps.map((s) => s.kind === 'step' && s.index)).toEqual(steps.map((_, i) => i + 1));
    expect(steps.map((s) => s.kind === 'step' && s.instruction)).toContain('COPY files/hello.txt /opt/hello.txt');
    const output = first.events.flatMap((e) => (e.kind === 'output' ? [e.text] : []));
    expect(output).toContain(`said-${run}\n`); // a RUN's own output, one event per line
    expect(output.some((line) => line.startsWith('Successfully built '))).toBe(true);
    expect(first.events.filter((e) => e.kind === 'error')).toEqual([]);

    for (const ref of [tag(''), tag('-extra')]) {
      expect(await engine.imageLabels(ref)).toMatchObject({ 'derivc.test': 'engine-e2e', 'derivc.build-id': run });
      expect((await docker.getImage(ref).inspect()).Id).toBe(first.imageId);
    }
    expect(await engine.readFile(tag(''), '/opt/greeting').then((b) => b && Buffer.from(b).toString())).toBe(`hi-${run}\n`);
  }, 60_000);

  it('rebuilds an unchanged context from the cache, to the same image', async () => {
    const { result, events } = await build(mainDir, [tag('-again')], { labels: { 'derivc.build-id': run }, buildArgs: { GREETING: `hi-${run}` } });
    expect((await result).imageId).toBe(first.imageId);
    const steps = events.filter((e) => e.kind === 'step').length;
    expect(events.filter((e) => e.kind === 'cached').length).toBe(steps - 1); // every step after FROM
    expect(first.events.filter((e) => e.kind === 'cached').length).toBeLessThan(steps - 1);
  }, 60_000);

  it('rejects a failing RUN with the engine message, also sent as an error event', async () => {
    const dir = context({ Dockerfile: `FROM ${BASE}\nRUN echo "failing-${run}" && exit 3\n` });
    const { result, events } = await build(dir, [tag('-failing')]);
    const err = await result.then(
      () => undefined,
      (e: Error) => e,
    );
    const errorEvents = events.filter((e) => e.kind === 'error');
    expect(errorEvents).toEqual([{ kind: 'error', message: expect.stringMatching(/returned a non-zero code: 3$/), code: 3 }]);
    expect(err?.message).toBe(errorEvents[0]?.kind === 'error' && errorEvents[0].message);
    expect(await engine.imageLabels(tag('-failing'))).toBeUndefined();
    expect(await containersMentioning(`failing-${run}`)).toEqual([]);
  }, 60_000);

  it('cancels a running build on abort: rejects at once and leaves no container behind', async () => {
    const marker = `abort-${run}`;
    const dir = context({ Dockerfile: `FROM ${BASE}\nRUN echo "${marker}" && sleep 30\n` });
    const controller = new AbortController();
    let runStepSeen: () => void = () => undefined;
    const runStep = new Promise<void>((resolve) => (runStepSeen = resolve));
    const { result } = await build(dir, [tag('-aborted')], {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.kind === 'step' && e.index === 2) runStepSeen();
      },
    });
    const settled = result.then(
      () => new Error('the build was not cancelled'),
      (e: Error) => e,
    );
    await runStep;
    // The RUN container exists: the check below can see one when it is left behind.
    await waitFor('the RUN container', async () => (await containersMentioning(marker)).length > 0, 15_000);
    const abortedAt = Date.now();
    controller.abort();
    const err = await settled;
    expect(err.name).toBe('AbortError');
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    await waitFor('the engine to remove the RUN container', async () => (await containersMentioning(marker)).length === 0, 15_000);
    expect(await engine.imageLabels(tag('-aborted'))).toBeUndefined();
  }, 60_000);

  it('stats paths without starting a container, and removes the one it creates', async () => {
    const stats = await engine.statPaths(tag(''), ['/opt/link', '/opt/dirlink', '/opt/dir', '/opt/hello.txt', '/opt/missing', '/tmp', '/usr/bin/passwd']);
    expect(Object.fromEntries(stats)).toEqual({
      '/opt/link': { kind: 'symlink', linkTarget: 'hello.txt', resolvedTarget: '/opt/hello.txt', size: 'hello.txt'.length, mode: 0o777 },
      '/opt/dirlink': { kind: 'symlink', linkTarget: '/opt', resolvedTarget: '/opt', size: '/opt'.length, mode: 0o777 },
      '/opt/dir': expect.objectContaining({ kind: 'directory', mode: 0o755 }),
      '/opt/hello.txt': { kind: 'file', size: Buffer.byteLength(hello), mode: 0o644 },
      '/opt/missing': undefined,
      '/tmp': expect.objectContaining({ kind: 'directory', mode: 0o1777 }),
      '/usr/bin/passwd': expect.objectContaining({ kind: 'file', mode: 0o4755 }),
    });
    expect(await docker.listContainers({ all: true, filters: { ancestor: [first.imageId] } })).toEqual([]);
    await expect(engine.statPaths(`${REPO}:missing-${run}`, ['/'])).rejects.toThrow(`no image ${REPO}:missing-${run}`);
  }, 60_000);

  describe('readFile reads the image layers', () => {
    const text = async (file: string): Promise<string | undefined> => {
      const bytes = await engine.readFile(tag(''), file);
      return bytes && Buffer.from(bytes).toString('utf8');
    };

    it('a COPYed file', async () => {
      expect(await text('/opt/hello.txt')).toBe(hello);
    }, 60_000);

    it("/etc/hostname as the image has it (a container would show Docker's empty one)", async () => {
      expect(await text('/etc/hostname')).toBe('myhost\n');
    }, 60_000);

    it('nothing for a file deleted in a later layer, or hidden by an opaque directory', async () => {
      expect(await text('/opt/gone.txt')).toBeUndefined();
      expect(await text('/opt/opaque/old.txt')).toBeUndefined();
      expect(await text('/opt/opaque/new.txt')).toBe('new\n');
    }, 60_000);

    it("through symlinks: the file's own, a directory link, and the base image's /bin → usr/bin", async () => {
      expect(await text('/opt/link')).toBe(hello);
      expect(await text('/opt/dirlink/hello.txt')).toBe(hello);
      const viaLink = await engine.readFile(tag(''), '/bin/true');
      const direct = await engine.readFile(tag(''), '/usr/bin/true');
      expect(direct && Buffer.from(direct.subarray(0, 4)).toString('latin1')).toBe('\x7fELF');
      expect(viaLink && Buffer.from(viaLink).equals(Buffer.from(direct!))).toBe(true);
    }, 60_000);

    it('several files in one read of the image, each as readFile gives it', async () => {
      const files = ['/opt/link', '/etc/hostname', '/opt/gone.txt', '/bin/true', '/opt/hello.txt'];
      const started = Date.now();
      const all = await engine.readFiles!(tag(''), files);
      const ms = Date.now() - started;
      expect([...all.keys()]).toEqual(files);
      expect(Buffer.from(all.get('/opt/link')!).toString()).toBe(hello);
      expect(Buffer.from(all.get('/etc/hostname')!).toString()).toBe('myhost\n');
      expect(all.get('/opt/gone.txt')).toBeUndefined();
      expect(Buffer.from(all.get('/bin/true')!).equals(Buffer.from((await engine.readFile(tag(''), '/usr/bin/true'))!))).toBe(true);
      console.info(`readFiles of ${files.length} paths: ${ms} ms`);
    }, 60_000);

    it('nothing for a missing path or a directory; an error for a missing image', async () => {
      expect(await text('/opt/missing')).toBeUndefined();
      expect(await text('/opt/dir')).toBeUndefined();
      await expect(engine.readFile(`${REPO}:missing-${run}`, '/etc/hostname')).rejects.toThrow(`no image ${REPO}:missing-${run}`);
    }, 60_000);
  });

  it('exports a created container as a tar stream (init layer included), removes it, and stops on abort', async () => {
    const names = new Map<string, Buffer>();
    await engine.exportContainer!(tag(''), async (stream) => {
      const extract = tar.extract();
      stream.pipe(extract);
      for await (const entry of extract) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        names.set(entry.header.name, Buffer.concat(chunks));
      }
    });
    expect(names.get('opt/hello.txt')?.toString()).toBe(hello);
    expect(names.has('.dockerenv')).toBe(true);
    expect(names.get('etc/hostname')?.length).toBe(0); // Docker's, not the image's myhost
    const abort = new AbortController();
    const cut = engine.exportContainer!(
      tag(''),
      async (stream) => {
        await new Promise((resolve) => stream.once('data', resolve));
        abort.abort();
        for await (const _ of stream) {
          // the abort ends this
        }
      },
      abort.signal,
    );
    await expect(cut).rejects.toThrow();
    expect((await docker.listContainers({ all: true, filters: { label: ['derivc.purpose=export'] } })).filter((c) => c.Image === tag(''))).toEqual([]);
  }, 120_000);

  it('readEntries reads the layers once per image ID, then answers from its cache directory', async () => {
    const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-e2e-cache-'));
    try {
      const cached = dockerodeEngine({ ...process.env, DERIVC_CACHE_DIR: cacheDir });
      const paths = ['/etc/hostname', '/opt/link', '/opt/missing'];
      const first = await cached.readEntries!(tag(''), paths);
      expect(Buffer.from(first.get('/etc/hostname')!.content!).toString()).toBe('myhost\n');
      expect(first.get('/opt/link')).toMatchObject({ type: 'symlink', linkname: 'hello.txt' });
      expect(first.get('/opt/missing')).toBeUndefined();
      const files = fs.readdirSync(cacheDir);
      expect(files).toHaveLength(1);
      // Change what the cache says: the next read must be the cache's, not the image's.
      const file = path.join(cacheDir, files[0]!);
      const stored = JSON.parse(fs.readFileSync(file, 'utf8'));
      stored.entries['/etc/hostname'].content = Buffer.from('from-cache\n').toString('base64');
      fs.writeFileSync(file, JSON.stringify(stored));
      expect(Buffer.from((await cached.readEntries!(tag(''), paths)).get('/etc/hostname')!.content!).toString()).toBe('from-cache\n');
      expect(Buffer.from((await cached.readEntries!(tag(''), ['/etc/hostname'])).get('/etc/hostname')!.content!).toString()).toBe('myhost\n');
    } finally {
      fs.rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the adapter without an engine', () => {
  describe('where the engine is', () => {
    it('is the default socket without DOCKER_HOST, or with an empty unix://', () => {
      expect(connectionFromEnv({})).toMatchObject({ endpoint: 'unix:///var/run/docker.sock', options: { socketPath: '/var/run/docker.sock' } });
      expect(connectionFromEnv({ DOCKER_HOST: 'unix://' }).endpoint).toBe('unix:///var/run/docker.sock');
      expect(connectionFromEnv({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).options).toMatchObject({
        socketPath: '/run/user/1000/docker.sock',
        host: undefined,
      });
    });

    it('is host and port for tcp://, https with DOCKER_TLS_VERIFY, never what process.env says', () => {
      expect(connectionFromEnv({ DOCKER_HOST: 'tcp://10.0.0.5:2375' })).toMatchObject({
        endpoint: 'tcp://10.0.0.5:2375',
        options: { host: '10.0.0.5', port: '2375', protocol: 'http', socketPath: undefined },
      });
      expect(connectionFromEnv({ DOCKER_HOST: 'tcp://docker.example' }).endpoint).toBe('tcp://docker.example:2375');
      const certs = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-certs-'));
      tempDirs.push(certs);
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) fs.writeFileSync(path.join(certs, f), f);
      const tls = connectionFromEnv({ DOCKER_HOST: 'tcp://docker.example', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs });
      expect(tls).toMatchObject({ endpoint: 'tcp://docker.example:2376', options: { protocol: 'https' } });
      expect(tls.options?.ca?.toString()).toBe('ca.pem');
    });

    it('is user, host and port for ssh://, as docker-modem connects (its agent from SSH_AUTH_SOCK), port 22 and the local user by default', () => {
      expect(connectionFromEnv({ DOCKER_HOST: 'ssh://me@build.example:2222', SSH_AUTH_SOCK: '/run/agent.sock' })).toMatchObject({
        endpoint: 'ssh://me@build.example:2222',
        options: { protocol: 'ssh', host: 'build.example', port: '2222', username: 'me', sshOptions: { agent: '/run/agent.sock' }, socketPath: undefined },
      });
      expect(connectionFromEnv({ DOCKER_HOST: 'ssh://build.example', USER: 'ci' }).options).toMatchObject({
        host: 'build.example',
        port: undefined,
        username: 'ci',
      });
      expect(connectionFromEnv({ DOCKER_HOST: 'ssh://[::1]:22' }).options).toMatchObject({ host: '::1', port: '22' });
    });

    it('is a problem, not a guess, for other schemes, addresses without a host and missing TLS files', () => {
      expect(connectionFromEnv({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }).problem).toMatch(
        /not supported; use unix:\/\/\/path\/to\/docker.sock, tcp:\/\/host:port or ssh:\/\/user@host/,
      );
      expect(connectionFromEnv({ DOCKER_HOST: 'ssh://' }).problem).toBe('DOCKER_HOST=ssh:// is not a valid ssh://host:port address');
      expect(connectionFromEnv({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/nonexistent' }).problem).toMatch(
        /TLS files cannot be read/,
      );
    });
  });

  describe('an engine that cannot be reached', () => {
    const unreachable = async (promise: Promise<unknown>): Promise<EngineUnreachableError> => {
      const err = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EngineUnreachableError);
      return err as EngineUnreachableError;
    };

    it('says there is no socket, for info and for every other call', async () => {
      const engine = dockerodeEngine({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
      const err = await unreachable(engine.info());
      expect(err.endpoint).toBe('unix:///nonexistent/docker.sock');
      expect(err.message).toBe('cannot reach the Docker Engine at unix:///nonexistent/docker.sock: no socket there (ENOENT); is dockerd running?');
      await unreachable(engine.imageLabels('x'));
      await unreachable(engine.statPaths('x', ['/']));
      await unreachable(engine.readFile('x', '/etc/hostname'));
    });

    it('says the connection was refused', async () => {
      const server = net.createServer();
      const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
      await new Promise((resolve) => server.close(resolve));
      const err = await unreachable(dockerodeEngine({ DOCKER_HOST: `tcp://127.0.0.1:${port}` }).info());
      expect(err.message).toBe(`cannot reach the Docker Engine at tcp://127.0.0.1:${port}: connection refused (ECONNREFUSED); is dockerd running?`);
    });

    it('gives up on info after 5 s when the socket accepts but nothing answers', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-mute-'));
      tempDirs.push(dir);
      const sockets: net.Socket[] = [];
      const server = net.createServer((socket) => sockets.push(socket));
      await new Promise<void>((resolve) => server.listen(path.join(dir, 'mute.sock'), resolve));
      try {
        const started = Date.now();
        const err = await unreachable(dockerodeEngine({ DOCKER_HOST: `unix://${path.join(dir, 'mute.sock')}` }).info());
        expect(err.message).toMatch(/: no answer within 5 s$/);
        expect(Date.now() - started).toBeGreaterThanOrEqual(4900);
        expect(Date.now() - started).toBeLessThan(8000);
      } finally {
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => server.close(resolve));
      }
    }, 15_000);

    it('refuses a DOCKER_HOST it does not speak', async () => {
      const err = await unreachable(dockerodeEngine({ DOCKER_HOST: 'fd://' }).info());
      expect(err.endpoint).toBe('fd://');
    });

    it('says the connection was refused for an ssh:// engine too (through ssh2), for info and for the export', async () => {
      const server = net.createServer();
      const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
      await new Promise((resolve) => server.close(resolve));
      const engine = dockerodeEngine({ DOCKER_HOST: `ssh://me@127.0.0.1:${port}` });
      const err = await unreachable(engine.info());
      expect(err.message).toBe(`cannot reach the Docker Engine at ssh://me@127.0.0.1:${port}: connection refused (ECONNREFUSED); is dockerd running?`);
      await unreachable(engine.exportContainer!('x', async () => undefined));
      await unreachable(engine.readEntries!('x', ['/etc/hostname']));
    });
  });

  describe('the export and save streams, against a fake Engine on a unix socket', () => {
    /** Answers what exportContainer and readEntries ask; `exportMode` picks how the export goes. */
    async function fakeEngine(exportMode: 'refused' | 'endless') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-fake-engine-'));
      tempDirs.push(dir);
      const socketPath = path.join(dir, 'docker.sock');
      const seen: string[] = [];
      const closed = new Map<string, Promise<void>>();
      const server = http.createServer((req, res) => {
        const url = (req.url ?? '').split('?')[0]!;
        seen.push(`${req.method} ${url}`);
        closed.set(url, new Promise((resolve) => res.on('close', () => resolve())));
        const json = (code: number, body: object): void => void res.writeHead(code, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
        if (url === '/images/img/json') return json(200, { Id: `sha256:${'a'.repeat(64)}` });
        if (url === '/containers/create') return json(201, { Id: 'c1' });
        if (url === '/containers/c1' && req.method === 'DELETE') return void res.writeHead(204).end();
        if (url === '/containers/c1/export') {
          if (exportMode === 'refused') return json(500, { message: 'export failed: disk full' });
          const tick = setInterval(() => res.write(Buffer.alloc(65536)), 5);
          return void res.on('close', () => clearInterval(tick));
        }
        // docker save: no answer until every layer is written out; here, never.
        if (url.endsWith('/get')) return;
        json(404, { message: `no route ${url}` });
      });
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      const engine = dockerodeEngine({ DOCKER_HOST: `unix://${socketPath}`, DERIVC_CACHE_DIR: path.join(dir, 'cache') });
      return { engine, seen, closed, stop: () => new Promise((resolve) => server.close(resolve)) };
    }

    it('says what the Engine answered when it refuses an export, and still removes the container', async () => {
      const fake = await fakeEngine('refused');
      try {
        await expect(fake.engine.exportContainer!('img', async () => 'unreached')).rejects.toThrow(
          'cannot export the container c1 of img: export failed: disk full',
        );
        expect(fake.seen).toContain('DELETE /containers/c1');
      } finally {
        await fake.stop();
      }
    });

    it('stops an export on abort: the request is closed and the container removed', async () => {
      const fake = await fakeEngine('endless');
      try {
        const abort = new AbortController();
        const cut = fake.engine.exportContainer!(
          'img',
          async (stream) => {
            await new Promise((resolve) => stream.once('data', resolve));
            abort.abort();
            for await (const _ of stream) {
              // the abort ends this
            }
          },
          abort.signal,
        );
        await expect(cut).rejects.toMatchObject({ name: 'AbortError' });
        await fake.closed.get('/containers/c1/export');
        expect(fake.seen.at(-1)).toBe('DELETE /containers/c1');
      } finally {
        await fake.stop();
      }
    });

    it("stops waiting for docker save's answer when the signal aborts", async () => {
      const fake = await fakeEngine('endless');
      try {
        const abort = new AbortController();
        const read = fake.engine.readEntries!('img', ['/etc/hostname'], abort.signal);
        const saving = `/images/${encodeURIComponent(`sha256:${'a'.repeat(64)}`)}/get`;
        const deadline = Date.now() + 5000;
        while (!fake.seen.includes(`GET ${saving}`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(fake.seen).toContain(`GET ${saving}`);
        const abortedAt = Date.now();
        abort.abort();
        await expect(read).rejects.toThrow();
        expect(Date.now() - abortedAt).toBeLessThan(1000);
        await fake.closed.get(saving);
      } finally {
        await fake.stop();
      }
    });
  });

  describe('the build progress stream', () => {
    const parse = (chunks: (string | Buffer)[]): { events: BuildEvent[]; progress: BuildStreamParser } => {
      const events: BuildEvent[] = [];
      const progress = new BuildStreamParser((e) => events.push(e));
      for (const chunk of chunks) progress.push(chunk);
      progress.end();
      return { events, progress };
    };
    const line = (msg: object): string => `${JSON.stringify(msg)}\r\n`;

    it('turns steps, cache hits and every other line into events, whatever the chunking', () => {
      const stream = [
        line({ stream: 'Step 1/3 : FROM local/debian:bookworm' }),
        line({ stream: '\n' }),
        line({ stream: ' ---> 640c9e4f989c\n' }),
        line({ stream: 'Step 2/3 : RUN echo ünïcödé' }),
        line({ stream: '\n ---> Using cache\n' }),
        line({ stream: 'partial ' }),
        line({ stream: 'line\n\nafter an empty one\n' }),
        line({ stream: 'Step 3/3 : LABEL a=b\n' }),
        line({ aux: { ID: 'sha256:' + 'a'.repeat(64) } }),
        line({ stream: 'Successfully built aaaaaaaaaaaa\n' }),
        line({ stream: 'no newline at the end' }),
      ].join('');
      const whole = parse([stream]);
      expect(whole.events).toEqual([
        { kind: 'step', index: 1, total: 3, instruction: 'FROM local/debian:bookworm' },
        { kind: 'output', text: ' ---> 640c9e4f989c\n' },
        { kind: 'step', index: 2, total: 3, instruction: 'RUN echo ünïcödé' },
        { kind: 'cached' },
        { kind: 'output', text: 'partial line\n' },
        { kind: 'output', text: '\n' },
        { kind: 'output', text: 'after an empty one\n' },
        { kind: 'step', index: 3, total: 3, instruction: 'LABEL a=b' },
        { kind: 'output', text: 'Successfully built aaaaaaaaaaaa\n' },
        { kind: 'output', text: 'no newline at the end\n' },
      ]);
      expect(whole.progress.imageId).toBe('sha256:' + 'a'.repeat(64));
      expect(whole.progress.shortId).toBe('aaaaaaaaaaaa');

      // Byte by byte: JSON split anywhere, UTF-8 characters split between chunks.
      const bytes = Buffer.from(stream, 'utf8');
      const byByte = parse([...bytes].map((b) => Buffer.from([b])));
      expect(byByte.events).toEqual(whole.events);
    });

    it('reports the engine error with its code, after flushing pending output', () => {
      const { events, progress } = parse([
        line({ stream: 'output without newline' }),
        line({
          errorDetail: { code: 3, message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" },
          error: "The command '/bin/sh -c exit 3' returned a non-zero code: 3",
        }),
      ]);
      expect(events).toEqual([
        { kind: 'output', text: 'output without newline\n' },
        { kind: 'error', message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3", code: 3 },
      ]);
      expect(progress.error).toEqual({ message: "The command '/bin/sh -c exit 3' returned a non-zero code: 3", code: 3 });
      expect(parse([line({ error: 'no code here' })]).events).toEqual([{ kind: 'error', message: 'no code here' }]);
    });

    it('keeps status lines (a pull) without their progress bars, and text that is not JSON', () => {
      const { events } = parse([
        line({ status: 'Pulling from library/debian', id: 'bookworm' }),
        line({ status: 'Downloading', progress: '[=>  ]', id: 'abc' }),
        'plain text\n',
      ]);
      expect(events).toEqual([
        { kind: 'output', text: 'bookworm: Pulling from library/debian\n' },
        { kind: 'output', text: 'plain text\n' },
      ]);
    });
  });

  it('maps Go file modes (as the engine sends them) to kinds and permission bits', () => {
    expect(pathStatFromGoMode(420, 267)).toEqual({ kind: 'file', size: 267, mode: 0o644 });
    expect(pathStatFromGoMode(134218239, 7)).toEqual({ kind: 'symlink', size: 7, mode: 0o777 });
    expect(pathStatFromGoMode(2148532735, 4096)).toEqual({ kind: 'directory', size: 4096, mode: 0o1777 });
    expect(pathStatFromGoMode(8389101, 68248)).toEqual({ kind: 'file', size: 68248, mode: 0o4755 });
    expect(pathStatFromGoMode(2 ** 22 + 0o755, 1)).toEqual({ kind: 'file', size: 1, mode: 0o2755 });
    expect(pathStatFromGoMode(2 ** 25 + 0o644, 0).kind).toBe('other'); // named pipe
    expect(pathStatFromGoMode(2 ** 26 + 2 ** 21 + 0o666, 0).kind).toBe('other'); // character device
  });

  describe('paths in merged layers', () => {
    type Spec = Record<string, 'file' | 'directory' | `-> ${string}` | `link ${string}`>;
    /** Layers top first; a name `.wh.x` deletes x, `.wh..wh..opq` makes its directory opaque. */
    const layers = (...specs: Spec[]): LayerScan[] =>
      specs.map((spec) => {
        const scan = emptyLayerScan();
        for (const [name, what] of Object.entries(spec)) {
          const type = what.startsWith('-> ') ? 'symlink' : what.startsWith('link ') ? 'link' : (what as 'file' | 'directory');
          const linkname = what.startsWith('-> ') ? what.slice(3) : what.startsWith('link ') ? what.slice(5) : '';
          recordLayerEntry(scan, { name, type, linkname }, new Set());
        }
        return scan;
      });
    const where = (scans: LayerScan[], file: string): string | undefined => {
      const found = resolveInLayers(scans, file);
      return found && `${found.path}@${found.layer}:${found.entry.type}`;
    };

    it('finds the topmost entry and follows relative, absolute and directory symlinks', () => {
      const scans = layers(
        { 'etc/motd': 'file', 'opt/l': '-> ../etc/motd' },
        { bin: '-> usr/bin', 'usr/bin/sh': 'file', 'etc/motd': 'file', abs: '-> /usr/bin' },
      );
      expect(where(scans, '/etc/motd')).toBe('/etc/motd@0:file');
      expect(where(scans, '/opt/l')).toBe('/etc/motd@0:file');
      expect(where(scans, '/bin/sh')).toBe('/usr/bin/sh@1:file');
      expect(where(scans, '/abs/sh')).toBe('/usr/bin/sh@1:file');
      expect(where(scans, '/../../bin/sh')).toBe('/usr/bin/sh@1:file'); // ".." stops at the image's root
      expect(where(scans, '/etc/motd/x')).toBeUndefined(); // a file is no directory
    });

    it('honours whiteouts of the file or of a directory above it, and opaque directories', () => {
      const scans = layers(
        { 'a/.wh.gone': 'file', '.wh.removed': 'file', 'o/.wh..wh..opq': 'file', 'o/new': 'file' },
        { 'a/gone': 'file', 'a/kept': 'file', 'removed/deep/file': 'file', 'o/old': 'file' },
      );
      expect(where(scans, '/a/gone')).toBeUndefined();
      expect(where(scans, '/a/kept')).toBe('/a/kept@1:file');
      expect(where(scans, '/removed/deep/file')).toBeUndefined();
      expect(where(scans, '/o/old')).toBeUndefined();
      expect(where(scans, '/o/new')).toBe('/o/new@0:file');
    });

    it('hides lower entries under a directory an upper layer replaced by a file', () => {
      expect(where(layers({ d: 'file' }, { 'd/x': 'file' }), '/d/x')).toBeUndefined();
    });

    it("keeps hard links to their layer's file, and stops symlink loops", () => {
      const scans = layers({ 'usr/bin/b': 'link usr/bin/a', 'usr/bin/a': 'file', loop1: '-> loop2', loop2: '-> /loop1' });
      const found = resolveInLayers(scans, '/usr/bin/b');
      expect(found?.entry).toEqual({ type: 'link', linkname: '/usr/bin/a' });
      expect(() => resolveInLayers(scans, '/loop1')).toThrow('too many levels of symbolic links in /loop1');
    });
  });
});
