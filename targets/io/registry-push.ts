// Tagging an image and pushing that tag through the Engine API (POST /images/NAME/push), with the
// registry credentials the docker CLI would use (docker-credentials.ts) in X-Registry-Auth. The
// Engine reports a failed push inside a 200 response (an `error` line), so the stream is read to
// its end; the pushed manifest's digest comes in its last `aux` line.

import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { followBuild } from './build-follow.js';
import type { RegistryCredentials } from './buildkit-session.js';
import type { BuildEvent } from './engine.js';

const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

/** The registry host of a reference, as credentials are looked up by it (Docker Hub when it names none). */
export function registryHost(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash === -1 ? '' : ref.slice(0, slash);
  return first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** "registry:5000/name:tag" → repo and tag (the tag is after the last colon that follows the last slash). */
export function splitRef(ref: string): { repo: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { repo: ref, tag: 'latest' };
}

/** X-Registry-Auth's JSON: the Engine logs in with it; anonymous is `{}`. */
export function authConfig(host: string, credentials: RegistryCredentials | undefined): Record<string, string> {
  const serveraddress = host === 'docker.io' ? DOCKER_HUB_SERVER : host;
  if (!credentials) return {};
  if (credentials.username === '') return { identitytoken: credentials.secret, serveraddress };
  return { username: credentials.username, password: credentials.secret, serveraddress };
}

/** The push's JSON lines: status lines as output, the first error, the digest from `aux`. */
export class PushStreamParser {
  digest: string | undefined;
  error: string | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private buffer = '';

  constructor(private readonly emit: (event: BuildEvent) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.buffer.indexOf('\n')) !== -1) {
      this.line(this.buffer.slice(0, newline));
      this.buffer = this.buffer.slice(newline + 1);
    }
  }

  end(): void {
    this.buffer += this.decoder.end();
    if (this.buffer.trim() !== '') this.line(this.buffer);
    this.buffer = '';
  }

  private line(raw: string): void {
    if (raw.trim() === '') return;
    let msg: {
      status?: unknown;
      id?: unknown;
      progress?: unknown;
      error?: unknown;
      errorDetail?: { message?: unknown } | null;
      aux?: { Digest?: unknown } | null;
    };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      this.emit({ kind: 'output', text: `${raw}\n` });
      return;
    }
    if (typeof msg.status === 'string' && msg.progress === undefined)
      this.emit({ kind: 'output', text: `${typeof msg.id === 'string' && msg.id !== '' ? `${msg.id}: ` : ''}${msg.status}\n` });
    if (typeof msg.aux?.Digest === 'string') this.digest = msg.aux.Digest;
    if (msg.error !== undefined || msg.errorDetail) {
      const detail = msg.errorDetail?.message;
      this.error ??= typeof detail === 'string' && detail !== '' ? detail : String(msg.error);
    }
  }
}

/** Tags `image` as `ref` and pushes `ref`; resolves with the pushed digest, rejects with the Engine's or the registry's words. */
export async function tagAndPush(
  d: Docker,
  image: string,
  ref: string,
  credentials: (host: string) => Promise<RegistryCredentials | undefined>,
  onEvent: (event: BuildEvent) => void,
  signal?: AbortSignal,
): Promise<{ digest: string | undefined }> {
  const { repo, tag } = splitRef(ref);
  await d.getImage(image).tag({ repo, tag });
  const host = registryHost(ref);
  const authconfig = authConfig(host, await credentials(host));
  const response = (await d.getImage(repo).push({ tag, authconfig, ...(signal ? { abortSignal: signal } : {}) })) as unknown as IncomingMessage;
  const parser = await followBuild(response, new PushStreamParser(onEvent), signal);
  if (parser.error !== undefined) throw new Error(parser.error);
  return { digest: parser.digest };
}
