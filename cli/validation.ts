// How every command validates a manifest: the validator's own rules, then each enabled target's
// check of its options (targets/registry.ts), which the compiler does not import. So `derivc
// validate`, compile, plan, build and test all report a target option's mistake at its line,
// before anything is built. The targets see the Build's facts the validator knows without reading
// any file (name, version, architecture): validate stays fast and hashes nothing.

import type { Diagnostic } from '../compiler/diagnostics.js';
import type { Targets } from '../compiler/generated/manifest-types.js';
import type { Host } from '../compiler/host.js';
import { targetsIR } from '../compiler/normalize/targets.js';
import type { SourceFile } from '../compiler/source-file.js';
import { finding, type ManifestCheck } from '../compiler/validate/context.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { obj } from '../compiler/data.js';
import { validateTargets } from '../targets/registry.js';
import type { TargetFinding } from '../targets/target.js';

/** Target findings as diagnostics at their options' lines (or the closest part of the manifest that is there). */
export function targetDiagnostics(source: SourceFile, findings: readonly TargetFinding[]): Diagnostic[] {
  return findings.map((f) => finding({ source }, f.code, f.pointer, f.message, f.hint !== undefined ? { hint: f.hint } : {}));
}

/** The options of the targets a manifest enables, checked once the schema accepted them (and the platform they depend on). */
export const targetOptionsCheck: ManifestCheck = (ctx, build, found) => {
  const targets = obj(ctx.manifest['targets']);
  if (!targets) return [];
  const refused = found.some(
    (d) => d.severity === 'error' && d.file === ctx.source.path && (d.pointer.startsWith('/targets') || d.pointer.startsWith('/base/platform')),
  );
  if (refused) return [];
  const ir = targetsIR(targets as Targets, ctx.dir);
  return targetDiagnostics(ctx.source, validateTargets(ir.enabled, ir, build));
};

/** The session every command validates with. */
export function validationSession(host: Host): ValidationSession {
  return new ValidationSession(host, [targetOptionsCheck]);
}
