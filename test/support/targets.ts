// Targets in tests: options as the IR gives them (the schema's defaults applied), and one
// target's plan through the registry, as the CLI makes it.

import type { Targets } from '../../compiler/generated/manifest-types.js';
import type { Build } from '../../compiler/normalize/build.js';
import { targetsIR, type TargetName, type TargetsIR } from '../../compiler/normalize/targets.js';
import { planTargets } from '../../targets/registry.js';
import type { TargetContext, TargetFinding, TargetPlan } from '../../targets/target.js';

/** `targets.<name>` of a manifest as the target reads it. */
export function optionsOf<K extends TargetName>(name: K, stated: NonNullable<Targets[K]> | Record<string, never> = {}): TargetsIR[K] {
  return targetsIR({ [name]: stated } as Targets, '.')[name];
}

/** Every target's options for `targets` of a manifest. */
export function irOf(targets: Targets = {}): TargetsIR {
  return targetsIR(targets, '.');
}

export class FindingsError extends Error {
  constructor(readonly findings: TargetFinding[]) {
    super(findings.map((f) => `${f.pointer}: ${f.message}`).join('\n'));
  }
}

/** One target's plan, validated first as the CLI plans it; throws FindingsError when the options are wrong. */
export function planOne(name: TargetName, build: Build, targets: TargetsIR, context: Omit<TargetContext, 'earlier'>): TargetPlan {
  const { plans, findings } = planTargets([name], build, targets, context);
  if (findings.length > 0) throw new FindingsError(findings);
  return plans[0]!;
}
