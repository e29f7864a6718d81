// The shared input and options of every diagnostic formatter, kept apart so the formatters and
// the dispatching index can all import them without a cycle.

import type { Diagnostic } from '../../compiler/diagnostics.js';

export interface FormatInput {
  /** Already sorted (and deduplicated) by the caller; formatters keep this order. */
  diagnostics: readonly Diagnostic[];
  /** A diagnostic's `file` → that file's text; missing for files that could not be read. */
  sources: ReadonlyMap<string, string>;
}

export interface FormatOptions {
  /** ANSI colour; the CLI decides (TTY and no NO_COLOR), formatters only obey. */
  color: boolean;
  /** derivc's own version, for SARIF's `tool.driver.version`. */
  toolVersion: string;
  /** A diagnostic's file as `github` and `sarif` name it: relative to the repository root (cli/report-paths.ts). Absent: as given. */
  path?: (file: string) => string;
}
