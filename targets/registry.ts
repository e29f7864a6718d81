// The one static list of targets derivc builds, and how each reads its options from a manifest.

import type { Build } from '../compiler/normalize/build.js';
import type { TargetsIR } from '../compiler/normalize/targets.js';
import { isoTarget, type IsoOptions } from './iso/index.js';
import { ovaOptions, ovaTarget } from './ova/index.js';
import { packerOptions, packerTarget } from './packer/index.js';
import { rawTarget } from './raw/index.js';
import type { Artifact, Target, TargetContext, TargetIO, TargetName, TargetPlan } from './target.js';

/** Every target a manifest can name, in the order derivc plans and builds them. */
export const TARGET_NAMES: readonly TargetName[] = ['iso', 'raw', 'ova', 'packer'];

/** A target together with how it takes its options from a manifest. */
export interface RegisteredTarget {
  target: Target<unknown>;
  /** This target's options from the manifest's `targets` (defaults where absent). */
  options(targets: TargetsIR): unknown;
}


export const TARGETS: Record<TargetName, RegisteredTarget> = {
  iso: { target: isoTarget as Target<unknown>, options: (t) => (t.iso ?? {}) as IsoOptions },
  raw: { target: rawTarget as Target<unknown>, options: (t) => t.raw ?? {} },
  ova: { target: ovaTarget as Target<unknown>, options: ovaOptions },
  packer: { target: packerTarget as Target<unknown>, options: packerOptions },
};

export function isTargetName(name: string): name is TargetName {
  return (TARGET_NAMES as readonly string[]).includes(name);
}

/** The targets a manifest enables (`targets.<name>` present), in TARGET_NAMES order. */
export function enabledTargets(targets: TargetsIR): TargetName[] {
  return TARGET_NAMES.filter((t) => (targets as Record<string, unknown>)[t] !== undefined);
}

/** The plan of one registered target for a manifest (its options from `targets.<name>`, defaults otherwise). */
export function planTarget(name: TargetName, build: Build, targets: TargetsIR, context: TargetContext): TargetPlan {
  const registered = TARGETS[name];
  return registered.target.plan(build, registered.options(targets), context);
}

export function runTarget(plan: TargetPlan, io: TargetIO): Promise<Artifact[]> {
  return TARGETS[plan.target].target.run(plan, io);
}
