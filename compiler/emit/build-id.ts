// The build ID: a digest of the normalized manifest, every file it references (their bytes are
// in the IR), the generated build context, the upstream's build ID and the derivc version. Same inputs, same ID — whatever the
// manifest's key order — so a build can tell "nothing changed" without building.

import { createHash } from 'node:crypto';

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with object keys sorted at every level and byte arrays replaced by their digest. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Uint8Array) return `sha256:${sha256(v)}`;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function buildIdOf(parts: { ir: unknown; version: string; output?: unknown; upstreamBuildId?: string }): string {
  return `sha256:${sha256(canonicalJson(parts))}`;
}
