// derivc init [DIR] [--family F]: scaffold a manifest that validates, with the JSON Schema next
// to it so editors complete and check it offline, and a .gitignore that keeps `derivc build`'s
// output (.derivc/) out of the repository. With --from Dockerfile: the manifest that says what
// that Dockerfile does, and a report of where each instruction went (cli/import/).

import { appendFileSync, existsSync, lstatSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { FAMILIES, type Family } from '../../compiler/family.js';
import { bundledManifestSchema } from '../../compiler/validate/schema.js';
import { writeFileAtomically } from '../atomic-file.js';
import { EXIT, UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { shown } from '../format/style.js';
import { formatDiagnostics } from '../format/index.js';
import { convertDockerfile } from '../import/from-dockerfile.js';
import { manifestYaml } from '../import/manifest-yaml.js';
import { reportSummary, reportText } from '../import/mapping-report.js';
import { directoryProbe, readDockerfile } from '../import/read-dockerfile.js';
import { VERSION } from '../version.js';
import { SCHEMA_FILES, schemaText } from './schema.js';

const BASES: Record<Family, string> = {
  opensuse: 'registry.opensuse.org/opensuse/leap:15.5',
  fedora: 'registry.fedoraproject.org/fedora:40',
  ubuntu: 'ubuntu:22.04',
  debian: 'debian:bookworm',
};

/** A derivative name from a directory name: lowercase, digits and dashes. */
export function nameFrom(dir: string): string {
  const n = basename(resolve(dir))
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return n || 'my-derivative';
}

export function scaffold(name: string, family: Family): string {
  return `# yaml-language-server: $schema=./derivative.schema.json
# A derivative of ${family}: \`derivc validate\` checks it, \`derivc compile -o out\` shows what it
# generates, \`derivc build\` builds the image. The format: derivc.dev/v1alpha1.
apiVersion: derivc.dev/v1alpha1
kind: Derivative
metadata:
  name: ${name}
  version: 0.1.0
base:
  image: ${BASES[family]}
  family: ${family}
system:
  hostname: ${name}
tests:
  boot:
    expect: ["login:"]
`;
}

export interface InitArgs {
  dir: string | undefined;
  family: string | undefined;
  from?: string | undefined;
  name?: string | undefined;
  arg?: string[] | undefined;
  format?: string | undefined;
}

const NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function initCommand(args: InitArgs, io: CliIO): number {
  if (args.family !== undefined && !FAMILIES.includes(args.family as Family)) {
    throw new UsageError(`unknown --family \`${args.family}\`; use one of ${FAMILIES.join(', ')}`);
  }
  if (args.from === undefined && (args.name !== undefined || args.arg?.length || (args.format ?? 'pretty') !== 'pretty')) {
    throw new UsageError('--name, --arg and --format go with `init --from Dockerfile`');
  }
  if (args.name !== undefined && !NAME.test(args.name))
    throw new UsageError(`--name \`${args.name}\` is not a derivative name (lowercase letters, digits and dashes)`);
  if (args.format !== undefined && args.format !== 'pretty' && args.format !== 'json')
    throw new UsageError(`\`init\` --format is pretty or json, not \`${args.format}\``);
  const dir = args.dir ?? '.';
  const manifest = join(dir, 'derivative.yaml');
  if (existsSync(manifest)) {
    io.stderr(`derivc: ${shown(manifest)} exists already; init never overwrites a manifest\n`);
    return EXIT.failed;
  }
  const buildArgValues = buildArgs(args.arg ?? []);
  if (args.from !== undefined) return initFrom(args.from, dir, manifest, { ...args, values: buildArgValues }, io);
  const ignored = write(dir, manifest, scaffold(nameFrom(dir), (args.family ?? 'opensuse') as Family));
  io.stderr(`wrote ${shown(manifest)} (and derivative.schema.json for editors); ${gitignoreNote(ignored, dir)}next: derivc validate ${shown(manifest)}\n`);
  return EXIT.ok;
}

/** The manifest, its schema, and `.derivc/` in DIR's .gitignore; what happened to the .gitignore. */
function write(dir: string, manifest: string, text: string): GitignoreResult {
  mkdirSync(dir, { recursive: true });
  writeFileAtomically(join(dir, SCHEMA_FILES.manifest), new TextEncoder().encode(schemaText(bundledManifestSchema())));
  writeFileSync(manifest, text, { flag: 'wx' });
  return ignoreBuildOutput(join(dir, '.gitignore'));
}

/** `.derivc/`, `.derivc`, `/.derivc/` or `/.derivc`: a line that already ignores the build output. */
const IGNORES_OUTPUT = /^\/?\.derivc\/?$/;

type GitignoreResult = 'written' | 'appended' | 'present' | 'not-a-file';

/**
 * `derivc build` writes to .derivc/NAME by default: a new .gitignore holds `.derivc/`; an existing
 * one gets the line appended when no line ignores it yet — its other lines are the user's, kept
 * as they are. One that is not a regular file (git does not read a symlinked .gitignore) is left alone.
 */
function ignoreBuildOutput(file: string): GitignoreResult {
  const LINE = '.derivc/\n';
  let text: string;
  try {
    if (!lstatSync(file).isFile()) return 'not-a-file';
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    writeFileSync(file, LINE, { flag: 'wx' });
    return 'written';
  }
  if (text.split(/\r?\n/).some((line) => IGNORES_OUTPUT.test(line.trim()))) return 'present';
  appendFileSync(file, (text === '' || text.endsWith('\n') ? '' : '\n') + LINE);
  return 'appended';
}

/** What init says about the .gitignore: '' or a clause ending in '; '. */
function gitignoreNote(result: GitignoreResult, dir: string): string {
  const file = shown(join(dir, '.gitignore'));
  switch (result) {
    case 'written':
      return `wrote ${file} (.derivc/, derivc build's output); `;
    case 'appended':
      return `appended .derivc/ (derivc build's output) to ${file}; `;
    case 'not-a-file':
      return `left ${file} alone (not a regular file): add .derivc/ to your ignore rules; `;
    case 'present':
      return '';
  }
}

/** `--arg NAME=VALUE`, as `docker build --build-arg` takes them. */
function buildArgs(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of list) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(a);
    if (!m) throw new UsageError(`--arg \`${a}\` is not NAME=VALUE`);
    out[m[1]!] = m[2]!;
  }
  return out;
}

function initFrom(from: string, dir: string, manifest: string, args: InitArgs & { values: Record<string, string> }, io: CliIO): number {
  const read = readDockerfile(from);
  if ('problem' in read) {
    io.stderr(`derivc: cannot convert: ${read.problem}\n`);
    return EXIT.failed;
  }
  const context = dirname(resolve(from));
  // COPY sources are relative to the Dockerfile's directory; the manifest names them relative to itself.
  const prefix = relative(resolve(dir), context).split(sep).join('/');
  const file = basename(from);
  const result = convertDockerfile(read.text, {
    file: from,
    name: args.name ?? nameFrom(context),
    args: args.values,
    ...(args.family ? { family: args.family as Family } : {}),
    contextPrefix: prefix,
    isDirectory: directoryProbe(context),
  });
  const json = args.format === 'json';
  if (result.diagnostics.length && !json) {
    io.stderr(formatDiagnostics('pretty', { diagnostics: result.diagnostics, sources: new Map([[from, read.text]]) }, { color: false, toolVersion: VERSION }));
  }
  if (!result.value) {
    if (json) io.stdout(JSON.stringify({ formatVersion: 1, manifest: null, report: [], diagnostics: result.diagnostics }, null, 2) + '\n');
    return EXIT.failed;
  }
  const ignored = write(dir, manifest, manifestYaml(result.value, file));
  if (json) io.stdout(JSON.stringify({ formatVersion: 1, manifest, report: result.value.report, diagnostics: result.diagnostics }, null, 2) + '\n');
  else io.stdout(reportText(result.value.report, file));
  io.stderr(
    `wrote ${shown(manifest)} from ${shown(from)}: ${reportSummary(result.value.report)}; ${gitignoreNote(ignored, dir)}next: derivc validate ${shown(manifest)}\n`,
  );
  return EXIT.ok;
}
