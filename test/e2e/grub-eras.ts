// Each toolkit era's boot, as its installer leaves a disk: which grub.cfg goes where, the env files
// it writes, the partition labels and image paths its grub.cfg expects, where GRUB for BIOS and
// UEFI finds that grub.cfg, how an entry is picked, and which kernel arguments the era's own files
// put on the command line. Everything the era ships is read from
// ../shared/reference/toolkit-boot/ at test time (its README says which file is which), never
// copied into the project; line references below point into those files.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BootEra } from '../../compiler/toolkit-era.js';
import { grubEnvBlock, type DiskSpec, type Tree } from './grub-disk.js';

export const REFERENCE = resolve('../shared/reference/toolkit-boot');

export type EntryKind = 'active' | 'passive' | 'recovery';
export const ENTRY_KINDS: readonly EntryKind[] = ['active', 'passive', 'recovery'];

export interface EraEntry {
  /** The menu entry's `--id`: what `next_entry` in OEM's /grubenv names. */
  id: string;
  /** The loop device or partition `linux` loads the kernel from, as BOOT_IMAGE shows it. */
  device: string;
  /** Arguments the era's own boot files put on this entry's command line (with the installer's default labels). */
  required: readonly string[];
}

/** What the disk is made of: the system image (ext2) twice and the recovery system, each holding the same files. */
export interface EraImages {
  active: string;
  passive: string;
  /** A squashfs or an ext2 image, as `recovery` says. */
  recovery: string;
  kernel: string;
  initrd: string;
  /** The bootargs file GRUB reads last, as it is inside the image. */
  bootargs: string;
}

export interface Era {
  /** The folder under the reference. */
  name: string;
  boot: BootEra;
  /** The manifest's `base` and `toolkit` for this era (as the golden era cases state them). */
  manifest: string;
  /** The toolkit's own bootargs file: its image path and content. */
  toolkitBootargs: { path: string; text: () => string };
  /** Files the era's bootargs file reads from the image, given the image's own os-release. */
  imageExtras: (osRelease: string) => Tree;
  /** The recovery system: the squashfs the era's grub.cfg prefers, or the ext2 image labelled COS_SYSTEM. */
  recovery: 'squashfs' | 'ext2';
  layout: (images: EraImages) => DiskSpec;
  entries: Record<EntryKind, EraEntry>;
  /** Which firmware boots the era's own way; the other, if any, is the harness's (see the test's report). */
  installs: { bios: boolean; uefi: boolean };
}

const read = (path: string) => readFileSync(resolve(REFERENCE, path), 'utf8');

/** cos-tmpl-render.sh:53-57: each `@VAR@` whose VAR cos-config sets is replaced by its value. */
function cosRendered(template: string): string {
  const config = read('cos-v0.8.14/elemental-toolkit/packages/cos-config/cos-config');
  let out = read(template);
  for (const [, name, value] of config.matchAll(/^([A-Z_]+)="?([^"\n]*)"?$/gm)) out = out.replaceAll(`@${name}@`, value!);
  if (/@[A-Z_]+@/.test(out)) throw new Error(`${template}: a placeholder cos-config does not set is left: ${out.match(/@[A-Z_]+@/)![0]}`);
  return out;
}

/** A Go raw-string constant (`const Name = \`…\``), as kairos-init's bundled.go holds grub.cfg and bootargs.cfg. */
function goConstant(path: string, name: string): string {
  const m = read(path).match(new RegExp(`^const ${name} = \`([^\`]*)\``, 'm'));
  if (!m) throw new Error(`${path}: no raw-string constant ${name}`);
  return m[1]!;
}

/** kairos-agent's EFI grub.cfg, from its `fmt.Sprintf("search … %s …", stateLabel, systemgrub, systemgrub)`. */
function kairosEfiStub(path: string, stateLabel: string, grubDir: string): string {
  const m = read(path).match(/grubCfgContent := \[\]byte\(fmt\.Sprintf\("((?:[^"\\]|\\.)*)", stateLabel, systemgrub, systemgrub\)\)/);
  if (!m) throw new Error(`${path}: the EFI grub.cfg format string is not where it was`);
  const values = [stateLabel, grubDir, grubDir];
  return m[1]!.replace(/\\n/g, '\n').replace(/%s/g, () => values.shift()!);
}

/** elemental-toolkit v1.1.8 utils/grub.go:41-45: the EFI grub.cfg template, a Go concatenation around `grubConfDir`. */
function elementalEfiStub(stateLabel: string): string {
  const path = 'elemental-v1.1.8/pkg/utils/grub.go';
  const src = read(path);
  const dir = src.match(/grubConfDir\s*=\s*"([^"]+)"/)?.[1];
  const cfgFile = src.match(/grubCfgFile\s*=\s*"([^"]+)"/)?.[1];
  const m = src.match(/grubEFICfgTmpl = `([^`]*)` \+ grubConfDir \+ `([^`]*)` \+ grubConfDir \+ `([^`]*)`/);
  if (!dir || !cfgFile || !m) throw new Error(`${path}: the EFI grub.cfg template is not where it was`);
  const values = [stateLabel, cfgFile];
  return `${m[1]}${dir}${m[2]}${dir}${m[3]}`.replace(/%s/g, () => values.shift()!);
}

/** The installers' default labels (cOS elemental-cli constants.go:33-46; the same in every later era). */
export const LABELS = {
  efi: 'COS_GRUB',
  oem: 'COS_OEM',
  recovery: 'COS_RECOVERY',
  state: 'COS_STATE',
  persistent: 'COS_PERSISTENT',
  active: 'COS_ACTIVE',
  passive: 'COS_PASSIVE',
  system: 'COS_SYSTEM',
} as const;

/** A grub_oem_env file, as the installers write it with grub2-editenv. */
function oemEnv(vars: Record<string, string>): { bytes: Uint8Array } {
  return { bytes: grubEnvBlock(Object.entries(vars)) };
}

/** The STATE image paths of cOS and the eras that kept its layout. */
const COS_IMAGES = { active: '/cOS/active.img', passive: '/cOS/passive.img' };

const cosV0: Era = {
  name: 'cos-v0.8.14',
  boot: 'cos-v0',
  manifest: 'base:\n  image: registry.opensuse.org/opensuse/leap:15.3\ntoolkit:\n  source: luet\n  version: v0.8.14\n',
  toolkitBootargs: { path: '/etc/cos/bootargs.cfg', text: () => cosRendered('cos-v0.8.14/elemental-toolkit/packages/grub2/config/bootargs.cfg.tmpl') },
  imageExtras: () => ({}),
  recovery: 'squashfs',
  // elemental-cli install.go:117-129 → utils/grub.go:72-80: `grub2-install --removable --boot-directory=<STATE>` for
  // either firmware (the EFI image's embedded configuration finds STATE's /grub2 too), then
  // /etc/cos/grub.cfg to <STATE>/grub2/grub.cfg (86-104); default_menu_entry to <STATE>/grub_oem_env (install.go:151-158).
  layout: (i) => ({
    labels: LABELS,
    efi: {},
    oem: {},
    recovery: { '/cOS/recovery.squashfs': { copy: i.recovery } },
    state: {
      '/grub2/grub.cfg': { text: cosRendered('cos-v0.8.14/elemental-toolkit/packages/grub2/config/grub.cfg.tmpl') },
      '/grub_oem_env': oemEnv({ default_menu_entry: 'cOS' }),
      [COS_IMAGES.active]: { copy: i.active },
      [COS_IMAGES.passive]: { copy: i.passive },
    },
    bios: { label: LABELS.state, dir: '/grub2' },
    uefi: { label: LABELS.state, dir: '/grub2' },
  }),
  // grub.cfg.tmpl:58-94; bootargs.cfg.tmpl:3-7.
  entries: {
    active: { id: 'cos', device: 'loop0', required: ['root=LABEL=COS_ACTIVE', 'cos-img/filename=/cOS/active.img', 'rd.cos.oemlabel=COS_OEM'] },
    passive: { id: 'fallback', device: 'loop0', required: ['root=LABEL=COS_PASSIVE', 'cos-img/filename=/cOS/passive.img', 'rd.cos.oemlabel=COS_OEM'] },
    recovery: {
      id: 'recovery',
      device: 'loop0',
      required: ['root=live:LABEL=COS_RECOVERY', 'rd.live.dir=/', 'rd.live.squashimg=/cOS/recovery.squashfs', 'rd.cos.oemlabel=COS_OEM'],
    },
  },
  installs: { bios: true, uefi: true },
};

/** Elemental v1.1's grub_oem_env (types/v1/grub.go:23-38; install.go:203-211) and default entry. */
const ELEMENTAL_V1_ENV = {
  state_label: LABELS.state,
  active_label: LABELS.active,
  passive_label: LABELS.passive,
  recovery_label: LABELS.recovery,
  system_label: LABELS.system,
  oem_label: LABELS.oem,
  persistent_label: LABELS.persistent,
  default_menu_entry: 'Elemental',
};

const elementalV11: Era = {
  name: 'elemental-v1.1.8',
  boot: 'elemental-v1.1',
  manifest:
    'base:\n  image: registry.opensuse.org/opensuse/leap:15.5\ntoolkit:\n  source: image\n  image: ghcr.io/rancher/elemental-toolkit/elemental-cli:v1.1.8\n',
  toolkitBootargs: { path: '/etc/cos/bootargs.cfg', text: () => read('elemental-v1.1.8/pkg/features/embedded/grub-default-bootargs/etc/cos/bootargs.cfg') },
  imageExtras: () => ({}),
  recovery: 'ext2',
  // install.go:173-183 → utils/grub.go: BIOS `grub2-install --boot-directory=<STATE>` (62-87), grub.cfg to
  // <STATE>/grub2/grub.cfg (91-109); UEFI: the distribution's grub.efi as /EFI/BOOT/bootx64.efi
  // reading the grub.cfg beside it, which hands over to STATE (41-45, 257-267).
  layout: (i) => {
    const stub = { text: elementalEfiStub(LABELS.state) };
    return {
      labels: LABELS,
      efi: { '/EFI/BOOT/grub.cfg': stub, '/EFI/elemental/grub.cfg': stub },
      oem: {},
      recovery: { '/cOS/recovery.img': { copy: i.recovery } },
      state: {
        '/grub2/grub.cfg': { text: read('elemental-v1.1.8/pkg/features/embedded/grub-config/etc/cos/grub.cfg') },
        '/grub_oem_env': oemEnv(ELEMENTAL_V1_ENV),
        [COS_IMAGES.active]: { copy: i.active },
        [COS_IMAGES.passive]: { copy: i.passive },
      },
      bios: { label: LABELS.state, dir: '/grub2' },
      uefi: { dir: '/EFI/BOOT' },
    };
  },
  // grub.cfg:48-84; bootargs.cfg:3-6.
  entries: {
    active: {
      id: 'cos',
      device: 'loop0',
      required: ['root=LABEL=COS_STATE', 'cos-img/filename=/cOS/active.img', 'rd.cos.oemlabel=COS_OEM', 'rd.cos.mount=LABEL=COS_PERSISTENT:/usr/local'],
    },
    passive: {
      id: 'fallback',
      device: 'loop0',
      required: ['root=LABEL=COS_STATE', 'cos-img/filename=/cOS/passive.img', 'rd.cos.oemlabel=COS_OEM', 'rd.cos.mount=LABEL=COS_PERSISTENT:/usr/local'],
    },
    recovery: { id: 'recovery', device: 'loop0', required: ['root=LABEL=COS_RECOVERY', 'cos-img/filename=/cOS/recovery.img', 'rd.cos.oemlabel=COS_OEM'] },
  },
  installs: { bios: true, uefi: true },
};

const elementalV13: Era = {
  name: 'elemental-v1.3.0',
  boot: 'elemental-v1.3',
  manifest:
    'base:\n  image: registry.opensuse.org/opensuse/leap:15.5\ntoolkit:\n  source: image\n  image: ghcr.io/rancher/elemental-toolkit/elemental-cli:v1.3.0\n',
  toolkitBootargs: { path: '/etc/cos/bootargs.cfg', text: () => read('elemental-v1.3.0/pkg/features/embedded/grub-default-bootargs/etc/cos/bootargs.cfg') },
  imageExtras: () => ({}),
  recovery: 'ext2',
  // bootloader/grub.go:398-446: UEFI only — /etc/elemental/grub.cfg to /EFI/BOOT and /EFI/ELEMENTAL on
  // the EFI partition (constants.go:79-86), beside the grub.efi that reads it; labels to
  // <EFI>/grub_oem_env (install.go:197-240).
  layout: (i) => {
    const cfg = { text: read('elemental-v1.3.0/pkg/features/embedded/grub-config/etc/elemental/grub.cfg') };
    return {
      labels: LABELS,
      efi: { '/EFI/BOOT/grub.cfg': cfg, '/EFI/ELEMENTAL/grub.cfg': cfg, '/grub_oem_env': oemEnv(ELEMENTAL_V1_ENV) },
      oem: {},
      recovery: { '/cOS/recovery.img': { copy: i.recovery } },
      state: { [COS_IMAGES.active]: { copy: i.active }, [COS_IMAGES.passive]: { copy: i.passive } },
      bios: { label: LABELS.efi, dir: '/EFI/BOOT' },
      uefi: { dir: '/EFI/BOOT' },
    };
  },
  // grub.cfg:48-89; bootargs.cfg:3-6 (elemental.oemlabel hard-coded).
  entries: {
    active: {
      id: 'cos',
      device: 'loop0',
      required: ['root=LABEL=COS_STATE', 'elemental.image=active', 'elemental.oemlabel=COS_OEM', 'rd.cos.mount=LABEL=COS_OEM:/oem'],
    },
    passive: {
      id: 'fallback',
      device: 'loop0',
      required: ['root=LABEL=COS_STATE', 'elemental.image=passive', 'elemental.oemlabel=COS_OEM', 'rd.cos.mount=LABEL=COS_OEM:/oem'],
    },
    recovery: { id: 'recovery', device: 'loop0', required: ['root=LABEL=COS_RECOVERY', 'elemental.image=recovery', 'elemental.oemlabel=COS_OEM'] },
  },
  installs: { bios: false, uefi: true },
};

const elementalV2: Era = {
  name: 'elemental-v2.3.2',
  boot: 'elemental-v2',
  manifest:
    'base:\n  image: registry.opensuse.org/opensuse/tumbleweed:latest\ntoolkit:\n  source: image\n  image: ghcr.io/rancher/elemental-toolkit/elemental-cli:v2.3.2\n',
  toolkitBootargs: {
    path: '/etc/elemental/bootargs.cfg',
    text: () => read('elemental-v2.3.2/pkg/features/embedded/grub-default-bootargs/etc/elemental/bootargs.cfg'),
  },
  imageExtras: () => ({}),
  recovery: 'ext2',
  // bootloader/grub.go:438-465: UEFI only, /etc/elemental/grub.cfg to /EFI/BOOT and /EFI/ELEMENTAL; labels to
  // <EFI>/grub_oem_env (install.go:353-361, types/grub.go:23-35) with passive_snaps and
  // default_fallback (snapshotter/loopdevice.go:479-505). Loop-device snapshots on STATE:
  // /.snapshots/<id>/snapshot.img, `active` a link to the newest (loopdevice.go:256-260). The
  // recovery partition holds /boot/recovery.img with the kernel, initrd and a copy of the image's
  // /etc/elemental/bootargs.cfg beside it (elemental.go:485-511).
  layout: (i) => {
    const cfg = { text: read('elemental-v2.3.2/pkg/features/embedded/grub-config/etc/elemental/grub.cfg') };
    return {
      labels: LABELS,
      efi: {
        '/EFI/BOOT/grub.cfg': cfg,
        '/EFI/ELEMENTAL/grub.cfg': cfg,
        '/grub_oem_env': oemEnv({
          state_label: LABELS.state,
          recovery_label: LABELS.recovery,
          oem_label: LABELS.oem,
          persistent_label: LABELS.persistent,
          passive_snaps: '1',
          default_fallback: '0 1 2',
          default_menu_entry: 'Elemental',
        }),
      },
      oem: {},
      recovery: {
        '/boot/recovery.img': { copy: i.recovery },
        '/boot/vmlinuz': { copy: i.kernel },
        '/boot/initrd': { copy: i.initrd },
        '/boot/bootargs.cfg': { text: i.bootargs },
      },
      state: {
        '/.snapshots/1/snapshot.img': { copy: i.passive },
        '/.snapshots/2/snapshot.img': { copy: i.active },
        '/.snapshots/active': { symlink: '2/snapshot.img' },
      },
      bios: { label: LABELS.efi, dir: '/EFI/BOOT' },
      uefi: { dir: '/EFI/BOOT' },
    };
  },
  // grub.cfg:104-142; bootargs.cfg:155-166. The active entry sets no `img` (set_volume without an argument).
  entries: {
    active: { id: 'active', device: 'loop', required: ['root=LABEL=COS_STATE', 'elemental.mode=active', 'elemental.oemlabel=COS_OEM', 'panic=5'] },
    passive: {
      id: 'passive1',
      device: 'loop',
      required: ['root=LABEL=COS_STATE', 'elemental.image=/.snapshots/1/snapshot.img', 'elemental.mode=passive', 'elemental.oemlabel=COS_OEM'],
    },
    recovery: {
      id: 'recovery',
      device: 'hd0,gpt4',
      required: ['root=LABEL=COS_RECOVERY', 'elemental.image=/boot/recovery.img', 'elemental.mode=recovery', 'elemental.oemlabel=COS_OEM'],
    },
  },
  installs: { bios: false, uefi: true },
};

/** Kairos's STATE, RECOVERY and EFI layout (kairos-agent install.go → utils/grub.go); grub.cfg hard-codes the COS_* labels. */
function kairosLayout(grubCfg: string, agentGrubGo: string) {
  return (i: EraImages): DiskSpec => ({
    labels: LABELS,
    efi: { '/EFI/BOOT/grub.cfg': { text: kairosEfiStub(agentGrubGo, LABELS.state, 'grub2') } },
    oem: {},
    recovery: { '/cOS/recovery.squashfs': { copy: i.recovery } },
    state: {
      '/grub2/grub.cfg': { text: grubCfg },
      '/grub_oem_env': oemEnv({ default_menu_entry: 'Kairos' }),
      [COS_IMAGES.active]: { copy: i.active },
      [COS_IMAGES.passive]: { copy: i.passive },
    },
    bios: { label: LABELS.state, dir: '/grub2' },
    uefi: { dir: '/EFI/BOOT' },
  });
}

/** Kairos bootargs.cfg's setKernelCmd (v2.4.3 bootargs.cfg:143-161, v3.7.2 bundled.go BootArgsCfg). */
const kairosEntries = (extra: readonly string[]): Record<EntryKind, EraEntry> => ({
  active: {
    id: 'cos',
    device: 'loop0',
    required: ['console=ttyS0', 'console=tty1', 'rd.cos.oemlabel=COS_OEM', 'root=LABEL=COS_ACTIVE', 'cos-img/filename=/cOS/active.img', ...extra],
  },
  passive: {
    id: 'fallback',
    device: 'loop0',
    required: ['console=ttyS0', 'console=tty1', 'rd.cos.oemlabel=COS_OEM', 'root=LABEL=COS_PASSIVE', 'cos-img/filename=/cOS/passive.img', ...extra],
  },
  recovery: {
    id: 'recovery',
    device: 'loop0',
    required: [
      'console=ttyS0',
      'console=tty1',
      'rd.cos.oemlabel=COS_OEM',
      'root=live:LABEL=COS_RECOVERY',
      'rd.live.dir=/',
      'rd.live.squashimg=/cOS/recovery.squashfs',
      ...extra.filter((a) => a !== 'security=selinux' && a !== 'selinux=1'),
    ],
  },
});

const KAIROS_V2_PACKAGES = 'kairos-v2.4.3/packages/packages/static';
const kairosV2: Era = {
  name: 'kairos-v2.4.3',
  boot: 'kairos-v2',
  manifest: 'base:\n  image: ubuntu:22.04\ntoolkit:\n  source: image\n  mode: framework\n  image: quay.io/kairos/framework:v2.4.4\n  version: v2.4.3\n',
  toolkitBootargs: { path: '/etc/cos/bootargs.cfg', text: () => read(`${KAIROS_V2_PACKAGES}/kairos-overlay-files/files/etc/cos/bootargs.cfg`) },
  // bootargs.cfg:108-141 matches $KAIROS_ARTIFACT, which Kairos v2 writes into os-release.
  imageExtras: (osRelease) => ({ '/etc/os-release': { text: `${osRelease.trimEnd()}\nKAIROS_ARTIFACT="kairos-ubuntu-22.04-core-amd64-generic-v2.4.3"\n` } }),
  recovery: 'squashfs',
  layout: (i) => kairosLayout(read(`${KAIROS_V2_PACKAGES}/grub-config/files/grub.cfg`), 'kairos-v2.4.3/kairos-agent/pkg/utils/grub.go')(i),
  // Not a RHEL-like artifact and not recovery: `security=selinux selinux=1` (bootargs.cfg:108-119).
  entries: kairosEntries(['panic=5', 'security=selinux', 'selinux=1']),
  installs: { bios: true, uefi: true },
};

const KAIROS_V3_BUNDLED = 'kairos-v3.7.2/kairos-init/pkg/bundled/bundled.go';
const kairosV3: Era = {
  name: 'kairos-v3.7.2',
  boot: 'kairos-v3',
  manifest: 'base:\n  image: quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.7.2\ntoolkit:\n  source: base\n',
  toolkitBootargs: { path: '/etc/cos/bootargs.cfg', text: () => goConstant(KAIROS_V3_BUNDLED, 'BootArgsCfg') },
  // BootArgsCfg sources (loop0)/etc/kairos-release when present and tests $KAIROS_MODEL.
  imageExtras: () => ({
    '/etc/kairos-release': { text: 'KAIROS_NAME="kairos-core-ubuntu-24.04"\nKAIROS_FAMILY="ubuntu"\nKAIROS_MODEL="generic"\nKAIROS_VERSION="v3.7.2"\n' },
  }),
  recovery: 'squashfs',
  layout: (i) => kairosLayout(goConstant(KAIROS_V3_BUNDLED, 'GrubCfg'), 'kairos-v3.7.2/kairos-agent/pkg/utils/grub.go')(i),
  // selinux=0 always (BootArgsCfg setSelinux).
  entries: kairosEntries(['panic=5', 'selinux=0']),
  installs: { bios: true, uefi: true },
};

/** In the brief's priority order: the three newest of each flavor first. */
export const ERAS: readonly Era[] = [cosV0, elementalV2, kairosV3, elementalV11, elementalV13, kairosV2];

/** The manifest of an era whose `boot` the proof reads back from the kernel. */
export function eraManifest(era: Era): string {
  return [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    'metadata:',
    `  name: grub-proof-${era.boot.replace('.', '-')}`,
    '  version: 1.0.0',
    era.manifest.trimEnd(),
    'boot:',
    `  cmdline: [derivc.proof=${era.name}]`,
    '  console: [tty1, "ttyS0,115200"]',
    '  selinux: true',
    '',
  ].join('\n');
}
