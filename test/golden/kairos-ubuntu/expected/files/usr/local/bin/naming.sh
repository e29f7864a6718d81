#!/bin/sh
# Stands for kairos-io/kairos images/naming.sh: prints the names of a Kairos build's artifacts
# from FLAVOR, FLAVOR_RELEASE, VARIANT, TARGETARCH, MODEL, KAIROS_VERSION and REGISTRY_AND_ORG.
# derivc computes these names at compile time (metadata.osRelease, /IMAGE); the script stays in
# the image because the upstream image ships it.
set -eu
label="$FLAVOR_RELEASE-$VARIANT-$TARGETARCH-$MODEL-$(printf %s "$KAIROS_VERSION" | tr + -)"
case "${1:-}" in
  container_artifact_label) echo "$label" ;;
  container_artifact_repo) echo "$REGISTRY_AND_ORG/$FLAVOR" ;;
  container_artifact_name) echo "$REGISTRY_AND_ORG/$FLAVOR:$label" ;;
  bootable_artifact_name) echo "kairos-$FLAVOR-$FLAVOR_RELEASE-$VARIANT-$TARGETARCH-$MODEL-$KAIROS_VERSION" ;;
  *)
    echo "usage: naming.sh container_artifact_label|container_artifact_repo|container_artifact_name|bootable_artifact_name" >&2
    exit 1
    ;;
esac
