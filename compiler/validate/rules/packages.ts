// `packages`: a package both installed and removed is a contradiction the package manager
// resolves differently per family; repository names must be unique (they become file names).

import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, str, strings } from '../../data.js';
import { finding, type Rule } from '../context.js';

const nameOf = (spec: string) => spec.split('=')[0]!;

export const packageRules: Rule = (ctx) => {
  const pkgs = obj(ctx.manifest['packages']);
  if (!pkgs) return [];
  const out: Diagnostic[] = [];
  const installed = new Set(strings(pkgs['install']).map(nameOf));
  strings(pkgs['remove']).forEach((spec, i) => {
    if (!installed.has(nameOf(spec))) return;
    out.push(
      finding(ctx, 'packages/install-and-remove', `/packages/remove/${i}`, `\`${nameOf(spec)}\` is both installed and removed`, {
        hint: 'keep it in one of `install` or `remove`',
      }),
    );
  });
  const names = new Map<string, number>();
  arr(pkgs['repositories']).forEach((r, i) => {
    const name = str(obj(r)?.['name']);
    if (name === undefined) return;
    if (names.has(name)) {
      out.push(
        finding(
          ctx,
          'packages/duplicate-repository',
          `/packages/repositories/${i}/name`,
          `repository name \`${name}\` is already used by repositories[${names.get(name)}]`,
          { hint: 'give each repository its own name' },
        ),
      );
    } else names.set(name, i);
  });
  return out;
};
