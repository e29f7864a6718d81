// Reading a build's response stream to its end through a parser (the classic builder's JSON
// lines or BuildKit's status stream), whatever builder: events reach the caller until the build
// settles, an abort ends the wait at once, a connection that closes early is an error.

import type { IncomingMessage } from 'node:http';

export interface StreamParser {
  push(chunk: Buffer | string): void;
  end(): void;
}

export function buildCancelled(signal: AbortSignal): Error {
  const err = new Error('the build was cancelled', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

/** Feeds `response` to `parser` until it ends; rejects on abort, on a stream error, or when `parser` throws (an event handler threw). */
export function followBuild<P extends StreamParser>(response: IncomingMessage, parser: P, signal: AbortSignal | undefined): Promise<P> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      finish();
    };
    const fail = (err: unknown): void =>
      settle(() => {
        response.destroy();
        reject(err);
      });
    const onAbort = (): void => fail(buildCancelled(signal!));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    response.on('data', (chunk: Buffer) => {
      if (settled) return;
      try {
        parser.push(chunk);
      } catch (err) {
        fail(err);
      }
    });
    response.on('end', () => {
      if (settled) return;
      try {
        parser.end();
      } catch (err) {
        return fail(err);
      }
      settle(() => resolve(parser));
    });
    response.on('error', (err) => fail(signal?.aborted ? buildCancelled(signal) : err));
    response.on('close', () => fail(new Error('the connection to the Docker Engine closed before the build ended')));
  });
}
