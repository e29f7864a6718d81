// The packer target's plan: files only, no host tool and no image. Each file is written into
// `packer/` in the work directory, a SHA256SUMS is made over them, and the directory replaces
// `<outDir>/packer` whole — a template left from an earlier run would be read with the new ones.

import { join } from 'node:path';
import type { Build } from '../../compiler/normalize/build.js';
import type { PlanStep, TargetContext, TargetPlan } from '../target.js';
import type { PackerTargetOptions } from './context.js';
import { packerFiles } from './templates.js';

/** The directory the target publishes, in the output directory (and its name in the work directory). */
export const PACKER_DIR = 'packer';
export const SUMS = 'SHA256SUMS';

export function planPacker(build: Build, options: PackerTargetOptions, context: TargetContext): TargetPlan {
  const files = packerFiles(build, options);
  const names = files.map((f) => f.path).sort();
  const published = join(context.outDir, PACKER_DIR);
  const steps: PlanStep[] = [
    ...files.map((f): PlanStep => ({ title: f.title, action: { kind: 'write', path: `${PACKER_DIR}/${f.path}`, content: f.content } })),
    {
      title: 'checksum every file',
      action: { kind: 'checksums', files: names.map((n) => ({ file: `${PACKER_DIR}/${n}`, name: n })), to: `${PACKER_DIR}/${SUMS}` },
    },
    { title: 'rename the directory into place, replacing the one there', action: { kind: 'publish-dir', from: PACKER_DIR, to: published } },
  ];
  return {
    target: 'packer',
    tools: [],
    workDir: { parent: context.outDir, prefix: '.derivc-packer-' },
    steps,
    outputs: [...names, SUMS].map((n) => join(published, n)),
    sourceDateEpoch: context.sourceDateEpoch ?? null,
  };
}
