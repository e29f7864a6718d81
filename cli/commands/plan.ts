// derivc plan [FILE] [--format pretty|json]
// What compile (and later build and targets) would do, as one JSON plan; the pretty view is
// rendered from that JSON. Diagnostics go to stderr, so stdout is only ever the plan.

import { sha256 } from '../../compiler/emit/build-id.js';
import type { CompileOutput } from '../../compiler/emit/types.js';
import { EXIT, UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';
import { renderPlan, type Plan } from '../plan-view.js';
import { compileToMemory } from './compile.js';
import { manifestPaths } from './validate.js';

export const PLAN_FORMATS = ['pretty', 'json'] as const;

export interface PlanArgs {
  files: string[];
  format: string;
}

/** The plan of one compiled manifest. Pure: same output, same plan. */
export function planOf(manifest: string, output: CompileOutput): Plan {
  return {
    planVersion: 1,
    manifest,
    name: output.name,
    version: output.version,
    buildId: output.buildId,
    from: output.from,
    tags: [...output.tags],
    compile: {
      files: output.files.map((f) => ({
        path: f.path,
        sha256: sha256(f.content),
        mode: `0${f.mode.toString(8)}`,
        bytes: typeof f.content === 'string' ? Buffer.byteLength(f.content, 'utf8') : f.content.byteLength,
        origin: f.origin ? { file: f.origin.file, pointer: f.origin.pointer } : null,
      })),
    },
    build: { steps: output.steps.map((s) => ({ comment: s.comment, lines: [...s.lines] })) },
    targets: [],
  };
}


export function planCommand(args: PlanArgs, io: CliIO): number {
  if (!(PLAN_FORMATS as readonly string[]).includes(args.format)) throw new UsageError(`unknown --format \`${args.format}\` for plan; use one of ${PLAN_FORMATS.join(', ')}`);
  if (args.files.length > 1) throw new UsageError('`plan` takes one manifest');
  const [path] = manifestPaths(args.files, io);
  const output = compileToMemory(path!, io, { strict: false, format: 'pretty' });
  if (!output) return EXIT.failed;
  const plan = planOf(path!, output);
  io.stdout(args.format === 'json' ? JSON.stringify(plan, null, 2) + '\n' : renderPlan(plan));
  return EXIT.ok;
}
