// derivc entry point: parse the command line, run one command, map the outcome to an exit code.
// What each command accepts is the table in cli/usage.ts; a mistake in calling derivc is said in
// derivc's words (never Node's parser text), with a suggestion and the command's help hint.

import { parseArgs } from 'node:util';
import { didYouMean } from '../compiler/suggest.js';
import { choice, choices } from './choices.js';
import { compileCommand } from './commands/compile.js';
import { initCommand } from './commands/init.js';
import { diffCommand } from './commands/diff.js';
import { explainCommand } from './commands/explain.js';
import { fmtCommand } from './commands/fmt.js';
import { graphCommand } from './commands/graph.js';
import { matrixCommand } from './commands/matrix.js';
import { planCommand } from './commands/plan.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, UsageError } from './exit-codes.js';
import { COLOR_MODES, type CliIO } from './io.js';
import { continued } from './format/style.js';
import { OutputDirError } from './output-dir.js';
import { reportPaths } from './report-paths.js';
import { STDIN_NAME, withStdin } from './stdin-host.js';
import { COMMAND_NAMES, COMMANDS, commandHelp, FLAGS, GLOBAL_FLAGS, globalHelp, type FlagName, type FlagUse } from './usage.js';
import { VERSION } from './version.js';

/** `derivc --help`. */
export const USAGE = globalHelp();

/** The commands whose manifest may be `-` (standard input). */
const STDIN_COMMANDS = new Set(['validate', 'compile', 'plan']);

/** Runs one command. Commands that talk to the Docker Engine are asynchronous. */
export function run(argv: string[], io: CliIO): number | Promise<number> {
  const called: { command?: string } = {};
  try {
    const result = dispatch(argv, io, called);
    return typeof result === 'number' ? result : result.catch((err: unknown) => failure(err, io, called.command));
  } catch (err) {
    return failure(err, io, called.command);
  }
}

type Values = Partial<Record<FlagName, string | boolean | string[]>>;

function dispatch(argv: string[], io: CliIO, called: { command?: string }): number | Promise<number> {
  // Not strict: Node's own errors quote the flag with an unclosed quote and say nothing of derivc.
  // Every check it would make is made below, against the command's row of the table.
  const { values, positionals, tokens } = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: false, tokens: true }) as {
    values: Values;
    positionals: string[];
    tokens: ReturnType<typeof parseArgs>['tokens'] & object;
  };
  const [first, ...rest] = positionals;
  const command = first === undefined || first === 'help' ? undefined : first;
  if (command !== undefined && !COMMANDS[command]) {
    const hint = didYouMean(command, COMMAND_NAMES);
    throw new UsageError(`unknown command \`${command}\`${hint ? `; ${hint}` : ''}`);
  }
  called.command = command;
  const uses = [...(command ? COMMANDS[command]!.flags : []), ...GLOBAL_FLAGS, ...(command ? [] : [{ flag: 'version', text: '' } as FlagUse])];
  checkFlags(tokens, uses, command);

  if (first === 'help') {
    if (values.help) return (io.stdout(USAGE), EXIT.ok);
    if (rest.length > 1) throw new UsageError('`help` takes one COMMAND');
    if (rest.length === 0) return (io.stdout(USAGE), EXIT.ok);
    const topic = rest[0]!;
    if (!COMMANDS[topic]) {
      const hint = didYouMean(topic, COMMAND_NAMES);
      throw new UsageError(`no help for \`${topic}\`: it is not a command${hint ? `; ${hint}` : ''}`);
    }
    return (io.stdout(commandHelp(topic)), EXIT.ok);
  }
  if (values.help) return (io.stdout(command ? commandHelp(command) : USAGE), EXIT.ok);
  if (values.version) return (io.stdout(`${VERSION}\n`), EXIT.ok);
  if (command === undefined) return (io.stdout(USAGE), EXIT.usage);

  const str = (flag: FlagName): string | undefined => values[flag] as string | undefined;
  const bool = (flag: FlagName): boolean => values[flag] === true;
  const format = str('format') ?? 'pretty';
  const cli = withInput(command, rest, { ...io, ...(values.color !== undefined ? { color: choice('--color', str('color')!, COLOR_MODES) } : {}) });
  const files = rest.map((f) => (f === '-' && STDIN_COMMANDS.has(command) ? STDIN_NAME : f));
  const paths = reportPaths(io.cwd ?? process.cwd(), str('root'));
  const ignore = values.ignore as string[] | undefined;
  switch (command) {
    case 'init':
      if (rest.length > 1) throw new UsageError('`init` takes one DIR');
      return initCommand({ dir: rest[0], family: str('family'), from: str('from'), name: str('name'), arg: values.arg as string[] | undefined, format }, cli);
    case 'validate':
      return validateCommand({ files, format, strict: bool('strict'), paths, ignore }, cli);
    case 'compile':
      return compileCommand({ files, out: str('out'), check: bool('check'), strict: bool('strict'), format, paths, ignore }, cli);
    case 'plan':
      return planCommand({ files, format, target: str('target'), ignore }, cli);
    case 'diff':
      return diffCommand({ files, base: str('base'), format, ignoreBuildId: bool('ignore-build-id'), all: bool('all') }, cli);
    case 'build':
      // Loaded on demand, like the Engine client: validate and compile start without them.
      return import('./commands/build.js').then((m) =>
        m.buildCommand(
          {
            files,
            out: str('out'),
            quiet: bool('quiet'),
            json: bool('json'),
            target: str('target'),
            ignore,
            jobs: str('jobs'),
            keepGoing: bool('keep-going'),
            builder: str('builder'),
            push: bool('push'),
            cacheFrom: values['cache-from'] as string[] | undefined,
            cacheTo: str('cache-to'),
          },
          cli,
        ),
      );
    case 'graph':
      return graphCommand({ files, format }, cli);
    case 'matrix':
      return matrixCommand({ files, format: str('format'), affected: bool('affected'), base: str('base') }, cli);
    case 'test':
      return import('./commands/test.js').then((m) =>
        m.testCommand({ files, out: str('out'), media: str('media'), firmware: str('firmware'), parallel: bool('parallel'), builder: str('builder') }, cli),
      );
    case 'fmt':
      return fmtCommand({ files, check: bool('check') }, cli);
    case 'schema':
      if (rest.length) throw new UsageError('`schema` takes no arguments');
      return schemaCommand({ cloudConfig: bool('cloud-config'), out: str('out') }, cli);
    case 'explain':
      if (rest.length > 1) throw new UsageError('`explain` takes one CODE');
      return explainCommand({ code: rest[0] }, cli);
    case 'doctor':
      return import('./commands/doctor.js').then((m) => m.doctorCommand({ files, format }, cli));
  }
  throw new Error(`command \`${command}\` is in the table but not dispatched`);
}

/**
 * Each flag given: known, taken by this command, with a value when it needs one (and none when it
 * does not), the value one of those listed. Typos get the closest flag or value.
 */
function checkFlags(
  tokens: { kind: string; name?: string; rawName?: string; value?: string | undefined; inlineValue?: boolean | undefined }[],
  uses: readonly FlagUse[],
  command: string | undefined,
): void {
  const taken = new Map(uses.map((u) => [u.flag as string, u]));
  const spelled = uses.flatMap((u) => {
    const short = 'short' in FLAGS[u.flag] ? (FLAGS[u.flag] as { short: string }).short : undefined;
    return [`--${u.flag}`, ...(short ? [`-${short}`] : [])];
  });
  const who = command ? `\`${command}\`` : 'derivc';
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const raw = t.rawName!;
    const use = taken.get(t.name!);
    if (!use) {
      if (t.name! in FLAGS) throw new UsageError(`${who} does not take ${raw}`);
      const hint = didYouMean(raw, spelled);
      throw new UsageError(`unknown flag \`${raw}\`${command ? ` for \`${command}\`` : ''}${hint ? `; ${hint}` : ''}`);
    }
    const wants = FLAGS[use.flag].type === 'string';
    const shown = wants ? `${raw} ${use.value ?? use.values!.join(use.list ? ',' : '|')}` : raw;
    if (!wants) {
      if (t.inlineValue) throw new UsageError(`${raw} takes no value (\`${raw}=${t.value}\` given)`);
      continue;
    }
    // `--base --help`: Node would take `--help` as the value; a flag is never meant as one (`-` is: stdin, stdout).
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('-') && t.value !== '-')) throw new UsageError(`${raw} needs a value: ${shown}`);
    if (use.values) (use.list ? choices : choice)(`--${use.flag}`, t.value, use.values);
  }
}

/** `-` as the manifest: standard input, for the commands that read one manifest from it. */
function withInput(command: string, args: readonly string[], io: CliIO): CliIO {
  const dashes = args.filter((a) => a === '-').length;
  if (dashes === 0) return io;
  if (!STDIN_COMMANDS.has(command))
    throw new UsageError(
      `\`${command}\` cannot read a manifest from standard input (\`-\`); name the file (stdin works for ${[...STDIN_COMMANDS].join(', ')})`,
    );
  if (dashes > 1) throw new UsageError('standard input (`-`) can be read once: name it once');
  if (!io.stdin) throw new UsageError('this derivc has no standard input to read');
  return { ...io, host: withStdin(io.host, io.stdin) };
}

/** What a thrown error means for the user: a refused output path, a usage mistake, or a bug. */
function failure(err: unknown, io: CliIO, command: string | undefined): number {
  if (err instanceof OutputDirError) {
    io.stderr(`derivc: ${continued(err.message, '  ')}\n`);
    return EXIT.failed;
  }
  if (err instanceof UsageError) {
    io.stderr(`derivc: ${continued(err.message, '  ')}\nRun \`derivc ${command ? `${command} ` : ''}--help\` for usage.\n`);
    return EXIT.usage;
  }
  io.stderr(
    `derivc: internal error: ${continued((err as Error).stack ?? String(err), '  ')}\nThis is a bug in derivc; please report it with the input that caused it.\n`,
  );
  return EXIT.internal;
}
