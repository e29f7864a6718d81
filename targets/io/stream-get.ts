// The Engine's large downloads — `docker export` and `docker save`, hundreds of MB of tar — over
// a plain HTTP/1.0 GET. Through node's HTTP client (dockerode) the 736 MB export of the example
// cost 2.2–2.7 s of CPU against 1.0–1.3 s reading the same bytes from the socket as they come
// (bench/RESULTS.md): chunked decoding and a stream event per chunk. On two cores every such
// second is taken from the squashfs compression running at the same time. An HTTP/1.0 request
// makes the Engine (Go's net/http) send the body as it is and end it by closing the connection,
// so after the response head the socket *is* the tar. Smaller calls stay with dockerode.

import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Transform, type Readable } from 'node:stream';

/** Where the Engine listens: the fields of dockerode's options this needs. */
export interface StreamEndpoint {
  socketPath?: string | undefined;
  host?: string | undefined;
  port?: number | string | undefined;
  protocol?: 'http' | 'https' | 'ssh' | undefined;
  ca?: string | string[] | Buffer | Buffer[] | undefined;
  cert?: string | string[] | Buffer | Buffer[] | undefined;
  key?: string | string[] | Buffer | Buffer[] | object[] | undefined;
}

/** An error answer, shaped as dockerode's (statusCode, json.message) so callers treat both alike. */
export class EngineHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly json: { message?: unknown } | null,
  ) {
    super(`(HTTP code ${statusCode}) ${typeof json?.message === 'string' ? json.message : 'error'}`);
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
const MAX_ERROR_BODY_BYTES = 1024 * 1024;

function connect(endpoint: StreamEndpoint): net.Socket {
  if (endpoint.socketPath) return net.connect(endpoint.socketPath);
  const port = Number(endpoint.port);
  if (endpoint.protocol === 'https') {
    const host = endpoint.host ?? 'localhost';
    return tls.connect({ host, port, ca: endpoint.ca, cert: endpoint.cert, key: endpoint.key as tls.ConnectionOptions['key'], ...(net.isIP(host) ? {} : { servername: host }) });
  }
  return net.connect({ host: endpoint.host ?? 'localhost', port });
}

/** The next chunk of a paused socket; null at its end. Leaves no listener behind (the body is piped later). */
async function readMore(socket: net.Socket): Promise<Buffer | null> {
  for (;;) {
    const chunk = socket.read() as Buffer | null;
    if (chunk !== null) return chunk;
    if (socket.readableEnded || socket.destroyed) return null;
    const done = new AbortController();
    const waits = (['readable', 'end', 'close'] as const).map((event) => once(socket, event, { signal: done.signal }));
    for (const w of waits) w.catch(() => undefined); // the ones that lose are aborted below
    try {
      await Promise.race(waits);
    } finally {
      done.abort();
    }
  }
}

/** The response head: status and header fields (names lower-cased). */
function parseHead(head: string, apiPath: string): { code: number; fields: Map<string, string> } {
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status) throw new Error(`the Docker Engine's answer to GET ${apiPath} is not HTTP: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const fields = new Map<string, string>();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { code: Number(status[1]), fields };
}

/** Ends the stream after `length` bytes (a Content-Length answer on a connection kept open). */
function limited(socket: net.Socket, length: number): Readable {
  let left = length;
  const out = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (left <= 0) return callback();
      const part = chunk.length <= left ? chunk : chunk.subarray(0, left);
      left -= part.length;
      callback(null, part);
      if (left === 0) {
        this.push(null);
        socket.destroy();
      }
    },
    flush(callback) {
      callback(left > 0 ? new Error(`the Docker Engine's answer ended ${left} bytes short of its Content-Length`) : null);
    },
  });
  socket.on('error', (err) => out.destroy(err));
  out.on('close', () => socket.destroy());
  return socket.pipe(out);
}

/**
 * GETs `apiPath` and resolves with the socket positioned at the start of the body once the
 * Engine answered 200; rejects with EngineHttpError for an error answer, or with the socket's
 * error (ECONNREFUSED, ENOENT, …) when there is no Engine. `signal` aborts the call also while
 * the Engine has not answered yet (`docker save` answers only once every layer is written out);
 * afterwards destroying the stream aborts it.
 */
export async function streamGet(endpoint: StreamEndpoint, apiPath: string, signal?: AbortSignal): Promise<Readable> {
  if (endpoint.protocol === 'ssh') throw new Error('streamGet does not speak ssh');
  signal?.throwIfAborted();
  const socket = connect(endpoint);
  socket.pause();
  const settled = new AbortController();
  const failed = new Promise<never>((_resolve, reject) => {
    socket.once('error', reject);
    settled.signal.addEventListener('abort', () => socket.off('error', reject), { once: true });
  });
  failed.catch(() => undefined);
  const abort = (): void => void socket.destroy(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const host = endpoint.socketPath ? 'docker' : `${net.isIPv6(endpoint.host ?? '') ? `[${endpoint.host}]` : (endpoint.host ?? 'localhost')}:${endpoint.port}`;
    socket.write(`GET ${apiPath} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: derivc\r\nAccept: */*\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    for (;;) {
      let end = buffered.indexOf('\r\n\r\n');
      while (end === -1) {
        if (buffered.length > MAX_HEAD_BYTES) throw new Error(`the Docker Engine's answer to GET ${apiPath} has no end of its head`);
        const chunk = await Promise.race([readMore(socket), failed]);
        if (chunk === null) throw new Error(`the Docker Engine closed the connection before answering GET ${apiPath}`);
        buffered = Buffer.concat([buffered, chunk]);
        end = buffered.indexOf('\r\n\r\n');
      }
      const { code, fields } = parseHead(buffered.subarray(0, end).toString('latin1'), apiPath);
      buffered = buffered.subarray(end + 4);
      if (code >= 100 && code < 200) continue; // an interim answer: the real one follows
      if (code !== 200) throw new EngineHttpError(code, await errorBody(socket, buffered));
      const coding = fields.get('transfer-encoding');
      if (coding !== undefined && coding.toLowerCase() !== 'identity') throw new Error(`the Docker Engine answered GET ${apiPath} with Transfer-Encoding: ${coding} to an HTTP/1.0 request (a proxy in between?)`);
      const encoding = fields.get('content-encoding');
      if (encoding !== undefined && encoding.toLowerCase() !== 'identity') throw new Error(`the Docker Engine answered GET ${apiPath} with Content-Encoding: ${encoding}`);
      if (buffered.length > 0) socket.unshift(buffered);
      const length = fields.get('content-length');
      if (length === undefined) return socket;
      if (!/^\d+$/.test(length)) throw new Error(`the Docker Engine's answer to GET ${apiPath} has a Content-Length of ${JSON.stringify(length)}`);
      return limited(socket, Number(length));
    }
  } catch (err) {
    socket.destroy();
    throw err;
  } finally {
    settled.abort();
    signal?.removeEventListener('abort', abort);
  }
}

async function errorBody(socket: net.Socket, start: Buffer): Promise<{ message?: unknown }> {
  let body = start;
  for (let chunk = await readMore(socket); chunk !== null && body.length < MAX_ERROR_BODY_BYTES; chunk = await readMore(socket)) body = Buffer.concat([body, chunk]);
  try {
    return JSON.parse(body.toString('utf8')) as { message?: unknown };
  } catch {
    return { message: body.toString('utf8').trim() };
  }
}
