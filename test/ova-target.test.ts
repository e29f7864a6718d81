// The ova target as a specification: the raw disk's steps (or, after the raw target in the same
// run, the disk it published) followed by the appliance steps, the OVF descriptor (hardware from
// targets.ova, every manifest value escaped), the VMDK content ID made reproducible, and the run
// filling in the disk's size and the manifest's SHA256 lines.
// The real qemu-img, tar and a QEMU boot of the VMDK are test/e2e/ova.e2e.test.ts.

import { describe, expect, it } from 'vitest';
import { debianPackageOf } from '../cli/host-tools.js';
import type { Build } from '../compiler/normalize/build.js';
import { normalize } from '../compiler/normalize/index.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { ovfDescriptor } from '../targets/ova/ovf.js';
import { planOva, validateOva } from '../targets/ova/plan.js';
import { cidPatch, descriptorRange } from '../targets/ova/vmdk.js';
import { xmlEscape } from '../targets/ova/xml.js';
import { runTarget } from '../targets/actions.js';
import { derivedUuid } from '../targets/raw/layout.js';
import { rawDiskSteps, validDiskSpec } from '../targets/raw/plan.js';
import type { StepAction, TargetFs, TargetIO, TargetPlan } from '../targets/target.js';
import { FakeEngine } from './support/fake-engine.js';
import { MemoryHost } from './support/memory-host.js';
import { optionsOf } from './support/targets.js';

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';
const EPOCH = 1_700_000_000;
const CONTEXT = { image: 'derivc.local/acme:1.0', imageBytes: 700 * 2 ** 20, outDir: '/out', sourceDateEpoch: EPOCH, earlier: [] };
const FACTS = { name: 'acme', version: '1.0', arch: 'amd64' as const };
const DISK_AT = { pointer: '/targets/raw/size', name: 'disk' };
/** The options of the ova target for `targets.ova` and `targets.raw`. */
const options = (ova: object = {}, raw: object = {}) => ({ ova: optionsOf('ova', ova), raw: optionsOf('raw', raw) });
const diskOf = (raw: object, size: string, firmware: ('bios' | 'uefi')[]) =>
  validDiskSpec(optionsOf('raw', raw), { text: size, pointer: '/targets/raw/size' }, firmware);

function build(body = ''): Build {
  const host = new MemoryHost({ 'derivative.yaml': HEAD + body });
  const r = new ValidationSession(host).validate('derivative.yaml');
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return normalize(r.value.manifest!, host).value;
}

const tail = (plan: TargetPlan, n: number) => plan.steps.slice(-n).map((s) => s.action);

describe('ova plan()', () => {
  it('makes the raw disk first, then VMDK, descriptor, manifest and a tar with the descriptor first', () => {
    const b = build();
    const plan = planOva(b, options(), CONTEXT);
    const disk = rawDiskSteps(b, diskOf({}, '8GiB', ['bios', 'uefi']), CONTEXT, DISK_AT);
    expect(plan.steps.slice(0, disk.steps.length)).toEqual(disk.steps);
    const [convert, cid, ovf, mf, tar, sum, publish] = tail(plan, 7) as StepAction[];
    expect(convert).toEqual({
      kind: 'exec',
      tool: 'qemu-img',
      args: ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', 'disk.raw', 'acme-1.0-disk1.vmdk'],
    });
    expect(cid).toEqual({
      kind: 'set-vmdk-cid',
      vmdk: 'acme-1.0-disk1.vmdk',
      cid: derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'vmdk-cid').slice(0, 8),
    });
    expect(ovf).toMatchObject({ kind: 'write', path: 'acme-1.0.ovf', sizes: [{ placeholder: '[bytes of acme-1.0-disk1.vmdk]', file: 'acme-1.0-disk1.vmdk' }] });
    expect(mf).toEqual({
      kind: 'ovf-manifest',
      files: [
        { file: 'acme-1.0.ovf', name: 'acme-1.0.ovf' },
        { file: 'acme-1.0-disk1.vmdk', name: 'acme-1.0-disk1.vmdk' },
      ],
      to: 'acme-1.0.mf',
    });
    expect(tar).toEqual({
      kind: 'exec',
      tool: 'tar',
      args: [
        '--format=ustar',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        '--mode=0644',
        '--mtime=@1700000000',
        '-cf',
        'acme-1.0.ova',
        'acme-1.0.ovf',
        'acme-1.0.mf',
        'acme-1.0-disk1.vmdk',
      ],
      env: { TZ: 'UTC', LC_ALL: 'C' },
    });
    expect(sum).toEqual({ kind: 'checksum', file: 'acme-1.0.ova', to: 'acme-1.0.ova.sha256', name: 'acme-1.0.ova' });
    expect(publish).toEqual({
      kind: 'publish',
      files: [
        { from: 'acme-1.0.ova', to: '/out/acme-1.0.ova' },
        { from: 'acme-1.0.ova.sha256', to: '/out/acme-1.0.ova.sha256' },
      ],
    });
    expect(plan.outputs).toEqual(['/out/acme-1.0.ova', '/out/acme-1.0.ova.sha256']);
    expect(plan.tools).toEqual(
      expect.arrayContaining([
        { name: 'qemu-img', package: 'qemu-utils' },
        { name: 'genext2fs', package: 'genext2fs' },
      ]),
    );
    for (const t of plan.tools) expect([t.name, debianPackageOf(t.name)]).toEqual([t.name, t.package]);
  });

  it("takes the disk's partitions from targets.raw, its size from targets.ova.diskSize, and always boots the VM's firmware", () => {
    const b = build();
    const plan = planOva(b, options({ firmware: 'uefi', diskSize: '6GiB' }, { firmware: ['bios'], partitions: { state: '2GiB' } }), CONTEXT);
    const sgdisk = plan.steps.map((s) => s.action).find((a) => a.kind === 'exec' && a.tool === 'sgdisk');
    expect(sgdisk).toBeDefined();
    const disk = rawDiskSteps(b, diskOf({ partitions: { state: '2GiB' } }, '6GiB', ['bios', 'uefi']), CONTEXT, {
      pointer: '/targets/ova/diskSize',
      name: 'OVA disk',
    });
    expect(plan.steps.slice(0, disk.steps.length)).toEqual(disk.steps);
    const ovf = plan.steps.find((s) => s.action.kind === 'write' && s.action.path === 'acme-1.0.ovf')!.action as Extract<StepAction, { kind: 'write' }>;
    expect(ovf.content).toContain(`ovf:capacity="${6 * 2 ** 30}"`);
    expect(ovf.content).toContain('vmw:key="firmware" vmw:value="efi"');
  });

  it('shows a placeholder CID when SOURCE_DATE_EPOCH is not known yet', () => {
    const plan = planOva(build(), options(), { ...CONTEXT, sourceDateEpoch: undefined });
    expect(plan.steps.find((s) => s.action.kind === 'set-vmdk-cid')!.action).toMatchObject({ cid: '<CID from SOURCE_DATE_EPOCH>' });
  });
});

describe('ova after raw in the same run', () => {
  it('converts the disk the raw target published instead of making it again', () => {
    const plan = planOva(build(), options(), { ...CONTEXT, earlier: ['iso', 'raw'] });
    expect(plan.steps.some((s) => s.action.kind === 'exec' && ['sqfstar', 'genext2fs', 'sgdisk'].includes(s.action.tool))).toBe(false);
    expect(plan.steps[0]).toEqual({
      title: 'convert the disk the raw target published to a streamOptimized VMDK',
      action: {
        kind: 'exec',
        tool: 'qemu-img',
        args: ['convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', '/out/acme-1.0.raw', 'acme-1.0-disk1.vmdk'],
      },
    });
    expect(plan.tools).toEqual([{ name: 'qemu-img', package: 'qemu-utils' }]);
    // The same appliance steps as when it makes the disk itself.
    expect(plan.steps.slice(1)).toEqual(planOva(build(), options(), CONTEXT).steps.slice(-6));
  });

  it('reads a published qcow2 as qcow2', () => {
    const plan = planOva(build(), options({}, { format: 'qcow2' }), { ...CONTEXT, earlier: ['raw'] });
    expect(plan.steps[0]!.action).toMatchObject({
      args: ['convert', '-f', 'qcow2', '-O', 'vmdk', '-o', 'subformat=streamOptimized', '/out/acme-1.0.qcow2', 'acme-1.0-disk1.vmdk'],
    });
  });

  it('makes its own disk when it is another one: another size, or a firmware targets.raw leaves out', () => {
    const own = (ova: object, raw: object = {}) =>
      planOva(build(), options(ova, raw), { ...CONTEXT, earlier: ['raw'] }).steps.some((s) => s.action.kind === 'exec' && s.action.tool === 'sgdisk');
    expect(own({ diskSize: '6GiB' })).toBe(true);
    expect(own({ firmware: 'bios' }, { firmware: ['uefi'] })).toBe(true);
    expect(own({ diskSize: '8GiB' })).toBe(false);
    expect(own({ firmware: 'uefi' }, { firmware: ['uefi'] })).toBe(false);
  });
});

describe('ova validate()', () => {
  it('accepts the defaults', () => {
    expect(validateOva(options(), FACTS)).toEqual([]);
  });

  it('reports memory that is not whole MiB at targets.ova.memory', () => {
    expect(validateOva(options({ memory: '1500KiB' }), FACTS)).toEqual([
      {
        code: 'targets/invalid-option',
        pointer: '/targets/ova/memory',
        message: "the VM's memory 1500KiB is not a whole number of MiB",
        hint: 'write it in MiB, e.g. `2MiB`',
      },
    ]);
  });

  it('reports a BIOS VM for an arm64 image at targets.ova.firmware', () => {
    expect(validateOva(options({}, { firmware: ['uefi'] }), { ...FACTS, arch: 'arm64' })).toEqual([
      expect.objectContaining({ code: 'targets/unsupported-firmware', pointer: '/targets/ova/firmware' }),
    ]);
    expect(validateOva(options({ firmware: 'uefi' }, { firmware: ['uefi'] }), { ...FACTS, arch: 'arm64' })).toEqual([]);
  });

  it("checks the stated partitions against the OVA's own disk size", () => {
    expect(validateOva(options({ diskSize: '2GiB' }, { partitions: { recovery: '1GiB', state: '1GiB' } }), FACTS)).toEqual([
      expect.objectContaining({
        code: 'targets/raw-too-small',
        pointer: '/targets/raw/partitions/state',
        message: expect.stringContaining('does not fit the 2GiB OVA disk'),
      }),
    ]);
    expect(validateOva(options({ diskSize: '1500KiB' }), FACTS)).toEqual([
      expect.objectContaining({
        pointer: '/targets/ova/diskSize',
        message: 'the OVA disk size 1500KiB is not a whole number of MiB: partitions are MiB-aligned',
      }),
    ]);
  });
});

describe('the OVF descriptor', () => {
  const hw = { cpus: 4, memoryMiB: 3072, firmware: 'bios' as const, network: 'bridged' as const, osType: 'debian12_64Guest' };
  const disk = { href: 'acme-1.0-disk1.vmdk', fileBytes: '123456', capacityBytes: 8 * 2 ** 30 };

  it('describes one VM with the manifest hardware, a SATA disk and an E1000 NIC on the named network', () => {
    const ovf = ovfDescriptor(build(), hw, disk);
    expect(ovf.split('\n')[0]).toBe('<?xml version="1.0" encoding="UTF-8"?>');
    expect(ovf).toContain('<File ovf:href="acme-1.0-disk1.vmdk" ovf:id="file1" ovf:size="123456"/>');
    expect(ovf).toContain(
      '<Disk ovf:capacity="8589934592" ovf:capacityAllocationUnits="byte" ovf:diskId="vmdisk1" ovf:fileRef="file1" ovf:format="http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized"/>',
    );
    expect(ovf).toContain('<Network ovf:name="Bridged">');
    expect(ovf).toContain('<OperatingSystemSection ovf:id="101" vmw:osType="debian12_64Guest">');
    expect(ovf).toContain('<rasd:ResourceType>3</rasd:ResourceType>\n        <rasd:VirtualQuantity>4</rasd:VirtualQuantity>');
    expect(ovf).toContain('<rasd:ResourceType>4</rasd:ResourceType>\n        <rasd:VirtualQuantity>3072</rasd:VirtualQuantity>');
    expect(ovf).toContain(
      '<rasd:HostResource>ovf:/disk/vmdisk1</rasd:HostResource>\n        <rasd:InstanceID>4</rasd:InstanceID>\n        <rasd:Parent>3</rasd:Parent>',
    );
    expect(ovf).toContain('<rasd:Connection>Bridged</rasd:Connection>');
    expect(ovf).toContain('vmw:key="firmware" vmw:value="bios"');
  });

  it('escapes every manifest value (OCI labels become the product vendor and URL)', () => {
    const b = build(
      'build: {labels: {org.opencontainers.image.vendor: "Acme & <Sons>", org.opencontainers.image.url: "https://acme.example/?a=1&b=\\"2\\""}}\n',
    );
    const ovf = ovfDescriptor(b, hw, disk);
    expect(ovf).toContain('<Vendor>Acme &amp; &lt;Sons&gt;</Vendor>');
    expect(ovf).toContain('<ProductUrl>https://acme.example/?a=1&amp;b=&quot;2&quot;</ProductUrl>');
    expect(() => xmlEscape('bell\u0007')).toThrow('cannot be written in XML');
  });
});

describe('the VMDK content ID', () => {
  function vmdk(descriptor: string): { header: Uint8Array; descriptor: Uint8Array } {
    const header = new Uint8Array(512);
    const view = new DataView(header.buffer);
    view.setUint32(0, 0x564d444b, true);
    view.setBigUint64(28, 1n, true);
    view.setBigUint64(36, 20n, true);
    return { header, descriptor: new TextEncoder().encode(descriptor.padEnd(20 * 512, '\0')) };
  }

  const text = (patch: { offset: number; bytes: Uint8Array }) => new TextDecoder().decode(patch.bytes);

  it('is found through the extent header and the descriptor region is rewritten with it', () => {
    const { header, descriptor } = vmdk('# Disk DescriptorFile\nversion=1\nCID=eb9d0c8a\nparentCID=ffffffff\n');
    expect(descriptorRange(header)).toEqual({ offset: 512, length: 20 * 512 });
    const patch = cidPatch(descriptor, '0123abcd');
    expect(patch.offset).toBe(0);
    expect(patch.bytes.length).toBe(20 * 512);
    expect(text(patch)).toBe('# Disk DescriptorFile\nversion=1\nCID=0123abcd\nparentCID=ffffffff\n'.padEnd(20 * 512, '\0'));
  });

  it('takes a CID qemu-img printed with fewer than 8 digits (it uses %x), and the rest of the descriptor moves along', () => {
    const { descriptor } = vmdk('version=1\nCID=9d0c8a\nparentCID=ffffffff\n');
    expect(text(cidPatch(descriptor, '0123abcd'))).toBe('version=1\nCID=0123abcd\nparentCID=ffffffff\n'.padEnd(20 * 512, '\0'));
  });

  it('refuses what is not a sparse VMDK with a descriptor, and a CID that is not 8 hex digits', () => {
    expect(() => descriptorRange(new Uint8Array(512))).toThrow('not a sparse VMDK extent');
    const { descriptor } = vmdk('version=1\nparentCID=ffffffff\n');
    expect(() => cidPatch(descriptor, '0123abcd')).toThrow('the VMDK descriptor has no CID line');
    expect(() => cidPatch(descriptor, 'xyz')).toThrow('a VMDK CID is 8 hex digits, not xyz');
  });
});

describe('ova run()', () => {
  it("fills in the VMDK's size, writes the .mf lines in the OVF format, and patches the CID", async () => {
    const work = '/out/.derivc-ova-1';
    const files = new Map<string, Buffer>();
    const fs: TargetFs = {
      makeTempDir: async () => work,
      mkdir: async () => undefined,
      writeFile: async (f, c) => void files.set(f, Buffer.from(c)),
      copyTree: async () => undefined,
      read: async (f, o, l) => files.get(f)!.subarray(o, o + l),
      patch: async (f, o, b) => void Buffer.from(b).copy(files.get(f)!, o),
      sha256: async (f) => ({ sha256: f.endsWith('.vmdk') ? 'aa'.repeat(32) : 'bb'.repeat(32), bytes: files.get(f)!.length }),
      rename: async (from, to) => void files.set(to, files.get(from)!),
      remove: async () => undefined,
    };
    const io: TargetIO = {
      engine: new FakeEngine(),
      fs,
      hasTool: async () => true,
      exec: async (tool, args) => {
        if (tool === 'qemu-img') {
          const header = Buffer.alloc(512 + 1024);
          header.writeUInt32LE(0x564d444b, 0);
          header.writeBigUInt64LE(1n, 28);
          header.writeBigUInt64LE(2n, 36);
          header.write('CID=eb9d0c8a\n', 512, 'latin1');
          files.set(`${work}/${args.at(-1)}`, header);
        }
        if (tool === 'tar') files.set(`${work}/acme-1.0.ova`, Buffer.from('ova'));
      },
    };
    // Only the appliance steps: the disk steps are the raw target's (test/raw-target.test.ts).
    const plan = planOva(build(), options(), CONTEXT);
    await runTarget({ ...plan, steps: plan.steps.slice(-7) }, io);
    expect(files.get(`${work}/acme-1.0.ovf`)!.toString()).toContain('ovf:size="1536"');
    expect(files.get(`${work}/acme-1.0.mf`)!.toString()).toBe(`SHA256(acme-1.0.ovf)= ${'bb'.repeat(32)}\nSHA256(acme-1.0-disk1.vmdk)= ${'aa'.repeat(32)}\n`);
    const cid = derivedUuid({ name: 'acme', version: '1.0' }, EPOCH, 'vmdk-cid').slice(0, 8);
    expect(files.get(`${work}/acme-1.0-disk1.vmdk`)!.subarray(512, 524).toString()).toBe(`CID=${cid}`);
    expect(files.has('/out/acme-1.0.ova')).toBe(true);
  });
});
