// The IR every emitter reads: the manifest with defaults applied, the family resolved, labels
// resolved from one place and the upstream derivative resolved. Logic lives here, not in templates.

import type { SourceContent } from '../checked-file.js';
import type { Family } from '../family.js';
import type { Arch } from '../families.js';
import type { ToolkitEra } from '../toolkit-era.js';

export interface Labels {
  oem: string;
  state: string;
  recovery: string;
  persistent: string;
  active: string;
  passive: string;
  system: string;
}

export const DEFAULT_LABELS: Readonly<Labels> = {
  oem: 'COS_OEM',
  state: 'COS_STATE',
  recovery: 'COS_RECOVERY',
  persistent: 'COS_PERSISTENT',
  active: 'COS_ACTIVE',
  passive: 'COS_PASSIVE',
  system: 'COS_SYSTEM',
};

/** A luet repository image, optionally pinned to one snapshot (luet's `reference`). */
export interface LuetRepositoryIR {
  url: string;
  reference?: string;
  verify: boolean;
}

/** Extra luet packages on top of a toolkit image or an upstream derivative (`toolkit.packages` there). */
export interface LuetPackagesIR {
  packages: string[];
  /** Without one, the luet configuration the image carries. */
  repository?: LuetRepositoryIR;
  /** Where luet is copied from; without one, the luet the image carries. */
  luetImage?: string;
}

export type ToolkitIR =
  | { source: 'luet'; luetImage: string; repository: LuetRepositoryIR; packages: string[] }
  | { source: 'image'; image: string; mode: 'elemental'; binary: string; /** `elemental init` features; empty: all that release has. */ features: string[] }
  | { source: 'image'; image: string; mode: 'framework' }
  | { source: 'base' }
  | { source: 'none' };

/**
 * A `files` item by kind. `owner` is the `chown` applied after users exist, when one is needed:
 * a stated owner but root:root for what derivc creates (root owns it already), any stated owner
 * for a directory or a path the image has (they may belong to someone else).
 */
export type FileIR = { path: string; pointer: string; owner?: string } & (
  | {
      /** `content` (rendered when a template) or `source`: written into the build context's files/ tree. */
      kind: 'file';
      mode: number;
      /** Inline content, or `source` as the Host checked it in the manifest's folder (a reference, not its bytes). */
      content: Uint8Array | SourceContent;
    }
  | { kind: 'url'; mode: number; url: string; sha256: string }
  | { kind: 'symlink'; target: string }
  | { kind: 'directory'; mode: number }
  | { kind: 'absent' }
  /** Neither content nor kind: `mode` and/or `owner` of a path the image already has. */
  | { kind: 'attributes'; mode?: number }
);

export type OverlayFileIR =
  | {
      /** Path under the overlay folder (and under / in the image). */
      relative: string;
      /** The file as the Host checked it: a reference, not its bytes. */
      content: SourceContent;
      /** 0o755 when the file is executable, else 0o644. */
      mode: number;
      symlink?: undefined;
    }
  | {
      relative: string;
      /** A symlink, copied as one: its link text, never followed (it may name what only the image has). */
      symlink: string;
    };

/** A repository added before packages: a URL in the family's own format, or an Ubuntu PPA. */
export type RepositoryIR =
  | {
      kind: 'url';
      name: string;
      url: string;
      gpgKeyUrl?: string;
      gpgCheck: boolean;
      priority?: number;
      suites: string[];
      components: string[];
      auth?: RepositoryAuthIR;
    }
  | { kind: 'ppa'; name: string; ppa: string };

/** Where a repository's password is read at build time (never its value: the compiler does not read it). */
export interface RepositoryAuthIR {
  username: string;
  source: { env: string } | { file: string };
  /** `/packages/repositories/N/auth`. */
  pointer: string;
}

/** `packages`, per-platform items already chosen for the build's platform. */
export interface PackagesIR {
  install: string[];
  remove: string[];
  upgrade: boolean;
  repositories: RepositoryIR[];
  /** Repositories of the base image disabled before anything is installed. */
  disable: string[];
}

export type StepAt = 'after-packages' | 'after-toolkit' | 'after-files' | 'final';

export interface BuildStepIR {
  name: string;
  at: StepAt;
  /** Exec-form arguments: the list as written, or `/bin/sh -eu -c` and the script as written. */
  args: string[];
  /** `/build/steps/N`: where a failure of this step is reported. */
  pointer: string;
}

export interface UserIR {
  name: string;
  passwordHash?: string;
  sshAuthorizedKeys: string[];
  groups: string[];
  shell?: string;
  homeDir: string;
  uid?: number;
  system: boolean;
}

export interface SystemIR {
  hostname?: string;
  timezone?: string;
  keymap?: string;
  locale?: string;
  users: UserIR[];
  /** Sorted by key: the manifest's key order must not change the output. */
  sysctl: [string, string][];
  modules: string[];
  services: { enable: string[]; disable: string[]; mask: string[] };
  environment: [string, string][];
  dns?: { nameservers: string[]; search: string[]; options: string[] };
}

export interface LayoutIR {
  volumes: string[];
  overlay?: string;
  rwPaths?: string[];
  persistentPaths: string[];
  persistentTarget?: string;
  persistentBind?: boolean;
}

export interface UpgradeIR {
  /** Full reference with tag: what `upgrade` installs by default. */
  image: string;
  recoveryImage: string;
  channel: boolean;
  verify: boolean;
}

export type OemFileIR =
  | {
      /** Path under /system/oem. */
      relative: string;
      /** The bytes read from the checked file (small: cloud-config is parsed too). */
      content: Uint8Array;
      symlink?: undefined;
    }
  | {
      relative: string;
      /** A symlink, copied as one and not validated: its link text, never followed. */
      symlink: string;
    };

export interface Build {
  /** The manifest file name, for "generated from" headers (never a machine-specific path). */
  manifestName: string;
  name: string;
  version: string;
  family: Family;
  platform: 'linux/amd64' | 'linux/arm64';
  arch: Arch;
  /** What the Dockerfile builds FROM. */
  from: { kind: 'image'; ref: string } | { kind: 'derivative'; ref: string; upstreamName: string };
  toolkit: ToolkitIR;
  /** Someone runs /system/oem at boot: this toolkit or an upstream's. */
  runtimeToolkit: boolean;
  /** Whose toolkit of which release the image carries (this manifest's or its upstream's): what emitters pick per era. */
  era?: ToolkitEra;
  /** The luet repository of the toolkit in the image (this one's or an upstream's), if it came from luet. */
  luetRepository?: string;
  /** Extra luet packages installed after the toolkit (with `source: image` or `base`, or downstream). */
  luetPackages?: LuetPackagesIR;
  /** 0 for a derivative built from an image, 1 for its downstream, and so on: orders /system/oem files. */
  depth: number;
  /** Kernel, dracut, GRUB… installed here (not in a downstream: the upstream image has them). */
  bootPackages: string[];
  packages: PackagesIR;
  files: FileIR[];
  overlay: OverlayFileIR[];
  system: SystemIR;
  layout?: LayoutIR;
  /** Raw yip stages as the manifest wrote them (keys sorted on output). */
  stages?: Record<string, unknown>;
  oemFiles: OemFileIR[];
  /**
   * `cmdline` is the whole chain's, `console` and `selinux` the nearest manifest's: what a complete
   * bootargs.cfg carries. `own` is what this manifest's block adds where the toolkit's own file is
   * appended to (every manifest of a chain appends one; an upstream's stays): its own `cmdline`,
   * and `console`/`selinux` where it states them — the first derivative of a chain with their
   * defaults — and `boot.labels.oem` where it states one.
   */
  boot: {
    grubEntryName?: string;
    cmdline: string[];
    console: string[];
    labels: Labels;
    customLabels: boolean;
    selinux: boolean;
    own: { cmdline: string[]; console?: string[]; selinux?: boolean; oemLabel?: string };
  };
  upgrade?: UpgradeIR;
  /** `metadata.osRelease`, rendered, sorted by key (`boot.grubEntryName` stays in `boot`). */
  osRelease: [string, string][];
  tags: string[];
  args: [string, string][];
  /** `build.env`, sorted by key: Dockerfile ENV. */
  env: [string, string][];
  /** `build.steps` in manifest order. */
  steps: BuildStepIR[];
  /** OCI labels, sorted by key, without the build id (added by the emitter). */
  labels: [string, string][];
}

/**
 * What the validator knows of a Build without reading a file (no source is opened or hashed):
 * enough for the targets to check their options in `derivc validate`. A Build is one.
 */
export type BuildFacts = Pick<Build, 'name' | 'version' | 'arch'> &
  Partial<Pick<Build, 'runtimeToolkit' | 'era'>> & {
    /** Users with a password hash in this manifest and its upstreams (who can log in with a password); undefined when not gathered. */
    passwordUsers?: readonly string[];
  };

/** The architecture of a `base.platform` (stated or inherited); amd64 when none is. */
export function archOf(platform: string | undefined): Arch {
  return platform === 'linux/arm64' ? 'arm64' : 'amd64';
}
