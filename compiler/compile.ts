// derivc compile: a validated manifest → the Build IR, the files of its build context and the
// build ID, from one normalize and one emit. A Compiler remembers what it compiled, so a chain of
// upstream derivatives is compiled once per manifest in a command, whoever asks for it.

import { createHash } from 'node:crypto';
import type { Diagnostic, Result } from './diagnostics.js';
import { buildIdOf } from './emit/build-id.js';
import { emit, seal } from './emit/index.js';
import type { CompileOutput } from './emit/types.js';
import type { Host } from './host.js';
import type { Build } from './normalize/build.js';
import { normalize } from './normalize/index.js';
import { pinUpstream, type PinOptions } from './pin.js';
import { bootTestOf, targetsOf, type BootTestIR, type TargetsIR } from './normalize/targets.js';
import type { ValidatedManifest } from './validate/index.js';

export interface CompileOptions {
  /** derivc's version: part of the build ID and recorded in derivc.json. */
  version: string;
  /** `build.pin: digest`: the upstreams' pushed digests (compiler/pin.ts). */
  pins?: PinOptions;
}

/** What compile gives every later stage (plan, build, media, test): nothing normalizes again. */
export interface Compiled extends CompileOutput {
  /** The IR the files were emitted from. */
  build: Build;
  /** The media to make from the image, and how to boot-test them (not part of the build ID). */
  targets: TargetsIR;
  bootTest: BootTestIR;
  /** The upstream derivative, compiled in the same session (a downstream builds FROM its tag). */
  upstream?: Compiled;
}

export class Compiler {
  private readonly done = new Map<string, Result<Compiled>>();

  constructor(
    private readonly host: Host,
    private readonly options: CompileOptions,
  ) {}

  /** Memoised by path and content: asking twice (a shared upstream, a later stage) compiles once. */
  compile(v: ValidatedManifest): Result<Compiled> {
    const key = `${v.path}\0${createHash('sha256').update(v.source.text).digest('hex')}`;
    let result = this.done.get(key);
    if (!result) {
      result = this.compileOnce(v);
      this.done.set(key, result);
    }
    return result;
  }

  /**
   * The ID covers the IR, derivc's version, the upstream's ID and every generated file but what
   * names the ID itself: a derivc whose output changed (a fix in an emitter) rebuilds the image
   * even when the manifest and the version did not.
   */
  private compileOnce(v: ValidatedManifest): Result<Compiled> {
    const upstream = v.upstream ? this.compile(v.upstream) : undefined;
    const normalized = normalize(v, this.host);
    const pinned = pinUpstream(v, normalized.value, upstream?.value, this.options.pins);
    const at = (pointer: string) => ({ file: v.path, pointer, range: v.source.locate(pointer, 'key') });
    const draft = emit(pinned.value, { at });
    const output = draft.value.files.map((f) => [f.path, f.content, f.mode]);
    const id = buildIdOf({ ir: pinned.value, version: this.options.version, output, ...(upstream ? { upstreamBuildId: upstream.value.buildId } : {}) });
    const sealed = seal(pinned.value, draft.value, id, this.options.version);
    // An upstream that does not compile cannot be built FROM: its problems are this build's too.
    const diagnostics: Diagnostic[] = [...(upstream?.diagnostics ?? []), ...normalized.diagnostics, ...pinned.diagnostics, ...draft.diagnostics];
    return {
      value: { ...sealed, build: pinned.value, targets: targetsOf(v), bootTest: bootTestOf(v), ...(upstream ? { upstream: upstream.value } : {}) },
      diagnostics,
    };
  }
}

/** One manifest in a session of its own (tests, one-off callers). */
export function compile(v: ValidatedManifest, host: Host, options: CompileOptions): Result<Compiled> {
  return new Compiler(host, options).compile(v);
}
