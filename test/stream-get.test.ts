// The plain HTTP/1.0 download used for `docker export` and `docker save`, against a local HTTP
// server on a unix socket (as the Engine listens): the body comes through byte for byte, an
// error answer is an error with the Engine's message and status, a missing socket is the
// socket's own error (so the engine client can say "is dockerd running?").

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
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

  it('fails with the socket error when nothing listens', async () => {
    await expect(streamGet({ socketPath: join(dir, 'none.sock') }, '/x')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'connect' });
  });
});
