// A push's response, as the Engine streams it: JSON lines of progress (`Pushing`, `Pushed`,
// `Layer already exists`), then `{"aux":{"Tag":…,"Digest":"sha256:…","Size":…}}` naming what the
// registry stored, or `{"error":…,"errorDetail":{…}}`. The Engine answers 200 before it talks to
// the registry, so a refused login or an unreachable registry only shows up here, in words;
// `pushFailureReason` sorts those words as the docker CLI's users know them.

import { StringDecoder } from 'node:string_decoder';
import { PushError, type PushEvent } from './engine.js';

interface PushMessage {
  status?: unknown;
  id?: unknown;
  error?: unknown;
  errorDetail?: { message?: unknown } | null;
  aux?: { Digest?: unknown } | null;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** What a failed push's message means (the registry's and the Engine's words, as distribution and moby say them). */
export function pushFailureReason(message: string): PushError['reason'] {
  if (
    /unauthorized|authentication required|no basic auth credentials|access to the resource is denied|requested access to the resource is denied|denied:|status: 401|\b401 Unauthorized/i.test(
      message,
    )
  )
    return 'unauthorized';
  if (
    /connection refused|no such host|i\/o timeout|dial tcp|network is unreachable|no route to host|server gave HTTP response to HTTPS client|x509:|tls: |certificate|TLS handshake|connection reset|EOF$/i.test(
      message,
    )
  )
    return 'unreachable';
  return 'failed';
}

export class PushStreamParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  digest: string | undefined;
  error: PushError | undefined;

  constructor(private readonly onEvent: (event: PushEvent) => void) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): void {
    this.pending += this.decoder.end();
    if (this.pending.trim()) this.line(this.pending);
    this.pending = '';
  }

  /** The digest, or the push's error. */
  result(): { digest: string } {
    if (this.error) throw this.error;
    if (this.digest === undefined) throw new PushError('failed', 'the Docker Engine ended the push without naming a digest');
    return { digest: this.digest };
  }

  private line(line: string): void {
    if (!line.trim()) return;
    let m: PushMessage;
    try {
      m = JSON.parse(line) as PushMessage;
    } catch {
      return; // not a message: nothing to show
    }
    const detail = typeof m.errorDetail?.message === 'string' ? m.errorDetail.message : undefined;
    const error = detail ?? (typeof m.error === 'string' ? m.error : undefined);
    if (error !== undefined) {
      this.error ??= new PushError(pushFailureReason(error), error.trim());
      return;
    }
    if (typeof m.aux?.Digest === 'string' && DIGEST.test(m.aux.Digest)) this.digest = m.aux.Digest;
    if (typeof m.status === 'string' && m.status !== '') this.onEvent({ ...(typeof m.id === 'string' ? { layer: m.id } : {}), status: m.status });
  }
}
