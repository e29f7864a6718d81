// Entry point of the diagnostic formatters: the CLI picks one by its `--format` name.

import { formatGithub } from './github.js';
import { formatJson } from './json.js';
import { formatPretty } from './pretty.js';
import { formatSarif } from './sarif.js';
import type { FormatInput, FormatOptions } from './types.js';

export type { FormatInput, FormatOptions } from './types.js';

export type FormatName = 'pretty' | 'json' | 'github' | 'sarif';

export const FORMAT_NAMES: readonly FormatName[] = ['pretty', 'json', 'github', 'sarif'];

const FORMATTERS: Record<FormatName, (input: FormatInput, options: FormatOptions) => string> = {
  pretty: formatPretty,
  json: formatJson,
  github: formatGithub,
  sarif: formatSarif,
};

/** The text the CLI writes to stdout, trailing newline included (empty for `github` with nothing to say). */
export function formatDiagnostics(name: FormatName, input: FormatInput, options: FormatOptions): string {
  // Only the formats read by GitHub place diagnostics by a repository path; people read paths as typed.
  const path = options.path;
  if (path && (name === 'github' || name === 'sarif')) input = { ...input, diagnostics: input.diagnostics.map((d) => ({ ...d, file: path(d.file) })) };
  return FORMATTERS[name](input, options);
}
