// `build.env` and `build.steps` in the Dockerfile. A step runs exactly as written: a list as
// exec-form arguments, a string by `/bin/sh -eu -c` (the user's own shell, by definition) — both
// one exec-form JSON array, so nothing in them is read by Docker's parser or by any other shell.

import type { Build, BuildStepIR, StepAt } from '../normalize/build.js';
import { commentText, dockerEnv, dockerExec } from '../quote.js';
import type { Step } from './dockerfile.js';

/** The manifest's steps at one point of the build, each its own layer, reported at its own line. */
export function userSteps(build: Build, at: StepAt): Step[] {
  return build.steps.filter((s) => s.at === at).map(userStep);
}

function userStep(s: BuildStepIR): Step {
  return { comment: `build step "${commentText(s.name)}" (${s.at})`, lines: [`RUN ${dockerExec(s.args)}`], pointer: s.pointer };
}

/** `ENV` lines, sorted by key; none without `build.env`. */
export function envStep(build: Build): Step[] {
  if (!build.env.length) return [];
  return [{ comment: 'environment (build.env)', lines: build.env.map(([k, v]) => `ENV ${dockerEnv(k, v)}`), pointer: '/build/env' }];
}

/** A step that can change the initrd: every one but `final`. */
export function changesInitrd(s: BuildStepIR): boolean {
  return s.at !== 'final';
}
