// `derivc build --target iso,…`: after the image is built (or found up to date), every requested
// target is planned — options the built image does not fit are diagnostics at their lines — and
// the host tools of all plans are checked — a missing one is a diagnostic naming the Debian
// package — before anything runs; then each plan runs in turn. Artifacts are printed as they land.

import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { Compiled } from '../../compiler/compile.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import { runTarget } from '../../targets/actions.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { inMakingOrder, planTargets, TARGET_NAMES } from '../../targets/registry.js';
import type { Artifact, TargetIO, TargetName } from '../../targets/target.js';
import { choices } from '../choices.js';
import { UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import type { DiagnosticCode } from '../../compiler/codes.js';
import { shown } from '../format/style.js';
import { targetDiagnostics } from '../validation.js';

/** `--target iso,raw` → the names once each, in the order derivc makes them; unknown names are usage errors. */
export function parseTargets(value: string | undefined): TargetName[] | undefined {
  if (value === undefined) return undefined;
  const names = choices('--target', value, [...TARGET_NAMES, 'none']);
  // `none`: the image only (build), no medium (plan); alone, as it contradicts any other name.
  if (names.includes('none') && names.length > 1) throw new UsageError('`--target none` excludes every other target');
  return inMakingOrder(names.filter((n) => n !== 'none') as TargetName[]);
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

/** A failure of a target as a whole, at its `targets.<name>` (or the manifest's top when it does not name it). */
function diagnostic(v: ValidatedManifest, target: TargetName, code: DiagnosticCode, message: string, hint?: string): Diagnostic {
  const pointer = v.manifest.targets?.[target] !== undefined ? `/targets/${target}` : '';
  return { code, severity: 'error', message, file: v.path, pointer, range: v.source.locate(pointer, 'key'), ...(hint ? { hint } : {}) };
}

/** Makes each requested medium; false when one failed (reported). Stops at the first failure. */
export async function makeMedia(req: MediaRequest, io: CliIO): Promise<boolean> {
  const { manifest: v, report } = req;
  const first = req.targets[0]!;
  let sourceDateEpoch = sourceDateEpochFromEnv(io.env);
  if (sourceDateEpoch === undefined) {
    sourceDateEpoch = await req.engine.imageCreated?.(req.image);
    if (sourceDateEpoch === undefined) {
      report([
        diagnostic(
          v,
          first,
          'targets/failed',
          `cannot tell when ${req.image} was created (the default SOURCE_DATE_EPOCH)`,
          'set SOURCE_DATE_EPOCH to the seconds since 1970 that media timestamps should carry',
        ),
      ]);
      return false;
    }
  }
  const imageBytes = await req.engine.imageSize?.(req.image);
  if (imageBytes === undefined) {
    report([
      diagnostic(
        v,
        first,
        'targets/failed',
        `cannot tell how large ${req.image} is (the raw disk sizes its partitions by it)`,
        'the Docker Engine client in use does not say; derivc build with the Engine API does',
      ),
    ]);
    return false;
  }

  const planned = planTargets(req.targets, req.compiled.build, req.compiled.targets, { image: req.image, imageBytes, outDir: req.outDir, sourceDateEpoch });
  if (planned.findings.length > 0) {
    report(targetDiagnostics(v.source, planned.findings));
    return false;
  }
  const targetIO = req.makeIO(req.engine, req.progress);
  const missingTools: Diagnostic[] = [];
  for (const plan of planned.plans) {
    const missing: typeof plan.tools = [];
    for (const tool of plan.tools) if (!(await targetIO.hasTool(tool.name))) missing.push(tool);
    if (missing.length === 0) continue;
    const packages = [...new Set(missing.map((t) => t.package))];
    const list = missing.map((t) => `\`${t.name}\` (Debian package ${t.package})`).join(', ');
    missingTools.push(
      diagnostic(
        v,
        plan.target,
        'targets/tool-missing',
        `the ${plan.target} target needs host tools that are missing: ${list}`,
        `install them as root: \`apt-get install -y ${packages.join(' ')}\`; \`derivc doctor\` checks every tool`,
      ),
    );
  }
  if (missingTools.length > 0) {
    report(missingTools);
    return false;
  }

  for (const plan of planned.plans) {
    const name = plan.target;
    try {
      for (const artifact of await runTarget(plan, targetIO)) req.onArtifact(name, artifact);
    } catch (err) {
      if (io.signal?.aborted) {
        io.stderr(`${name} cancelled; nothing was written to ${shown(req.outDir)}\n`);
        return false;
      }
      report([
        diagnostic(
          v,
          name,
          'targets/failed',
          `the ${name} medium could not be made: ${(err as Error).message}`,
          `nothing of it was written to ${req.outDir}; \`derivc plan --target ${name}\` shows every step`,
        ),
      ]);
      return false;
    }
  }
  return true;
}
