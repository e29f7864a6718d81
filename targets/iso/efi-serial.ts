// Where the volume serial number of an ISO's EFI boot image is. grub-mkrescue formats that FAT
// image with mformat, which (mtools 4.0.32) draws the serial from the clock even when
// SOURCE_DATE_EPOCH is set: the only bytes that differ between two otherwise identical builds.
// derivc finds the image through the El Torito boot catalog and sets the serial itself.

const SECTOR = 2048;
/** The Boot Record Volume Descriptor of El Torito is always at sector 17. */
export const BOOT_RECORD_SECTOR = 17;
const EFI_PLATFORM = 0xef;

/** The boot catalog's sector, from the Boot Record Volume Descriptor (sector 17). */
export function bootCatalogSector(bootRecord: Uint8Array): number {
  const b = Buffer.from(bootRecord.buffer, bootRecord.byteOffset, bootRecord.byteLength);
  if (b[0] !== 0 || b.toString('latin1', 1, 6) !== 'CD001' || !b.toString('latin1', 7, 39).startsWith('EL TORITO SPECIFICATION')) {
    throw new Error('the ISO has no El Torito boot record at sector 17');
  }
  return b.readUInt32LE(0x47);
}

/**
 * The sector of the first EFI boot image the catalog lists: the default entry when the whole
 * catalog is for EFI, else the first entry of a section for platform 0xEF.
 */
export function efiImageSector(catalog: Uint8Array): number {
  const b = Buffer.from(catalog.buffer, catalog.byteOffset, catalog.byteLength);
  if (b[0] !== 0x01 || b[0x1e] !== 0x55 || b[0x1f] !== 0xaa) throw new Error('the El Torito boot catalog has no validation entry');
  if (b[1] === EFI_PLATFORM) return b.readUInt32LE(32 + 8);
  for (let at = 64; at + 32 <= b.length; at += 32) {
    const indicator = b[at]!;
    if (indicator !== 0x90 && indicator !== 0x91) continue; // not a section header
    const count = b.readUInt16LE(at + 2);
    if (b[at + 1] === EFI_PLATFORM && count > 0) return b.readUInt32LE(at + 32 + 8);
    if (indicator === 0x91) break; // the last section
    at += 32 * count;
  }
  throw new Error('the El Torito boot catalog lists no EFI boot image');
}

/** The byte offset of the volume serial in a FAT boot sector (FAT12/16 or FAT32). */
export function fatSerialOffset(bootSector: Uint8Array): number {
  const b = Buffer.from(bootSector.buffer, bootSector.byteOffset, bootSector.byteLength);
  if (b[510] !== 0x55 || b[511] !== 0xaa) throw new Error('the EFI boot image does not start with a FAT boot sector');
  if (b[0x26] === 0x29 && b.toString('latin1', 0x36, 0x39) === 'FAT') return 0x27;
  if (b[0x42] === 0x29 && b.toString('latin1', 0x52, 0x57) === 'FAT32') return 0x43;
  throw new Error('the EFI boot image has no FAT extended boot signature (no volume serial to set)');
}

/** The serial derived from SOURCE_DATE_EPOCH: its low 32 bits, little-endian as FAT stores it. */
export function serialBytes(serial: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(serial >>> 0);
  return b;
}

export const ISO_SECTOR = SECTOR;
