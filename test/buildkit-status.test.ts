// BuildKit's status stream (JSON lines with base64 StatusResponse protobuf) turned into the
// BuildEvents the classic builder's stream gives: steps numbered the classic way, cache hits,
// output, the failing step made current again with its own output, the image ID.

import { describe, expect, it } from 'vitest';
import { StatusResponseCodec, type StatusResponse, type Vertex } from '../targets/io/buildkit-proto.js';
import { BuildKitStreamParser } from '../targets/io/buildkit-status.js';
import type { BuildEvent } from '../targets/io/engine.js';

const DOCKERFILE =
  'FROM local/debian:bookworm\n\n# packages\nRUN ["/bin/sh","-c","apt-get install \\"$@\\"","derivc","curl"]\nCOPY rootfs/ /\nRUN ["true"]\nLABEL "a"="b"\n';
const T = { seconds: 1, nanos: 0 };

function vertex(digest: string, name: string, extra: Partial<Vertex> = {}): Vertex {
  return { digest: `sha256:${digest}`, inputs: [], name, cached: false, error: '', ...extra };
}
function trace(status: Partial<StatusResponse>): string {
  const bytes = StatusResponseCodec.encode({ vertexes: [], statuses: [], logs: [], warnings: [], ...status });
  return `${JSON.stringify({ id: 'moby.buildkit.trace', aux: bytes.toString('base64') })}\n`;
}
const log = (digest: string, text: string, stream = 1) => ({ vertex: `sha256:${digest}`, stream, msg: Buffer.from(text) });

function parse(stream: string, chunk = stream.length): { events: BuildEvent[]; parser: BuildKitStreamParser } {
  const events: BuildEvent[] = [];
  const parser = new BuildKitStreamParser((e) => events.push(e), DOCKERFILE);
  const bytes = Buffer.from(stream);
  for (let i = 0; i < bytes.length; i += chunk) parser.push(bytes.subarray(i, i + chunk));
  parser.end();
  return { events, parser };
}

const RUN = 'RUN ["/bin/sh","-c","apt-get install "$@"","derivc","curl"]';

describe('BuildKitStreamParser', () => {
  const success = [
    trace({ vertexes: [vertex('a', '[internal] load remote build context', { started: T })] }),
    trace({ vertexes: [vertex('m', '[internal] load metadata for docker.io/local/debian:bookworm', { started: T, completed: T })] }),
    trace({ vertexes: [vertex('f', '[1/4] FROM docker.io/local/debian:bookworm', { started: T, completed: T, cached: true })] }),
    trace({ vertexes: [vertex('r', `[2/4] ${RUN}`, { started: T })] }),
    trace({ logs: [log('r', 'Get:1 http://mirror.example.com/debian bookworm InRelease\nSetting up cu'), log('r', 'rl (7.88) ...\n')] }),
    trace({ vertexes: [vertex('r', `[2/4] ${RUN}`, { started: T, completed: T })] }),
    trace({ vertexes: [vertex('c', '[3/4] COPY rootfs/ /', { started: T, completed: T, cached: true }), vertex('t', '[4/4] RUN ["true"]', { started: T })] }),
    trace({ warnings: [{ vertex: 'sha256:t', level: 1, short: Buffer.from('something to know'), detail: [], url: '' }] }),
    `${JSON.stringify({ id: 'moby.image.id', aux: { ID: 'sha256:' + 'b'.repeat(64) } })}\n`,
    `${JSON.stringify({ stream: 'Successfully tagged derivc.local/acme:1\n' })}\n`,
  ].join('');

  it('gives steps (numbered over every instruction, as the classic builder does), cache hits, output and the image', () => {
    const { events, parser } = parse(success);
    expect(events).toEqual([
      { kind: 'output', text: '[internal] load remote build context\n' },
      { kind: 'output', text: '[internal] load metadata for docker.io/local/debian:bookworm\n' },
      { kind: 'step', index: 1, total: 5, instruction: 'FROM local/debian:bookworm' },
      { kind: 'cached', index: 1 },
      { kind: 'step', index: 2, total: 5, instruction: 'RUN ["/bin/sh","-c","apt-get install \\"$@\\"","derivc","curl"]' },
      { kind: 'output', text: 'Get:1 http://mirror.example.com/debian bookworm InRelease\nSetting up cu' },
      { kind: 'output', text: 'rl (7.88) ...\n' },
      { kind: 'step', index: 3, total: 5, instruction: 'COPY rootfs/ /' },
      { kind: 'cached', index: 3 },
      { kind: 'step', index: 4, total: 5, instruction: 'RUN ["true"]' },
      { kind: 'output', text: 'WARNING: something to know\n' },
      { kind: 'output', text: 'Successfully tagged derivc.local/acme:1\n' },
    ]);
    expect(parser.imageId).toBe('sha256:' + 'b'.repeat(64));
    expect(parser.error).toBeUndefined();
  });

  it('reads the same whatever the chunking: JSON and UTF-8 split anywhere', () => {
    const utf8 = success.replace('InRelease', 'InRelease ünïcödé');
    expect(parse(utf8, 1).events).toEqual(parse(utf8).events);
    expect(parse(utf8, 7).events).toEqual(parse(utf8).events);
  });

  it("makes a failing step current again, with its own last output, before the error: the failure is that step's", () => {
    const { events, parser } = parse(
      [
        trace({ vertexes: [vertex('r', `[2/4] ${RUN}`, { started: T })] }),
        trace({ logs: [log('r', 'Reading package lists...\nE: Unable to locate package nosuchpkg\n', 2)] }),
        // Another stage's step started meanwhile.
        trace({ vertexes: [vertex('c', '[3/4] COPY rootfs/ /', { started: T })] }),
        trace({ vertexes: [vertex('r', `[2/4] ${RUN}`, { started: T, completed: T, error: 'exit code: 100' })] }),
        `${JSON.stringify({ errorDetail: { message: 'executor failed running [/bin/sh -c apt-get install "$@" derivc curl]: exit code: 100' }, error: 'executor failed' })}\n`,
      ].join(''),
    );
    expect(events.slice(-3)).toEqual([
      { kind: 'step', index: 2, total: 5, instruction: expect.stringMatching(/^RUN /) },
      { kind: 'output', text: 'Reading package lists...\nE: Unable to locate package nosuchpkg\n' },
      { kind: 'error', message: 'executor failed running [/bin/sh -c apt-get install "$@" derivc curl]: exit code: 100' },
    ]);
    expect(parser.error?.message).toMatch(/exit code: 100$/);
    expect(parser.imageId).toBeUndefined();
  });

  it('puts a failed pull at the FROM of that image', () => {
    const { events } = parse(
      [
        trace({
          vertexes: [vertex('m', '[internal] load metadata for docker.io/local/debian:bookworm', { started: T, completed: T, error: 'pull access denied' })],
        }),
        `${JSON.stringify({ errorDetail: { message: 'failed to solve: pull access denied, repository does not exist' } })}\n`,
      ].join(''),
    );
    expect(events).toEqual([
      { kind: 'output', text: '[internal] load metadata for docker.io/local/debian:bookworm\n' },
      { kind: 'step', index: 1, total: 5, instruction: 'FROM local/debian:bookworm' },
      { kind: 'error', message: 'failed to solve: pull access denied, repository does not exist' },
    ]);
  });

  it('keeps a line that is not JSON as output rather than lose it', () => {
    expect(parse('garbage\n').events).toEqual([{ kind: 'output', text: 'garbage\n' }]);
  });
});
