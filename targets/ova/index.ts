// The `ova` target: the raw disk as an appliance (OVF descriptor, manifest, streamOptimized VMDK).

import type { TargetsIR } from '../../compiler/normalize/targets.js';
import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import { runPlan } from '../plan-run.js';
import type { Target } from '../target.js';
import { planOva, type OvaOptions } from './plan.js';

export type { OvaOptions } from './plan.js';

export const ovaTarget: Target<OvaOptions> = {
  name: 'ova',
  optionsSchema: manifestSchema.definitions.ovaTarget,
  plan: planOva,
  run: runPlan,
};

export function ovaOptions(targets: TargetsIR): OvaOptions {
  return { ova: targets.ova ?? {}, raw: targets.raw ?? {} };
}
