// Which firmware a medium can boot with on each architecture: GRUB has a BIOS platform (i386-pc)
// for amd64 only.

import type { Arch } from '../compiler/families.js';
import type { Firmware } from '../compiler/normalize/targets.js';
import type { TargetFinding } from './target.js';

const BOOTABLE: Record<Arch, readonly Firmware[]> = { amd64: ['bios', 'uefi'], arm64: ['uefi'] };

/**
 * A finding at `pointer` for each firmware the architecture cannot boot with. `medium` names it
 * in the message ("ISO"); `one` when the option names one firmware, not a list (the OVA's VM).
 */
export function firmwareFindings(firmware: readonly Firmware[], arch: Arch, pointer: string, medium: string, one = false): TargetFinding[] {
  const bootable = BOOTABLE[arch];
  return firmware
    .filter((f) => !bootable.includes(f))
    .map((f) => ({
      code: 'targets/unsupported-firmware',
      pointer,
      message: `an ${arch} ${medium} cannot boot with ${f} firmware (GRUB has no ${f} platform for ${arch})`,
      hint: one ? `use \`firmware: ${bootable[bootable.length - 1]}\`` : `use \`firmware: [${bootable.join(', ')}]\``,
    }));
}
