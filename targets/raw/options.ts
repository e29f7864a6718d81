// `targets.raw` of the manifest, and the defaults MANIFEST.md gives it.

import type { RawTarget } from '../../compiler/generated/manifest-types.js';

export type RawOptions = RawTarget;
export type RawFirmware = 'bios' | 'uefi';

/** Both firmwares unless the manifest narrows them (a disk image often moves between machines). */
export const RAW_DEFAULT_FIRMWARE: readonly RawFirmware[] = ['bios', 'uefi'];
