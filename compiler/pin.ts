// `build.pin: digest`: a downstream derivative builds FROM its upstream's pushed digest
// (`repo@sha256:…`) instead of its first tag, so a tag moved after the push cannot change what the
// downstream is built from. The digest is an input, never looked up here (the compiler is pure):
// the CLI hands over what `derivc build --push` recorded for the upstream's build ID.
//
// The upgrade reference follows where that means something: `upgrade.image`/`recoveryImage` that
// name the upstream's image (a downstream that upgrades to its base) are pinned to the same digest.
// This image's own reference stays a tag: an image cannot contain its own digest (the digest is a
// hash over the image, the file would be part of it). A `channel:` reference is not an image
// reference, so it is never pinned.

import type { Diagnostic, Result } from './diagnostics.js';
import type { CompileOutput } from './emit/types.js';
import type { Build } from './normalize/build.js';
import type { ValidatedManifest } from './validate/index.js';

/** What a push of an upstream left: `repo@sha256:<64 hex>`. */
export const DIGEST_REFERENCE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

export interface PinOptions {
  /** The digest reference recorded for a push of this upstream build (by its build ID); undefined when none is known. */
  digestOf(upstream: { name: string; buildId: string; tags: readonly string[] }): string | undefined;
  /** True for a build (an unknown digest is an error); compile, plan and diff fall back to the tag with a warning. */
  required: boolean;
}

/** The Build with its upstream references pinned, when the manifest asks for it. */
export function pinUpstream(v: ValidatedManifest, build: Build, upstream: CompileOutput | undefined, pins: PinOptions | undefined): Result<Build> {
  if (v.manifest.build?.pin !== 'digest') return { value: build, diagnostics: [] };
  const at = { file: v.path, pointer: '/build/pin', range: v.source.locate('/build/pin') };
  if (!upstream || build.from.kind !== 'derivative') {
    const warning: Diagnostic = {
      code: 'build/pin-without-upstream',
      severity: 'warning',
      message: '`build.pin: digest` pins the image of an upstream derivative (`base.derivative`), and this manifest builds from `base.image`',
      ...at,
      hint: 'pin a base image in `base.image` itself (`repo@sha256:…`), and drop `build.pin`',
    };
    return { value: build, diagnostics: [warning] };
  }
  const found = pins?.digestOf({ name: upstream.name, buildId: upstream.buildId, tags: upstream.tags });
  const digest = found !== undefined && DIGEST_REFERENCE.test(found) ? found : undefined;
  if (!digest) {
    const unpushed: Diagnostic = {
      code: 'build/pin-unpushed',
      severity: pins?.required ? 'error' : 'warning',
      message: `\`build.pin: digest\` builds FROM the pushed digest of upstream \`${upstream.name}\`, and no push of its build ${upstream.buildId.slice(0, 19)}… is recorded${pins?.required ? '' : `: \`${build.from.ref}\` is used until one is`}`,
      ...at,
      hint: 'push the upstream first (`derivc build UPSTREAM.yaml --push`; `derivc build --push` of both pushes it before this one), or set `build.pin: tag`',
    };
    return { value: build, diagnostics: [unpushed] };
  }
  const pinned = (ref: string) => (upstream.tags.includes(ref) ? digest : ref);
  const upgrade =
    build.upgrade && !build.upgrade.channel
      ? { ...build.upgrade, image: pinned(build.upgrade.image), recoveryImage: pinned(build.upgrade.recoveryImage) }
      : build.upgrade;
  return { value: { ...build, from: { ...build.from, ref: digest }, ...(upgrade ? { upgrade } : {}) }, diagnostics: [] };
}
