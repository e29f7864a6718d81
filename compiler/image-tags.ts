// The image references a manifest names without saying them: its default tags and the upgrade
// image. One place, read by normalize (the Build) and by templates (`image`, `upgradeImage`),
// which validation renders from the raw manifest before there is a Build.

interface TagSource {
  metadata: { name: string; version: string };
  upgrade?: { image?: string } | undefined;
  build?: { tags?: readonly string[] } | undefined;
}

/** OCI tags cannot carry `+` (semver build metadata); `_` is the usual stand-in. */
export function tagOf(version: string): string {
  return version.replace(/\+/g, '_');
}

export function defaultTagsOf(m: TagSource): string[] {
  if (m.build?.tags) return [...m.build.tags];
  return [`${m.upgrade?.image ?? `derivc.local/${m.metadata.name}`}:${tagOf(m.metadata.version)}`];
}

/** What `upgrade` installs by default (full reference with tag); undefined without an `upgrade` section. */
export function upgradeImageOf(m: TagSource): string | undefined {
  if (!m.upgrade) return undefined;
  return m.upgrade.image ? `${m.upgrade.image}:${tagOf(m.metadata.version)}` : defaultTagsOf(m)[0]!;
}
