// derivc plan [FILE] [--format pretty|json] [--target iso,…]
// What compile, build and the targets would do, as one JSON plan; the pretty view is rendered
// from that JSON. Diagnostics go to stderr, so stdout is only ever the plan. Planning needs no
// Engine: targets are planned against the image's first tag, with SOURCE_DATE_EPOCH from the
// environment or (its default when building, the image's creation time) as a placeholder, and
// what is chosen from the image's size (the raw disk's unstated partitions) as placeholders too.

import { listedFileOf } from '../../compiler/output-listing.js';
import { join } from 'node:path';
import { compile, type Compiled } from '../../compiler/compile.js';
import { isFailing, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import { repositorySecrets } from '../../compiler/emit/repo-auth.js';
import type { CompileOutput } from '../../compiler/emit/types.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import { planTargets } from '../../targets/registry.js';
import type { TargetName } from '../../targets/target.js';
import { parseTargets, sourceDateEpochFromEnv } from '../build/media.js';
import { contentSha256, contentSize } from '../content.js';
import { choice } from '../choices.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatDiagnostics } from '../format/index.js';
import { wantsColor, type CliIO } from '../io.js';
import { renderPlan, type Plan, type PlanTarget } from '../plan-view.js';
import { ignoredCodes, suppressor } from '../suppression.js';
import { targetDiagnostics, validationSession } from '../validation.js';
import { VERSION } from '../version.js';
import { manifestPaths } from './validate.js';

export const PLAN_FORMATS = ['pretty', 'json'] as const;

export interface PlanArgs {
  files: string[];
  format: string;
  /** `--target iso,raw`: plan these instead of the targets the manifest enables (`none`: no target). */
  target?: string | undefined;
  /** `--ignore CODE`: warnings to drop (cli/suppression.ts). */
  ignore?: string[] | undefined;
}

/** The plan of one compiled manifest. Pure: same output (and target plans), same plan. */
export function planOf(manifest: string, output: CompileOutput, targets: PlanTarget[] = []): Plan {
  return {
    planVersion: 1,
    manifest,
    name: output.name,
    version: output.version,
    buildId: output.buildId,
    from: output.from,
    tags: [...output.tags],
    compile: {
      files: output.files.map((f) => ({
        path: f.path,
        ...(f.symlink !== undefined
          ? // A symlink: its link text is its content (as git has it); 0777 is how every symlink shows.
            { sha256: listedFileOf(f).sha256, mode: '0777', bytes: Buffer.byteLength(f.symlink), symlink: f.symlink }
          : { sha256: contentSha256(f.content), mode: `0${f.mode.toString(8)}`, bytes: contentSize(f.content) }),
        origin: f.origin ? { file: f.origin.file, pointer: f.origin.pointer } : null,
      })),
    },
    build: { steps: output.steps.map((s) => ({ comment: s.comment, lines: [...s.lines] })), ...builderPlan(output) },
    bootArgs: output.bootArgs ? { ...output.bootArgs } : null,
    targets,
  };
}

/** Which builder the build takes, and where the repositories' passwords come from (names, never values). */
function builderPlan(output: CompileOutput): Pick<Plan['build'], 'builder' | 'secrets'> {
  const build = (output as Partial<Compiled>).build;
  const secrets = build ? repositorySecrets(build) : [];
  if (secrets.length)
    return {
      builder: 'buildkit',
      secrets: secrets.map((s) => ({
        id: s.id,
        repository: s.repository,
        from: 'env' in s.auth.source ? `env ${s.auth.source.env}` : `file ${s.auth.source.file}`,
      })),
    };
  return output.steps.some((s) => s.lines.some((l) => l.startsWith('RUN --mount='))) ? { builder: 'any' } : {};
}

/** Each target's plan against the image the build would tag, in `derivc build`'s default output directory. */
function targetPlans(v: ValidatedManifest, compiled: Compiled, names: TargetName[], io: CliIO): { targets: PlanTarget[]; diagnostics: Diagnostic[] } {
  const context = { image: compiled.tags[0]!, imageBytes: undefined, outDir: join('.derivc', compiled.name), sourceDateEpoch: sourceDateEpochFromEnv(io.env) };
  const planned = planTargets(names, compiled.build, compiled.targets, context);
  return { targets: planned.plans, diagnostics: targetDiagnostics(v.source, planned.findings) };
}

export function planCommand(args: PlanArgs, io: CliIO): number {
  choice('--format', args.format, PLAN_FORMATS);
  if (args.files.length > 1) throw new UsageError('`plan` takes one manifest');
  const requested = parseTargets(args.target);
  const ignore = ignoredCodes(args.ignore);
  const [path] = manifestPaths(args.files, io);
  const session = validationSession(io.host);
  const validated = session.validate(path!);
  const found: Diagnostic[] = [...validated.diagnostics];
  const v = validated.value.manifest;
  let plan: Plan | undefined;
  if (v) {
    const compiled = compile(v, io.host, { version: VERSION });
    found.push(...compiled.diagnostics);
    if (!compiled.diagnostics.some((d) => isFailing(d, false))) {
      const targets = targetPlans(v, compiled.value, requested ?? compiled.value.targets.enabled, io);
      found.push(...targets.diagnostics);
      plan = planOf(path!, compiled.value, targets.targets);
    }
  }
  const { diagnostics, sources } = suppressor(io.host, path!, ignore, io.cwd ?? process.cwd()).apply(found, session.sources);
  if (diagnostics.length)
    io.stderr(formatDiagnostics('pretty', { diagnostics: sortDiagnostics(diagnostics), sources }, { color: wantsColor(io), toolVersion: VERSION }));
  if (!plan || diagnostics.some((d) => isFailing(d, false))) return EXIT.failed;
  io.stdout(args.format === 'json' ? JSON.stringify(plan, null, 2) + '\n' : renderPlan(plan));
  return EXIT.ok;
}
