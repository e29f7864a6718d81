// derivc build [FILE] [-o DIR] [--quiet | --json] [--target iso,…|none] [--builder auto|buildkit|classic]: validate, compile into
// DIR, then build the image through the Docker Engine API — upstream derivatives first, nothing at
// all when an image with the same build ID exists — and check the result against the derivative
// contract. Then each medium of the manifest's `targets` (or of --target; `none`: none) is made
// from the image into DIR (cli/build/media.ts).

import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Compiler, type Compiled } from '../../compiler/compile.js';
import { MANIFEST_FILE } from '../../compiler/emit/types.js';
import { BUILD_ID_LABEL } from '../../compiler/emit/dockerfile.js';
import { isFailing, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import type { ValidatedManifest, ValidationSession } from '../../compiler/validate/index.js';
import { contextStream } from '../../targets/io/build-context.js';
import { EngineUnreachableError, type BuilderKind, type DockerEngine, type EngineInfo } from '../../targets/io/engine.js';
import { nodeTargetIO } from '../../targets/io/target-io.js';
import type { TargetIO } from '../../targets/target.js';
import { buildFailure } from '../build/failure.js';
import { builderPreflight, chooseBuilder, prepareBuild, requestedBuilder } from '../build/builder.js';
import { checkContract } from '../build/contract.js';
import { makeMedia, parseTargets, sourceDateEpochFromEnv } from '../build/media.js';
import { targetsOf } from '../../compiler/normalize/targets.js';
import { BuildProgress, type ProgressMode } from '../build/progress.js';
import { instructionOrigins } from '../build/steps.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatDiagnostics } from '../format/index.js';
import { wantsColor, type CliIO } from '../io.js';
import { listedFileOf } from '../../compiler/output-listing.js';
import { recordInputs } from '../input-paths.js';
import { openOutputDir, type OutputDir } from '../output-dir.js';
import type { InputPaths } from '../output-location.js';
import { ignoredCodes, suppressor } from '../suppression.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';
import { manifestPaths } from './validate.js';
import { shown } from '../format/style.js';

export interface BuildArgs {
  files: string[];
  out: string | undefined;
  quiet: boolean;
  json: boolean;
  /** `--target iso[,…]`: media to make from the image. */
  target?: string | undefined;
  /** `--ignore CODE`: warnings to drop (cli/suppression.ts). */
  ignore?: string[] | undefined;
  /** `--builder auto|buildkit|classic` (cli/build/builder.ts). */
  builder?: string | undefined;
}

/** What a test replaces: the effects targets use (host tools, files). */
export interface BuildDeps {
  targetIO?: (engine: DockerEngine, io: CliIO, progress: ((text: string) => void) | undefined) => TargetIO;
  /** A command that validated the manifest already (`derivc test`): its recording host and session, so nothing is read twice. */
  validated?: { recording: ReturnType<typeof recordInputs>; session: ValidationSession };
}

/** Where a manifest's build context goes when -o is not given. */
export function defaultOutDir(name: string): string {
  return join('.derivc', name);
}

export interface BuiltImage {
  image: string;
  buildId: string;
  tags: string[];
  /** False when an image with the same build ID already existed. */
  built: boolean;
}

/** A built (or up-to-date) image and what it was compiled from. */
interface Built {
  image: BuiltImage;
  compiled: Compiled;
}

export async function buildCommand(args: BuildArgs, cli: CliIO, deps: BuildDeps = {}): Promise<number> {
  if (args.files.length > 1) throw new UsageError('`build` takes one manifest');
  if (args.quiet && args.json) throw new UsageError('--quiet and --json exclude each other');
  const requested = parseTargets(args.target);
  const builderChoice = requestedBuilder(args.builder, cli.env);
  const ignore = ignoredCodes(args.ignore);
  if (requested?.length) sourceDateEpochFromEnv(cli.env); // a bad value is a usage error before anything is built
  const [path] = manifestPaths(args.files, cli);
  // Everything the manifests read, so that no output directory holds any of it (cli/output-location.ts).
  const recording = deps.validated?.recording ?? recordInputs(cli.host, () => path);
  const io: CliIO = { ...cli, host: recording.host };
  if (!io.docker) throw new Error('no Docker Engine factory in this CLI');
  const session = deps.validated?.session ?? validationSession(io.host);
  const validated = session.validate(path!);
  // Suppressions apply to validation's findings; what the build reports later are errors, never dropped.
  const checked = suppressor(io.host, path!, ignore, io.cwd ?? process.cwd()).apply(validated.diagnostics, session.sources);
  const report = (diagnostics: Diagnostic[]) => {
    if (diagnostics.length)
      io.stderr(
        formatDiagnostics('pretty', { diagnostics: sortDiagnostics(diagnostics), sources: checked.sources }, { color: wantsColor(io), toolVersion: VERSION }),
      );
  };
  report(checked.diagnostics);
  const manifest = validated.value.manifest;
  if (!manifest || checked.diagnostics.some((d) => isFailing(d, false))) return EXIT.failed;
  // The manifest's `targets`, as `plan` plans them, unless --target names others (`none`: the image only).
  const targets = requested ?? targetsOf(manifest).enabled;
  if (requested === undefined && targets.length > 0) sourceDateEpochFromEnv(io.env);

  const engine = io.docker();
  let info: EngineInfo;
  try {
    info = await engine.info();
  } catch (err) {
    if (!(err instanceof EngineUnreachableError)) throw err;
    report([
      {
        code: 'build/engine-unreachable',
        severity: 'error',
        message: err.message,
        file: manifest.path,
        pointer: '',
        hint: 'start it: `dockerd &` (or `systemctl start docker`); install it with `apt-get install docker.io`; point DOCKER_HOST at another engine. `derivc doctor` checks the host.',
      },
    ]);
    return EXIT.failed;
  }
  const chosen = chooseBuilder(builderChoice, info, engine.endpoint, manifest);
  const preflight = 'kind' in chosen ? builderPreflight(manifest, chosen.kind, io.env, io.host) : [chosen.diagnostic];
  if (preflight.length || !('kind' in chosen)) return (report(preflight), EXIT.failed);
  const mode: ProgressMode = args.json ? 'json' : args.quiet ? 'quiet' : io.isTTY ? 'tty' : 'plain';
  const builder = new Builder(engine, io, mode, report, recording.inputs, chosen.kind);
  const outDir = args.out ?? defaultOutDir(manifest.manifest.metadata.name);
  // DIR stays locked until the last medium is in it: a concurrent compile could otherwise swap it
  // while the context is streamed, or drop build.log and media written meanwhile.
  const out = await builder.open(outDir);
  try {
    const done = await builder.build(manifest, out);
    if (!done) return EXIT.failed;
    const result = done.image;
    const summary = `${result.built ? 'built' : 'up to date:'} ${result.tags.join(', ')} (${result.image.replace(/^sha256:/, '').slice(0, 12)}, build ${result.buildId.slice(7, 19)})`;
    if (mode === 'json') io.stdout(JSON.stringify({ kind: 'result', ...result }) + '\n');
    else io.stderr(`${summary}\n`);
    if (targets.length === 0) return EXIT.ok;

    const makeIO =
      deps.targetIO ??
      ((e, cli, progress) => nodeTargetIO(e, { env: cli.env, ...(cli.signal ? { signal: cli.signal } : {}), ...(progress ? { progress } : {}) }));
    const made = await makeMedia(
      {
        manifest,
        compiled: done.compiled,
        targets,
        image: result.image,
        outDir,
        engine,
        makeIO: (e, progress) => makeIO(e, io, progress),
        report,
        progress: mode === 'tty' || mode === 'plain' ? (text) => io.stderr(`${text}\n`) : undefined,
        onArtifact: (target, a) => {
          if (mode === 'json') io.stdout(JSON.stringify({ kind: 'artifact', target, ...a }) + '\n');
          else io.stderr(`${target}: ${shown(a.path)} (${formatBytes(a.bytes)}, sha256 ${a.sha256.slice(0, 16)}…)\n`);
        },
      },
      io,
    );
    return made ? EXIT.ok : EXIT.failed;
  } finally {
    out.close();
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

class Builder {
  /** One compiler for the whole chain: each manifest is compiled once, upstreams included. */
  private readonly compiler: Compiler;

  constructor(
    private readonly engine: DockerEngine,
    private readonly io: CliIO,
    private readonly mode: ProgressMode,
    private readonly report: (d: Diagnostic[]) => void,
    private readonly inputs: () => InputPaths | undefined,
    private readonly kind: BuilderKind,
  ) {
    this.compiler = new Compiler(io.host, { version: VERSION });
  }

  /** Opens (locks) an output directory, waiting while another derivc process uses it. */
  open(outDir: string): Promise<OutputDir> {
    const note = (line: string) => this.io.stderr(`derivc: ${shown(line)}\n`);
    return Promise.resolve(
      openOutputDir(outDir, { inputs: this.inputs, command: 'build', note }, { ...(this.io.signal ? { signal: this.io.signal } : {}), onWait: note }),
    );
  }

  /** Builds `v` (after its upstream) from `out`, or finds it already built. Undefined on failure (reported). */
  async build(v: ValidatedManifest, out: OutputDir): Promise<Built | undefined> {
    if (v.upstream) {
      const upOut = await this.open(defaultOutDir(v.upstream.manifest.metadata.name));
      let up: Built | undefined;
      try {
        up = await this.build(v.upstream, upOut);
      } finally {
        upOut.close();
      }
      if (!up) return undefined;
    }
    const outDir = out.label;
    const compiled = this.compiler.compile(v);
    if (compiled.diagnostics.length) this.report(compiled.diagnostics);
    if (compiled.diagnostics.some((d) => d.severity === 'error')) return undefined;
    const output = compiled.value;
    out.write(output.files);
    // What was just written, from memory: a derivc.json edited since is not trusted.
    const listing = output.files.filter((f) => f.path !== MANIFEST_FILE).map(listedFileOf);

    const existing = await this.engine.imageLabels(output.tags[0]!);
    if (existing?.[BUILD_ID_LABEL] === output.buildId) {
      return { image: { image: output.tags[0]!, buildId: output.buildId, tags: output.tags, built: false }, compiled: output };
    }
    const prepared = prepareBuild(v, output, this.kind, this.io.env, this.io.host);
    if ('diagnostics' in prepared) return (this.report(prepared.diagnostics), undefined);
    if (this.mode !== 'quiet' && this.mode !== 'json')
      this.io.stderr(
        `building ${v.manifest.metadata.name} ${v.manifest.metadata.version} from ${output.from} with ${this.kind === 'buildkit' ? 'BuildKit' : 'the classic builder'} (context ${shown(outDir)})\n`,
      );

    const origins = instructionOrigins(output);
    const logFile = createWriteStream(join(outDir, 'build.log'));
    const progress = new BuildProgress(this.io, this.mode, origins, (t) => logFile.write(t));
    let failedAt: number | undefined;
    try {
      const { imageId } = await this.engine.build(
        // Labels come from the Dockerfile (LABEL lines): labels passed through the API would add a step.
        {
          context: prepared.context(contextStream(outDir, { files: listing })),
          tags: output.tags,
          buildArgs: output.args,
          platform: output.platform,
          labels: {},
          ...prepared.request,
        },
        (event) => {
          const e = prepared.redact(event);
          if (e.kind === 'step') failedAt = e.index;
          progress.event(e);
        },
        this.io.signal,
      );
      progress.done();
      const contract = await checkContract(this.engine, imageId, v, output.build);
      if (contract.length) {
        this.report(contract);
        return undefined;
      }
      return { image: { image: imageId, buildId: output.buildId, tags: output.tags, built: true }, compiled: output };
    } catch (err) {
      progress.done();
      if (this.io.signal?.aborted) {
        this.io.stderr('build cancelled; no image was tagged\n');
        return undefined;
      }
      const origin = failedAt !== undefined ? origins[failedAt - 1] : undefined;
      this.report([buildFailure(v, origin, prepared.redactText((err as Error).message), progress.tail())]);
      this.io.stderr(`full log: ${shown(join(outDir, 'build.log'))}\n`);
      return undefined;
    } finally {
      await new Promise<void>((resolve) => logFile.end(resolve));
    }
  }
}
