// `build.steps`: build progress and failures name a step by its name, so names are unique.

import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, str } from '../../data.js';
import { finding, type Rule } from '../context.js';

export const buildStepRules: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const names = new Map<string, number>();
  arr(obj(ctx.manifest['build'])?.['steps']).forEach((s, i) => {
    const name = str(obj(s)?.['name']);
    if (name === undefined) return;
    if (names.has(name))
      out.push(finding(ctx, 'build/duplicate-step', `/build/steps/${i}/name`, `build step name \`${name}\` is already used by steps[${names.get(name)}]`));
    else names.set(name, i);
  });
  return out;
};
