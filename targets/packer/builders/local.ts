// The local hypervisor builders — qemu, virtualbox-iso, vmware-iso — make a disk that boots.
//   - A toolkit derivative: the VM boots the live ISO (`../../<iso>` from the builder's directory,
//     checked against the `.sha256` the iso target publishes next to it) beside an empty disk;
//     Packer logs in over SSH, runs the installer of the toolkit's era onto the disk
//     (builders/install.ts) and powers the VM off. The installed disk is the result.
//   - A bare derivative has no installer: qemu starts from the raw target's disk instead
//     (`disk_image = true`), already installed; VirtualBox and VMware cannot start from a raw
//     disk (validatePacker refuses them: the ova target makes a VirtualBox/VMware VM from it).
// Either way Packer logs in with a password (`ssh_username`, `ssh_password`) as root or as a
// user with passwordless sudo, and powers the VM off; further provisioning is a build block of
// the user's own naming the same source.

import { mebibytes, type BuilderName, type TemplateContext } from '../context.js';
import { GoTemplate, type Block, type Entry } from '../hcl.js';
import { ref, type VariableName } from '../variables.js';
import type { BuilderTemplate } from './builder.js';
import { installerOf, installerSummary, installProvisioner, needsUefi, POWEROFF_AS_ROOT } from './install.js';

/** Where Debian's ovmf package puts the UEFI firmware QEMU boots with `-bios`. */
export const OVMF = '/usr/share/ovmf/OVMF.fd';
/** The source of a toolkit derivative (the live ISO), and of a bare one (the raw disk). */
const ISO = 'iso';
const DISK = 'disk';

/** The disk each builder's VM shows the live system (qemu: virtio; VirtualBox and VMware: SATA). */
export const INSTALL_DEVICE: Record<'qemu' | 'virtualbox-iso' | 'vmware-iso', string> = {
  qemu: '/dev/vda',
  'virtualbox-iso': '/dev/sda',
  'vmware-iso': '/dev/sda',
};

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
  ['shutdown_command', POWEROFF_AS_ROOT],
];

/** The installer of the build's era; a builder that starts from the ISO is never planned without one (validatePacker). */
function installer(ctx: TemplateContext, builder: BuilderName) {
  const found = installerOf(ctx.build);
  if (!found) throw new Error(`${builder} starts from the live ISO and the derivative has no installer (validatePacker refuses this)`);
  return found;
}

function build(ctx: TemplateContext, builder: BuilderName, source: string): Block {
  const found = source === ISO ? installer(ctx, builder) : undefined;
  return {
    type: 'build',
    labels: [],
    body: [
      ['name', builder],
      ['sources', [`source.${builder}.${source}`]],
      ...(found ? [installProvisioner(found.kind, found.era, ctx.build.boot.labels)] : []),
    ],
  };
}

function variables(source: string): VariableName[] {
  return source === ISO ? ['ssh_username', 'ssh_password', 'install_device'] : ['ssh_username', 'ssh_password'];
}

function readme(ctx: TemplateContext, builder: BuilderName, source: string, output: string, disk: string, firmware: string): BuilderTemplate['readme'] {
  const login =
    'Packer logs in over SSH with a password — the system needs an SSH server that allows password logins, and `ssh_username` must be root or a user with passwordless sudo (one of `system.users` with a `passwordHash`; `ssh_password` is its password)';
  const own = `To customise the result further, add a build block of your own in another \`.pkr.hcl\` file in \`${builder}/\`, with \`sources = ["source.${builder}.${source}"]\` and your provisioners, and run it alone with \`-only='<its name>.*'\`.`;
  if (source === DISK) {
    return {
      needs: `Needs \`${ctx.media.diskName}\` in the output directory (\`derivc build --target raw\` into the same one).`,
      commands: ['packer build -var ssh_username=… -var ssh_password=… .'],
      notes: `A bare derivative has no installer: the VM starts from a copy of the raw disk (${firmware}), grown to ${disk}; ${login}; and powers it off. The result lands in \`${builder}/${output}\`. ${own}`,
    };
  }
  const iso = ctx.media.isoName;
  const found = installer(ctx, builder);
  return {
    needs: `Needs \`${iso}\` and \`${iso}.sha256\` in the output directory (\`derivc build --target iso\` into the same one).`,
    commands: ['packer build -var ssh_username=… -var ssh_password=… .'],
    notes: `The VM boots the live ISO (${firmware}) with an empty ${disk} disk; ${login}; installs the running live system (the image, at \`/run/rootfsbase\`, where the installer looks for it) onto the disk with the installer of ${installerSummary(found.kind, found.era)}, with the labels of \`boot.labels\` (the passive image keeps the installer's own label: no release has a setting for it); and powers the VM off. \`install_device\` (default \`${INSTALL_DEVICE[builder as keyof typeof INSTALL_DEVICE]}\`) is the disk as the live system names it. The result lands in \`${builder}/${output}\`. ${own}`,
  };
}

/** The VM's disk: the manifest's size, else the raw disk's (the disk the derivative's layout is made for). */
function sizes(ctx: TemplateContext, o: { cpus: number; memory: string; diskSize?: string }) {
  const disk = o.diskSize ?? ctx.media.diskSize;
  return { cpus: o.cpus, memory: mebibytes(o.memory), disk: mebibytes(disk), diskText: disk };
}

/** The VM boots with BIOS: the medium it starts from boots so, and the installer does not need UEFI. */
function bios(ctx: TemplateContext, source: string): boolean {
  if (source === DISK) return ctx.media.diskFirmware.includes('bios');
  return ctx.media.isoFirmware.includes('bios') && !needsUefi(ctx.build);
}

function sourceOf(ctx: TemplateContext): string {
  return installerOf(ctx.build) ? ISO : DISK;
}

export function qemu(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.qemu;
  const format = o.format;
  const s = sizes(ctx, o);
  const source = sourceOf(ctx);
  const output = `output-qemu/${ctx.media.base}.${format}`;
  const start: Entry[] =
    source === ISO
      ? isoEntries(ctx)
      : [
          // derivc's own disk, next to this directory: no checksum file is published with it.
          ['iso_url', ctx.media.disk],
          ['iso_checksum', 'none'],
          ['disk_image', true],
        ];
  return {
    summary: source === ISO ? `a ${format} disk for QEMU, installed from the live ISO` : `a ${format} disk for QEMU, from the raw disk`,
    blocks: [
      {
        type: 'source',
        labels: ['qemu', source],
        body: [
          ...start,
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
          // Packer 1.6 has no `firmware` for QEMU: UEFI is OVMF given this way.
          ['qemuargs', bios(ctx, source) ? undefined : [['-bios', OVMF]]],
          ...SSH,
        ],
      },
      build(ctx, 'qemu', source),
    ],
    variables: variables(source),
    ...(source === ISO ? { defaults: { install_device: INSTALL_DEVICE.qemu } } : {}),
    readme: readme(ctx, 'qemu', source, output, s.diskText, bios(ctx, source) ? 'BIOS' : `UEFI: \`${OVMF}\`, from Debian's ovmf package`),
  };
}

export function virtualboxIso(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.virtualboxIso;
  const s = sizes(ctx, o);
  // Unstated, the firmware the ISO boots and the installer needs (BIOS when both do); stated, validatePacker checked it.
  const firmware = o.firmware ?? (bios(ctx, ISO) ? 'bios' : 'efi');
  return {
    summary: 'a VirtualBox VM (OVF), installed from the live ISO',
    blocks: [
      {
        type: 'source',
        labels: ['virtualbox-iso', ISO],
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
      build(ctx, 'virtualbox-iso', ISO),
    ],
    variables: variables(ISO),
    defaults: { install_device: INSTALL_DEVICE['virtualbox-iso'] },
    readme: readme(ctx, 'virtualbox-iso', ISO, `output-virtualbox-iso/${ctx.media.base}.ovf`, s.diskText, firmware === 'efi' ? 'UEFI' : 'BIOS'),
  };
}

export function vmwareIso(ctx: TemplateContext): BuilderTemplate {
  const o = ctx.options.vmwareIso;
  const s = sizes(ctx, o);
  return {
    summary: 'a VMware VM (VMX), installed from the live ISO',
    blocks: [
      {
        type: 'source',
        labels: ['vmware-iso', ISO],
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
          ['vmx_data', bios(ctx, ISO) ? undefined : { firmware: 'efi' }],
          ...SSH,
        ],
      },
      build(ctx, 'vmware-iso', ISO),
    ],
    variables: variables(ISO),
    defaults: { install_device: INSTALL_DEVICE['vmware-iso'] },
    readme: readme(ctx, 'vmware-iso', ISO, `output-vmware-iso/${ctx.media.base}.vmx`, s.diskText, bios(ctx, ISO) ? 'BIOS' : 'UEFI'),
  };
}
