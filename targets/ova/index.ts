// The `ova` target: the raw disk as an appliance (OVF descriptor, manifest, streamOptimized VMDK).

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import type { Target } from '../target.js';
import { ovfManifest, setVmdkCid } from './actions.js';
import { planOva, validateOva, type OvaTargetOptions } from './plan.js';

export const ovaTarget: Target<OvaTargetOptions, 'set-vmdk-cid' | 'ovf-manifest'> = {
  name: 'ova',
  optionsSchema: manifestSchema.definitions.ovaTarget,
  options: (targets) => ({ ova: targets.ova, raw: targets.raw }),
  validate: validateOva,
  plan: planOva,
  actions: { 'set-vmdk-cid': setVmdkCid, 'ovf-manifest': ovfManifest },
};
