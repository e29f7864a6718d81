// derivc validate [FILE…] [--format pretty|json|github|sarif] [--strict] [--root DIR]

import { join } from 'node:path';
import { dedupeDiagnostics, isFailing, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import { choice } from '../choices.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { FORMAT_NAMES, formatDiagnostics, type FormatName } from '../format/index.js';
import { wantsColor, type CliIO } from '../io.js';
import { ignoredCodes, suppressor } from '../suppression.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';

export interface ValidateArgs {
  files: string[];
  format: string;
  strict: boolean;
  /** A diagnostic's file as github and sarif name it (cli/report-paths.ts). */
  paths?: (file: string) => string;
  /** `--ignore CODE`: warnings to drop (cli/suppression.ts). */
  ignore?: string[] | undefined;
}

/** FILE defaults to ./derivative.yaml; a directory means the derivative.yaml inside it. */
export function manifestPaths(files: string[], io: CliIO): string[] {
  const list = files.length ? files : ['derivative.yaml'];
  // `derivc validate "$MANIFEST"` with the variable unset: say so, rather than report a nameless file.
  if (list.includes('')) throw new UsageError('a FILE argument is empty; name a manifest such as `derivative.yaml`');
  return list.map((f) => (io.host.kind(f) === 'directory' ? join(f, 'derivative.yaml') : f));
}

export function checkFormat(format: string): FormatName {
  return choice('--format', format, FORMAT_NAMES);
}

export function validateCommand(args: ValidateArgs, io: CliIO): number {
  const format = checkFormat(args.format);
  const ignore = ignoredCodes(args.ignore);
  const session = validationSession(io.host);
  const all: Diagnostic[] = [];
  let sources = session.sources;
  for (const path of manifestPaths(args.files, io)) {
    const kept = suppressor(io.host, path, ignore, io.cwd ?? process.cwd()).apply(session.validate(path).diagnostics, session.sources);
    for (const d of kept.diagnostics) all.push(d);
    sources = new Map([...sources, ...kept.sources]);
  }
  const diagnostics = sortDiagnostics(dedupeDiagnostics(all));
  const text = formatDiagnostics(
    format,
    { diagnostics, sources },
    { color: wantsColor(io), toolVersion: VERSION, ...(args.paths ? { path: args.paths } : {}) },
  );
  // People read pretty output on stderr when it reports problems; machine formats always go to stdout.
  io.stdout(text);
  return diagnostics.some((d) => isFailing(d, args.strict)) ? EXIT.failed : EXIT.ok;
}
