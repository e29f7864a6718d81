// Defensive readers for data that may have failed schema validation: semantic rules run on
// whatever the user wrote and must never throw on an unexpected shape.

export type Obj = Record<string, unknown>;

export function obj(v: unknown): Obj | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function strings(v: unknown): string[] {
  return arr(v).filter((x): x is string => typeof x === 'string');
}

/** Entries of a mapping, in the order written. */
export function entries(v: unknown): [string, unknown][] {
  const o = obj(v);
  return o ? Object.entries(o) : [];
}
