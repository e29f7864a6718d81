// Every command, its arguments and its flags, in one table: the parser (cli/main.ts) accepts what
// it lists, checks the values it lists, and `derivc --help` / `derivc help CMD` / `derivc CMD
// --help` are rendered from it, so a flag cannot exist without its help line.

import { FAMILIES } from '../compiler/family.js';
import { TARGET_NAMES } from '../compiler/normalize/targets.js';
import { DIFF_FORMATS } from './commands/diff.js';
import { PLAN_FORMATS } from './commands/plan.js';
import { FORMAT_NAMES } from './format/index.js';
import { COLOR_MODES } from './io.js';
import { GRAPH_FORMATS, MATRIX_FORMATS } from './fleet/formats.js';
import { VERSION } from './version.js';

/** `derivc doctor --format`; here rather than in doctor.ts, which is loaded only when doctor runs. */
export const DOCTOR_FORMATS = ['pretty', 'json'] as const;

/** How parseArgs reads a flag (the same for every command that takes it). */
export const FLAGS = {
  format: { type: 'string' },
  strict: { type: 'boolean' },
  'cloud-config': { type: 'boolean' },
  family: { type: 'string' },
  from: { type: 'string' },
  name: { type: 'string' },
  arg: { type: 'string', multiple: true },
  out: { type: 'string', short: 'o' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  check: { type: 'boolean' },
  base: { type: 'string' },
  'ignore-build-id': { type: 'boolean' },
  all: { type: 'boolean' },
  root: { type: 'string' },
  target: { type: 'string' },
  media: { type: 'string' },
  firmware: { type: 'string' },
  parallel: { type: 'boolean' },
  color: { type: 'string' },
  ignore: { type: 'string', multiple: true },
  jobs: { type: 'string', short: 'j' },
  'keep-going': { type: 'boolean' },
  affected: { type: 'boolean' },
  builder: { type: 'string' },
  push: { type: 'boolean' },
  'cache-from': { type: 'string', multiple: true },
  'cache-to': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export type FlagName = keyof typeof FLAGS;

/** A flag as one command uses it. */
export interface FlagUse {
  flag: FlagName;
  /** The value's placeholder in help (`DIR`); `values` joined by `|` when absent. */
  value?: string;
  /** The values accepted, checked before the command runs (typos get a suggestion). */
  values?: readonly string[];
  /** `--target iso,raw`: several values, comma-separated. */
  list?: boolean;
  /** Shown in brackets in the synopsis unless required. */
  required?: boolean;
  text: string;
}

export interface CommandSpec {
  /** Positional arguments, as the synopsis shows them. */
  args: string;
  summary: string;
  flags: readonly FlagUse[];
  /** More lines for `derivc help CMD`. */
  details?: readonly string[];
}

const format = (values: readonly string[], text = 'output format'): FlagUse => ({ flag: 'format', values, text: `${text} (default pretty)` });
const ignore: FlagUse = {
  flag: 'ignore',
  value: 'CODE',
  text: 'drop warnings with this code (repeatable or comma-separated; errors cannot be ignored; see also derivc.config.yaml)',
};
const root: FlagUse = {
  flag: 'root',
  value: 'DIR',
  text: 'paths in github and sarif output are relative to DIR (default: the git work tree root, else the current directory)',
};

/** `--builder`; here rather than in cli/build/builder.ts, which is loaded only when a build runs. */
export const BUILDER_CHOICES = ['auto', 'buildkit', 'classic'] as const;
const builder: FlagUse = {
  flag: 'builder',
  values: BUILDER_CHOICES,
  text: "the Engine's builder (default auto: BuildKit where the Engine has it, else classic; DOCKER_BUILDKIT=0|1 as for docker)",
};

/** Flags every command takes; listed under each command's help, after its own. */
export const GLOBAL_FLAGS: readonly FlagUse[] = [
  { flag: 'color', values: COLOR_MODES, text: 'colour in pretty output (default auto: on a terminal, unless NO_COLOR; FORCE_COLOR=0|1 overrides auto)' },
  { flag: 'help', text: 'show this help' },
];

export const COMMANDS: Readonly<Record<string, CommandSpec>> = {
  init: {
    args: '[DIR]',
    summary: 'scaffold a derivative.yaml that validates (and its JSON Schema), or the one that says what a derivative Dockerfile does',
    flags: [
      { flag: 'family', values: FAMILIES, text: 'the base distribution (default opensuse; with --from: inferred from the Dockerfile)' },
      {
        flag: 'from',
        value: 'Dockerfile',
        text: 'convert an existing derivative Dockerfile and report where each instruction went (build.steps for the rest)',
      },
      { flag: 'name', value: 'N', text: 'metadata.name of the converted manifest (default: the Dockerfile folder name)' },
      { flag: 'arg', value: 'NAME=VALUE', text: 'pin a build argument the Dockerfile leaves without a default, like docker build --build-arg (repeatable)' },
      format(['pretty', 'json'], 'report format (with --from)'),
    ],
  },
  validate: {
    args: '[FILE…]',
    summary: 'check manifests (default ./derivative.yaml; `-` reads one from stdin) and print diagnostics',
    flags: [format(FORMAT_NAMES), { flag: 'strict', text: 'warnings fail too (exit 1)' }, ignore, root],
  },
  compile: {
    args: '[FILE]',
    summary: 'generate the build context (Dockerfile, rootfs/, files/, derivc.json) into DIR',
    flags: [
      { flag: 'out', value: 'DIR', required: true, text: 'the output directory' },
      { flag: 'check', text: 'write nothing; exit 2 with a diff when DIR is stale' },
      { flag: 'strict', text: 'warnings fail too (exit 1)' },
      format(FORMAT_NAMES, 'diagnostic format'),
      ignore,
      root,
    ],
  },
  plan: {
    args: '[FILE]',
    summary: 'what compile, build and the targets would do, as one JSON plan or a view of it',
    flags: [
      format(PLAN_FORMATS),
      { flag: 'target', values: [...TARGET_NAMES, 'none'], list: true, text: "the targets to plan (default: the manifest's `targets`; none: no medium)" },
      ignore,
    ],
  },
  diff: {
    args: 'OLD NEW | [FILE]',
    summary: 'diff of the compiled outputs of two manifests, or of FILE against a git revision; exits 2 when they differ',
    flags: [
      { flag: 'base', value: 'GIT_REV', text: 'compare FILE in the working tree with FILE at GIT_REV' },
      format(DIFF_FORMATS),
      { flag: 'ignore-build-id', text: 'the derivc.build-id label and the build ID in derivc.json are no difference' },
      { flag: 'all', text: "show derivc.json too (hidden by default: it is derivc's record of the other files)" },
    ],
    details: ['A diff whose only differences are left out exits 0 and says what was left out.'],
  },
  build: {
    args: '[PATH…]',
    summary: "compile into DIR, build the image through the Docker Engine, then make the manifest's targets",
    flags: [
      { flag: 'out', value: 'DIR', text: 'the build context and media directory (default .derivc/NAME; several manifests: DIR/NAME)' },
      { flag: 'quiet', text: 'only the result lines and diagnostics' },
      { flag: 'json', text: 'progress and results as JSON lines on stdout' },
      {
        flag: 'target',
        values: [...TARGET_NAMES, 'none'],
        list: true,
        text: "the media to make (default: the manifest's `targets`; none: the image only)",
      },
      { flag: 'jobs', value: 'N', text: 'build up to N manifests at once (default 1)' },
      { flag: 'keep-going', text: 'after a failure, go on with every manifest not built from the failed one' },
      ignore,
      builder,
      {
        flag: 'push',
        text: "push every tag of each manifest's image (and of upstreams pinned by digest) with the docker CLI's credentials; digests go to DIR/derivc.pushed.json",
      },
      {
        flag: 'cache-from',
        value: 'REF',
        text: 'reuse the layers of image REF (its BuildKit inline cache, read from its registry; classic builder: only if on the Engine); repeatable',
      },
      {
        flag: 'cache-to',
        value: 'REF',
        text: 'push the built image, with BuildKit inline cache, as REF (BuildKit only); a fresh Engine then builds with --cache-from REF',
      },
    ],
    details: [
      'PATH is a manifest (default ./derivative.yaml), a directory (every derivative.yaml below it, outside',
      '.git, node_modules and output directories) or a quoted pattern derivc expands (`*`, `?`, `**`).',
      'Upstream derivatives are built first, also those no PATH names; nothing is built when the image is up',
      'to date. The image is checked against the derivative contract, then each target writes',
      'NAME-VERSION.<ext> + .sha256 into DIR. Several manifests end with a summary table; with --jobs N',
      'above 1 every line starts with [NAME]. Without --keep-going the first failure starts nothing new.',
      'DOCKER_HOST selects the Engine (default: its local socket).',
      "REF may hold {name}, replaced by each manifest's metadata.name; with several manifests --cache-to needs it.",
      "The cache flags change neither the compiled files nor the build ID; registry credentials are the docker CLI's.",
    ],
  },
  graph: {
    args: '[PATH…]',
    summary: 'the derivatives under PATH (default .) and the upstreams they are built from, as one graph',
    flags: [format(GRAPH_FORMATS)],
    details: [
      'dot is Graphviz (`derivc graph --format dot | dot -Tsvg`); json is',
      '{"formatVersion":1,"nodes":[…],"edges":[{"from":UPSTREAM,"to":DOWNSTREAM}]}, nodes and edges by manifest path.',
    ],
  },
  matrix: {
    args: '[PATH…]',
    summary: 'the CI jobs that build the derivatives under PATH (default .): one per derivative and target',
    flags: [
      { flag: 'format', values: MATRIX_FORMATS, required: true, text: 'github: GITHUB_OUTPUT lines, one matrix per level; gitlab: a child pipeline; json' },
      { flag: 'affected', text: 'only the derivatives a change since --base affects, and those built from them' },
      { flag: 'base', value: 'GIT_REV', text: 'with --affected: the revision the working tree is compared with' },
    ],
    details: [
      'A job builds one derivative (`derivc build MANIFEST --target TARGET`, none: the image only) after the',
      "jobs of its upstream. A derivative is affected when its manifest, a file it reads or its upstream's changed.",
      'github prints `depth=N`, `jobs=N` and `level0=…` to `level<N-1>=…` ({"include":[…]}), for >> "$GITHUB_OUTPUT".',
    ],
  },
  test: {
    args: '[FILE]',
    summary: 'boot each medium in QEMU and check the serial console against `tests.boot`',
    flags: [
      { flag: 'out', value: 'DIR', text: 'where the media are (built when missing) and test/ is written (default .derivc/NAME)' },
      { flag: 'media', values: ['iso', 'raw'], list: true, text: "the media to boot (default: the manifest's tests.boot.media)" },
      { flag: 'firmware', values: ['bios', 'uefi'], list: true, text: "the firmware to boot under (default: the manifest's tests.boot.firmware)" },
      { flag: 'parallel', text: 'boot every run at once (default: one per two cores)' },
      builder,
    ],
    details: ['Writes DIR/test/junit.xml and, per run, console.log and result.json.'],
  },
  fmt: {
    args: '[FILE…]',
    summary: 'rewrite manifests in canonical form (key order, 2-space indent, quoted modes; comments kept)',
    flags: [{ flag: 'check', text: 'write nothing; exit 2 with a diff when a file is not formatted' }],
    details: [
      "Keys follow the schema's order; keys inside `stages` and scalars other than file modes stay as written.",
      'A file that does not parse is reported (exit 1) and left alone.',
    ],
  },
  schema: {
    args: '',
    summary: 'print the JSON Schema of the manifest (or of a cloud-config file), or write both into DIR',
    flags: [
      { flag: 'cloud-config', text: 'print the schema of a /system/oem cloud-config file instead' },
      {
        flag: 'out',
        value: 'DIR',
        text: 'write derivative.schema.json and cloud-config.schema.json into DIR (created if missing; each file replaced whole) instead of printing',
      },
    ],
    details: [
      'Both schemas are self-contained (no network, no second file). An editor with yaml-language-server uses them',
      'through a first line such as `# yaml-language-server: $schema=./derivative.schema.json` (derivc init writes it).',
    ],
  },
  explain: {
    args: '[CODE]',
    summary: 'what a diagnostic code means and how to fix it (no CODE: list all)',
    flags: [],
  },
  doctor: {
    args: '',
    summary: 'which Docker Engine and host tools are here, and the apt-get line for the rest; exits 1 without an Engine',
    flags: [format(DOCTOR_FORMATS)],
  },
  help: {
    args: '[COMMAND]',
    summary: "this help, or one command's",
    flags: [],
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

const EXIT_CODES = `Exit codes: 0 ok, 1 problems found (errors; warnings too with --strict), 2 changes found,
3 usage error, 4 internal error.`;

/** `--format pretty|json`, `-o DIR`, `--strict`. */
function flagText(use: FlagUse): string {
  const short = 'short' in FLAGS[use.flag] ? (FLAGS[use.flag] as { short: string }).short : undefined;
  // `-o DIR` as users type it; booleans by their long names, which say what they do.
  if (FLAGS[use.flag].type === 'boolean') return `--${use.flag}`;
  return `${short ? `-${short}` : `--${use.flag}`} ${use.value ?? use.values!.join(use.list ? ',' : '|')}`;
}

/** `derivc compile [FILE] -o DIR [--check] …`: the command's own flags. */
export function synopsis(name: string): string {
  const spec = COMMANDS[name]!;
  const flags = spec.flags.map((f) => (f.required ? flagText(f) : `[${flagText(f)}]`));
  return ['derivc', name, spec.args, ...flags].filter(Boolean).join(' ');
}

/** The help of one command: synopsis, summary, every flag it takes with its description. */
export function commandHelp(name: string): string {
  const spec = COMMANDS[name]!;
  const rows = [...spec.flags, ...GLOBAL_FLAGS].map((f) => {
    const short = 'short' in FLAGS[f.flag] ? `-${(FLAGS[f.flag] as { short: string }).short}, ` : '';
    const long = FLAGS[f.flag].type === 'boolean' ? `--${f.flag}` : `--${f.flag} ${f.value ?? f.values!.join(f.list ? ',' : '|')}`;
    return [short + long, f.text] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `Usage: ${synopsis(name)}`,
    '',
    `${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`,
    ...(spec.details ? ['', ...spec.details] : []),
    '',
    'Flags:',
    ...rows.map(([left, text]) => `  ${left.padEnd(width)}  ${text}`),
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}

/** `derivc --help`: every command's synopsis and summary, and the global flags. */
export function globalHelp(): string {
  const commands = COMMAND_NAMES.map((name) => `  ${synopsis(name)}\n      ${COMMANDS[name]!.summary}`);
  return [
    `derivc ${VERSION} — derivative-as-code for the cOS toolkit`,
    '',
    'Usage:',
    ...commands,
    '',
    'Flags of every command:',
    '  --color auto|always|never  colour in pretty output (default auto; NO_COLOR and FORCE_COLOR are honoured)',
    '  -h, --help                 show help (`derivc help COMMAND` or `derivc COMMAND --help`: one command and all its flags)',
    '  -v, --version              print the version',
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}
