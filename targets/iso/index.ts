// The `iso` target: a hybrid BIOS + UEFI live ISO in the cOS layout, made from the built image.

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { IsoOptions } from '../../compiler/normalize/targets.js';
import type { Target } from '../target.js';
import { setEfiSerial } from './actions.js';
import { planIso, validateIso } from './plan.js';

export const isoTarget: Target<IsoOptions, 'set-efi-serial'> = {
  name: 'iso',
  optionsSchema: manifestSchema.definitions.isoTarget,
  options: (targets) => targets.iso,
  validate: validateIso,
  plan: planIso,
  actions: { 'set-efi-serial': setEfiSerial },
};
