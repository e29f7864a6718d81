// The media half of the IR: `targets` and `tests` as the later stages read them, local paths
// resolved from the manifest's folder and the boot test's defaults applied. Kept out of Build on
// purpose: the build ID digests Build, and a medium's option must never rebuild the image.

import { join } from 'node:path';
import type { Manifest } from '../generated/manifest-types.js';
import { parseDuration } from '../units.js';
import type { ValidatedManifest } from '../validate/index.js';

export type Firmware = 'bios' | 'uefi';
export type BootMedia = 'iso' | 'raw';

/** `targets.*` as stated (present = enabled); `iso.overlay` as a path the host can open. */
export type TargetsIR = NonNullable<Manifest['targets']>;

/** `tests.boot` with MANIFEST.md's defaults. */
export interface BootTestIR {
  media: BootMedia[];
  firmware: Firmware[];
  timeoutMs: number;
  expect: string[];
  forbid: string[];
}

// Media default to the ISO alone: it is the medium every derivative with a kernel can produce.
export const BOOT_TEST_DEFAULTS = { media: ['iso'] as BootMedia[], firmware: ['bios', 'uefi'] as Firmware[], timeout: '5m', expect: ['login:'], forbid: ['Kernel panic', 'emergency mode'] };

export function targetsOf(v: ValidatedManifest): TargetsIR {
  const t = v.manifest.targets ?? {};
  return { ...t, ...(t.iso ? { iso: { ...t.iso, ...(t.iso.overlay !== undefined ? { overlay: join(v.dir, t.iso.overlay) } : {}) } } : {}) };
}

export function bootTestOf(v: ValidatedManifest): BootTestIR {
  const boot = v.manifest.tests?.boot ?? {};
  const d = BOOT_TEST_DEFAULTS;
  return {
    media: [...(boot.media ?? d.media)],
    firmware: [...(boot.firmware ?? d.firmware)],
    // The schema refused any other form.
    timeoutMs: parseDuration(boot.timeout ?? d.timeout)!,
    expect: [...(boot.expect ?? d.expect)],
    forbid: [...(boot.forbid ?? d.forbid)],
  };
}
