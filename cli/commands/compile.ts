// derivc compile [FILE] -o DIR [--check] [--strict] [--format …]
// Validates, compiles, then writes the build context into DIR (cli/output-dir.ts: DIR is the old or
// the new state, never a mix) — or, with --check, writes nothing and exits 2 with a unified diff
// when DIR is stale or holds files derivc did not write in its namespace.

import { join } from 'node:path';
import { compile } from '../../compiler/compile.js';
import type { PinOptions } from '../../compiler/pin.js';
import { recordedPins } from '../build/push-record.js';
import { isFailing, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import type { CompileOutput } from '../../compiler/emit/types.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatDiagnostics } from '../format/index.js';
import { wantsColor, type CliIO } from '../io.js';
import { recordInputs } from '../input-paths.js';
import { checkGenerated, openOutputDir, type OutputDir } from '../output-dir.js';
import { ignoredCodes, suppressor } from '../suppression.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';
import { checkFormat, manifestPaths } from './validate.js';
import { shown } from '../format/style.js';

export interface CompileArgs {
  files: string[];
  out: string | undefined;
  check: boolean;
  strict: boolean;
  format: string;
  /** A diagnostic's file as github and sarif name it (cli/report-paths.ts). */
  paths?: (file: string) => string;
  /** `--ignore CODE`: warnings to drop (cli/suppression.ts). */
  ignore?: string[] | undefined;
}

/** Validate + compile one manifest; diagnostics are printed, the output returned when usable. */
export function compileToMemory(
  path: string,
  io: CliIO,
  opts: { strict: boolean; format: string; paths?: ((file: string) => string) | undefined; ignore?: string[] | undefined; pins?: PinOptions },
): CompileOutput | undefined {
  const format = checkFormat(opts.format);
  const ignore = ignoredCodes(opts.ignore);
  const session = validationSession(io.host);
  const validated = session.validate(path);
  const found: Diagnostic[] = [...validated.diagnostics];
  let output: CompileOutput | undefined;
  if (validated.value.manifest) {
    const compiled = compile(validated.value.manifest, io.host, { version: VERSION, ...(opts.pins ? { pins: opts.pins } : {}) });
    found.push(...compiled.diagnostics);
    output = compiled.value;
  }
  const { diagnostics, sources } = suppressor(io.host, path, ignore, io.cwd ?? process.cwd()).apply(found, session.sources);
  const failing = diagnostics.some((d) => isFailing(d, opts.strict));
  if (diagnostics.length) {
    const text = formatDiagnostics(
      format,
      { diagnostics: sortDiagnostics(diagnostics), sources },
      { color: wantsColor(io), toolVersion: VERSION, ...(opts.paths ? { path: opts.paths } : {}) },
    );
    (format === 'pretty' ? io.stderr : io.stdout)(text);
  }
  return failing ? undefined : output;
}

export function compileCommand(args: CompileArgs, io: CliIO): number | Promise<number> {
  if (!args.out) throw new UsageError('`compile` needs an output directory: -o DIR');
  if (args.files.length > 1) throw new UsageError('`compile` takes one manifest');
  const out = args.out;
  const [path] = manifestPaths(args.files, io);
  const recording = recordInputs(io.host, () => path);
  // `build.pin: digest`: the upstream's push as `derivc build --push` recorded it (.derivc/NAME, build's default).
  const pins = recordedPins((name) => join(io.cwd ?? process.cwd(), '.derivc', name));
  const output = compileToMemory(path!, { ...io, host: recording.host }, { ...args, pins });
  if (!output) return EXIT.failed;
  const note = (line: string) => io.stderr(`derivc: ${shown(line)}\n`);
  checkGenerated(output.files); // a refused path: before anything is created
  const opened = openOutputDir(
    out,
    { inputs: recording.inputs, command: args.check ? 'compile --check' : 'compile', note, forCheck: args.check },
    { ...(io.signal ? { signal: io.signal } : {}), onWait: note },
  );
  const finish = (dir: OutputDir): number => {
    try {
      if (args.check) {
        const { stale, diff } = dir.check(output.files);
        if (!stale) {
          io.stderr(`${shown(out)} is up to date\n`);
          return EXIT.ok;
        }
        io.stdout(diff);
        io.stderr(`${shown(out)} is stale: run \`derivc compile ${shown(path!)} -o ${shown(out)}\`\n`);
        return EXIT.changed;
      }
      const report = dir.write(output.files);
      const extra = [report.kept.length ? `${report.kept.length} kept` : '', report.unlisted.length ? `${report.unlisted.length} unlisted` : '']
        .filter(Boolean)
        .join(', ');
      io.stderr(
        `compiled ${shown(path!)} → ${shown(out)}: ${report.written.length} written, ${report.unchanged.length} unchanged, ${report.removed.length} removed${extra ? `, ${extra}` : ''} (build ${output.buildId.slice(0, 19)}…)\n`,
      );
      return EXIT.ok;
    } finally {
      dir.close();
    }
  };
  return opened instanceof Promise ? opened.then(finish) : finish(opened);
}
