// derivc compile: a validated manifest → the files of its build context, with the build ID.

import type { Result } from './diagnostics.js';
import { buildIdOf } from './emit/build-id.js';
import { emit } from './emit/index.js';
import type { CompileOutput } from './emit/types.js';
import type { Host } from './host.js';
import { normalize } from './normalize/index.js';
import type { ValidatedManifest } from './validate/index.js';

export interface CompileOptions {
  /** derivc's version: part of the build ID and recorded in derivc.json. */
  version: string;
}

/** The build ID alone (an upstream's is part of its downstreams'). */
export function buildId(v: ValidatedManifest, host: Host, options: CompileOptions): string {
  const ir = normalize(v, host).value;
  return buildIdOf({ ir, version: options.version, ...(v.upstream ? { upstreamBuildId: buildId(v.upstream, host, options) } : {}) });
}

export function compile(v: ValidatedManifest, host: Host, options: CompileOptions): Result<CompileOutput> {
  const normalized = normalize(v, host);
  const id = buildIdOf({ ir: normalized.value, version: options.version, ...(v.upstream ? { upstreamBuildId: buildId(v.upstream, host, options) } : {}) });
  const emitted = emit(normalized.value, {
    version: options.version,
    buildId: id,
    at: (pointer) => ({ file: v.path, pointer, range: v.source.locate(pointer, 'key') }),
  });
  return { value: emitted.value, diagnostics: [...normalized.diagnostics, ...emitted.diagnostics] };
}
