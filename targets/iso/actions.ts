// The step the ISO target owns: the volume serial of the EFI boot image, set from
// SOURCE_DATE_EPOCH (mformat draws it from the clock; efi-serial.ts finds where it is).

import type { ActionHandler } from '../target.js';
import { bootCatalogSector, BOOT_RECORD_SECTOR, efiImageSector, fatSerialOffset, ISO_SECTOR, serialBytes } from './efi-serial.js';

declare module '../target.js' {
  interface StepActions {
    /** Sets the volume serial of the EFI boot image (FAT) inside an ISO: mformat draws it from the clock. */
    'set-efi-serial': { kind: 'set-efi-serial'; iso: string; serial: number | string };
  }
}

export const setEfiSerial: ActionHandler<'set-efi-serial'> = {
  describe: (a) => [`${a.iso}: FAT volume serial of the EFI boot image = ${a.serial}`],
  run: async (a, { io, at }) => {
    if (typeof a.serial !== 'number') throw new Error('the EFI serial is a placeholder: this plan cannot run');
    const iso = at(a.iso);
    const catalog = bootCatalogSector(await io.fs.read(iso, BOOT_RECORD_SECTOR * ISO_SECTOR, ISO_SECTOR));
    const image = efiImageSector(await io.fs.read(iso, catalog * ISO_SECTOR, ISO_SECTOR)) * ISO_SECTOR;
    const offset = fatSerialOffset(await io.fs.read(iso, image, 512));
    await io.fs.patch(iso, image + offset, serialBytes(a.serial));
  },
};
