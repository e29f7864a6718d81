// The `packer` target: HCL2 templates for the builders `targets.packer.builders` names, each
// starting from derivc's own media (the live ISO, the raw disk) — files only, no image needed.

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { Target } from '../target.js';
import { validatePacker, type PackerTargetOptions } from './context.js';
import { planPacker } from './plan.js';

export const packerTarget: Target<PackerTargetOptions> = {
  name: 'packer',
  optionsSchema: manifestSchema.definitions.packerTarget,
  options: (targets) => ({ packer: targets.packer, iso: targets.iso, raw: targets.raw }),
  validate: validatePacker,
  plan: planPacker,
  actions: {},
};
