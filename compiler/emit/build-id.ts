// The build ID: a digest of the normalized manifest, every file it references (by digest: the IR
// holds their bytes or a checked source's sha256), the generated build context, the upstream's
// build ID and the derivc version. Same inputs, same ID — whatever the manifest's key order — so a
// build can tell "nothing changed" without building.

import { createHash } from 'node:crypto';
import { SourceContent } from '../checked-file.js';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hex sha256 of a generated file's content; a checked source brings its own (streamed) digest. */
export function contentDigest(content: string | Uint8Array | SourceContent): string {
  return content instanceof SourceContent ? content.sha256 : sha256(content);
}

/**
 * JSON with object keys sorted at every level and file contents — byte arrays and checked sources
 * alike — replaced by `sha256:<hex>` of their bytes: the same bytes give the same JSON in every
 * form, and a file's bytes are never spelled out (a Buffer's own JSON is an array of numbers,
 * dozens of times the file's size).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

function canonical(value: unknown): unknown {
  if (value instanceof Uint8Array || value instanceof SourceContent) return `sha256:${contentDigest(value)}`;
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  }
  return value;
}

export function buildIdOf(parts: { ir: unknown; version: string; output?: unknown; upstreamBuildId?: string }): string {
  return `sha256:${sha256(canonicalJson(parts))}`;
}
