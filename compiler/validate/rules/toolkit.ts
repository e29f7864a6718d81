// `toolkit`: settings that depend on the family, and runtime-only features without a toolkit.

import { obj, str } from '../../data.js';
import { inferFamily } from '../../family.js';
import { finding, type Rule, type RuleContext } from '../context.js';

/** The family this manifest builds for: stated, inherited, or inferred from the image name. */
export function effectiveFamily(ctx: RuleContext): string | undefined {
  const base = obj(ctx.manifest['base']);
  const image = str(base?.['image']);
  return str(base?.['family']) ?? ctx.upstream?.family ?? (image !== undefined ? inferFamily(image) : undefined);
}

/**
 * Whoever runs /system/oem at boot. A downstream derivative never installs a toolkit (its
 * upstream image decides); otherwise any `toolkit.source` but `none` brings one.
 */
export function hasToolkit(ctx: RuleContext): boolean {
  if (str(obj(ctx.manifest['base'])?.['derivative']) !== undefined) return ctx.upstream?.hasToolkit === true;
  return (str(obj(ctx.manifest['toolkit'])?.['source']) ?? 'none') !== 'none';
}

export const toolkitRules: Rule = (ctx) => {
  const out = [];
  const toolkit = obj(ctx.manifest['toolkit']);
  if (str(toolkit?.['source']) === 'luet' && toolkit?.['repository'] === undefined && effectiveFamily(ctx) === 'debian') {
    out.push(
      finding(ctx, 'toolkit/repository-required', '/toolkit', 'the cOS toolkit has no luet repository for Debian, so `repository` is required here', {
        at: 'key',
        hint: 'add `repository: <registry>/<org>/<luet repo>` under `toolkit`, or use `source: image`',
      }),
    );
  }
  if (!hasToolkit(ctx)) {
    for (const key of ['stages', 'oemDir', 'layout'] as const) {
      if (ctx.manifest[key] === undefined) continue;
      out.push(
        finding(ctx, 'toolkit/no-runtime', `/${key}`, `\`${key}\` needs the cOS toolkit at boot, but this derivative has none: nothing will run it`, {
          severity: 'warning',
          at: 'key',
          hint: 'add a `toolkit:` (e.g. `source: luet`), or move the settings to `system:`, which derivc applies at build time without a toolkit',
        }),
      );
    }
  }
  return out;
};
