// qemu-img writes a random content ID (CID) into a VMDK's text descriptor; a reproducible
// appliance needs a fixed one. The descriptor's place comes from the sparse extent header
// (VMware's "Virtual Disk Format 5.0": magic "KDMV", descriptorOffset and descriptorSize in
// sectors at bytes 28 and 36). qemu-img prints the CID with "%x", not "%08x": a random CID below
// 0x10000000 has fewer than 8 digits (1 build in 16), so the whole descriptor region is rewritten
// with the new line and NUL padding rather than patched byte for byte.

export const VMDK_HEADER_BYTES = 512;
const SECTOR = 512;

/** Where the descriptor is, from the extent header. */
export function descriptorRange(header: Uint8Array): { offset: number; length: number } {
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  if (header.length < 44 || view.getUint32(0, true) !== 0x564d444b) throw new Error('not a sparse VMDK extent (no KDMV header)');
  const offset = Number(view.getBigUint64(28, true));
  const length = Number(view.getBigUint64(36, true));
  if (offset === 0 || length === 0 || length > 2048) throw new Error('the VMDK has no embedded descriptor');
  return { offset: offset * SECTOR, length: length * SECTOR };
}

/** The descriptor region rewritten with `CID=<cid>` (offset relative to the descriptor). */
export function cidPatch(descriptor: Uint8Array, cid: string): { offset: number; bytes: Uint8Array } {
  if (!/^[0-9a-f]{8}$/.test(cid)) throw new Error(`a VMDK CID is 8 hex digits, not ${cid}`);
  const raw = new TextDecoder('latin1').decode(descriptor);
  const end = raw.indexOf('\0');
  const text = end === -1 ? raw : raw.slice(0, end);
  if (!/^CID=[0-9a-f]{1,8}$/m.test(text)) throw new Error('the VMDK descriptor has no CID line');
  const rewritten = text.replace(/^CID=[0-9a-f]{1,8}$/m, `CID=${cid}`);
  if (rewritten.length > descriptor.length) throw new Error('the VMDK descriptor has no room for an 8-digit CID');
  const bytes = new Uint8Array(descriptor.length);
  for (let i = 0; i < rewritten.length; i++) bytes[i] = rewritten.charCodeAt(i);
  return { offset: 0, bytes };
}
