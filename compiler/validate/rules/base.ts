// `base`: pinning, family inference, and what a downstream derivative inherits.

import { obj, str } from '../../data.js';
import { FAMILIES, inferFamily, isPinned } from '../../family.js';
import { finding, type Rule } from '../context.js';

export const baseRules: Rule = (ctx) => {
  const base = obj(ctx.manifest['base']);
  if (!base) return [];
  const out = [];
  const image = str(base['image']);
  const family = str(base['family']);
  if (image !== undefined && !isPinned(image)) {
    out.push(
      finding(ctx, 'base/unpinned', '/base/image', `base image \`${image}\` has no tag or digest, so every build may start from a different image`, {
        severity: 'warning',
        hint: `pin it: \`${image}:<tag>\`, or better \`${image}@sha256:<digest>\``,
      }),
    );
  }
  if (image !== undefined && family === undefined && inferFamily(image) === undefined) {
    out.push(
      finding(ctx, 'base/family-unknown', '/base/image', `cannot tell the distro family of \`${image}\` from its name`, {
        hint: `add \`family:\` under \`base\` — one of ${FAMILIES.map((f) => `\`${f}\``).join(', ')} — it decides the package manager and initrd commands`,
      }),
    );
  }
  const up = ctx.upstream;
  if (up && family !== undefined && up.family !== undefined && family !== up.family) {
    out.push(
      finding(ctx, 'base/family-mismatch', '/base/family', `family \`${family}\` differs from the upstream derivative's \`${up.family}\``, {
        hint: 'a downstream derivative inherits its family from the upstream image; remove `family:`',
      }),
    );
  }
  const source = str(obj(ctx.manifest['toolkit'])?.['source']);
  // `source: base` states what is true of a downstream whose upstream has a toolkit (and carries its `packages`).
  if (str(base['derivative']) !== undefined && source !== undefined && source !== 'none' && !(source === 'base' && up?.hasToolkit === true)) {
    const upstreamHas = up?.hasToolkit === true;
    out.push(
      finding(
        ctx,
        'toolkit/downstream',
        '/toolkit',
        upstreamHas
          ? 'a downstream derivative does not install the toolkit again: the upstream image already has it'
          : 'a downstream derivative does not install a toolkit, and its upstream has none: this setting is ignored',
        {
          severity: upstreamHas ? 'warning' : 'error',
          at: 'key',
          hint: upstreamHas
            ? 'remove `toolkit:`; to change the toolkit, change the upstream manifest'
            : 'add the toolkit to the upstream manifest, or remove `toolkit:` here',
        },
      ),
    );
  }
  return out;
};
