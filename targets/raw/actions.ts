// The step the raw target owns: BIOS boot on a GPT disk without grub-install (bios-boot.ts).

import type { ActionHandler } from '../target.js';
import { patchDiskboot, patchMbr, SECTOR } from './bios-boot.js';

declare module '../target.js' {
  interface StepActions {
    /**
     * Makes a GPT disk boot under BIOS: GRUB's boot.img (a host file) into the MBR's code area,
     * pointing at core.img, already written at `coreLba` in the BIOS boot partition.
     */
    'install-bios-boot': { kind: 'install-bios-boot'; disk: string; bootImage: string; coreLba: number; partitionSectors: number };
  }
}

export const installBiosBoot: ActionHandler<'install-bios-boot'> = {
  describe: (a) => [`${a.disk}: GRUB ${a.bootImage} into the MBR code area, pointing at core.img at sector ${a.coreLba}`],
  run: async (a, { io, at }) => {
    const disk = at(a.disk);
    const mbr = patchMbr(await io.fs.read(disk, 0, SECTOR), await io.fs.read(a.bootImage, 0, SECTOR), a.coreLba);
    const diskboot = patchDiskboot(await io.fs.read(disk, a.coreLba * SECTOR, SECTOR), a.coreLba, a.partitionSectors);
    await io.fs.patch(disk, 0, mbr);
    await io.fs.patch(disk, a.coreLba * SECTOR, diskboot);
  },
};
