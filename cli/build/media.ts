// `derivc build --target iso,…`: after the image is built (or found up to date), each requested
// target is planned, its host tools are checked — a missing one is a diagnostic naming the Debian
// package, before anything runs — and the plan is run. Artifacts are printed as they land.

import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { Compiled } from '../../compiler/compile.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { planTarget, runTarget, TARGET_NAMES } from '../../targets/registry.js';
import { TargetError, type Artifact, type TargetIO, type TargetName } from '../../targets/target.js';
import { UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import type { DiagnosticCode } from '../../compiler/codes.js';
import { shown } from '../format/style.js';

/** `--target iso,raw` → the names, in the order given, once each. Unknown names are usage errors. */
export function parseTargets(value: string | undefined): TargetName[] {
  if (value === undefined) return [];
  const names = [...new Set(value.split(',').map((t) => t.trim()))];
  for (const name of names) {
    if (!(TARGET_NAMES as readonly string[]).includes(name)) throw new UsageError(`unknown target \`${name}\`; targets are ${TARGET_NAMES.join(', ')}`);
  }
  return names as TargetName[];
}

/** SOURCE_DATE_EPOCH from the environment, when set: whole seconds since the epoch. */
export function sourceDateEpochFromEnv(env: Readonly<Record<string, string | undefined>>): number | undefined {
  const value = env['SOURCE_DATE_EPOCH'];
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,12}$/.test(value)) throw new UsageError(`SOURCE_DATE_EPOCH=${value} is not a number of seconds since 1970-01-01 UTC`);
  return Number(value);
}

export interface MediaRequest {
  /** For diagnostics at the manifest's lines. */
  manifest: ValidatedManifest;
  /** The IR the image was built from, and the media options. */
  compiled: Compiled;
  targets: TargetName[];
  /** The built image (ID, or tag when it was up to date). */
  image: string;
  outDir: string;
  engine: DockerEngine;
  makeIO: (engine: DockerEngine, progress: ((text: string) => void) | undefined) => TargetIO;
  report: (diagnostics: Diagnostic[]) => void;
  /** Where progress lines go (undefined: quiet). */
  progress: ((text: string) => void) | undefined;
  /** Each artifact as it lands. */
  onArtifact: (target: TargetName, artifact: Artifact) => void;
}

function diagnostic(v: ValidatedManifest, target: TargetName, code: DiagnosticCode, message: string, hint?: string): Diagnostic {
  const pointer = v.manifest.targets?.[target] !== undefined ? `/targets/${target}` : '';
  return { code, severity: 'error', message, file: v.path, pointer, range: v.source.locate(pointer, 'key'), ...(hint ? { hint } : {}) };
}

/** Makes each requested medium; false when one failed (reported). Stops at the first failure. */
export async function makeMedia(req: MediaRequest, io: CliIO): Promise<boolean> {
  const { manifest: v, report } = req;
  let sourceDateEpoch = sourceDateEpochFromEnv(io.env);
  if (sourceDateEpoch === undefined) {
    sourceDateEpoch = await req.engine.imageCreated?.(req.image);
    if (sourceDateEpoch === undefined) {
      report([diagnostic(v, req.targets[0]!, 'target/failed', `cannot tell when ${req.image} was created (the default SOURCE_DATE_EPOCH)`, 'set SOURCE_DATE_EPOCH to the seconds since 1970 that media timestamps should carry')]);
      return false;
    }
  }
  const targetIO = req.makeIO(req.engine, req.progress);

  for (const name of req.targets) {
    let plan;
    try {
      plan = planTarget(name, req.compiled.build, req.compiled.targets, { image: req.image, outDir: req.outDir, sourceDateEpoch });
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      report([diagnostic(v, name, 'targets/invalid-option', err.message)]);
      return false;
    }
    const missing: typeof plan.tools = [];
    for (const tool of plan.tools) if (!(await targetIO.hasTool(tool.name))) missing.push(tool);
    if (missing.length > 0) {
      const packages = [...new Set(missing.map((t) => t.package))];
      const list = missing.map((t) => `\`${t.name}\` (Debian package ${t.package})`).join(', ');
      report([diagnostic(v, name, 'target/tool-missing', `the ${name} target needs host tools that are missing: ${list}`, `install them as root: \`apt-get install -y ${packages.join(' ')}\`; \`derivc doctor\` checks every tool`)]);
      return false;
    }
    try {
      for (const artifact of await runTarget(plan, targetIO)) req.onArtifact(name, artifact);
    } catch (err) {
      if (io.signal?.aborted) {
        io.stderr(`${name} cancelled; nothing was written to ${shown(req.outDir)}\n`);
        return false;
      }
      report([diagnostic(v, name, 'target/failed', `the ${name} medium could not be made: ${(err as Error).message}`, `nothing was written to ${req.outDir}; \`derivc plan --target ${name}\` shows every step`)]);
      return false;
    }
  }
  return true;
}
