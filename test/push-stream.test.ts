// The Engine's push response, as moby streams it (lines recorded from `POST /images/{name}/push`
// against a local registry): the digest from the `aux` message, finished layers as events, and
// an error message sorted into what the user can do about it.

import { describe, expect, it } from 'vitest';
import type { PushEvent } from '../targets/io/engine.js';
import { pushFailureReason, PushStreamParser } from '../targets/io/push-stream.js';

const DIGEST = `sha256:${'0f'.repeat(32)}`;

function parse(lines: string[], chunk = 7): { parser: PushStreamParser; events: PushEvent[] } {
  const events: PushEvent[] = [];
  const parser = new PushStreamParser((e) => events.push(e));
  const text = lines.map((l) => `${l}\r\n`).join('');
  // Split mid-line (and mid-character): the parser joins the pieces.
  for (let i = 0; i < text.length; i += chunk) parser.push(Buffer.from(text).subarray(i, i + chunk));
  parser.end();
  return { parser, events };
}

describe('push stream', () => {
  it('gives the digest of the aux message and the layers as they finish', () => {
    const { parser, events } = parse([
      '{"status":"The push refers to repository [localhost:5000/acme/os]"}',
      '{"status":"Preparing","progressDetail":{},"id":"5f70bf18a086"}',
      '{"status":"Pushing","progressDetail":{"current":512,"total":1024},"progress":"[=====>     ]","id":"5f70bf18a086"}',
      '{"status":"Pushed","progressDetail":{},"id":"5f70bf18a086"}',
      '{"status":"Layer already exists","progressDetail":{},"id":"a1b2c3d4e5f6"}',
      `{"status":"1.0: digest: ${DIGEST} size: 735"}`,
      `{"progressDetail":{},"aux":{"Tag":"1.0","Digest":"${DIGEST}","Size":735}}`,
    ]);
    expect(parser.result()).toEqual({ digest: DIGEST });
    expect(events).toContainEqual({ layer: '5f70bf18a086', status: 'Pushed' });
    expect(events).toContainEqual({ layer: 'a1b2c3d4e5f6', status: 'Layer already exists' });
    expect(events[0]).toEqual({ status: 'The push refers to repository [localhost:5000/acme/os]' });
  });

  it('fails with the error message, sorted by what it means', () => {
    const { parser } = parse([
      '{"status":"The push refers to repository [localhost:5000/acme/os]"}',
      '{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}',
    ]);
    expect(() => parser.result()).toThrow(expect.objectContaining({ reason: 'unauthorized', message: 'unauthorized: authentication required' }));
    expect(() => parse(['{"status":"Pushed","id":"x"}']).parser.result()).toThrow('the Docker Engine ended the push without naming a digest');
  });

  it('sorts the registry’s and the Engine’s words', () => {
    expect(pushFailureReason('no basic auth credentials')).toBe('unauthorized');
    expect(pushFailureReason('denied: requested access to the resource is denied')).toBe('unauthorized');
    expect(pushFailureReason('Get "https://localhost:5000/v2/": dial tcp [::1]:5000: connect: connection refused')).toBe('unreachable');
    expect(pushFailureReason('Get "https://r.example/v2/": x509: certificate signed by unknown authority')).toBe('unreachable');
    expect(pushFailureReason('Get "https://nowhere.invalid/v2/": dial tcp: lookup nowhere.invalid: no such host')).toBe('unreachable');
    expect(pushFailureReason('manifest invalid: manifest invalid')).toBe('failed');
  });
});
