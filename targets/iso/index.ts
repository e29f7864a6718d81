// The `iso` target: a hybrid BIOS + UEFI live ISO in the cOS layout, made from the built image.

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { Target } from '../target.js';
import { planIso, type IsoOptions } from './plan.js';
import { runPlan } from '../plan-run.js';

export type { IsoOptions } from './plan.js';

export const isoTarget: Target<IsoOptions> = {
  name: 'iso',
  optionsSchema: manifestSchema.definitions.isoTarget,
  plan: planIso,
  run: runPlan,
};
