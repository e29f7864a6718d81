// The few protobuf messages derivc speaks with BuildKit, as inline descriptors for protobufjs: the
// bundle (one file) cannot load .proto files at run time. Field numbers are BuildKit's own
// (api/services/control/control.proto, session/auth/auth.proto, session/secrets/secrets.proto)
// and gRPC's health protocol; fields derivc never reads are left out (protobuf skips them).

import protobuf from 'protobufjs/light.js';

const timestamp = { type: 'google.protobuf.Timestamp' };

// (`keyType` marks a map field: protobufjs reads it, its IField type does not list it.)
const root = protobuf.Root.fromJSON({
  nested: {
    google: { nested: { protobuf: { nested: { Timestamp: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } } } } } },
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: { fields: { status: { type: 'int32', id: 1 } } },
              },
            },
          },
        },
      },
    },
    moby: {
      nested: {
        filesync: {
          nested: {
            v1: {
              nested: {
                CredentialsRequest: { fields: { Host: { type: 'string', id: 1 } } },
                CredentialsResponse: { fields: { Username: { type: 'string', id: 1 }, Secret: { type: 'string', id: 2 } } },
              },
            },
          },
        },
        buildkit: {
          nested: {
            secrets: {
              nested: {
                v1: {
                  nested: {
                    GetSecretRequest: { fields: { ID: { type: 'string', id: 1 }, annotations: { keyType: 'string', type: 'string', id: 2 } } },
                    GetSecretResponse: { fields: { data: { type: 'bytes', id: 1 } } },
                  },
                },
              },
            },
            v1: {
              nested: {
                StatusResponse: {
                  fields: {
                    vertexes: { rule: 'repeated', type: 'Vertex', id: 1 },
                    statuses: { rule: 'repeated', type: 'VertexStatus', id: 2 },
                    logs: { rule: 'repeated', type: 'VertexLog', id: 3 },
                    warnings: { rule: 'repeated', type: 'VertexWarning', id: 4 },
                  },
                },
                Vertex: {
                  fields: {
                    digest: { type: 'string', id: 1 },
                    inputs: { rule: 'repeated', type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    cached: { type: 'bool', id: 4 },
                    started: { ...timestamp, id: 5 },
                    completed: { ...timestamp, id: 6 },
                    error: { type: 'string', id: 7 },
                  },
                },
                VertexStatus: {
                  fields: {
                    ID: { type: 'string', id: 1 },
                    vertex: { type: 'string', id: 2 },
                    name: { type: 'string', id: 3 },
                    current: { type: 'int64', id: 4 },
                    total: { type: 'int64', id: 5 },
                    timestamp: { ...timestamp, id: 6 },
                    started: { ...timestamp, id: 7 },
                    completed: { ...timestamp, id: 8 },
                  },
                },
                VertexLog: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    timestamp: { ...timestamp, id: 2 },
                    stream: { type: 'int64', id: 3 },
                    msg: { type: 'bytes', id: 4 },
                  },
                },
                VertexWarning: {
                  fields: {
                    vertex: { type: 'string', id: 1 },
                    level: { type: 'int64', id: 2 },
                    short: { type: 'bytes', id: 3 },
                    detail: { rule: 'repeated', type: 'bytes', id: 4 },
                    url: { type: 'string', id: 5 },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as protobuf.INamespace);

export interface Timestamp {
  seconds: number;
  nanos: number;
}

export interface Vertex {
  digest: string;
  inputs: string[];
  name: string;
  cached: boolean;
  started?: Timestamp;
  completed?: Timestamp;
  error: string;
}

export interface VertexStatus {
  ID: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  started?: Timestamp;
  completed?: Timestamp;
}

export interface VertexLog {
  vertex: string;
  /** 1 stdout, 2 stderr. */
  stream: number;
  msg: Uint8Array;
}

export interface VertexWarning {
  vertex: string;
  level: number;
  short: Uint8Array;
  detail: Uint8Array[];
  url: string;
}

export interface StatusResponse {
  vertexes: Vertex[];
  statuses: VertexStatus[];
  logs: VertexLog[];
  warnings: VertexWarning[];
}

/** A message type: bytes to a plain object (int64 as numbers, defaults filled in) and back. */
export interface Codec<T> {
  decode(bytes: Uint8Array): T;
  encode(value: T): Buffer;
}

function codec<T>(name: string): Codec<T> {
  const type = root.lookupType(name);
  return {
    // `longs: Number` whatever protobufjs found (`long` may or may not be loadable from the bundle).
    decode: (bytes) => type.toObject(type.decode(bytes), { longs: Number, defaults: true, arrays: true, objects: true }) as T,
    encode: (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()),
  };
}

export const StatusResponseCodec = codec<StatusResponse>('moby.buildkit.v1.StatusResponse');

/** gRPC health: SERVING is 1. */
export const HealthCheckRequestCodec = codec<{ service: string }>('grpc.health.v1.HealthCheckRequest');
export const HealthCheckResponseCodec = codec<{ status: number }>('grpc.health.v1.HealthCheckResponse');
export const SERVING = 1;

export const CredentialsRequestCodec = codec<{ Host: string }>('moby.filesync.v1.CredentialsRequest');
export const CredentialsResponseCodec = codec<{ Username: string; Secret: string }>('moby.filesync.v1.CredentialsResponse');

export const GetSecretRequestCodec = codec<{ ID: string; annotations: Record<string, string> }>('moby.buildkit.secrets.v1.GetSecretRequest');
export const GetSecretResponseCodec = codec<{ data: Uint8Array }>('moby.buildkit.secrets.v1.GetSecretResponse');
