// The plain HTTP/1.0 download used for `docker export` and `docker save`, against a local HTTP
// server on a unix socket (as the Engine listens): the body comes through byte for byte, an
// error answer is an error with the Engine's message and status, a missing socket is the
// socket's own error (so the engine client can say "is dockerd running?").

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineHttpError, streamGet } from '../targets/io/stream-get.js';

const dir = mkdtempSync(join(tmpdir(), 'derivc-stream-get-'));
const socketPath = join(dir, 'engine.sock');
const BODY = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < BODY.length; i++) BODY[i] = (i * 7) % 251;
const seen: { method?: string; url?: string; httpVersion?: string }[] = [];
let server: Server;
let aborted: Promise<void>;
let abortedNow: () => void;

beforeAll(async () => {
  aborted = new Promise((resolve) => (abortedNow = resolve));
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, httpVersion: req.httpVersion });
    if (req.url === '/containers/abc/export') {
      // Written in pieces, as the Engine streams a tar.
      for (let i = 0; i < BODY.length; i += 100_000) res.write(BODY.subarray(i, i + 100_000));
      res.end();
    } else if (req.url === '/chunked') {
      res.setHeader('Transfer-Encoding', 'chunked');
      res.end('x');
    } else if (req.url === '/slow-head') {
      // Nothing until the client gives up (docker save answers only after writing every layer).
      req.on('close', () => res.destroy());
    } else if (req.url === '/images/endless/get') {
      const tick = setInterval(() => res.write(Buffer.alloc(65536)), 5);
      res.on('close', () => {
        clearInterval(tick);
        abortedNow();
      });
    } else {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `No such container: ${req.url}` }));
    }
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('streamGet', () => {
  it('asks with HTTP/1.0 and hands over the body as it is, nothing of the response head in it', async () => {
    const body = await readAll(await streamGet({ socketPath }, '/containers/abc/export'));
    expect(body.equals(BODY)).toBe(true);
    expect(seen.at(-1)).toEqual({ method: 'GET', url: '/containers/abc/export', httpVersion: '1.0' });
  });

  it('turns an error answer into an error with its status and the Engine message', async () => {
    const err = await streamGet({ socketPath }, '/containers/gone/export').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineHttpError);
    expect(err).toMatchObject({ statusCode: 404, json: { message: 'No such container: /containers/gone/export' } });
  });

  it('ends the call when the stream is destroyed', async () => {
    const stream = await streamGet({ socketPath }, '/images/endless/get');
    await new Promise((resolve) => stream.once('data', resolve));
    stream.destroy();
    await aborted;
  });

  it('leaves no error listener of its own on the stream it hands over', async () => {
    const stream = await streamGet({ socketPath }, '/containers/abc/export');
    expect(stream.listenerCount('error')).toBe(0);
    expect((await readAll(stream)).length).toBe(BODY.length);
  });

  it('refuses a chunked answer (something between derivc and the Engine) rather than read chunk sizes as tar', async () => {
    await expect(streamGet({ socketPath }, '/chunked')).rejects.toThrow('with Transfer-Encoding: chunked to an HTTP/1.0 request');
  });

  it('stops waiting for the answer when the signal aborts', async () => {
    const abort = new AbortController();
    const call = streamGet({ socketPath }, '/slow-head', abort.signal);
    setTimeout(() => abort.abort(new Error('cancelled')), 50);
    await expect(call).rejects.toThrow('cancelled');
    await expect(streamGet({ socketPath }, '/slow-head', AbortSignal.abort(new Error('already')))).rejects.toThrow('already');
  });

  it('reads an answer given head byte by head byte, skips an interim 100 answer, and ends a kept-alive answer at its Content-Length', async () => {
    const raw = createNetServer((socket) => {
      socket.once('data', async () => {
        const answer = Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello');
        for (const byte of answer) {
          socket.write(Buffer.from([byte]));
          await new Promise((resolve) => setImmediate(resolve));
        }
        // …and the connection stays open, as a keep-alive server would leave it.
      });
    });
    const rawPath = join(dir, 'raw.sock');
    await new Promise<void>((resolve) => raw.listen(rawPath, resolve));
    try {
      expect((await readAll(await streamGet({ socketPath: rawPath }, '/x'))).toString()).toBe('hello');
    } finally {
      raw.close();
    }
  });

  it('fails with the socket error when nothing listens (unix socket or TCP port)', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createNetServer().listen(0, '127.0.0.1', () => {
        const { port: p } = probe.address() as AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    await expect(streamGet({ host: '127.0.0.1', port, protocol: 'http' }, '/x')).rejects.toMatchObject({ code: 'ECONNREFUSED', syscall: 'connect' });
    await expect(streamGet({ socketPath: join(dir, 'none.sock') }, '/x')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });
});
