// The DockerEngine port on a real Docker Engine, through dockerode (the Engine API); every call,
// the large `docker export` and `docker save` streams included, goes through its modem, so every
// DOCKER_HOST it speaks works: unix sockets, tcp, tcp with TLS, ssh. Three things here are not
// plain API calls: the build progress stream becomes BuildEvents, path stats come from a created
// (never started) container, and file contents come from the image's layers — a container would
// show Docker's own /etc/hostname, /etc/hosts and /etc/resolv.conf instead.

import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import Docker from 'dockerode';
import * as tar from 'tar-stream';
import { chooseEngine, choiceEndpoint, describeSource, nodeContextFiles, type ContextFiles } from './docker-context.js';
import { followBuild } from './build-follow.js';
import { buildKitBuild } from './buildkit-build.js';
import type { Dialer, RegistryCredentials } from './buildkit-session.js';
import { dockerCredentials } from './docker-credentials.js';
import { PushStreamParser } from './push-stream.js';
import { cacheDirFromEnv, directoryEntriesCache, type EntriesCache } from './entries-cache.js';
import { layerPath, locate, lookup, scanSavedImage, type LayerScan } from './image-layers.js';
import {
  EngineUnreachableError,
  type BuilderSupport,
  type BuildEvent,
  type BuildRequest,
  type DockerEngine,
  type EngineInfo,
  type ImageEntry,
  type PathStat,
  PushError,
  type PushEvent,
  type RegistryAuth,
} from './engine.js';

const DEFAULT_SOCKET = '/var/run/docker.sock';
const INFO_TIMEOUT_MS = 5000;
/** Over ssh:// every call is a new SSH session that starts the docker CLI on the far side (`docker system dial-stdio`): seconds on a busy host. */
const SSH_INFO_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------
// Connection

interface Connection {
  endpoint: string;
  /** docker-modem's options; `agent` (not in dockerode's types) carries a context's SkipTLSVerify. */
  options?: Docker.DockerOptions & { agent?: https.Agent };
  /** Why no connection can be made at all (a DOCKER_HOST derivc does not speak, missing TLS files, a missing docker context). */
  problem?: string;
}

/**
 * Where the engine is: DOCKER_HOST, else the current docker context (docker-context.ts), else the
 * default socket. An address is unix://, tcp:// — TLS with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH,
 * or a context's own TLS files — or ssh://[user@]host[:port], which docker-modem reaches through
 * ssh2 and the agent at SSH_AUTH_SOCK, running `docker system dial-stdio` there. Every option is
 * set explicitly because docker-modem otherwise fills gaps from process.env, and `env` is what
 * counts here.
 */
export function connectionFromEnv(env: Readonly<Record<string, string | undefined>>, files: ContextFiles = nodeContextFiles): Connection {
  const choice = chooseEngine(env, files);
  if (choice.problem !== undefined) return { endpoint: choiceEndpoint(choice), problem: choice.problem };
  const { source, tls: contextTls } = choice;
  const host = choice.host;
  const named = source.kind === 'context' ? `the host ${host} of ${describeSource(source)}` : `DOCKER_HOST=${host}`;
  const unix = (socketPath: string): Connection => ({
    endpoint: `unix://${socketPath}`,
    options: { socketPath, host: undefined, port: undefined, protocol: 'http', ca: undefined, cert: undefined, key: undefined, timeout: undefined },
  });
  if (host.startsWith('unix://')) return unix(host.slice('unix://'.length) || DEFAULT_SOCKET);
  const scheme = host.startsWith('tcp://') ? 'tcp' : host.startsWith('ssh://') ? 'ssh' : undefined;
  if (scheme === undefined) {
    return { endpoint: host, problem: `${named} is not supported; use unix:///path/to/docker.sock, tcp://host:port or ssh://user@host` };
  }
  let url: URL | undefined;
  try {
    url = new URL(host);
  } catch {
    url = undefined;
  }
  if (!url?.hostname) return { endpoint: host, problem: `${named} is not a valid ${scheme}://host:port address` };
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (scheme === 'ssh') {
    // As the docker CLI's ssh: port 22 and the local user unless the address names others.
    const username = decodeURIComponent(url.username) || env['USER'];
    const options: Docker.DockerOptions = {
      socketPath: undefined,
      protocol: 'ssh',
      host: hostname,
      port: url.port || undefined,
      username,
      sshOptions: { agent: env['SSH_AUTH_SOCK'] },
      ca: undefined,
      cert: undefined,
      key: undefined,
      timeout: undefined,
    };
    return { endpoint: host, options };
  }
  // A context speaks TLS when it has TLS files or skips verification (as the docker CLI's context endpoint does).
  const tls = contextTls ? contextTls.skipVerify || contextTls.ca !== undefined || contextTls.cert !== undefined : (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  const port = url.port || (tls ? '2376' : '2375');
  const endpoint = `tcp://${url.hostname}:${port}`;
  const options: NonNullable<Connection['options']> = {
    socketPath: undefined,
    host: hostname,
    port,
    protocol: tls ? 'https' : 'http',
    ca: undefined,
    cert: undefined,
    key: undefined,
    timeout: undefined,
  };
  if (tls && contextTls) {
    if (contextTls.ca) options.ca = Buffer.from(contextTls.ca);
    if (contextTls.cert && contextTls.key) {
      options.cert = Buffer.from(contextTls.cert);
      options.key = Buffer.from(contextTls.key);
    }
    // Node verifies unless told not to; the request's own options cannot say so through docker-modem, its agent's can.
    if (contextTls.skipVerify) options.agent = new https.Agent({ rejectUnauthorized: false });
  } else if (tls) {
    const certDir = env['DOCKER_CERT_PATH'] || path.join(env['HOME'] ?? os.homedir(), '.docker');
    try {
      options.ca = fs.readFileSync(path.join(certDir, 'ca.pem'));
      options.cert = fs.readFileSync(path.join(certDir, 'cert.pem'));
      options.key = fs.readFileSync(path.join(certDir, 'key.pem'));
    } catch (err) {
      return { endpoint, problem: `DOCKER_TLS_VERIFY is set but the TLS files cannot be read: ${(err as Error).message}` };
    }
  }
  return { endpoint, options };
}

// ---------------------------------------------------------------------------------------------
// Which builder

/** What /_ping says: its Api-Version, Ostype and Builder-Version headers (any may be missing). */
export interface PingHeaders {
  apiVersion?: string;
  osType?: string;
  builderVersion?: string;
}

/** "1.41" ≥ "1.39", numerically by part. */
function apiAtLeast(version: string, wanted: string): boolean {
  const [a, b] = [version, wanted].map((v) => v.split('.').map(Number));
  for (let i = 0; i < Math.max(a!.length, b!.length); i++) {
    const x = a![i] ?? 0;
    const y = b![i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/**
 * The docker CLI's rule: the engine's Builder-Version when it states one (daemon.json's
 * features.buildkit; engines from 23.0 say 2 by default); otherwise BuildKit on a Linux engine with
 * API 1.39 (Engine 18.09, the first with BuildKit) or later — 20.10 states nothing yet builds with
 * BuildKit — and the classic builder elsewhere.
 */
export function builderFromPing(ping: PingHeaders): BuilderSupport {
  const buildkit = (reason: string): BuilderSupport => ({ builder: 'buildkit', version: '2', reason });
  const classic = (reason: string): BuilderSupport => ({ builder: 'classic', version: '1', reason });
  if (ping.builderVersion === '2') return buildkit('the engine asks for it: Builder-Version 2');
  if (ping.builderVersion === '1') return classic('the engine asks for it: Builder-Version 1');
  if (ping.apiVersion === undefined || !/^\d+(\.\d+)*$/.test(ping.apiVersion)) return classic('the engine states neither its builder nor its API version');
  if (!apiAtLeast(ping.apiVersion, '1.39')) return classic(`API ${ping.apiVersion} is older than 1.39, the first with BuildKit`);
  if ((ping.osType ?? '').toLowerCase() === 'windows') return classic('BuildKit does not build on a Windows engine');
  return buildkit(`the engine states no Builder-Version; API ${ping.apiVersion} on ${ping.osType || 'linux'} has BuildKit`);
}

/** GET /_ping, for its headers (dockerode's ping() gives only the body). */
function ping(d: Docker, signal: AbortSignal): Promise<PingHeaders> {
  return new Promise((resolve, reject) => {
    const options = { path: '/_ping', method: 'GET', isStream: true, abortSignal: signal, statusCodes: { 200: true, 500: 'server error' } };
    d.modem.dial(options, (err: Error | null, response: unknown) => {
      if (err) return reject(err);
      const res = response as IncomingMessage;
      res.resume();
      const header = (name: string): string | undefined => {
        const value = res.headers[name];
        return typeof value === 'string' && value !== '' ? value : undefined;
      };
      resolve({ apiVersion: header('api-version'), osType: header('ostype'), builderVersion: header('builder-version') });
    });
  });
}

type EngineFailure = NodeJS.ErrnoException & { statusCode?: number; json?: { message?: unknown } | null };

/** ssh2's `level` for failures to reach an ssh:// engine: its socket, its handshake timeout, its authentication. */
const SSH_CONNECTION_LEVELS = new Set(['client-socket', 'client-timeout', 'client-authentication']);

/** A failure to reach the engine at all, as opposed to an answer that is an error. */
function isConnectionFailure(err: unknown): boolean {
  const e = err as (EngineFailure & { level?: unknown }) | null;
  if (!e || e.statusCode !== undefined) return false;
  if (typeof e.level === 'string' && SSH_CONNECTION_LEVELS.has(e.level)) return true;
  return (
    e.syscall === 'connect' ||
    e.syscall === 'getaddrinfo' ||
    ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code ?? '')
  );
}

function connectionCause(err: unknown): string {
  const e = err as EngineFailure;
  switch (e.code) {
    case 'ENOENT':
      return 'no socket there (ENOENT); is dockerd running?';
    case 'ECONNREFUSED':
      return 'connection refused (ECONNREFUSED); is dockerd running?';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${e.code}); is your user in the docker group?`;
    default:
      return e.message;
  }
}

function statusOf(err: unknown): number | undefined {
  return (err as EngineFailure | null)?.statusCode;
}

/** The engine's own words for a failed call, without dockerode's "(HTTP code 500) server error - " prefix. */
function engineMessage(err: unknown): string {
  const message = (err as EngineFailure | null)?.json?.message;
  if (typeof message === 'string' && message.trim() !== '') return message.trim();
  // A streamed call (export, save) has no json: the Engine's words are only in the message, after the prefix.
  return (err as Error).message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/** An engine's error answer, said as what failed; a connection failure stays as it is (for EngineUnreachableError). */
function failure(what: string, err: unknown): unknown {
  return isConnectionFailure(err) ? err : new Error(`${what}: ${engineMessage(err)}`, { cause: err });
}

/** The full ID of an image (several passes over it then see the same image even if its tag moves). */
async function imageIdOf(d: Docker, image: string): Promise<string> {
  try {
    return (await d.getImage(image).inspect()).Id;
  } catch (err) {
    throw statusOf(err) === 404 ? new Error(`no image ${image}`) : failure(`cannot inspect image ${image}`, err);
  }
}

function abortError(signal: AbortSignal): Error {
  const err = new Error('the build was cancelled', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

// ---------------------------------------------------------------------------------------------
// Build progress: the Engine's JSON lines → BuildEvents

interface ProgressMessage {
  stream?: unknown;
  status?: unknown;
  id?: unknown;
  progress?: unknown;
  error?: unknown;
  errorDetail?: { message?: unknown; code?: unknown } | null;
  aux?: { ID?: unknown } | null;
}

/** Parses the build's JSON-lines stream; `stream` text is line-buffered (a message may hold part of a line). */
export class BuildStreamParser {
  imageId: string | undefined;
  /** From "Successfully built <id>", when the engine sent no aux.ID. */
  shortId: string | undefined;
  error: { message: string; code?: number } | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private json = '';
  private text = '';

  constructor(private readonly emit: (event: BuildEvent) => void) {}

  push(chunk: Buffer | string): void {
    this.json += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.json.indexOf('\n')) !== -1) {
      const line = this.json.slice(0, newline);
      this.json = this.json.slice(newline + 1);
      this.message(line);
    }
  }

  end(): void {
    this.json += this.decoder.end();
    if (this.json !== '') this.message(this.json);
    this.json = '';
    this.flushText();
  }

  private message(raw: string): void {
    if (raw.trim() === '') return;
    let msg: ProgressMessage;
    try {
      msg = JSON.parse(raw) as ProgressMessage;
    } catch {
      this.streamText(`${raw}\n`); // not JSON: keep it as output rather than lose it
      return;
    }
    if (typeof msg.stream === 'string') this.streamText(msg.stream);
    if (typeof msg.status === 'string' && msg.progress === undefined) {
      this.flushText();
      this.emit({ kind: 'output', text: `${typeof msg.id === 'string' && msg.id !== '' ? `${msg.id}: ${msg.status}` : msg.status}\n` });
    }
    if (typeof msg.aux?.ID === 'string') this.imageId = msg.aux.ID;
    if (msg.error !== undefined || msg.errorDetail) {
      this.flushText();
      const detail = msg.errorDetail?.message;
      const message = typeof detail === 'string' && detail !== '' ? detail : String(msg.error);
      const code = typeof msg.errorDetail?.code === 'number' ? msg.errorDetail.code : undefined;
      this.error ??= code === undefined ? { message } : { message, code };
      this.emit(code === undefined ? { kind: 'error', message } : { kind: 'error', message, code });
    }
  }

  private streamText(text: string): void {
    this.text += text;
    let newline: number;
    while ((newline = this.text.indexOf('\n')) !== -1) {
      const line = this.text.slice(0, newline).replace(/\r$/, '');
      this.text = this.text.slice(newline + 1);
      this.line(line);
    }
  }

  private flushText(): void {
    if (this.text === '') return;
    const rest = this.text;
    this.text = '';
    this.line(rest.replace(/\r$/, ''));
  }

  private line(line: string): void {
    const step = /^Step (\d+)\/(\d+) : (.*)$/s.exec(line);
    if (step) {
      this.emit({ kind: 'step', index: Number(step[1]), total: Number(step[2]), instruction: step[3]! });
      return;
    }
    if (line === ' ---> Using cache') {
      this.emit({ kind: 'cached' });
      return;
    }
    const built = /^Successfully built ([0-9a-f]+)$/.exec(line);
    if (built) this.shortId = built[1];
    this.emit({ kind: 'output', text: `${line}\n` });
  }
}

/** A build by the classic builder: its JSON-lines progress, the image ID from aux.ID or "Successfully built". */
async function classicBuild(d: Docker, request: BuildRequest, onEvent: (event: BuildEvent) => void, signal?: AbortSignal): Promise<string> {
  const [first] = request.tags;
  const options: Record<string, unknown> = { rm: true, forcerm: true, buildargs: request.buildArgs, labels: request.labels };
  if (first !== undefined) options['t'] = first;
  if (request.platform !== '') options['platform'] = request.platform;
  if (request.cacheFrom?.length) options['cachefrom'] = JSON.stringify(request.cacheFrom);
  if (signal) options['abortSignal'] = signal;
  const response = (await d.buildImage(request.context, options)) as unknown as IncomingMessage;
  const progress = await followBuild(response, new BuildStreamParser(onEvent), signal);
  if (progress.error) throw new Error(progress.error.message);
  if (progress.imageId !== undefined) return progress.imageId;
  if (progress.shortId !== undefined) return imageIdOf(d, progress.shortId);
  throw new Error('the Docker Engine ended the build without naming an image');
}

/** "registry:5000/name:tag" → repo and tag (the tag is after the last colon that follows the last slash). */
function splitTag(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

// ---------------------------------------------------------------------------------------------
// Path stats (from a created, never started container). Such a container already has Docker's
// init layer: /etc/hostname, /etc/hosts and /etc/resolv.conf show as Docker's empty stubs, and
// /.dockerenv exists, whatever the image holds. readFile sees the image as it is.

/** Go's os.FileMode bits, as the Engine sends them. */
const GO_MODE = { dir: 31, symlink: 27, device: 26, namedPipe: 25, socket: 24, setuid: 23, setgid: 22, charDevice: 21, sticky: 20, irregular: 19 } as const;

function goBit(mode: number, bit: number): boolean {
  return Math.floor(mode / 2 ** bit) % 2 === 1;
}

export function pathStatFromGoMode(mode: number, size: number): PathStat {
  const kind: PathStat['kind'] = goBit(mode, GO_MODE.dir)
    ? 'directory'
    : goBit(mode, GO_MODE.symlink)
      ? 'symlink'
      : [GO_MODE.device, GO_MODE.namedPipe, GO_MODE.socket, GO_MODE.charDevice, GO_MODE.irregular].some((b) => goBit(mode, b))
        ? 'other'
        : 'file';
  const permissions =
    (mode % 0o1000) + (goBit(mode, GO_MODE.setuid) ? 0o4000 : 0) + (goBit(mode, GO_MODE.setgid) ? 0o2000 : 0) + (goBit(mode, GO_MODE.sticky) ? 0o1000 : 0);
  return { kind, size, mode: permissions };
}

async function statOne(container: Docker.Container, p: string): Promise<PathStat | undefined> {
  let response: IncomingMessage;
  try {
    response = (await container.infoArchive({ path: p })) as unknown as IncomingMessage;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
  response.resume();
  const header = response.headers['x-docker-container-path-stat'];
  if (typeof header !== 'string') throw new Error(`the Docker Engine sent no stat for ${p}`);
  const raw = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { size: number; mode: number; linkTarget?: string };
  const stat = pathStatFromGoMode(raw.mode, raw.size);
  if (stat.kind === 'symlink') {
    // The stat has the link fully evaluated; the link as written is in the archive of the path itself.
    stat.linkTarget = await storedLinkTarget(container, p);
    if (raw.linkTarget) stat.resolvedTarget = raw.linkTarget;
  }
  return stat;
}

async function storedLinkTarget(container: Docker.Container, p: string): Promise<string> {
  const archive = (await container.getArchive({ path: p })) as unknown as IncomingMessage;
  const extract = tar.extract();
  archive.on('error', (err) => extract.destroy(err));
  archive.pipe(extract);
  try {
    for await (const entry of extract) {
      const linkname = entry.header.linkname;
      entry.resume();
      if (entry.header.type === 'symlink' && typeof linkname === 'string') return linkname;
      break;
    }
  } finally {
    archive.destroy();
  }
  throw new Error(`the Docker Engine's archive of ${p} holds no symlink`);
}

// ---------------------------------------------------------------------------------------------
// Files from the image's layers (docker save), streamed

/**
 * `docker save` of one image, streamed. Through the modem's dial rather than image.get(), which
 * takes no abort signal: the Engine answers only once it has written out every layer (seconds of
 * its CPU), and an abort must be able to end that wait.
 */
function saveImage(d: Docker, imageId: string, signal?: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const options = {
      path: `/images/${encodeURIComponent(imageId)}/get`,
      method: 'GET',
      isStream: true,
      statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
      ...(signal ? { abortSignal: signal } : {}),
    };
    d.modem.dial(options, (err: Error | null, response: unknown) =>
      err ? reject(signal?.aborted ? abortError(signal) : err) : resolve(response as IncomingMessage),
    );
  });
}

/** Scans the layers of `docker save` of one image (see image-layers.ts). */
async function scanImage(d: Docker, imageId: string, wanted: ReadonlySet<string>, signal?: AbortSignal): Promise<LayerScan[]> {
  signal?.throwIfAborted();
  const archive = await saveImage(d, imageId, signal);
  const stop = (): void => void archive.destroy(new Error('the read of the image was cancelled'));
  signal?.addEventListener('abort', stop, { once: true });
  if (signal?.aborted) stop(); // aborted while the Engine answered
  try {
    return await scanSavedImage(archive, imageId, wanted);
  } finally {
    signal?.removeEventListener('abort', stop);
    archive.destroy();
  }
}

async function readFiles(d: Docker, image: string, files: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
  const imageId = await imageIdOf(d, image);
  const found = new Map<string, Uint8Array | undefined>();
  let pending = [...new Set(files)];
  let wanted = new Set(pending.map((f) => path.posix.normalize(`/${f}`)));
  for (let pass = 0; pass < 2 && pending.length > 0; pass++) {
    let layers: LayerScan[];
    try {
      layers = await scanImage(d, imageId, wanted);
    } catch (err) {
      throw failure(`cannot read files of ${image}`, err);
    }
    const next: string[] = [];
    wanted = new Set();
    for (const file of pending) {
      const at = locate(layers, path.posix.normalize(`/${file}`));
      const content = at && layers[at.layer]!.contents.get(at.path);
      if (!at || content !== undefined) {
        found.set(file, content);
      } else {
        next.push(file);
        wanted.add(at.path);
      }
    }
    pending = next;
  }
  // Unreachable: pass 2 keeps exactly the paths pass 1 located.
  if (pending.length > 0) throw new Error(`cannot read ${pending.join(', ')} from ${image}`);
  return new Map(files.map((f) => [f, found.get(f)]));
}

/**
 * Entries as the layers hold them, the last component never followed (a hard link comes back as
 * the file it links to). Pass 2 reads the content of hard-linked files, known only after pass 1.
 */
async function readEntries(
  d: Docker,
  image: string,
  paths: readonly string[],
  cache: EntriesCache | undefined,
  signal?: AbortSignal,
): Promise<Map<string, ImageEntry | undefined>> {
  const imageId = await imageIdOf(d, image);
  const cached = await cache?.get(imageId, paths);
  if (cached) return cached;
  const entries = await readEntriesFromLayers(d, image, imageId, paths, signal);
  await cache?.set(imageId, paths, entries);
  return entries;
}

async function readEntriesFromLayers(
  d: Docker,
  image: string,
  imageId: string,
  paths: readonly string[],
  signal?: AbortSignal,
): Promise<Map<string, ImageEntry | undefined>> {
  const scan = async (wanted: Set<string>): Promise<LayerScan[]> => {
    try {
      return await scanImage(d, imageId, wanted, signal);
    } catch (err) {
      throw failure(`cannot read entries of ${image}`, err);
    }
  };
  const layers = await scan(new Set(paths.map(layerPath)));
  const found = new Map(paths.map((p) => [p, lookup(layers, layerPath(p))] as const));
  const linked = [...found.values()].filter((f) => f?.entry.type === 'link').map((f) => f!.entry.linkname!);
  const linkLayers = linked.length > 0 ? await scan(new Set(linked)) : layers;
  return new Map(
    paths.map((p): [string, ImageEntry | undefined] => {
      const f = found.get(p);
      const h = f?.entry.header;
      if (!f || !h) return [p, undefined];
      const entry: ImageEntry = {
        type: h.type ?? 'file',
        mode: (h.mode ?? 0) & 0o7777,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        mtime: Math.floor((h.mtime?.getTime() ?? 0) / 1000),
      };
      if (h.uname) entry.uname = h.uname;
      if (h.gname) entry.gname = h.gname;
      if (f.entry.type === 'symlink') entry.linkname = h.linkname ?? '';
      if (h.devmajor !== undefined) entry.devmajor = h.devmajor;
      if (h.devminor !== undefined) entry.devminor = h.devminor;
      // Never an empty file for content that was not found: the result is cached for good.
      const content = (at: string, from: readonly LayerScan[]): Buffer => {
        const bytes = from[f.layer]!.contents.get(at);
        if (bytes === undefined) throw new Error(`cannot read entries of ${image}: the content of ${at} (for ${p}) is not in its layer`);
        return bytes;
      };
      if (f.entry.type === 'file') entry.content = content(layerPath(p), layers);
      if (f.entry.type === 'link') {
        entry.type = 'file';
        entry.content = content(f.entry.linkname!, linkLayers);
      }
      return [p, entry];
    }),
  );
}

// ---------------------------------------------------------------------------------------------

/** The Docker Engine at DOCKER_HOST (unix://, tcp://, ssh://), the current docker context's, or the default socket. */
export function dockerodeEngine(env: Readonly<Record<string, string | undefined>>): DockerEngine {
  const connection = connectionFromEnv(env);
  const { endpoint } = connection;
  const infoTimeoutMs = connection.options?.protocol === 'ssh' ? SSH_INFO_TIMEOUT_MS : INFO_TIMEOUT_MS;
  const cacheDir = cacheDirFromEnv(env);
  const entriesCache = cacheDir === undefined ? undefined : directoryEntriesCache(cacheDir);
  let client: Docker | undefined;
  let credentials: ((host: string) => Promise<RegistryCredentials | undefined>) | undefined;

  const docker = (): Docker => {
    if (connection.problem !== undefined) throw new EngineUnreachableError(endpoint, connection.problem);
    try {
      client ??= new Docker(connection.options);
    } catch (err) {
      throw new EngineUnreachableError(endpoint, (err as Error).message);
    }
    return client;
  };

  /** Runs one use of the engine; a failure to connect becomes EngineUnreachableError. */
  const use = async <T>(fn: (d: Docker) => Promise<T>): Promise<T> => {
    const d = docker();
    try {
      return await fn(d);
    } catch (err) {
      if (isConnectionFailure(err)) throw new EngineUnreachableError(endpoint, connectionCause(err));
      throw err;
    }
  };

  return {
    endpoint,

    async info(): Promise<EngineInfo> {
      const d = docker();
      const timeout = AbortSignal.timeout(infoTimeoutMs);
      try {
        const version = await (d.version as (opts: { abortSignal: AbortSignal }) => Promise<Docker.DockerVersion>).call(d, { abortSignal: timeout });
        return { version: version.Version, apiVersion: version.ApiVersion, os: version.Os, arch: version.Arch };
      } catch (err) {
        if (timeout.aborted) throw new EngineUnreachableError(endpoint, `no answer within ${infoTimeoutMs / 1000} s`);
        throw new EngineUnreachableError(endpoint, isConnectionFailure(err) ? connectionCause(err) : engineMessage(err));
      }
    },

    async builderVersion(): Promise<BuilderSupport> {
      const d = docker();
      const timeout = AbortSignal.timeout(infoTimeoutMs);
      try {
        return builderFromPing(await ping(d, timeout));
      } catch (err) {
        if (timeout.aborted) throw new EngineUnreachableError(endpoint, `no answer within ${infoTimeoutMs / 1000} s`);
        throw new EngineUnreachableError(endpoint, isConnectionFailure(err) ? connectionCause(err) : engineMessage(err));
      }
    },

    imageLabels(ref) {
      return use(async (d) => {
        try {
          const image = await d.getImage(ref).inspect();
          return { ...(image.Config?.Labels ?? {}) };
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw failure(`cannot inspect image ${ref}`, err);
        }
      });
    },

    build(request: BuildRequest, onEvent: (event: BuildEvent) => void, signal?: AbortSignal) {
      return use(async (d) => {
        const stopContext = (): void => {
          (request.context as Partial<Readable>).destroy?.();
        };
        if (signal?.aborted) {
          stopContext();
          throw abortError(signal);
        }
        let imageId: string;
        try {
          imageId =
            request.builder === 'buildkit'
              ? (await buildKitBuild(d.modem as unknown as Dialer, request, (credentials ??= dockerCredentials(env)), onEvent, signal)).imageId
              : await classicBuild(d, request, onEvent, signal);
        } catch (err) {
          if (signal?.aborted) throw abortError(signal);
          throw isConnectionFailure(err) || (err as Error).name === 'AbortError' ? err : new Error(engineMessage(err), { cause: err });
        } finally {
          stopContext();
        }
        for (const ref of request.tags.slice(1)) {
          try {
            await d.getImage(imageId).tag(splitTag(ref));
          } catch (err) {
            throw failure(`cannot tag the image as ${ref}`, err);
          }
        }
        return { imageId };
      });
    },

    push(ref: string, auth: RegistryAuth | undefined, onEvent: (event: PushEvent) => void, signal?: AbortSignal) {
      return use(async (d) => {
        const { repo, tag } = splitTag(ref);
        let response: IncomingMessage;
        try {
          // No credentials: `{}`, as the docker CLI sends them (anonymous; the registry decides).
          const options = { tag, authconfig: auth ?? {}, ...(signal ? { abortSignal: signal } : {}) };
          response = (await d.getImage(repo).push(options)) as unknown as IncomingMessage;
        } catch (err) {
          if (signal?.aborted) throw abortError(signal);
          if (isConnectionFailure(err)) throw err;
          const message = statusOf(err) === 404 ? `no image ${ref}` : engineMessage(err);
          throw new PushError('failed', message);
        }
        try {
          return (await followBuild(response, new PushStreamParser(onEvent), signal)).result();
        } catch (err) {
          if (signal?.aborted) throw abortError(signal);
          throw err instanceof PushError ? err : new PushError('failed', (err as Error).message.replace(/the build ended/, 'the push ended'));
        }
      });
    },

    tag(image, ref) {
      return use(async (d) => {
        try {
          await d.getImage(image).tag(splitTag(ref));
        } catch (err) {
          throw failure(`cannot tag the image as ${ref}`, err);
        }
      });
    },

    statPaths(image, paths) {
      return use(async (d) => {
        let container: Docker.Container;
        try {
          container = await d.createContainer({
            Image: image,
            Cmd: ['/bin/true'],
            HostConfig: {},
            NetworkDisabled: true,
            Labels: { 'derivc.purpose': 'stat' },
          });
        } catch (err) {
          throw statusOf(err) === 404 ? new Error(`no image ${image}`) : failure(`cannot create a container of ${image}`, err);
        }
        const result = new Map<string, PathStat | undefined>();
        let problem: unknown;
        try {
          for (const p of paths) result.set(p, await statOne(container, p));
        } catch (err) {
          problem = failure(`cannot stat paths in ${image}`, err);
        }
        try {
          await container.remove({ force: true, v: true });
        } catch (err) {
          problem ??= failure(`cannot remove the container ${container.id} (made to stat paths in ${image})`, err);
        }
        if (problem !== undefined) throw problem;
        return result;
      });
    },

    readFile(image, file) {
      return use(async (d) => (await readFiles(d, image, [file])).get(file));
    },

    readFiles(image, files) {
      return use((d) => readFiles(d, image, files));
    },

    readEntries(image, paths, signal) {
      return use((d) => readEntries(d, image, paths, entriesCache, signal));
    },

    imageCreated(ref) {
      return use(async (d) => {
        try {
          const created = Date.parse((await d.getImage(ref).inspect()).Created);
          return Number.isNaN(created) ? undefined : Math.floor(created / 1000);
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw failure(`cannot inspect image ${ref}`, err);
        }
      });
    },

    imageSize(ref) {
      // `Size` is the image's layers unpacked: what the raw target sizes RECOVERY and STATE from.
      return use(async (d) => {
        try {
          const { Size } = await d.getImage(ref).inspect();
          return Number.isSafeInteger(Size) && Size >= 0 ? Size : undefined;
        } catch (err) {
          if (statusOf(err) === 404) return undefined;
          throw failure(`cannot inspect image ${ref}`, err);
        }
      });
    },

    exportContainer<T>(image: string, consume: (tar: NodeJS.ReadableStream) => Promise<T>, signal?: AbortSignal) {
      return use(async (d): Promise<T> => {
        let container: Docker.Container;
        try {
          container = await d.createContainer({
            Image: image,
            Cmd: ['/bin/true'],
            HostConfig: {},
            NetworkDisabled: true,
            Labels: { 'derivc.purpose': 'export' },
          });
        } catch (err) {
          throw statusOf(err) === 404 ? new Error(`no image ${image}`) : failure(`cannot create a container of ${image}`, err);
        }
        let stream: Readable | undefined;
        const stop = (): void => void stream?.destroy(abortError(signal!));
        let result: { value: T } | undefined;
        let problem: unknown;
        try {
          if (signal?.aborted) throw abortError(signal);
          try {
            stream = (await container.export(signal ? { abortSignal: signal } : {})) as Readable;
          } catch (err) {
            if (signal?.aborted) throw abortError(signal);
            throw failure(`cannot export the container ${container.id} of ${image}`, err);
          }
          signal?.addEventListener('abort', stop, { once: true });
          if (signal?.aborted) stop(); // aborted while the Engine answered
          result = { value: await consume(stream) };
        } catch (err) {
          problem = err;
        } finally {
          signal?.removeEventListener('abort', stop);
          stream?.destroy();
        }
        try {
          await container.remove({ force: true, v: true });
        } catch (err) {
          problem ??= failure(`cannot remove the container ${container.id} (made to export ${image})`, err);
        }
        if (problem !== undefined || !result) throw problem;
        return result.value;
      });
    },
  };
}
