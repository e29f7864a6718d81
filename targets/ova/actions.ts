// The steps the ova target owns: a reproducible VMDK content ID (vmdk.ts) and the OVF manifest.

import type { ActionHandler } from '../target.js';
import { cidPatch, descriptorRange, VMDK_HEADER_BYTES } from './vmdk.js';

declare module '../target.js' {
  interface StepActions {
    /** Sets the content ID in a VMDK's descriptor: qemu-img draws it at random. */
    'set-vmdk-cid': { kind: 'set-vmdk-cid'; vmdk: string; cid: string };
    /** An OVF manifest (.mf): "SHA256(<name>)= <hex>\n" for each file. */
    'ovf-manifest': { kind: 'ovf-manifest'; files: { file: string; name: string }[]; to: string };
  }
}

export const setVmdkCid: ActionHandler<'set-vmdk-cid'> = {
  describe: (a) => [`${a.vmdk}: descriptor CID=${a.cid}`],
  run: async (a, { io, at }) => {
    const vmdk = at(a.vmdk);
    const range = descriptorRange(await io.fs.read(vmdk, 0, VMDK_HEADER_BYTES));
    const patch = cidPatch(await io.fs.read(vmdk, range.offset, range.length), a.cid);
    await io.fs.patch(vmdk, range.offset + patch.offset, patch.bytes);
  },
};

export const ovfManifest: ActionHandler<'ovf-manifest'> = {
  describe: (a) => [`SHA256 of ${a.files.map((f) => f.file).join(', ')} → ${a.to}`],
  run: async (a, { io, at, digest }) => {
    const lines = [];
    for (const f of a.files) lines.push(`SHA256(${f.name})= ${(await digest(f.file)).sha256}\n`);
    await io.fs.writeFile(at(a.to), lines.join(''));
  },
  writes: (a) => [a.to],
};
