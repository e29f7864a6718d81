// A build through the Engine's BuildKit: a session first (buildkit-session.ts: health, registry
// credentials, secrets), then POST /build with version=2 naming it, the context tar derivc streams
// as the request body (BuildKit reads the Dockerfile and every COPY source from it), the status
// stream turned into BuildEvents (buildkit-status.ts). Cancelling ends the request and asks the
// Engine to cancel the build by its ID.

import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { buildCancelled, followBuild } from './build-follow.js';
import { openSession, type Dialer, type SessionAttachables } from './buildkit-session.js';
import { BuildKitStreamParser } from './buildkit-status.js';
import type { BuildEvent, BuildRequest } from './engine.js';

function dial<T>(modem: Dialer, options: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => modem.dial(options, (err, result) => (err ? reject(err) : resolve(result as T))));
}

/** Builds with BuildKit; resolves with the image ID. Failures to reach the Engine reject as the modem reports them. */
export async function buildKitBuild(
  modem: Dialer,
  request: BuildRequest,
  credentials: SessionAttachables['credentials'],
  onEvent: (event: BuildEvent) => void,
  signal?: AbortSignal,
): Promise<{ imageId: string }> {
  if (request.dockerfile === undefined) throw new Error('a BuildKit build needs the Dockerfile text (BuildRequest.dockerfile)');
  const secrets = request.secrets ?? new Map<string, Uint8Array>();
  const session = await openSession(modem, { secret: (id) => secrets.get(id), credentials });
  const buildId = randomUUID();
  const cancel = (): void => {
    // Best effort: the Engine also cancels when the request's connection closes.
    void dial(modem, { path: `/build/cancel?`, method: 'POST', options: { id: buildId }, statusCodes: { 200: true, 404: true, 500: true } }).catch(
      () => undefined,
    );
  };
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    const query: Record<string, unknown> = {
      version: '2',
      session: session.id,
      buildid: buildId,
      buildargs: request.buildArgs,
      labels: request.labels,
    };
    const [first] = request.tags;
    if (first !== undefined) query['t'] = first;
    if (request.platform !== '') query['platform'] = request.platform;
    // A JSON list, as the Engine reads `cachefrom` (docker-modem would send an array as repeated keys).
    if (request.cacheFrom?.length) query['cachefrom'] = JSON.stringify(request.cacheFrom);
    let response: IncomingMessage;
    try {
      response = await dial<IncomingMessage>(modem, {
        path: '/build?',
        method: 'POST',
        file: request.context,
        options: query,
        isStream: true,
        statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
        ...(signal ? { abortSignal: signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw buildCancelled(signal);
      throw err;
    }
    const progress = await followBuild(response, new BuildKitStreamParser(onEvent, request.dockerfile), signal);
    if (progress.error) throw new Error(progress.error.message);
    if (progress.imageId === undefined) throw new Error('the Docker Engine ended the BuildKit build without naming an image');
    return { imageId: progress.imageId };
  } finally {
    signal?.removeEventListener('abort', cancel);
    session.close();
  }
}
