// Carries out a target plan with injected effects, each step by the handler registered for its
// kind (targets/actions.ts): this file knows no target. Everything happens in a fresh work
// directory next to the outputs; only the last step renames finished files into place, and the
// work directory is removed whatever happens — a failed or cancelled run leaves nothing half-written.

import { isAbsolute, join } from 'node:path';
import type { ImageCapture } from './io/image-stream.js';
import type { ActionHandler, ActionHandlers, ActionKind, Artifact, StepAction, StepContext, TargetIO, TargetPlan } from './target.js';

function cancelled(signal: AbortSignal): Error {
  const err = new Error('cancelled', { cause: signal.reason });
  err.name = 'AbortError';
  return err;
}

export async function runPlan(plan: TargetPlan, io: TargetIO, handlers: ActionHandlers): Promise<Artifact[]> {
  if (plan.sourceDateEpoch === null) throw new Error('this plan was made without SOURCE_DATE_EPOCH: it can be shown, not run');
  if (io.signal?.aborted) throw cancelled(io.signal);
  const work = await io.fs.makeTempDir(plan.workDir.parent, plan.workDir.prefix);
  const run = new PlanRun(io, work);
  try {
    for (const step of plan.steps) {
      if (io.signal?.aborted) throw cancelled(io.signal);
      io.progress?.(`${plan.target}: ${step.title}`);
      await run.step(step.action, handlers);
    }
    if (io.signal?.aborted) throw cancelled(io.signal);
    return run.artifacts;
  } catch (err) {
    throw io.signal?.aborted ? cancelled(io.signal) : err;
  } finally {
    await io.fs.remove(work);
  }
}

class PlanRun implements StepContext {
  readonly artifacts: Artifact[] = [];
  readonly sums = new Map<string, { sha256: string; bytes: number }>();
  readonly captures = new Map<string, ImageCapture>();
  /** Digests read since the last step that may have changed files. */
  private readonly fresh = new Map<string, Promise<{ sha256: string; bytes: number }>>();

  constructor(
    readonly io: TargetIO,
    private readonly work: string,
  ) {}

  at = (p: string): string => (isAbsolute(p) ? p : join(this.work, p));

  /** The OVA's disk is read once for its size and its .mf line. */
  digest = (file: string): Promise<{ sha256: string; bytes: number }> => {
    let sum = this.fresh.get(file);
    if (!sum) this.fresh.set(file, (sum = this.io.fs.sha256(this.at(file))));
    return sum;
  };

  async step(action: StepAction, handlers: ActionHandlers): Promise<void> {
    const handler = handlers[action.kind] as ActionHandler<ActionKind> | undefined;
    if (!handler) throw new Error(`no handler for the plan step kind \`${action.kind}\``);
    const written = handler.writes?.(action as never);
    if (written) for (const f of written) this.fresh.delete(f);
    else this.fresh.clear();
    await handler.run(action as never, this);
  }
}
