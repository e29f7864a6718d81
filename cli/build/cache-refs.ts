// `derivc build --cache-from REF… --cache-to REF`: where a fresh engine finds layers built
// elsewhere, and where this build leaves them. The cache is BuildKit's inline cache: the image
// pushed to the --cache-to REF carries the cache metadata (BUILDKIT_INLINE_CACHE=1), and a
// BuildKit build with --cache-from that REF pulls only the layers whose steps match. Neither
// flag is part of the compiled outputs: the build context, derivc.json and the build ID stay the
// same with and without them.
//
// REF is an image reference ([registry[:port]/]repository[:tag], --cache-from also @sha256:…),
// checked here before anything runs: a malformed one is a usage error and reaches nothing. It may
// hold `{name}`, replaced by each manifest's metadata.name, so that a fleet (several manifests)
// gives each derivative its own cache image. A --cache-to REF without `{name}` names one image:
// with several manifests that is a usage error, with one manifest it is that manifest's cache
// (upstreams built in the same run then export none).

import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import { UsageError } from '../exit-codes.js';
import { PLACEHOLDER_REGISTRY, registryOf } from './push.js';

/** The placeholder for the manifest's metadata.name. */
export const NAME_PLACEHOLDER = '{name}';

// The distribution reference grammar: the schema's own patterns, so a REF is read as a tag or base image is.
const TAGGED = new RegExp(manifestSchema.definitions.buildTag.pattern);
const DIGESTED = new RegExp(manifestSchema.definitions.baseImageRef.pattern);
const MAX_LENGTH = 512;

/** The shortest and the longest metadata.name: a template is valid when both fill it into a valid reference. */
const SAMPLE_NAMES = ['a', `a${'-'.repeat(61)}a`];

export interface CacheFlags {
  /** --cache-from, in the order given; each may hold {name}. */
  from: readonly string[];
  /** --cache-to; may hold {name}. */
  to: string | undefined;
}

export interface ManifestCache {
  from: string[];
  to: string | undefined;
  /**
   * Whether a build that reuses nothing from `from` is worth a note: for the manifests the command
   * line names, and for every manifest when a --cache-from REF holds {name} (its own cache). An
   * upstream handed a shared REF was not built into it, so it matches nothing there as a rule.
   */
  noteUnused: boolean;
}

function checkRef(flag: string, template: string, pattern: RegExp, expected: string): void {
  const filled = SAMPLE_NAMES.map((n) => template.split(NAME_PLACEHOLDER).join(n));
  if (filled.every((r) => r.length <= MAX_LENGTH && pattern.test(r))) return;
  throw new UsageError(
    `${flag} takes an image reference, ${expected}, optionally with ${NAME_PLACEHOLDER} for each manifest's name (${JSON.stringify(template)} given)`,
  );
}

/** --cache-from and --cache-to as given, checked; a malformed REF is a usage error. */
export function parseCacheFlags(from: readonly string[] | undefined, to: string | undefined): CacheFlags {
  for (const ref of from ?? []) checkRef('--cache-from', ref, DIGESTED, '[registry[:port]/]repository[:tag][@sha256:digest]');
  if (to !== undefined) {
    checkRef('--cache-to', to, TAGGED, 'registry[:port]/repository[:tag] (pushed to, so no digest)');
    if (registryOf(to) === PLACEHOLDER_REGISTRY)
      throw new UsageError(
        `--cache-to ${to} names \`${PLACEHOLDER_REGISTRY}\`, derivc's placeholder for images that are not pushed: put the registry the cache goes to first (e.g. \`registry.example.com/cache/${NAME_PLACEHOLDER}:buildcache\`)`,
      );
    if (registryOf(to) === undefined)
      throw new UsageError(
        `--cache-to ${to} names no registry, and derivc pushes to Docker Hub only when asked by name: put the registry first (e.g. \`registry.example.com/cache/${NAME_PLACEHOLDER}:buildcache\`; for Docker Hub \`docker.io/ORG/NAME:TAG\`)`,
      );
  }
  return { from: [...new Set(from ?? [])], to };
}

/**
 * Before anything is built: a --cache-to REF without {name} names one image, which several
 * manifests would each overwrite with their own.
 */
export function checkCacheScope(flags: CacheFlags, namedManifests: number): void {
  if (flags.to === undefined || flags.to.includes(NAME_PLACEHOLDER) || namedManifests <= 1) return;
  throw new UsageError(
    `--cache-to ${flags.to} names one image, and this build has ${namedManifests} manifests, each of which would replace the others' cache there; put ${NAME_PLACEHOLDER} in REF (e.g. \`--cache-to registry.example.com/cache/${NAME_PLACEHOLDER}:buildcache\`) to give each its own`,
  );
}

/** A tag-less --cache-to is pushed as `latest`, as docker push does. */
function withTag(ref: string): string {
  const lastSlash = ref.lastIndexOf('/');
  return ref.lastIndexOf(':') > lastSlash ? ref : `${ref}:latest`;
}

/**
 * One manifest's cache references: {name} filled in. `named`: the manifest is one the command
 * line names (an upstream built in the same run is not); a --cache-to without {name} is only the
 * named manifest's.
 */
export function cacheFor(flags: CacheFlags, name: string, named: boolean): ManifestCache {
  const fill = (ref: string) => ref.split(NAME_PLACEHOLDER).join(name);
  const to = flags.to !== undefined && (named || flags.to.includes(NAME_PLACEHOLDER)) ? withTag(fill(flags.to)) : undefined;
  return { from: [...new Set(flags.from.map(fill))], to, noteUnused: named || flags.from.some((r) => r.includes(NAME_PLACEHOLDER)) };
}
