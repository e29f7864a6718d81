// The `raw` target: a GPT disk image (raw or qcow2) in the cOS partition layout, booting under
// BIOS and UEFI through GRUB and the image's own bootargs.cfg.

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import { runPlan } from '../plan-run.js';
import type { Target } from '../target.js';
import type { RawOptions } from './options.js';
import { planRaw } from './plan.js';

export type { RawOptions } from './options.js';

export const rawTarget: Target<RawOptions> = {
  name: 'raw',
  optionsSchema: manifestSchema.definitions.rawTarget,
  plan: planRaw,
  run: runPlan,
};
