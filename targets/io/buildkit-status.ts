// A BuildKit build's progress, as the Engine streams it (JSON lines): `moby.buildkit.trace`
// messages carry a base64 StatusResponse (vertices started, cached, completed or failed, and
// their output), `moby.image.id` the result, `error`/`errorDetail` the failure. They become the
// same BuildEvents the classic builder's stream gives (steps numbered the classic way, see
// buildkit-steps.ts), so displays, build.log and the failure mapping work unchanged.
//
// Steps of one stage run one after the other; stages may run side by side. A failing step is
// made the current one again, with its last output, before the error: the failure is reported
// at that step, with that step's output.

import { StringDecoder } from 'node:string_decoder';
import { StatusResponseCodec, type StatusResponse } from './buildkit-proto.js';
import { DockerfileSteps, type StepRef } from './buildkit-steps.js';
import type { BuildEvent } from './engine.js';

const TAIL_LINES = 40;

interface VertexState {
  name: string;
  step: StepRef | undefined;
  announced: boolean;
  cached: boolean;
  failed: boolean;
  decoder: StringDecoder;
  /** Its last output lines (and the unfinished one), replayed when it fails after another step started. */
  tail: string[];
  partial: string;
}

export class BuildKitStreamParser {
  imageId: string | undefined;
  error: { message: string; code?: number } | undefined;
  private readonly steps: DockerfileSteps;
  private readonly vertices = new Map<string, VertexState>();
  /** The vertex whose step was announced last. */
  private current: string | undefined;
  private readonly decoder = new StringDecoder('utf8');
  private json = '';

  constructor(
    private readonly emit: (event: BuildEvent) => void,
    dockerfile: string,
  ) {
    this.steps = new DockerfileSteps(dockerfile);
  }

  push(chunk: Buffer | string): void {
    this.json += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let newline: number;
    while ((newline = this.json.indexOf('\n')) !== -1) {
      const line = this.json.slice(0, newline);
      this.json = this.json.slice(newline + 1);
      this.message(line);
    }
  }

  end(): void {
    this.json += this.decoder.end();
    if (this.json.trim() !== '') this.message(this.json);
    this.json = '';
  }

  private message(raw: string): void {
    if (raw.trim() === '') return;
    let msg: { id?: unknown; aux?: unknown; stream?: unknown; error?: unknown; errorDetail?: { message?: unknown; code?: unknown } | null };
    try {
      msg = JSON.parse(raw) as typeof msg;
    } catch {
      this.emit({ kind: 'output', text: `${raw}\n` }); // not JSON: keep it as output rather than lose it
      return;
    }
    if (msg.id === 'moby.buildkit.trace' && typeof msg.aux === 'string') {
      this.status(StatusResponseCodec.decode(Buffer.from(msg.aux, 'base64')));
    } else if (msg.id === 'moby.image.id') {
      const id = (msg.aux as { ID?: unknown } | null)?.ID;
      if (typeof id === 'string') this.imageId = id;
    } else if (typeof msg.stream === 'string' && msg.stream !== '') {
      this.emit({ kind: 'output', text: msg.stream.endsWith('\n') ? msg.stream : `${msg.stream}\n` });
    }
    if (msg.error !== undefined || msg.errorDetail) {
      const detail = msg.errorDetail?.message;
      const message = typeof detail === 'string' && detail !== '' ? detail : String(msg.error);
      const code = typeof msg.errorDetail?.code === 'number' ? msg.errorDetail.code : undefined;
      this.error ??= code === undefined ? { message } : { message, code };
      this.emit(code === undefined ? { kind: 'error', message } : { kind: 'error', message, code });
    }
  }

  private status(status: StatusResponse): void {
    for (const v of status.vertexes) {
      let state = this.vertices.get(v.digest);
      if (!state) {
        state = {
          name: v.name,
          step: this.steps.step(v.name),
          announced: false,
          cached: false,
          failed: false,
          decoder: new StringDecoder('utf8'),
          tail: [],
          partial: '',
        };
        this.vertices.set(v.digest, state);
      }
      if ((v.started || v.cached) && !state.announced) this.announce(v.digest, state);
      if (v.cached && !state.cached) {
        state.cached = true;
        if (state.step) this.emit({ kind: 'cached', index: state.step.index });
      }
      if (v.error && !state.failed) {
        state.failed = true;
        this.fail(v.digest, state);
      }
    }
    for (const log of status.logs) {
      const state = this.vertices.get(log.vertex);
      if (!state) continue;
      const text = state.decoder.write(Buffer.from(log.msg));
      if (text === '') continue;
      this.remember(state, text);
      this.emit({ kind: 'output', text });
    }
    for (const w of status.warnings) {
      const short = Buffer.from(w.short).toString('utf8').trim();
      if (short !== '') this.emit({ kind: 'output', text: `WARNING: ${short}\n` });
    }
  }

  /** A step becomes the current one; BuildKit's own vertices only show in the output. */
  private announce(digest: string, state: VertexState): void {
    state.announced = true;
    if (state.step) {
      this.current = digest;
      this.emit({ kind: 'step', ...state.step });
    } else {
      this.emit({ kind: 'output', text: `${state.name}\n` });
    }
  }

  /** The failing vertex's step is made current (its base image's FROM for a failed pull), with its output. */
  private fail(digest: string, state: VertexState): void {
    const step = state.step ?? this.steps.baseOf(state.name);
    if (!step || this.current === digest) return;
    this.current = digest;
    this.emit({ kind: 'step', ...step });
    const tail = [...state.tail, ...(state.partial ? [state.partial] : [])].join('');
    if (tail !== '') this.emit({ kind: 'output', text: tail });
  }

  private remember(state: VertexState, text: string): void {
    const lines = (state.partial + text).split(/(?<=\n)/);
    state.partial = lines[lines.length - 1]!.endsWith('\n') ? '' : lines.pop()!;
    state.tail.push(...lines);
    if (state.tail.length > TAIL_LINES) state.tail.splice(0, state.tail.length - TAIL_LINES);
  }
}
