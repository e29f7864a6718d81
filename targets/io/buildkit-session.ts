// A BuildKit session: the connection over which the Engine's BuildKit calls back into derivc during
// a build. derivc dials POST /session on the Engine (through the modem, so every DOCKER_HOST works),
// the Engine upgrades it to h2c and becomes the gRPC client; derivc serves, on that one socket:
//   grpc.health.v1.Health/Check — BuildKit checks it every second and drops a session that fails;
//   moby.filesync.v1.Auth/Credentials — registry credentials for the pulls BuildKit makes;
//   moby.buildkit.secrets.v1.Secrets/GetSecret — the bytes of a `RUN --mount=type=secret`.
// The methods are announced in X-Docker-Expose-Session-Grpc-Method headers: BuildKit calls only
// those. Messages are (de)serialized with inline descriptors (buildkit-proto.ts).

import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import {
  CredentialsRequestCodec,
  CredentialsResponseCodec,
  GetSecretRequestCodec,
  GetSecretResponseCodec,
  HealthCheckRequestCodec,
  HealthCheckResponseCodec,
  SERVING,
  type Codec,
} from './buildkit-proto.js';

export interface RegistryCredentials {
  username: string;
  secret: string;
}

/** What the session hands to BuildKit. */
export interface SessionAttachables {
  /** The bytes of the secret with this id, or undefined when the build has none by that name. */
  secret(id: string): Uint8Array | undefined;
  /** Credentials for a registry host as BuildKit names it (`registry-1.docker.io`, `host:5000`); undefined: anonymous. */
  credentials(host: string): Promise<RegistryCredentials | undefined>;
}

function unary<Req, Res>(path: string, req: Codec<Req>, res: Codec<Res>): grpc.MethodDefinition<Req, Res> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: Req) => req.encode(v),
    requestDeserialize: (b: Buffer) => req.decode(b),
    responseSerialize: (v: Res) => res.encode(v),
    responseDeserialize: (b: Buffer) => res.decode(b),
  };
}

export const HEALTH = { Check: unary('/grpc.health.v1.Health/Check', HealthCheckRequestCodec, HealthCheckResponseCodec) };
export const AUTH = { Credentials: unary('/moby.filesync.v1.Auth/Credentials', CredentialsRequestCodec, CredentialsResponseCodec) };
export const SECRETS = { GetSecret: unary('/moby.buildkit.secrets.v1.Secrets/GetSecret', GetSecretRequestCodec, GetSecretResponseCodec) };

/** The gRPC methods derivc's session serves, as announced to the Engine. */
export const SESSION_METHODS = [HEALTH.Check.path, AUTH.Credentials.path, SECRETS.GetSecret.path];

export interface SessionServer {
  /** Serves gRPC on a connection whose peer is the gRPC client (the Engine, after the upgrade). */
  inject(connection: Duplex): void;
  close(): void;
}

/** The gRPC server of a session, not bound to any port: connections are injected. */
export function sessionServer(attachables: SessionAttachables): SessionServer {
  const server = new grpc.Server();
  server.addService(HEALTH, {
    Check: (_call: grpc.ServerUnaryCall<unknown, unknown>, done: grpc.sendUnaryData<{ status: number }>) => done(null, { status: SERVING }),
  });
  server.addService(AUTH, {
    Credentials: (call: grpc.ServerUnaryCall<{ Host: string }, unknown>, done: grpc.sendUnaryData<{ Username: string; Secret: string }>) => {
      attachables.credentials(call.request.Host).then(
        // Empty credentials: BuildKit pulls anonymously.
        (c) => done(null, { Username: c?.username ?? '', Secret: c?.secret ?? '' }),
        (err: Error) => done({ code: grpc.status.UNAVAILABLE, details: `derivc cannot read registry credentials for ${call.request.Host}: ${err.message}` }),
      );
    },
  });
  server.addService(SECRETS, {
    GetSecret: (call: grpc.ServerUnaryCall<{ ID: string }, unknown>, done: grpc.sendUnaryData<{ data: Uint8Array }>) => {
      const data = attachables.secret(call.request.ID);
      // NOT_FOUND is what BuildKit expects for a missing secret (an optional mount is then skipped).
      if (data === undefined) done({ code: grpc.status.NOT_FOUND, details: `derivc has no secret ${JSON.stringify(call.request.ID)} for this build` });
      else done(null, { data });
    },
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const connections = new Set<Duplex>();
  return {
    inject(connection) {
      connections.add(connection);
      connection.once('close', () => connections.delete(connection));
      injector.injectConnection(connection);
    },
    close() {
      injector.destroy();
      server.forceShutdown();
      for (const c of connections) c.destroy();
    },
  };
}

/** The part of docker-modem a session needs: its dial, which hijacks on unix, tcp, TLS and ssh alike. */
export interface Dialer {
  dial(options: Record<string, unknown>, callback: (err: Error | null, result: unknown) => void): void;
}

export interface Session {
  /** The session's ID: the build names it (`session=` on POST /build). */
  id: string;
  close(): void;
}

/** Opens a session on the Engine; resolves once the Engine switched the connection to h2c. */
export function openSession(modem: Dialer, attachables: SessionAttachables, name = 'derivc'): Promise<Session> {
  const id = randomUUID();
  const server = sessionServer(attachables);
  return new Promise((resolve, reject) => {
    modem.dial(
      {
        path: '/session',
        method: 'POST',
        hijack: true,
        // An empty body of known length: the modem would otherwise send a chunked body whose
        // terminator could reach the Engine after the upgrade, inside the HTTP/2 stream.
        file: Buffer.alloc(0),
        headers: {
          'Content-Type': 'application/octet-stream',
          Upgrade: 'h2c',
          'X-Docker-Expose-Session-Uuid': id,
          'X-Docker-Expose-Session-Name': name,
          'X-Docker-Expose-Session-Sharedkey': '',
          'X-Docker-Expose-Session-Grpc-Method': SESSION_METHODS,
        },
        statusCodes: { 101: true, 200: true, 400: 'bad parameter', 500: 'server error' },
      },
      (err, socket) => {
        if (err) {
          server.close();
          reject(err);
          return;
        }
        server.inject(socket as Duplex);
        resolve({ id, close: () => server.close() });
      },
    );
  });
}
