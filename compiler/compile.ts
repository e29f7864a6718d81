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
  return identify(v, host, options).id;
}

/** Stands in for the build ID in the draft emission the ID is computed from. */
const PENDING_ID = 'sha256:pending';

/**
 * The ID covers the normalized manifest, derivc's version, the upstream's ID, and the generated
 * files themselves (emitted once with a placeholder ID): a derivc whose output changed — a fix in
 * an emitter — rebuilds the image even when the manifest and the version did not change.
 */
function identify(v: ValidatedManifest, host: Host, options: CompileOptions) {
  const normalized = normalize(v, host);
  const at = (pointer: string) => ({ file: v.path, pointer, range: v.source.locate(pointer, 'key') });
  const draft = emit(normalized.value, { version: options.version, buildId: PENDING_ID, at });
  const output = draft.value.files.map((f) => [f.path, f.content, f.mode]);
  const id = buildIdOf({ ir: normalized.value, version: options.version, output, ...(v.upstream ? { upstreamBuildId: buildId(v.upstream, host, options) } : {}) });
  return { id, normalized, at };
}

export function compile(v: ValidatedManifest, host: Host, options: CompileOptions): Result<CompileOutput> {
  const { id, normalized, at } = identify(v, host, options);
  const emitted = emit(normalized.value, { version: options.version, buildId: id, at });
  return { value: emitted.value, diagnostics: [...normalized.diagnostics, ...emitted.diagnostics] };
}
