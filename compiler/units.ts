// Sizes (`64MiB`, `8GiB`) and durations (`90s`, `5m`) as the manifest writes them.

const SIZE_UNITS: Record<string, number> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Bytes, or undefined for anything that is not `<positive integer><KiB|MiB|GiB|TiB>`. */
export function parseSize(text: unknown): number | undefined {
  const m = typeof text === 'string' ? /^([1-9][0-9]*)(KiB|MiB|GiB|TiB)$/.exec(text) : null;
  return m ? Number(m[1]) * SIZE_UNITS[m[2]!]! : undefined;
}

/** Milliseconds, or undefined. */
export function parseDuration(text: unknown): number | undefined {
  const m = typeof text === 'string' ? /^([1-9][0-9]*)(ms|s|m|h)$/.exec(text) : null;
  return m ? Number(m[1]) * DURATION_UNITS[m[2]!]! : undefined;
}

export function formatSize(bytes: number): string {
  for (const unit of ['TiB', 'GiB', 'MiB', 'KiB'] as const) {
    if (bytes >= SIZE_UNITS[unit]! && bytes % SIZE_UNITS[unit]! === 0) return `${bytes / SIZE_UNITS[unit]!}${unit}`;
  }
  return `${bytes}B`;
}
