// The BuildKit session derivc serves: a gRPC client (grpc-js, as BuildKit's is a gRPC client)
// calls health, registry credentials and secrets on the server over plain h2c connections, and
// the session opened through a dialer speaks h2c on the very socket the dialer hands back, as the
// Engine does after upgrading POST /session.

import * as http2 from 'node:http2';
import * as net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CredentialsRequestCodec,
  CredentialsResponseCodec,
  GetSecretRequestCodec,
  GetSecretResponseCodec,
  HealthCheckResponseCodec,
  SERVING,
} from '../targets/io/buildkit-proto.js';
import { AUTH, HEALTH, openSession, SECRETS, SESSION_METHODS, sessionServer, type Dialer, type SessionAttachables } from '../targets/io/buildkit-session.js';

const attachables: SessionAttachables = {
  secret: (id) => (id === 'derivc-repo-acme' ? Buffer.from('machine repo.example.com login ci password s3cr3t\n') : undefined),
  credentials: async (host) => {
    if (host === 'registry.example.com:5000') return { username: 'robot', secret: 'tok' };
    if (host === 'broken.example.com') throw new Error('helper exited 1');
    return undefined;
  },
};

describe('session services (grpc-js client)', () => {
  const server = sessionServer(attachables);
  let tcp: net.Server;
  let client: grpc.Client;
  const call = <Req, Res>(method: grpc.MethodDefinition<Req, Res>, request: Req) =>
    new Promise<Res>((resolve, reject) =>
      client.makeUnaryRequest(method.path, method.requestSerialize, method.responseDeserialize, request, (err, res) => (err ? reject(err) : resolve(res!))),
    );

  beforeAll(async () => {
    // Every connection is injected, as derivc injects the Engine's hijacked one.
    tcp = net.createServer((socket) => server.inject(socket));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    client = new grpc.Client(`127.0.0.1:${(tcp.address() as net.AddressInfo).port}`, grpc.credentials.createInsecure());
  });
  afterAll(() => {
    client.close();
    server.close();
    tcp.close();
  });

  it('answers the health check SERVING: BuildKit drops a session that does not', async () => {
    expect(await call(HEALTH.Check, { service: '' })).toEqual({ status: SERVING });
  });

  it('hands registry credentials for a host, empty ones for a host it has none for', async () => {
    expect(await call(AUTH.Credentials, { Host: 'registry.example.com:5000' })).toEqual({ Username: 'robot', Secret: 'tok' });
    expect(await call(AUTH.Credentials, { Host: 'registry-1.docker.io' })).toEqual({ Username: '', Secret: '' });
  });

  it('fails a credentials call whose lookup fails, saying why', async () => {
    await expect(call(AUTH.Credentials, { Host: 'broken.example.com' })).rejects.toMatchObject({
      code: grpc.status.UNAVAILABLE,
      details: expect.stringContaining('helper exited 1'),
    });
  });

  it('serves a secret by id; an unknown id is NOT_FOUND, as BuildKit expects', async () => {
    const got = await call(SECRETS.GetSecret, { ID: 'derivc-repo-acme', annotations: {} });
    expect(Buffer.from(got.data).toString()).toBe('machine repo.example.com login ci password s3cr3t\n');
    await expect(call(SECRETS.GetSecret, { ID: 'other', annotations: {} })).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('announces exactly the methods it serves', () => {
    expect(SESSION_METHODS).toEqual(['/grpc.health.v1.Health/Check', '/moby.filesync.v1.Auth/Credentials', '/moby.buildkit.secrets.v1.Secrets/GetSecret']);
  });
});

/** A unary gRPC call over an HTTP/2 session, framed by hand (5-byte prefix): what the Engine sends. */
function rawCall(session: http2.ClientHttp2Session, path: string, message: Buffer): Promise<{ status: string | undefined; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: Buffer[] = [];
    let status: string | undefined;
    stream.on('trailers', (t) => (status = String(t['grpc-status'])));
    stream.on('response', (h) => h['grpc-status'] !== undefined && (status = String(h['grpc-status'])));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const all = Buffer.concat(chunks);
      resolve({ status, body: all.length >= 5 ? all.subarray(5, 5 + all.readUInt32BE(1)) : Buffer.alloc(0) });
    });
    stream.on('error', reject);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, 5);
    stream.end(frame);
  });
}

describe('openSession', () => {
  it('dials POST /session with the upgrade and the announced methods, then serves gRPC on the socket it gets back', async () => {
    // The dialer stands for the modem: its socket is one end of a connection, the "Engine" holds the other.
    let engineSide: net.Socket | undefined;
    const tcp = net.createServer((s) => (engineSide = s));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const seen: Record<string, unknown>[] = [];
    const dialer: Dialer = {
      dial(options, callback) {
        seen.push(options);
        const socket = net.connect((tcp.address() as net.AddressInfo).port, '127.0.0.1', () => callback(null, socket));
      },
    };
    const session = await openSession(dialer, attachables);
    try {
      const [opts] = seen as [{ path: string; method: string; hijack: boolean; file: Buffer; headers: Record<string, unknown> }];
      expect(opts).toMatchObject({ path: '/session', method: 'POST', hijack: true });
      // A body of known length (0): no chunked terminator may follow the upgrade into the HTTP/2 stream.
      expect(opts.file).toEqual(Buffer.alloc(0));
      expect(opts.headers).toMatchObject({
        Upgrade: 'h2c',
        'X-Docker-Expose-Session-Uuid': session.id,
        'X-Docker-Expose-Session-Grpc-Method': SESSION_METHODS,
      });
      expect(session.id).toMatch(/^[0-9a-f-]{36}$/);
      await new Promise((r) => setTimeout(r, 20));
      const h2 = http2.connect('http://session', { createConnection: () => engineSide! });
      try {
        const health = await rawCall(h2, HEALTH.Check.path, Buffer.alloc(0));
        expect(health.status).toBe('0');
        expect(HealthCheckResponseCodec.decode(health.body)).toEqual({ status: SERVING });
        const creds = await rawCall(h2, AUTH.Credentials.path, CredentialsRequestCodec.encode({ Host: 'registry.example.com:5000' }));
        expect(CredentialsResponseCodec.decode(creds.body)).toEqual({ Username: 'robot', Secret: 'tok' });
        const secret = await rawCall(h2, SECRETS.GetSecret.path, GetSecretRequestCodec.encode({ ID: 'derivc-repo-acme', annotations: { a: 'b' } }));
        expect(Buffer.from(GetSecretResponseCodec.decode(secret.body).data).toString()).toContain('password s3cr3t');
      } finally {
        h2.destroy();
      }
    } finally {
      session.close();
      tcp.close();
    }
  });

  it('rejects when the Engine refuses the session, serving nothing', async () => {
    const dialer: Dialer = {
      dial: (_options, callback) => callback(Object.assign(new Error('(HTTP code 400) bad parameter'), { statusCode: 400 }), undefined),
    };
    await expect(openSession(dialer, attachables)).rejects.toThrow('bad parameter');
  });
});
