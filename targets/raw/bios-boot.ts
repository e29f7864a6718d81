// BIOS boot on a GPT disk without grub-install (which wants a device): GRUB's boot.img goes in
// the MBR's code area and is told where core.img starts; core.img lies in the BIOS boot partition
// and its first sector (diskboot) is told where the rest of core.img is. These are the two
// fields grub-bios-setup writes (GRUB's boot/i386/pc/boot.S and diskboot.S).

export const SECTOR = 512;
/** boot.img's code, up to the disk signature and partition table, which stay the disk's. */
const MBR_CODE_BYTES = 440;
/** boot.S: `kernel_sector`, the LBA of core.img's first sector (8 bytes, little-endian). */
const KERNEL_SECTOR_OFFSET = 0x5c;
/** boot.S: the jump that skips the boot-drive check; two NOPs make it check (hard disks). */
const DRIVE_CHECK_OFFSET = 0x66;
/** diskboot.S: the last blocklist entry ends the sector: start (8), length (2), segment (2). */
const BLOCKLIST_OFFSET = SECTOR - 12;

/** The MBR with boot.img's code in front of the disk's own signature and protective partition table. */
export function patchMbr(mbr: Uint8Array, bootImg: Uint8Array, coreLba: number): Uint8Array {
  if (mbr.length !== SECTOR || bootImg.length !== SECTOR) throw new Error('the MBR and GRUB boot.img must be one 512-byte sector each');
  const out = new Uint8Array(mbr);
  out.set(bootImg.subarray(0, MBR_CODE_BYTES), 0);
  new DataView(out.buffer).setBigUint64(KERNEL_SECTOR_OFFSET, BigInt(coreLba), true);
  out[DRIVE_CHECK_OFFSET] = 0x90;
  out[DRIVE_CHECK_OFFSET + 1] = 0x90;
  return out;
}

/**
 * core.img's first sector with its blocklist pointing at the sectors after it. grub-mkimage has
 * already written the length (core.img's sectors after the first); it must fit the partition.
 */
export function patchDiskboot(first: Uint8Array, coreLba: number, partitionSectors: number): Uint8Array {
  if (first.length !== SECTOR) throw new Error("core.img's first sector must be 512 bytes");
  const out = new Uint8Array(first);
  const view = new DataView(out.buffer);
  const length = view.getUint16(BLOCKLIST_OFFSET + 8, true);
  if (length === 0 || length + 1 > partitionSectors) {
    throw new Error(`GRUB's core.img (${length + 1} sectors) does not fit the BIOS boot partition (${partitionSectors} sectors)`);
  }
  view.setBigUint64(BLOCKLIST_OFFSET, BigInt(coreLba + 1), true);
  return out;
}
