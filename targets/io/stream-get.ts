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
import type { Readable } from 'node:stream';

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

/**
 * GETs `apiPath` and resolves with the socket positioned at the start of the body once the
 * Engine answered 200; rejects with EngineHttpError for an error answer, or with the socket's
 * error (ECONNREFUSED, ENOENT, …) when there is no Engine. Destroying the stream aborts the call.
 */
export async function streamGet(endpoint: StreamEndpoint, apiPath: string): Promise<Readable> {
  if (endpoint.protocol === 'ssh') throw new Error('streamGet does not speak ssh');
  const socket = connect(endpoint);
  socket.pause();
  const failed = once(socket, 'error').then(([err]) => Promise.reject(err as Error));
  failed.catch(() => undefined);
  try {
    const host = endpoint.socketPath ? 'docker' : `${endpoint.host}:${endpoint.port}`;
    socket.write(`GET ${apiPath} HTTP/1.0\r\nHost: ${host}\r\nUser-Agent: derivc\r\nAccept: */*\r\n\r\n`);
    let buffered = Buffer.alloc(0);
    let end = -1;
    while (end === -1) {
      const chunk = await Promise.race([readMore(socket), failed]);
      if (chunk === null) throw new Error(`the Docker Engine closed the connection before answering GET ${apiPath}`);
      buffered = Buffer.concat([buffered, chunk]);
      end = buffered.indexOf('\r\n\r\n');
      if (end === -1 && buffered.length > MAX_HEAD_BYTES) throw new Error(`the Docker Engine's answer to GET ${apiPath} has no end of its head`);
    }
    const head = buffered.subarray(0, end).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (!status) throw new Error(`the Docker Engine's answer to GET ${apiPath} is not HTTP: ${JSON.stringify(head.slice(0, 80))}`);
    const body = buffered.subarray(end + 4);
    const code = Number(status[1]);
    if (code === 200) {
      if (body.length > 0) socket.unshift(body);
      return socket;
    }
    let error = body;
    for (let chunk = await readMore(socket); chunk !== null && error.length < MAX_ERROR_BODY_BYTES; chunk = await readMore(socket)) error = Buffer.concat([error, chunk]);
    let json: { message?: unknown } | null = null;
    try {
      json = JSON.parse(error.toString('utf8')) as { message?: unknown };
    } catch {
      json = { message: error.toString('utf8').trim() };
    }
    throw new EngineHttpError(code, json);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
