// The `raw` target: a GPT disk image (raw or qcow2) in the cOS partition layout, booting under
// BIOS and UEFI through GRUB and the image's own bootargs.cfg.

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { RawOptions } from '../../compiler/normalize/targets.js';
import type { Target } from '../target.js';
import { installBiosBoot } from './actions.js';
import { planRaw, validateRaw } from './plan.js';

export const rawTarget: Target<RawOptions, 'install-bios-boot'> = {
  name: 'raw',
  optionsSchema: manifestSchema.definitions.rawTarget,
  options: (targets) => targets.raw,
  validate: validateRaw,
  plan: planRaw,
  actions: { 'install-bios-boot': installBiosBoot },
};
