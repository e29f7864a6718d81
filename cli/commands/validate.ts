// derivc validate [FILE…] [--format pretty|json|github|sarif] [--strict]

import { join } from 'node:path';
import { dedupeDiagnostics, isFailing, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { FORMAT_NAMES, formatDiagnostics, type FormatName } from '../format/index.js';
import { wantsColor, type CliIO } from '../io.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';

export interface ValidateArgs {
  files: string[];
  format: string;
  strict: boolean;
}

/** FILE defaults to ./derivative.yaml; a directory means the derivative.yaml inside it. */
export function manifestPaths(files: string[], io: CliIO): string[] {
  const list = files.length ? files : ['derivative.yaml'];
  // `derivc validate "$MANIFEST"` with the variable unset: say so, rather than report a nameless file.
  if (list.includes('')) throw new UsageError('a FILE argument is empty; name a manifest such as `derivative.yaml`');
  return list.map((f) => (io.host.kind(f) === 'directory' ? join(f, 'derivative.yaml') : f));
}

export function checkFormat(format: string): FormatName {
  if (!(FORMAT_NAMES as readonly string[]).includes(format)) throw new UsageError(`unknown --format \`${format}\`; use one of ${FORMAT_NAMES.join(', ')}`);
  return format as FormatName;
}

export function validateCommand(args: ValidateArgs, io: CliIO): number {
  const format = checkFormat(args.format);
  const session = validationSession(io.host);
  const all: Diagnostic[] = [];
  for (const path of manifestPaths(args.files, io)) for (const d of session.validate(path).diagnostics) all.push(d);
  const diagnostics = sortDiagnostics(dedupeDiagnostics(all));
  const text = formatDiagnostics(format, { diagnostics, sources: session.sources }, { color: wantsColor(io), toolVersion: VERSION });
  // People read pretty output on stderr when it reports problems; machine formats always go to stdout.
  io.stdout(text);
  return diagnostics.some((d) => isFailing(d, args.strict)) ? EXIT.failed : EXIT.ok;
}
