// One table of exit codes (also in the README).
export const EXIT = {
  ok: 0,
  /** Diagnostics at or above the threshold, or a failed build/target. */
  failed: 1,
  /** `--check` or `diff` found changes. */
  changed: 2,
  usage: 3,
  internal: 4,
} as const;

/** A mistake in how derivc was called: printed with the usage hint, exit 3. */
export class UsageError extends Error {}
