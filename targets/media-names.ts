// File names of the media each target publishes, in one place: targets that build on another
// target's medium (ova on raw, packer on iso/raw) and `derivc test` find them by these names.

import type { Build } from '../compiler/normalize/build.js';

/** `<name>-<version>`: the default base name of every medium. */
export function mediaBaseName(build: Pick<Build, 'name' | 'version'>): string {
  return `${build.name}-${build.version}`;
}

/** The ISO: `targets.iso.name` or `<name>-<version>`, with `.iso`. */
export function isoFileName(build: Pick<Build, 'name' | 'version'>, options: { name?: string }): string {
  return `${options.name ?? mediaBaseName(build)}.iso`;
}

/** The disk image: `<name>-<version>.raw`, or `.qcow2` with `targets.raw.format: qcow2`. */
export function rawFileName(build: Pick<Build, 'name' | 'version'>, options: { format?: 'raw' | 'qcow2' }): string {
  return `${mediaBaseName(build)}.${options.format ?? 'raw'}`;
}

/** The appliance: `<name>-<version>.ova`. */
export function ovaFileName(build: Pick<Build, 'name' | 'version'>): string {
  return `${mediaBaseName(build)}.ova`;
}
