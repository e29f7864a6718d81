// The `packer` target: HCL2 templates for the builders `targets.packer.builders` names, each
// starting from derivc's own media (the live ISO, the raw disk) — files only, no image needed.

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { TargetsIR } from '../../compiler/normalize/targets.js';
import { runPlan } from '../plan-run.js';
import type { Target } from '../target.js';
import type { PackerOptions } from './context.js';
import { planPacker } from './plan.js';

export type { PackerOptions } from './context.js';

export const packerTarget: Target<PackerOptions> = {
  name: 'packer',
  optionsSchema: manifestSchema.definitions.packerTarget,
  plan: planPacker,
  run: runPlan,
};

/** `targets.packer` of a manifest, with the names and formats of the media its templates start from. */
export function packerOptions(t: TargetsIR): PackerOptions {
  const iso = t.iso ?? {};
  const raw = t.raw ?? {};
  return {
    ...(t.packer ?? {}),
    media: {
      iso: { ...(iso.name !== undefined ? { name: iso.name } : {}), ...(iso.firmware ? { firmware: [...iso.firmware] } : {}) },
      raw: { ...(raw.format ? { format: raw.format } : {}), ...(raw.size ? { size: raw.size } : {}) },
    },
  };
}
