// The one static list of targets derivc makes: how each takes its options from the IR, checks
// them, and plans. Planning several in one run goes through here, in TARGET_NAMES order, so a
// target sees which were made before it (the OVA reuses the raw disk).

import type { Build, BuildFacts } from '../compiler/normalize/build.js';
import { TARGET_NAMES, type TargetName, type TargetsIR } from '../compiler/normalize/targets.js';
import { isoTarget } from './iso/index.js';
import { ovaTarget } from './ova/index.js';
import { packerTarget } from './packer/index.js';
import { rawTarget } from './raw/index.js';
import { TargetError, type TargetContext, type TargetFinding, type TargetPlan } from './target.js';

export { TARGET_NAMES } from '../compiler/normalize/targets.js';

export const TARGETS = { iso: isoTarget, raw: rawTarget, ova: ovaTarget, packer: packerTarget } as const;

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

/** `names` once each, in the order derivc makes them. */
export function inMakingOrder(names: readonly TargetName[]): TargetName[] {
  return TARGET_NAMES.filter((t) => names.includes(t));
}

function validateOne(name: TargetName, targets: TargetsIR, build: BuildFacts): TargetFinding[] {
  const target = TARGETS[name];
  return (target.validate as (o: unknown, b: BuildFacts) => TargetFinding[])(target.options(targets), build);
}

/** What is wrong with the options of `names` (the OVA also checks the raw disk's: each finding once). */
export function validateTargets(names: readonly TargetName[], targets: TargetsIR, build: BuildFacts): TargetFinding[] {
  const seen = new Set<string>();
  return inMakingOrder(names)
    .flatMap((name) => validateOne(name, targets, build))
    .filter((f) => {
      const key = `${f.code}\0${f.pointer}\0${f.message}`;
      return !seen.has(key) && Boolean(seen.add(key));
    });
}

/**
 * The plans of `names` for one run into context.outDir, in making order — or, when any target's
 * options are wrong (what only the image tells included), the findings and no plan.
 */
export function planTargets(
  names: readonly TargetName[],
  build: Build,
  targets: TargetsIR,
  context: Omit<TargetContext, 'earlier'>,
): { plans: TargetPlan[]; findings: TargetFinding[] } {
  const order = inMakingOrder(names);
  const findings = validateTargets(order, targets, build);
  if (findings.length > 0) return { plans: [], findings };
  const plans: TargetPlan[] = [];
  for (const [i, name] of order.entries()) {
    const target = TARGETS[name];
    try {
      plans.push(
        (target.plan as (b: Build, o: unknown, c: TargetContext) => TargetPlan)(build, target.options(targets), { ...context, earlier: order.slice(0, i) }),
      );
    } catch (err) {
      if (!(err instanceof TargetError)) throw err;
      findings.push(err.finding);
    }
  }
  return findings.length > 0 ? { plans: [], findings } : { plans, findings };
}
