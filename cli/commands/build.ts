// derivc build [PATH…] [-o DIR] [--quiet | --json] [--target iso,…|none] [--jobs N] [--keep-going]
// [--builder auto|buildkit|classic] [--push]:
// validate, compile into DIR, then build the image through the Docker Engine API — upstream
// derivatives first, nothing at all when an image with the same build ID exists — and check the
// result against the derivative contract. Then each medium of the manifest's `targets` (or of
// --target; `none`: none) is made from the image into DIR (cli/build/media.ts).
//
// PATHs may name several manifests (files, directories, quoted patterns: cli/fleet/manifest-paths.ts).
// They and the upstreams they name are one graph (cli/fleet/graph.ts), built upstreams first, up
// to --jobs at a time (cli/fleet/schedule.ts), and summed up in a table at the end
// (cli/fleet/summary.ts). One manifest builds exactly as it always did: no table, no labels.
//
// --push pushes the image of every manifest named, and of each upstream a pushed manifest pins
// with `build.pin: digest` (it builds FROM that upstream's pushed digest), each right after its
// own build, upstreams first, and records the digests in DIR/derivc.pushed.json
// (cli/build/push.ts, cli/build/push-record.ts).

import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { Compiler, type Compiled } from '../../compiler/compile.js';
import { MANIFEST_FILE } from '../../compiler/emit/types.js';
import { BUILD_ID_LABEL } from '../../compiler/emit/dockerfile.js';
import { dedupeDiagnostics, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import type { Host } from '../../compiler/host.js';
import type { ValidatedManifest, ValidationSession } from '../../compiler/validate/index.js';
import { contextStream } from '../../targets/io/build-context.js';
import { EngineUnreachableError, type BuilderKind, type BuilderSupport, type DockerEngine, type EngineInfo } from '../../targets/io/engine.js';
import { nodeTargetIO } from '../../targets/io/target-io.js';
import { dockerCredentials } from '../../targets/io/docker-credentials.js';
import type { PinOptions } from '../../compiler/pin.js';
import { digestReference, pushPreflight, pushRef, pushTags, type PushOptions } from '../build/push.js';
import { dropStalePushRecord, readPushRecord, writePushRecord, type PushRecord } from '../build/push-record.js';
import type { TargetIO, TargetName } from '../../targets/target.js';
import { buildFailure } from '../build/failure.js';
import { builderPreflight, chooseBuilder, prepareBuild, requestedBuilder } from '../build/builder.js';
import { cacheFor, checkCacheScope, parseCacheFlags, type CacheFlags } from '../build/cache-refs.js';
import { checkContract } from '../build/contract.js';
import { makeMedia, parseTargets, sourceDateEpochFromEnv } from '../build/media.js';
import { targetsOf } from '../../compiler/normalize/targets.js';
import { BuildProgress, type ProgressMode } from '../build/progress.js';
import { instructionOrigins } from '../build/steps.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { displayPath, factsOf, loadFleet, type Fleet, type FleetNode } from '../fleet/graph.js';
import { labelledIO } from '../fleet/labelled-output.js';
import { expandManifestPaths } from '../fleet/manifest-paths.js';
import { schedule, type Outcome } from '../fleet/schedule.js';
import { summaryJson, summaryTable, type SummaryRow } from '../fleet/summary.js';
import { formatDiagnostics } from '../format/index.js';
import { continued } from '../format/style.js';
import { wantsColor, type CliIO } from '../io.js';
import { listedFileOf } from '../../compiler/output-listing.js';
import { recordInputs } from '../input-paths.js';
import { openOutputDir, OutputDirError, type OutputDir } from '../output-dir.js';
import { locate, refuse, type InputPaths } from '../output-location.js';
import { ignoredCodes, suppressor } from '../suppression.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';
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
  /** `--jobs N`: how many manifests build at once (default 1). */
  jobs?: string | undefined;
  /** `--keep-going`: after a failure, go on with every manifest not built from the failed one. */
  keepGoing?: boolean | undefined;
  /** `--builder auto|buildkit|classic` (cli/build/builder.ts). */
  builder?: string | undefined;
  /** `--push`: push every tag of each image built, and record the digests (cli/build/push.ts). */
  push?: boolean | undefined;
  /** `--cache-from REF` (repeatable) and `--cache-to REF` (cli/build/cache-refs.ts). */
  cacheFrom?: string[] | undefined;
  cacheTo?: string | undefined;
}

/** What a test replaces: the effects targets use (host tools, files). */
export interface BuildDeps {
  targetIO?: (engine: DockerEngine, io: CliIO, progress: ((text: string) => void) | undefined) => TargetIO;
  /** A command that validated the manifest already (`derivc test`): its recording host and session, so nothing is read twice. */
  validated?: { recording: ReturnType<typeof recordInputs>; session: ValidationSession };
  /** The clock the summary's durations are read from. */
  now?: () => number;
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
  /** With --push: what the registry stored (also in DIR/derivc.pushed.json). */
  pushed?: { digest: string; reference: string; tags: { tag: string; digest: string }[] };
}

/** A built (or up-to-date) image and what it was compiled from. */
interface Built {
  image: BuiltImage;
  compiled: Compiled;
}

/** `--jobs N`: a whole number, 1 or more. */
export function parseJobs(value: string | undefined): number {
  if (value === undefined) return 1;
  if (!/^[1-9][0-9]{0,3}$/.test(value))
    throw new UsageError(`--jobs takes how many manifests build at once, a whole number from 1 to 9999 (\`--jobs ${value}\` given)`);
  return Number(value);
}

export async function buildCommand(args: BuildArgs, cli: CliIO, deps: BuildDeps = {}): Promise<number> {
  if (args.quiet && args.json) throw new UsageError('--quiet and --json exclude each other');
  const jobs = parseJobs(args.jobs);
  const requested = parseTargets(args.target);
  const builderChoice = requestedBuilder(args.builder, cli.env);
  const cache = parseCacheFlags(args.cacheFrom, args.cacheTo);
  const ignore = ignoredCodes(args.ignore);
  if (requested?.length) sourceDateEpochFromEnv(cli.env); // a bad value is a usage error before anything is built
  const cwd = cli.cwd ?? process.cwd();
  // Expanded through the plain host: what a walk looks at is not something a manifest reads.
  const paths = expandManifestPaths(args.files, cli.host, ['derivative.yaml']);
  const fleetMode = paths.length > 1;
  checkCacheScope(cache, paths.length);
  // Everything the manifests read, so that no output directory holds any of it (cli/output-location.ts).
  const recording = deps.validated?.recording ?? recordInputs(cli.host, () => paths[0]);
  const inputsOf = (node: FleetNode): (() => InputPaths | undefined) => {
    return () => {
      const all = recording.inputs();
      return all && { ...all, manifest: node.path };
    };
  };
  const io: CliIO = { ...cli, host: recording.host };
  if (!io.docker) throw new Error('no Docker Engine factory in this CLI');
  const session = deps.validated?.session ?? validationSession(io.host);
  const fleet = loadFleet(paths, session, (path, diagnostics) => suppressor(io.host, path, ignore, cwd).apply(diagnostics, session.sources));
  const color = wantsColor(io);
  const format = (to: CliIO, diagnostics: Diagnostic[]) => {
    if (diagnostics.length)
      to.stderr(formatDiagnostics('pretty', { diagnostics: sortDiagnostics(diagnostics), sources: fleet.sources }, { color, toolVersion: VERSION }));
  };

  // -o DIR with several manifests: DIR/NAME for each. Upstreams not named go where they always went.
  const named = fleet.nodes.filter((n) => n.named);
  const outDirOf = (node: FleetNode, v: ValidatedManifest) => {
    const name = v.manifest.metadata.name;
    if (!args.out) return defaultOutDir(name);
    if (fleetMode) return join(args.out, name);
    return node.named ? args.out : defaultOutDir(name);
  };
  const outDirs = new Map(fleet.nodes.flatMap((n) => (n.manifest ? [[n, outDirOf(n, n.manifest)] as const] : [])));
  const shared = sharedOutputDirs(outDirs, cwd);
  // One manifest: its findings, as before. Several: every manifest's, each once.
  format(io, [...(fleetMode ? dedupeDiagnostics(fleet.nodes.flatMap((n) => n.diagnostics)) : named[0]!.diagnostics), ...shared.diagnostics]);

  const settled = new Map<string, Outcome>();
  for (const node of fleet.nodes) {
    // Invalid only through its upstream: skipped once the upstream is known to have failed (cli/fleet/schedule.ts).
    const ownError = node.diagnostics.some((d) => d.severity === 'error' && d.file === node.path);
    if (!node.manifest && (ownError || node.onCycle || !node.upstream || node.upstream.manifest))
      settled.set(node.key, { status: 'failed', code: EXIT.failed });
    if (shared.nodes.has(node)) settled.set(node.key, { status: 'failed', code: EXIT.failed });
  }
  const buildable = fleet.nodes.filter((n) => n.manifest && !settled.has(n.key));
  if (!fleetMode && (buildable.length !== fleet.nodes.length || buildable.length === 0)) return EXIT.failed;
  const startsAny = buildable.length > 0 && (args.keepGoing || settled.size === 0);
  // The manifests' `targets`, as `plan` plans them, unless --target names others (`none`: the image only).
  const targetsFor = (node: FleetNode): TargetName[] => (node.named ? (requested ?? targetsOf(node.manifest!).enabled) : []);
  if (startsAny && requested === undefined && buildable.some((n) => targetsFor(n).length > 0)) sourceDateEpochFromEnv(io.env);

  // Live lines on a terminal, one build at a time; builds side by side print labelled plain lines.
  const progressMode: ProgressMode = args.json ? 'json' : args.quiet ? 'quiet' : io.isTTY && (jobs === 1 || !fleetMode) ? 'tty' : 'plain';
  const reached = startsAny ? await reachableEngine(io, fleet, buildable, format) : undefined;
  if (startsAny && !reached) return EXIT.failed;
  const engine = reached?.engine;

  // One builder for the run (it depends on the Engine); each manifest's credentials are checked
  // against it before anything is built (cli/build/builder.ts).
  let kind: BuilderKind = 'classic';
  if (reached) {
    const first = buildable.find((n) => n.named) ?? buildable[0]!;
    const chosen = chooseBuilder(builderChoice, reached.info, reached.offered, reached.engine.endpoint, first.manifest!);
    if (!('kind' in chosen)) return (format(io, [chosen.diagnostic]), EXIT.failed);
    kind = chosen.kind;
    if (kind === 'classic' && cache.to !== undefined) return (format(io, [cacheToNeedsBuildKit(first.manifest!, cache.to)]), EXIT.failed);
    // Each manifest's own credentials: an upstream in the graph is checked as itself, and what is built from it is skipped.
    const preflight = (n: FleetNode) => builderPreflight(n.manifest!, kind, io.env, io.host).filter((d) => !fleetMode || d.file === n.path);
    const refused = buildable.map((n) => [n, preflight(n)] as const).filter(([, d]) => d.length);
    format(io, dedupeDiagnostics(refused.flatMap(([, d]) => d)));
    if (refused.length && !fleetMode) return EXIT.failed;
    for (const [n] of refused) settled.set(n.key, { status: 'failed', code: EXIT.failed });
  }
  // --push: the manifests named, and each upstream one of them pins by digest (pinned only once pushed).
  const pushed = new Set<FleetNode>();
  const push = (n: FleetNode): void => {
    if (pushed.has(n)) return;
    pushed.add(n);
    if (n.upstream && n.manifest?.manifest.build?.pin === 'digest') push(n.upstream);
  };
  if (args.push) for (const n of fleet.nodes) if (n.named) push(n);
  // Every tag of every image to push names a registry, said before anything is built.
  if (reached && args.push) {
    const refused = buildable
      .filter((n) => !settled.has(n.key) && pushed.has(n))
      .map((n) => [n, pushPreflight(n.manifest!)] as const)
      .filter(([, d]) => d.length);
    format(
      io,
      refused.flatMap(([, d]) => d),
    );
    if (refused.length && !fleetMode) return EXIT.failed;
    for (const [n] of refused) settled.set(n.key, { status: 'failed', code: EXIT.failed });
  }

  const now = deps.now ?? Date.now;
  const rows = new Map<FleetNode, Omit<SummaryRow, 'result' | 'reason'> & { result?: 'built' | 'up-to-date' }>();
  for (const node of fleet.nodes) {
    rows.set(node, {
      manifest: displayPath(node.path, cwd),
      name: node.manifest?.manifest.metadata.name,
      tag: node.manifest ? factsOf(node.manifest).tags[0] : undefined,
      ms: undefined,
      media: [],
    });
  }

  // Several manifests: lines about one say which (JSON lines always, text lines when builds run side by side).
  const labelled = (node: FleetNode) =>
    fleetMode ? labelledIO(io, rows.get(node)!.manifest, jobs > 1 ? `[${node.manifest!.manifest.metadata.name}] ` : undefined) : { io, flush: () => {} };

  // Refused output directories, before anything is built (as `compile` refuses them).
  if (engine) {
    for (const node of buildable) {
      try {
        refuse(locate(outDirs.get(node)!), inputsOf(node)());
      } catch (err) {
        if (!(err instanceof OutputDirError) || !fleetMode) throw err;
        const out = labelled(node);
        out.io.stderr(`derivc: ${continued(err.message, '  ')}\n`);
        out.flush();
        settled.set(node.key, { status: 'failed', code: EXIT.failed });
      }
    }
  }

  // `build.pin: digest`: an upstream's digest as pushed in this run, else as recorded in its output directory.
  const pushedNow = new Map<string, string>();
  const pins: PinOptions = {
    required: true,
    digestOf: ({ name, buildId }) => {
      const dir = [...outDirs].find(([n]) => n.manifest?.manifest.metadata.name === name)?.[1] ?? defaultOutDir(name);
      return pushedNow.get(buildId) ?? readPushRecord(dir, buildId)?.reference;
    },
  };
  const credentials = dockerCredentials(io.env);
  const builder = engine && new Builder(engine, io.host, progressMode, kind, pins, cache, credentials);
  const tasks = fleet.nodes.map((n) => ({
    key: n.key,
    upstream: n.upstream?.key,
    name: n.manifest?.manifest.metadata.name ?? displayPath(n.path, cwd),
    node: n,
  }));
  const outcomes = await schedule(tasks, settled, { jobs, keepGoing: args.keepGoing === true, signal: io.signal }, async ({ node }) => {
    const v = node.manifest!;
    const row = rows.get(node)!;
    const out = labelled(node);
    const started = now();
    try {
      const ok = await buildOne(node, v, out.io);
      return { ok, code: ok ? EXIT.ok : EXIT.failed };
    } catch (err) {
      if (err instanceof OutputDirError) {
        out.io.stderr(`derivc: ${continued(err.message, '  ')}\n`);
        return { ok: false, code: EXIT.failed };
      }
      if (!fleetMode) throw err;
      out.io.stderr(
        `derivc: internal error: ${continued((err as Error).stack ?? String(err), '  ')}\nThis is a bug in derivc; please report it with the input that caused it.\n`,
      );
      return { ok: false, code: EXIT.internal };
    } finally {
      row.ms = now() - started;
      out.flush();
    }
  });

  async function buildOne(node: FleetNode, v: ValidatedManifest, nio: CliIO): Promise<boolean> {
    const row = rows.get(node)!;
    const report = (diagnostics: Diagnostic[]) => format(nio, diagnostics);
    const outDir = outDirs.get(node)!;
    // DIR stays locked until the last medium is in it: a concurrent compile could otherwise swap it
    // while the context is streamed, or drop build.log and media written meanwhile.
    const out = await builder!.open(outDir, nio, inputsOf(node));
    try {
      const done = await builder!.build(v, out, nio, report, node.named);
      if (!done) return false;
      const result = done.image;
      row.result = result.built ? 'built' : 'up-to-date';
      // A record of another build of this directory names an image that is no longer this one.
      dropStalePushRecord(outDir, result.buildId);
      if (pushed.has(node)) {
        const digests = await pushImage(v, result, outDir, nio, report);
        if (!digests) return false;
        result.pushed = digests;
      }
      // One manifest: the result of the one named, as before; several: of each.
      if (fleetMode || node.named) {
        const pushedAs = result.pushed ? `, pushed ${result.pushed.reference}` : '';
        const summary = `${result.built ? 'built' : 'up to date:'} ${result.tags.join(', ')} (${result.image.replace(/^sha256:/, '').slice(0, 12)}, build ${result.buildId.slice(7, 19)})${pushedAs}`;
        if (progressMode === 'json') nio.stdout(JSON.stringify({ kind: 'result', ...result }) + '\n');
        else nio.stderr(`${summary}\n`);
      }
      const targets = targetsFor(node);
      if (targets.length === 0) return true;

      const makeIO =
        deps.targetIO ??
        ((e, cli, progress) => nodeTargetIO(e, { env: cli.env, ...(cli.signal ? { signal: cli.signal } : {}), ...(progress ? { progress } : {}) }));
      return await makeMedia(
        {
          manifest: v,
          compiled: done.compiled,
          targets,
          image: result.image,
          outDir,
          engine: engine!,
          makeIO: (e, progress) => makeIO(e, nio, progress),
          report,
          progress: progressMode === 'tty' || progressMode === 'plain' ? (text) => nio.stderr(`${text}\n`) : undefined,
          onArtifact: (target, a) => {
            if (!row.media.includes(target)) row.media.push(target);
            if (progressMode === 'json') nio.stdout(JSON.stringify({ kind: 'artifact', target, ...a }) + '\n');
            else nio.stderr(`${target}: ${shown(a.path)} (${formatBytes(a.bytes)}, sha256 ${a.sha256.slice(0, 16)}…)\n`);
          },
        },
        nio,
      );
    } finally {
      out.close();
    }
  }

  /** Pushes every tag of `result`, says so as the build's progress does, records the digests in DIR. */
  async function pushImage(
    v: ValidatedManifest,
    result: BuiltImage,
    outDir: string,
    nio: CliIO,
    report: (d: Diagnostic[]) => void,
  ): Promise<BuiltImage['pushed']> {
    const text = progressMode === 'tty' || progressMode === 'plain';
    const outcome = await pushTags(v, result.tags, {
      engine: engine!,
      credentials,
      ...(io.signal ? { signal: io.signal } : {}),
      onStart: (tag, host) => {
        if (text) nio.stderr(`pushing ${shown(tag)} to ${shown(host)}\n`);
        else if (progressMode === 'json') nio.stdout(JSON.stringify({ kind: 'push', tag }) + '\n');
      },
      // The finished layers only: the Engine's byte counts would be hundreds of lines.
      onEvent: (tag, e) => {
        if (!e.layer || /^(Pushing|Preparing|Waiting)$/.test(e.status)) return;
        if (text) nio.stderr(`  ${shown(e.layer)}: ${shown(e.status)}\n`);
        else if (progressMode === 'json') nio.stdout(JSON.stringify({ kind: 'push-layer', tag, layer: e.layer, status: e.status }) + '\n');
      },
    });
    if ('cancelled' in outcome) {
      nio.stderr('push cancelled\n');
      return undefined;
    }
    if ('diagnostics' in outcome) return (report(outcome.diagnostics), undefined);
    const first = outcome.pushed[0]!;
    const record: PushRecord = {
      buildId: result.buildId,
      image: result.image,
      digest: first.digest,
      reference: digestReference(first.tag, first.digest),
      tags: outcome.pushed,
    };
    writePushRecord(outDir, record);
    pushedNow.set(result.buildId, record.reference);
    if (progressMode === 'json') for (const p of outcome.pushed) nio.stdout(JSON.stringify({ kind: 'pushed', ...p }) + '\n');
    else if (text) for (const p of outcome.pushed) nio.stderr(`pushed ${shown(p.tag)}: ${p.digest}\n`);
    return { digest: record.digest, reference: record.reference, tags: record.tags };
  }

  const worst = Math.max(EXIT.ok, ...[...outcomes.values()].map((o) => (o.status === 'ok' ? EXIT.ok : o.code)));
  if (fleetMode) {
    const summary = fleet.nodes.map((node): SummaryRow => {
      const { result, ...row } = rows.get(node)!;
      const o = outcomes.get(node.key)!;
      if (o.status === 'skipped') return { ...row, result: 'skipped', reason: o.reason, ms: undefined };
      return { ...row, result: o.status === 'ok' ? (result ?? 'built') : 'failed' };
    });
    if (progressMode === 'json') io.stdout(summaryJson(summary));
    else io.stderr(summaryTable(summary, color));
  }
  return worst;
}

/** The Engine, once it answers; undefined after reporting that it does not. */
async function reachableEngine(
  io: CliIO,
  fleet: Fleet,
  buildable: readonly FleetNode[],
  format: (to: CliIO, diagnostics: Diagnostic[]) => void,
): Promise<{ engine: DockerEngine; info: EngineInfo; offered: BuilderSupport | undefined } | undefined> {
  const engine = io.docker!();
  try {
    const info = await engine.info();
    // What the Engine states it prefers (daemon.json features.buildkit), as the docker CLI reads it.
    const offered = await engine.builderVersion?.().catch(() => undefined);
    return { engine, info, offered };
  } catch (err) {
    if (!(err instanceof EngineUnreachableError)) throw err;
    const first = buildable.find((n) => n.named) ?? buildable[0] ?? fleet.nodes[0]!;
    format(io, [
      {
        code: 'build/engine-unreachable',
        severity: 'error',
        message: err.message,
        file: first.path,
        pointer: '',
        hint: 'start it: `dockerd &` (or `systemctl start docker`); install it with `apt-get install docker.io`; point DOCKER_HOST at another engine. `derivc doctor` checks the host.',
      },
    ]);
    return undefined;
  }
}

/**
 * Manifests whose output directories are one directory (two named `acme` in a fleet: both
 * `.derivc/acme`): each would replace the other's build context and media, so neither is built.
 */
function sharedOutputDirs(outDirs: ReadonlyMap<FleetNode, string>, cwd: string): { nodes: Set<FleetNode>; diagnostics: Diagnostic[] } {
  const byDir = new Map<string, FleetNode[]>();
  for (const [node, dir] of outDirs) {
    let real: string;
    try {
      real = locate(dir).real;
    } catch {
      continue; // refused later, with the reason
    }
    byDir.set(real, [...(byDir.get(real) ?? []), node]);
  }
  const nodes = new Set<FleetNode>();
  const diagnostics: Diagnostic[] = [];
  for (const group of byDir.values()) {
    if (group.length < 2) continue;
    for (const node of group) {
      nodes.add(node);
      const v = node.manifest!;
      const others = group.filter((o) => o !== node).map((o) => `\`${displayPath(o.path, cwd)}\``);
      diagnostics.push({
        code: 'build/shared-output-dir',
        severity: 'error',
        message: `this manifest and ${others.join(', ')} would both be built in ${outDirs.get(node)}: each would replace the other's build context and media`,
        file: node.path,
        pointer: '/metadata/name',
        range: v.source.locate('/metadata/name'),
        hint: 'give each derivative its own metadata.name, or build them in separate runs with -o DIR',
      });
    }
  }
  return { nodes, diagnostics };
}

const isFrom = (instruction: string | undefined): boolean => instruction !== undefined && /^FROM\s/i.test(instruction);

/** BuildKit says nothing when it cannot read a --cache-from image: a build that reused no step is noted. */
function cacheFromUnused(v: ValidatedManifest, refs: readonly string[]): Diagnostic {
  const named = refs.join(', ');
  return {
    code: 'build/cache-from-unused',
    severity: 'info',
    message: `no step of this build came from --cache-from ${named}: ${refs.length > 1 ? 'those images do' : 'that image does'} not exist yet, ${refs.length > 1 ? 'were' : 'was'} built from other inputs, or the Engine's BuildKit could not read ${refs.length > 1 ? 'them' : 'it'}`,
    file: v.path,
    pointer: '',
    hint: `\`derivc explain build/cache-from-unused\` lists the causes; the Engine's log says which one with \`dockerd --debug\` ("error while importing cache manifest")`,
  };
}

/** Inline cache is BuildKit's: the classic builder cannot write it, so --cache-to would push an image no BuildKit build can use as cache. */
function cacheToNeedsBuildKit(v: ValidatedManifest, ref: string): Diagnostic {
  return {
    code: 'build/cache-to-needs-buildkit',
    severity: 'error',
    message: `--cache-to ${ref} exports BuildKit's inline cache, and this build uses the classic builder, which writes none`,
    file: v.path,
    pointer: '',
    hint: 'drop `--builder classic` (and DOCKER_BUILDKIT=0), or build on an Engine with BuildKit; --cache-from works with both builders',
  };
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MiB` : `${bytes} bytes`;
}

class Builder {
  /** One compiler for the whole graph: each manifest is compiled once, upstreams included. */
  private readonly compiler: Compiler;

  constructor(
    private readonly engine: DockerEngine,
    host: Host,
    private readonly mode: ProgressMode,
    private readonly kind: BuilderKind,
    pins?: PinOptions,
    private readonly cache: CacheFlags = { from: [], to: undefined },
    private readonly credentials: PushOptions['credentials'] = async () => undefined,
  ) {
    this.compiler = new Compiler(host, { version: VERSION, ...(pins ? { pins } : {}) });
  }

  /** Opens (locks) an output directory, waiting while another derivc process uses it. */
  open(outDir: string, io: CliIO, inputs: () => InputPaths | undefined): Promise<OutputDir> {
    const note = (line: string) => io.stderr(`derivc: ${shown(line)}\n`);
    return Promise.resolve(openOutputDir(outDir, { inputs, command: 'build', note }, { ...(io.signal ? { signal: io.signal } : {}), onWait: note }));
  }

  /** Builds `v` (its upstream is built already) from `out`, or finds it already built. Undefined on failure (reported). */
  async build(v: ValidatedManifest, out: OutputDir, io: CliIO, report: (d: Diagnostic[]) => void, named = true): Promise<Built | undefined> {
    const outDir = out.label;
    const compiled = this.compiler.compile(v);
    if (compiled.diagnostics.length) report(compiled.diagnostics);
    if (compiled.diagnostics.some((d) => d.severity === 'error')) return undefined;
    const output = compiled.value;
    out.write(output.files);
    // What was just written, from memory: a derivc.json edited since is not trusted.
    const listing = output.files.filter((f) => f.path !== MANIFEST_FILE).map(listedFileOf);

    const cache = cacheFor(this.cache, v.manifest.metadata.name, named);
    const existing = await this.engine.imageLabels(output.tags[0]!);
    // With --cache-to an up-to-date image is built again (every step cached, seconds): whether it
    // carries the inline cache metadata cannot be told from the Engine's inspect.
    if (existing?.[BUILD_ID_LABEL] === output.buildId && cache.to === undefined) {
      return { image: { image: output.tags[0]!, buildId: output.buildId, tags: output.tags, built: false }, compiled: output };
    }
    const prepared = prepareBuild(v, output, this.kind, io.env, io.host);
    if ('diagnostics' in prepared) return (report(prepared.diagnostics), undefined);
    if (this.mode !== 'quiet' && this.mode !== 'json')
      io.stderr(
        `building ${v.manifest.metadata.name} ${v.manifest.metadata.version} from ${output.from} with ${this.kind === 'buildkit' ? 'BuildKit' : 'the classic builder'} (context ${shown(outDir)})\n`,
      );

    if (this.kind === 'classic' && cache.from.length) report(await this.classicCacheWarnings(v, cache.from));

    const origins = instructionOrigins(output);
    const logFile = createWriteStream(join(outDir, 'build.log'));
    const progress = new BuildProgress(io, this.mode, origins, (t) => logFile.write(t));
    let failedAt: number | undefined;
    // Once the image is built, an unexpected error (pushing its cache) is no step's failure.
    let built = false;
    // Each step's instruction, and the steps after FROM that BuildKit answered from a cache (local
    // or --cache-from); a `cached` event names its step (BuildKit marks a FROM cached late).
    const instructions = new Map<number, string>();
    const cachedSteps = new Set<number>();
    try {
      const { imageId } = await this.engine.build(
        // Labels come from the Dockerfile (LABEL lines): labels passed through the API would add a step.
        {
          context: prepared.context(contextStream(outDir, { files: listing })),
          tags: output.tags,
          // BUILDKIT_INLINE_CACHE: the image carries the cache metadata --cache-to pushes. Neither
          // it nor cachefrom is in the compiled outputs: the build ID is the same without them.
          buildArgs: cache.to !== undefined ? { ...output.args, BUILDKIT_INLINE_CACHE: '1' } : output.args,
          platform: output.platform,
          labels: {},
          ...(cache.from.length ? { cacheFrom: cache.from } : {}),
          ...prepared.request,
        },
        (event) => {
          const e = prepared.redact(event);
          if (e.kind === 'step') {
            failedAt = e.index;
            instructions.set(e.index, e.instruction);
          } else if (e.kind === 'cached') {
            const index = e.index ?? failedAt;
            if (index !== undefined && !isFrom(instructions.get(index))) cachedSteps.add(index);
          }
          progress.event(e);
        },
        io.signal,
      );
      progress.done();
      const contract = await checkContract(this.engine, imageId, v, output.build);
      if (contract.length) {
        report(contract);
        return undefined;
      }
      const ranSteps = [...instructions.values()].filter((i) => !isFrom(i)).length;
      if (this.kind === 'buildkit' && cache.from.length && cache.noteUnused && ranSteps > 0 && cachedSteps.size === 0) report([cacheFromUnused(v, cache.from)]);
      built = true;
      if (cache.to !== undefined && !(await this.pushCache(v, imageId, cache.to, io, report, (t) => logFile.write(t)))) return undefined;
      return { image: { image: imageId, buildId: output.buildId, tags: output.tags, built: true }, compiled: output };
    } catch (err) {
      if (built) throw err;
      progress.done();
      if (io.signal?.aborted) {
        io.stderr('build cancelled; no image was tagged\n');
        return undefined;
      }
      const origin = failedAt !== undefined ? origins[failedAt - 1] : undefined;
      report([buildFailure(v, origin, prepared.redactText((err as Error).message), progress.tail())]);
      io.stderr(`full log: ${shown(join(outDir, 'build.log'))}\n`);
      return undefined;
    } finally {
      await new Promise<void>((resolve) => logFile.end(resolve));
    }
  }

  /**
   * --cache-to: the built image (with its inline cache) tagged as REF and pushed there, the way
   * --push pushes a tag (cli/build/push.ts: the docker CLI's credentials, the same failures).
   * False after reporting a failure.
   */
  private async pushCache(
    v: ValidatedManifest,
    imageId: string,
    ref: string,
    io: CliIO,
    report: (d: Diagnostic[]) => void,
    log: (text: string) => void,
  ): Promise<boolean> {
    const failed = (code: Diagnostic['code'], message: string, hint: string | undefined): false => {
      report([
        {
          code,
          severity: 'error',
          message: `the image was built, but its cache could not be pushed: ${message}`,
          file: v.path,
          pointer: '',
          ...(hint ? { hint } : {}),
        },
      ]);
      return false;
    };
    if (!this.engine.tag) throw new Error('this Docker Engine client cannot tag images');
    try {
      await this.engine.tag(imageId, ref);
    } catch (err) {
      return failed('build/cache-push-failed', (err as Error).message, 'check the Docker Engine, then build again');
    }
    const r = await pushRef(ref, {
      engine: this.engine,
      credentials: this.credentials,
      onStart: (_, host) => {
        if (this.mode !== 'quiet' && this.mode !== 'json') io.stderr(`pushing cache ${ref} to ${host}\n`);
      },
      onEvent: (_, e) => log(`${e.layer ? `${e.layer}: ` : ''}${e.status}\n`),
      ...(io.signal ? { signal: io.signal } : {}),
    });
    if ('cancelled' in r) {
      io.stderr('build cancelled while the cache was pushed\n');
      return false;
    }
    if ('failure' in r) {
      const hint = r.failure.code === 'build/push-failed' ? 'check `docker push ' + ref + '` works on this Engine, then build again' : r.failure.hint;
      return failed(r.failure.code, r.failure.message, hint);
    }
    if (this.mode === 'json') io.stdout(JSON.stringify({ kind: 'cache', ref, digest: r.digest }) + '\n');
    else if (this.mode !== 'quiet') io.stderr(`cache: pushed ${ref} (${r.digest.slice(0, 19)}…)\n`);
    return true;
  }

  /** The classic builder reuses layers only of images on the Engine: each --cache-from REF that is not there is said, not silently skipped. */
  private async classicCacheWarnings(v: ValidatedManifest, refs: readonly string[]): Promise<Diagnostic[]> {
    const missing: string[] = [];
    for (const ref of refs) if ((await this.engine.imageLabels(ref)) === undefined) missing.push(ref);
    return missing.map((ref) => ({
      code: 'build/cache-from-not-local',
      severity: 'warning',
      message: `the classic builder reuses layers only of images on the Engine, and ${ref} is not there: it gives this build no cache`,
      file: v.path,
      pointer: '',
      hint: `pull it first (\`docker pull ${ref}\`), or build with BuildKit, which reads the inline cache of --cache-from images from their registry`,
    }));
  }
}
