// Every kind of plan step and the handler that carries it out: plan-run's own and those each
// target registers. plan-run.ts gets this table and knows no target.

import { CORE_ACTIONS } from './core-actions.js';
import { runPlan } from './plan-run.js';
import { TARGETS } from './registry.js';
import type { ActionHandler, ActionHandlers, ActionKind, Artifact, StepAction, TargetIO, TargetPlan } from './target.js';

export const ACTIONS: ActionHandlers = { ...CORE_ACTIONS, ...TARGETS.iso.actions, ...TARGETS.raw.actions, ...TARGETS.ova.actions, ...TARGETS.packer.actions };

/** Carries out a plan (targets/plan-run.ts). */
export function runTarget(plan: TargetPlan, io: TargetIO): Promise<Artifact[]> {
  return runPlan(plan, io, ACTIONS);
}

/** The lines `derivc plan` shows under a step. */
export function describeAction(action: StepAction): string[] {
  return (ACTIONS[action.kind] as ActionHandler<ActionKind>).describe(action as never);
}
