// What the local builders run on the booted live ISO of a toolkit derivative: the installer of the
// toolkit's era, onto the VM's empty disk, with the partition and filesystem labels of
// `boot.labels`. Then Packer powers the VM off; the disk is the result. Read from the installers'
// sources (shared/reference/toolkit-boot and the repositories it names):
//   - cOS v0.8 (`cos-installer`, a wrapper of `elemental install`) and Elemental v1/v2:
//     `elemental --config-dir <dir> install <device>`. Labels cannot be flags: elemental reads
//     them from `<dir>/config.yaml`, key `install:` (InstallSpec: `partitions.<oem|recovery|state|
//     persistent>.label`; up to v1 `system.label` is the active image's and
//     `recovery-system.label` the recovery image's; from v2 `system` is the image source, and
//     the active/passive images have no label of their own). The passive image's label has no
//     setting in any release: it stays the installer's COS_PASSIVE.
//   - Kairos: `kairos-agent manual-install --device <device> <config>` (`install` is the pairing
//     mode, which waits for a QR-code registration); the config is a `#cloud-config` with the
//     same `install:` keys. The users come from the image's own /system/oem cloud-config, so
//     `install.nousers` tells newer agents not to refuse a config without users.
// `--config-dir` stands for /etc/elemental in this one run: install reads nothing else there
// (derivc's own file in it holds upgrade settings).
// No installer is asked to power off or reboot: it would drop Packer's SSH session, and Packer
// powers the VM off itself once the provisioner returns.

import type { Build, Labels } from '../../../compiler/normalize/build.js';
import { goYamlDoubleQuoted, shellWord } from '../../../compiler/quote.js';
import type { ToolkitEra } from '../../../compiler/toolkit-era.js';
import { Expr, GoTemplate, type Block } from '../hcl.js';
import { ref } from '../variables.js';

/** Where the provisioner writes the installer's configuration on the live system (a tmpfs). */
export const CONFIG_DIR = '/tmp/derivc-install';
/** The environment variable the install script reads the target disk from (`var.install_device`). */
const DEVICE_ENV = 'DERIVC_INSTALL_DEVICE';

export type InstallerKind = 'cos-installer' | 'elemental' | 'kairos-agent';

/** The installer of an image's toolkit era; none for a bare derivative (no toolkit at runtime). */
export function installerOf(build: Partial<Pick<Build, 'runtimeToolkit' | 'era'>>): { kind: InstallerKind; era: ToolkitEra } | undefined {
  const era = build.era;
  if (!build.runtimeToolkit || era === undefined) return undefined;
  if (era.flavor === 'kairos') return { kind: 'kairos-agent', era };
  if (era.flavor === 'cos') return { kind: 'cos-installer', era };
  return { kind: 'elemental', era };
}

/**
 * From the v1.3 boot layout on, Elemental installs for UEFI only: v1.3.0's install.go puts GRUB
 * on the EFI partition unconditionally (197-201), and v2's `--firmware` accepts `efi` alone. The
 * VM must boot the ISO with UEFI.
 */
export function needsUefi(build: Partial<Pick<Build, 'runtimeToolkit' | 'era'>>): boolean {
  const boot = installerOf(build)?.era.boot;
  return boot === 'elemental-v1.3' || boot === 'elemental-v2';
}

/** The installer's `install:` settings as YAML lines (every value double-quoted for go-yaml). */
export function installConfig(kind: InstallerKind, era: ToolkitEra, labels: Labels): string[] {
  const q = goYamlDoubleQuoted;
  const lines = kind === 'kairos-agent' ? ['#cloud-config', 'install:', '  nousers: true'] : ['install:'];
  lines.push('  partitions:');
  for (const p of ['oem', 'recovery', 'state', 'persistent'] as const) lines.push(`    ${p}:`, `      label: ${q(labels[p])}`);
  if (era.boot !== 'elemental-v2') lines.push('  system:', `    label: ${q(labels.active)}`);
  lines.push('  recovery-system:', `    label: ${q(labels.system)}`);
  return lines;
}

/** The installer's command line; the device is the script's `$DERIVC_INSTALL_DEVICE`. */
function installCommand(kind: InstallerKind): string {
  const device = `"$${DEVICE_ENV}"`;
  switch (kind) {
    case 'kairos-agent':
      return `kairos-agent manual-install --device ${device} ${shellWord(`${CONFIG_DIR}/config.yaml`)}`;
    case 'cos-installer':
      return `cos-installer --config-dir ${shellWord(CONFIG_DIR)} ${device}`;
    case 'elemental':
      return `elemental --config-dir ${shellWord(CONFIG_DIR)} install ${device}`;
  }
}

/**
 * Runs a script as root: as it is when Packer logged in as root, else through `sudo -n` (a user
 * with passwordless sudo), with the provisioner's environment kept either way.
 */
export const AS_ROOT = new GoTemplate(
  `chmod +x '{{ .Path }}'; if [ "$(id -u)" -eq 0 ]; then {{ .Vars }} '{{ .Path }}'; else sudo -n env {{ .Vars }} '{{ .Path }}'; fi`,
);

/** Powers the VM off as root, the same way. */
export const POWEROFF_AS_ROOT = 'if [ "$(id -u)" -eq 0 ]; then poweroff; else sudo -n poweroff; fi';

/** The shell provisioner that writes the configuration and runs the installer onto `var.install_device`. */
export function installProvisioner(kind: InstallerKind, era: ToolkitEra, labels: Labels): Block {
  const config = `${CONFIG_DIR}/config.yaml`;
  return {
    type: 'provisioner',
    labels: ['shell'],
    body: [
      ['environment_vars', [Expr.template([`${DEVICE_ENV}=`, ref('install_device')])]],
      ['execute_command', AS_ROOT],
      [
        'inline',
        [
          `mkdir -p ${shellWord(CONFIG_DIR)}`,
          `printf '%s\\n' ${installConfig(kind, era, labels).map(shellWord).join(' ')} > ${shellWord(config)}`,
          installCommand(kind),
        ],
      ],
    ],
  };
}

/** One line for the README: what runs on the live system. */
export function installerSummary(kind: InstallerKind, era: ToolkitEra): string {
  const name = { 'cos-installer': 'cOS', elemental: 'Elemental', 'kairos-agent': 'Kairos' }[kind];
  return `${name} ${era.version}: \`${installCommand(kind).replace(`"$${DEVICE_ENV}"`, '<install_device>')}\``;
}
