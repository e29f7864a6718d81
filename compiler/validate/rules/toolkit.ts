// `toolkit`: settings that depend on the family, runtime-only features without a toolkit, and
// the toolkit era (flavor and release) that decides which cloud-config keys the image understands.

import { obj, str } from '../../data.js';
import { inferFamily } from '../../family.js';
import { FLAVOR_NAMES, inferEra, NEWEST_RELEASE, type EraInference, type ToolkitSettings } from '../../toolkit-era.js';
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

/** The toolkit era: inherited by a downstream derivative, else inferred from `toolkit` and `base.image`. */
export function manifestEra(ctx: RuleContext): EraInference {
  if (str(obj(ctx.manifest['base'])?.['derivative']) !== undefined) return { era: ctx.upstream?.era };
  const t = obj(ctx.manifest['toolkit']);
  const settings: ToolkitSettings = {};
  for (const key of ['source', 'mode', 'image', 'flavor', 'version'] as const) {
    const value = str(t?.[key]);
    if (value !== undefined) settings[key] = value;
  }
  return inferEra(t ? settings : undefined, str(obj(ctx.manifest['base'])?.['image']));
}

export const toolkitRules: Rule = (ctx) => {
  const out = [];
  const { era, problem } = manifestEra(ctx);
  const stated = obj(ctx.manifest['toolkit']) ?? {};
  // An invalid `flavor:` or `version:` is reported by the schema; inference only fills in what is missing.
  if (problem === 'flavor-required' && stated['flavor'] === undefined) {
    const image = str(obj(ctx.manifest['base'])?.['image']) ?? '';
    out.push(
      finding(ctx, 'toolkit/flavor-required', '/toolkit/source', `cannot tell whose toolkit the base image \`${image}\` carries from its name`, {
        hint: 'add `flavor:` under `toolkit` — `cos`, `elemental` or `kairos` — and `version:` with its release, e.g. `version: v2.3.2`',
      }),
    );
  }
  const source = str(stated['source']);
  if (problem === 'unknown-version' && era && stated['version'] === undefined && (source !== 'image' || stated['image'] !== undefined)) {
    const from = source === 'image' ? 'the toolkit image has no release tag' : "the base image's tag is not a toolkit release";
    out.push(
      finding(
        ctx,
        'toolkit/unknown-version',
        '/toolkit',
        `${from}, so derivc assumes the newest ${FLAVOR_NAMES[era.flavor]} release it knows (${NEWEST_RELEASE[era.flavor]}) and cannot warn about cloud-config keys an older release ignores`,
        {
          severity: 'warning',
          at: 'key',
          hint: `add \`version:\` under \`toolkit\` with the ${FLAVOR_NAMES[era.flavor]} release the image carries, e.g. \`version: ${NEWEST_RELEASE[era.flavor]}\``,
        },
      ),
    );
  }
  const toolkit = obj(ctx.manifest['toolkit']);
  if (str(toolkit?.['source']) === 'luet' && toolkit?.['repository'] === undefined && effectiveFamily(ctx) === 'debian') {
    out.push(
      finding(ctx, 'toolkit/repository-required', '/toolkit', 'the cOS toolkit has no luet repository for Debian, so `repository` is required here', {
        at: 'key',
        hint: 'add `repository: <registry>/<org>/<luet repo>` under `toolkit`, or use `source: image`',
      }),
    );
  }
  if (toolkit?.['features'] !== undefined && str(toolkit['source']) === 'image' && str(toolkit['mode']) === 'framework') {
    out.push(
      finding(
        ctx,
        'toolkit/features-need-elemental',
        '/toolkit/features',
        '`features` chooses what `elemental init` installs, but `mode: framework` copies the image whole and runs no `elemental init`',
        {
          at: 'key',
          hint: 'remove `features`, or use `mode: elemental` with an Elemental toolkit image',
        },
      ),
    );
  }
  out.push(...luetPackageRules(ctx, toolkit, era?.flavor));
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

/**
 * `packages` on top of an image, a base image or an upstream's toolkit need a luet: the image's
 * (cOS and Kairos images carry one) or one copied from `luetImage`. Elemental images carry none.
 */
function luetPackageRules(ctx: RuleContext, toolkit: Record<string, unknown> | undefined, flavor: string | undefined) {
  const source = str(toolkit?.['source']);
  if (!toolkit || (source !== 'image' && source !== 'base')) return [];
  const out = [];
  if (toolkit['packages'] === undefined) {
    for (const key of ['repository', 'luetImage'] as const) {
      if (toolkit[key] === undefined) continue;
      out.push(
        finding(
          ctx,
          'toolkit/luet-without-packages',
          `/toolkit/${key}`,
          `\`${key}\` is only used to install \`packages\` with luet, and this toolkit lists none`,
          {
            severity: 'warning',
            at: 'key',
            hint: `add \`packages:\` under \`toolkit\` with the luet packages to install, or remove \`${key}\``,
          },
        ),
      );
    }
    return out;
  }
  const elementalInit = source === 'image' && str(toolkit['mode']) !== 'framework';
  if (toolkit['luetImage'] === undefined && (elementalInit || flavor === 'elemental')) {
    out.push(
      finding(ctx, 'toolkit/packages-without-luet', '/toolkit/packages', 'luet `packages` need luet, and an Elemental image carries none', {
        at: 'key',
        hint: 'add `luetImage:` under `toolkit` (e.g. `luetImage: quay.io/luet/base:0.32.0`): derivc copies luet from it',
      }),
    );
  }
  if (str(obj(ctx.manifest['base'])?.['derivative']) !== undefined && ctx.upstream?.hasToolkit !== true) {
    out.push(
      finding(ctx, 'toolkit/packages-without-luet', '/toolkit/packages', 'luet `packages` go on top of a toolkit, and the upstream derivative has none', {
        at: 'key',
        hint: 'add the toolkit to the upstream manifest, or install distribution packages under `packages.install`',
      }),
    );
  }
  return out;
}
