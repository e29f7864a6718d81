// The local hypervisor builders — qemu, virtualbox-iso, vmware-iso — start from the live ISO
// (`../../<iso>` from the builder's directory, checked against the `.sha256` the iso target
// publishes next to it): the VM boots it with an empty disk, Packer logs in over SSH with
// credentials from variables and powers it off. What to install or change is the user's
// provisioning (a build block of their own naming the same source): derivc guesses no installer.

import { mebibytes, type BuilderName, type TemplateContext } from '../context.js';
import { GoTemplate, type Block, type Entry } from '../hcl.js';
import { ref } from '../variables.js';
import type { BuilderTemplate } from './builder.js';

/** Where Debian's ovmf package puts the UEFI firmware QEMU boots with `-bios`. */
export const OVMF = '/usr/share/ovmf/OVMF.fd';
const SOURCE = 'iso';

function isoEntries(ctx: TemplateContext): Entry[] {
  return [
    ['iso_url', ctx.media.iso],
    ['iso_checksum', `file:${ctx.media.iso}.sha256`],
  ];
}

const SSH: Entry[] = [
  ['communicator', 'ssh'],
  ['ssh_username', ref('ssh_username')],
  ['ssh_password', ref('ssh_password')],
  // A live ISO under emulation (no KVM) can take minutes to reach its SSH server.
  ['ssh_timeout', '20m'],
  ['shutdown_command', 'poweroff'],
];

function build(builder: BuilderName): Block {
  return {
    type: 'build',
    labels: [],
    body: [
      ['name', builder],
      ['sources', [`source.${builder}.${SOURCE}`]],
    ],
  };
}

function readme(ctx: TemplateContext, builder: BuilderName, output: string, disk: string, firmware: string): BuilderTemplate['readme'] {
  const iso = ctx.media.isoName;
  return {
    needs: `Needs \`${iso}\` and \`${iso}.sha256\` in the output directory (\`derivc build --target iso\` into the same one).`,
    commands: ['packer build -var ssh_username=root -var ssh_password=… .'],
    notes: `The VM boots the live ISO (${firmware}) with an empty ${disk} disk; Packer logs in over SSH — the live system needs an SSH server and a user that may log in with a password — and powers it off with \`poweroff\` (log in as root, or as a user allowed to). The result lands in \`${builder}/${output}\`. To install or customise the system, add a build block of your own in another \`.pkr.hcl\` file in \`${builder}/\`, with \`sources = ["source.${builder}.${SOURCE}"]\` and your provisioners, and run it alone with \`-only='<its name>.*'\`.`,
  };
}

/** The VM's disk: the manifest's size, else the raw disk's (the disk the derivative's layout is made for). */
function sizes(ctx: TemplateContext, o: { cpus: number; memory: string; diskSize?: string }) {
  const disk = o.diskSize ?? ctx.media.diskSize;
  return { cpus: o.cpus, memory: mebibytes(o.memory), disk: mebibytes(disk), diskText: disk };
}

function bios(ctx: TemplateContext): boolean {
  return ctx.media.isoFirmware.includes('bios');
}

export function qemu(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.qemu;
  const format = o.format;
  const s = sizes(ctx, o);
  const output = `output-qemu/${ctx.media.base}.${format}`;
  return {
    summary: `a ${format} disk for QEMU, from the live ISO`,
    blocks: [
      {
        type: 'source',
        labels: ['qemu', SOURCE],
        body: [
          ...isoEntries(ctx),
          ['output_directory', 'output-qemu'],
          ['vm_name', `${ctx.media.base}.${format}`],
          ['format', format],
          ['accelerator', o.accelerator],
          ['cpus', s.cpus],
          ['memory', s.memory],
          ['disk_size', `${s.disk}M`],
          ['disk_interface', 'virtio'],
          ['net_device', 'virtio-net'],
          ['headless', o.headless],
          // Packer 1.6 has no `firmware` for QEMU: an ISO without BIOS boot gets OVMF this way.
          ['qemuargs', bios(ctx) ? undefined : [['-bios', OVMF]]],
          ...SSH,
        ],
      },
      build('qemu'),
    ],
    variables: ['ssh_username', 'ssh_password'],
    readme: readme(ctx, 'qemu', output, s.diskText, bios(ctx) ? 'BIOS' : `UEFI: \`${OVMF}\`, from Debian's ovmf package`),
  };
}

export function virtualboxIso(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.virtualboxIso;
  const s = sizes(ctx, o);
  // Unstated, the firmware the ISO boots (BIOS when it boots both); stated, validatePacker checked the ISO boots it.
  const firmware = o.firmware ?? (bios(ctx) ? 'bios' : 'efi');
  return {
    summary: 'a VirtualBox VM (OVF), from the live ISO',
    blocks: [
      {
        type: 'source',
        labels: ['virtualbox-iso', SOURCE],
        body: [
          ...isoEntries(ctx),
          ['output_directory', 'output-virtualbox-iso'],
          ['vm_name', ctx.media.base],
          ['guest_os_type', o.guestOsType],
          ['cpus', s.cpus],
          ['memory', s.memory],
          ['disk_size', s.disk],
          ['hard_drive_interface', 'sata'],
          ['headless', o.headless],
          // The derivative has no guest additions to install from their ISO.
          ['guest_additions_mode', 'disable'],
          // Packer 1.6 has no `firmware` for VirtualBox: VBoxManage sets it.
          ['vboxmanage', firmware === 'efi' ? [['modifyvm', new GoTemplate('{{ .Name }}'), '--firmware', 'efi']] : undefined],
          ...SSH,
        ],
      },
      build('virtualbox-iso'),
    ],
    variables: ['ssh_username', 'ssh_password'],
    readme: readme(ctx, 'virtualbox-iso', `output-virtualbox-iso/${ctx.media.base}.ovf`, s.diskText, firmware === 'efi' ? 'UEFI' : 'BIOS'),
  };
}

export function vmwareIso(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.vmwareIso;
  const s = sizes(ctx, o);
  return {
    summary: 'a VMware VM (VMX), from the live ISO',
    blocks: [
      {
        type: 'source',
        labels: ['vmware-iso', SOURCE],
        body: [
          ...isoEntries(ctx),
          ['output_directory', 'output-vmware-iso'],
          ['vm_name', ctx.media.base],
          ['guest_os_type', o.guestOsType],
          ['version', o.hardwareVersion],
          ['cpus', s.cpus],
          ['memory', s.memory],
          ['disk_size', s.disk],
          ['disk_adapter_type', 'sata'],
          ['headless', o.headless],
          ['vmx_data', bios(ctx) ? undefined : { firmware: 'efi' }],
          ...SSH,
        ],
      },
      build('vmware-iso'),
    ],
    variables: ['ssh_username', 'ssh_password'],
    readme: readme(ctx, 'vmware-iso', `output-vmware-iso/${ctx.media.base}.vmx`, s.diskText, bios(ctx) ? 'BIOS' : 'UEFI'),
  };
}
