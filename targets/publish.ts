// How every single-file medium ends: its checksum, then the medium and the checksum renamed
// into the output directory — the only steps that touch it.

import { join } from 'node:path';
import type { PlanStep } from './target.js';

/** The steps that publish `file` (in the work directory) as `name` in `outDir` with `<name>.sha256`, and the paths they make. */
export function publishSteps(file: string, name: string, outDir: string): { steps: PlanStep[]; outputs: string[] } {
  const sum = `${name}.sha256`;
  const outputs = [join(outDir, name), join(outDir, sum)];
  return {
    steps: [
      { title: 'checksum', action: { kind: 'checksum', file, to: sum, name } },
      {
        title: 'rename into place',
        action: {
          kind: 'publish',
          files: [
            { from: file, to: outputs[0]! },
            { from: sum, to: outputs[1]! },
          ],
        },
      },
    ],
    outputs,
  };
}
