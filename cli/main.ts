// derivc entry point: parse the command line, run one command, map the outcome to an exit code.

import { parseArgs } from 'node:util';
import { compileCommand } from './commands/compile.js';
import { initCommand } from './commands/init.js';
import { diffCommand } from './commands/diff.js';
import { explainCommand } from './commands/explain.js';
import { planCommand } from './commands/plan.js';
import { schemaCommand } from './commands/schema.js';
import { validateCommand } from './commands/validate.js';
import { EXIT, UsageError } from './exit-codes.js';
import type { CliIO } from './io.js';
import { continued } from './format/style.js';
import { OutputDirError } from './output-dir.js';
import { VERSION } from './version.js';

export const USAGE = `derivc ${VERSION} — derivative-as-code for the cOS toolkit

Usage:
  derivc init [DIR] [--family opensuse|fedora|ubuntu|debian]
                                  scaffold a derivative.yaml that validates (and its JSON Schema)
  derivc init [DIR] --from Dockerfile [--name N] [--arg NAME=VALUE…] [--family F] [--format pretty|json]
                                  write the manifest that says what an existing derivative Dockerfile
                                  does, and report where each instruction went (build.steps for the rest)
  derivc validate [FILE…] [--format pretty|json|github|sarif] [--strict]
                                  check manifests (default ./derivative.yaml) and print diagnostics
  derivc compile [FILE] -o DIR [--check] [--strict] [--format …]
                                  generate the build context (Dockerfile, rootfs/, files/, derivc.json)
                                  into DIR; --check writes nothing and exits 2 with a diff when DIR is stale
  derivc plan [FILE] [--format pretty|json] [--target iso,…]
                                  what compile, build and the targets would do, as one JSON plan or a
                                  view of it (targets: those the manifest enables, or --target)
  derivc diff OLD NEW | --base GIT_REV [FILE]  [--format pretty|github]
                                  diff of the compiled outputs of two manifests, or of FILE in the
                                  working tree against GIT_REV; exits 2 when they differ
  derivc build [FILE] [-o DIR] [--quiet | --json] [--target iso,…]
                                  compile into DIR (default .derivc/NAME), then build the image through
                                  the Docker Engine (DOCKER_HOST or the default socket): upstreams first,
                                  nothing when the image is up to date; check it against the contract;
                                  then make each --target medium in DIR (NAME-VERSION.iso + .sha256)
  derivc test [FILE] [-o DIR] [--media iso,raw] [--firmware bios,uefi] [--parallel]
                                  boot each medium in DIR (default .derivc/NAME) under each firmware in
                                  QEMU and check the serial console against \`tests.boot\`; writes
                                  DIR/test/junit.xml and per run console.log and result.json
  derivc schema [--cloud-config]  print the JSON Schema of the manifest (or of a cloud-config file)
  derivc explain [CODE]           what a diagnostic code means and how to fix it (no CODE: list all)
  derivc doctor [--format pretty|json]
                                  which daemons and host tools are here, their versions, and the apt-get
                                  line for the rest; exits 1 when no Docker Engine answers

Options:
  -h, --help       show this help
  -v, --version    print the version

Exit codes: 0 ok, 1 problems found (errors; warnings too with --strict), 2 changes found,
3 usage error, 4 internal error.
`;

const OPTIONS = {
  format: { type: 'string', default: 'pretty' },
  strict: { type: 'boolean', default: false },
  'cloud-config': { type: 'boolean', default: false },
  family: { type: 'string' },
  from: { type: 'string' },
  name: { type: 'string' },
  arg: { type: 'string', multiple: true },
  out: { type: 'string', short: 'o' },
  quiet: { type: 'boolean', short: 'q', default: false },
  json: { type: 'boolean', default: false },
  check: { type: 'boolean', default: false },
  base: { type: 'string' },
  target: { type: 'string' },
  media: { type: 'string' },
  firmware: { type: 'string' },
  parallel: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

/** Which options each command accepts: anything else is a usage error, not silently ignored. */
const ACCEPTS: Record<string, readonly string[]> = {
  init: ['family', 'from', 'name', 'arg', 'format'],
  validate: ['format', 'strict'],
  compile: ['out', 'check', 'strict', 'format'],
  build: ['out', 'quiet', 'json', 'target'],
  plan: ['format', 'target'],
  diff: ['base', 'format'],
  schema: ['cloud-config'],
  explain: [],
  doctor: ['format'],
  test: ['out', 'media', 'firmware', 'parallel'],
};

/** Runs one command. Commands that talk to the Docker Engine are asynchronous. */
export function run(argv: string[], io: CliIO): number | Promise<number> {
  try {
    const result = dispatch(argv, io);
    return typeof result === 'number' ? result : result.catch((err: unknown) => failure(err, io));
  } catch (err) {
    return failure(err, io);
  }
}

function dispatch(argv: string[], io: CliIO): number | Promise<number> {
  {
    const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
    if (values.version) return (io.stdout(`${VERSION}\n`), EXIT.ok);
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === 'help') return (io.stdout(USAGE), command === undefined && !values.help ? EXIT.usage : EXIT.ok);
    const accepted = ACCEPTS[command];
    if (!accepted) throw new UsageError(`unknown command \`${command}\``);
    for (const t of tokens) {
      if (t.kind === 'option' && !accepted.includes(t.name)) throw new UsageError(`\`${command}\` does not take ${t.rawName}`);
    }
    switch (command) {
      case 'init':
        if (rest.length > 1) throw new UsageError('`init` takes one DIR');
        return initCommand({ dir: rest[0], family: values.family, from: values.from, name: values.name, arg: values.arg, format: values.format }, io);
      case 'validate':
        return validateCommand({ files: rest, format: values.format, strict: values.strict }, io);
      case 'compile':
        return compileCommand({ files: rest, out: values.out, check: values.check, strict: values.strict, format: values.format }, io);
      case 'plan':
        return planCommand({ files: rest, format: values.format, target: values.target }, io);
      case 'diff':
        return diffCommand({ files: rest, base: values.base, format: values.format }, io);
      case 'build':
        // Loaded on demand, like the Engine client: validate and compile start without them.
        return import('./commands/build.js').then((m) =>
          m.buildCommand({ files: rest, out: values.out, quiet: values.quiet, json: values.json, target: values.target }, io),
        );
      case 'test':
        return import('./commands/test.js').then((m) =>
          m.testCommand({ files: rest, out: values.out, media: values.media, firmware: values.firmware, parallel: values.parallel }, io),
        );
      case 'schema':
        if (rest.length) throw new UsageError('`schema` takes no arguments');
        return schemaCommand({ cloudConfig: values['cloud-config'] }, io);
      case 'explain':
        if (rest.length > 1) throw new UsageError('`explain` takes one CODE');
        return explainCommand({ code: rest[0] }, io);
      case 'doctor':
        return import('./commands/doctor.js').then((m) => m.doctorCommand({ files: rest, format: values.format }, io));
    }
    throw new UsageError(`unknown command \`${command}\``);
  }
}

/** What a thrown error means for the user: a refused output path, a usage mistake, or a bug. */
function failure(err: unknown, io: CliIO): number {
  if (err instanceof OutputDirError) {
    io.stderr(`derivc: ${continued(err.message, '  ')}\n`);
    return EXIT.failed;
  }
  if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    io.stderr(`derivc: ${continued((err as Error).message, '  ')}\nRun \`derivc --help\` for usage.\n`);
    return EXIT.usage;
  }
  io.stderr(
    `derivc: internal error: ${continued((err as Error).stack ?? String(err), '  ')}\nThis is a bug in derivc; please report it with the input that caused it.\n`,
  );
  return EXIT.internal;
}
