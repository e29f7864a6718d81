// The target interface: a target turns a built image into media. `plan` is pure — it is what
// `derivc plan` shows — and `run` carries the plan out with injected effects (TargetIO), so it
// is tested with a recording fake and for real in e2e. Every target works in a temporary
// directory next to its output and renames finished artifacts into place.

import type { Build } from '../compiler/normalize/build.js';
import type { DockerEngine } from './io/engine.js';

export type TargetName = 'iso' | 'raw' | 'ova' | 'packer';

/** What every target's plan knows besides the manifest: the image and where media go. */
export interface TargetContext {
  /** The built image (a tag or ID). */
  image: string;
  /** Directory the finished media land in. */
  outDir: string;
  /**
   * Seconds since the epoch for every timestamp in the media (reproducible builds). Unknown
   * while only planning (its default is the image's creation time): the plan then shows
   * placeholders, and such a plan cannot run.
   */
  sourceDateEpoch: number | undefined;
}

/** Stands in for SOURCE_DATE_EPOCH, or a value derived from it, in a plan made without one. */
export function epochPlaceholder(what: string): string {
  return `<${what}>`;
}

/**
 * What a step does, as data: `run` interprets it, `derivc plan` prints it. Relative paths are
 * inside the run's temporary work directory (tools run there); absolute ones are the host's.
 */
export type StepAction =
  /**
   * A host tool with an argument array, never a shell. `stdin` names a stream derivc feeds it:
   * the image's filesystem as a tar, of which the files under `capture` are also kept for a
   * later `extract` (so the kernel and initrd need no second pass over the image).
   */
  | { kind: 'exec'; tool: string; args: string[]; env?: Record<string, string>; stdin?: { from: 'image-filesystem'; image: string; capture?: string } }
  /** Files of the image, symlinks followed (kept from an earlier stream of it, else read from its layers), written into the work directory. */
  | { kind: 'extract'; image: string; files: { from: string; to: string }[] }
  /** A directory (and its parents) in the work directory. */
  | { kind: 'mkdir'; path: string }
  /**
   * A text file derivc writes. `sizes`: placeholders in `content` replaced by the byte size of a
   * work file made by an earlier step (an OVF descriptor names its disk's size).
   */
  | { kind: 'write'; path: string; content: string; sizes?: { placeholder: string; file: string }[] }
  /** A host directory merged into a work directory (files replace what is there). */
  | { kind: 'copy-tree'; from: string; to: string }
  /** Sets the volume serial of the EFI boot image (FAT) inside an ISO: mformat draws it from the clock. */
  | { kind: 'set-efi-serial'; iso: string; serial: number | string }
  /**
   * Makes a GPT disk boot under BIOS: GRUB's boot.img (a host file) into the MBR's code area,
   * pointing at core.img, already written at `coreLba` in the BIOS boot partition.
   */
  | { kind: 'install-bios-boot'; disk: string; bootImage: string; coreLba: number; partitionSectors: number }
  /** Sets the content ID in a VMDK's descriptor: qemu-img draws it at random. */
  | { kind: 'set-vmdk-cid'; vmdk: string; cid: string }
  /** An OVF manifest (.mf): "SHA256(<name>)= <hex>\n" for each file. */
  | { kind: 'ovf-manifest'; files: { file: string; name: string }[]; to: string }
  /** `sha256sum` format: "<hex>  <name>\n". */
  | { kind: 'checksum'; file: string; to: string; name: string }
  /** Renames into place, in order; sidecars (all but the first) are removed first so none describes other bytes. */
  | { kind: 'publish'; files: { from: string; to: string }[] }
  /** `sha256sum` format over several files into one (a directory's SHA256SUMS): "<hex>  <name>\n" each. */
  | { kind: 'checksums'; files: { file: string; name: string }[]; to: string }
  /** A finished work directory renamed into place, replacing the one there whole: its files belong together. */
  | { kind: 'publish-dir'; from: string; to: string };

export interface PlanStep {
  title: string;
  action: StepAction;
}

export interface ToolRequirement {
  /** A program looked up on PATH, or an absolute path for a file or directory. */
  name: string;
  /** The Debian package that provides it. */
  package: string;
}

export interface TargetPlan {
  target: TargetName;
  /** Host tools the plan needs, with their Debian packages: checked before anything runs. */
  tools: ToolRequirement[];
  /** The temporary work directory: created as `<parent>/<prefix>XXXXXX` (next to the outputs, so renames are atomic). */
  workDir: { parent: string; prefix: string };
  steps: PlanStep[];
  /** Final artifact paths (inside TargetContext.outDir). */
  outputs: string[];
  /** Null in a plan made only to be shown (see TargetContext.sourceDateEpoch). */
  sourceDateEpoch: number | null;
}

export interface Artifact {
  path: string;
  sha256: string;
  bytes: number;
}

/** File-system effects, so a recording fake can check what a run writes and when. */
export interface TargetFs {
  /** Creates `<parent>/<prefix>XXXXXX` and returns its path. */
  makeTempDir(parent: string, prefix: string): Promise<string>;
  /** Creates a directory and its parents. */
  mkdir(path: string): Promise<void>;
  writeFile(path: string, content: Uint8Array | string): Promise<void>;
  /** Merges the directory `from` into `to`, following no symlink out of `from`. */
  copyTree(from: string, to: string): Promise<void>;
  read(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Overwrites bytes in place. */
  patch(path: string, offset: number, bytes: Uint8Array): Promise<void>;
  /** Streams the file through SHA-256. */
  sha256(path: string): Promise<{ sha256: string; bytes: number }>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file or a directory tree; nothing there is fine. */
  remove(path: string): Promise<void>;
}

/** The effects a target may use. The real one is targets/io/target-io.ts; tests pass a fake. */
export interface TargetIO {
  engine: DockerEngine;
  /** Runs a host tool; rejects with its stderr tail on a non-zero exit. `stdin` is piped in. Aborting kills it. */
  exec(tool: string, args: readonly string[], opts?: { env?: Record<string, string>; stdin?: NodeJS.ReadableStream; cwd?: string }): Promise<void>;
  /** Whether a host tool is on PATH (or, for an absolute path, whether that file or directory exists). */
  hasTool(tool: string): Promise<boolean>;
  fs: TargetFs;
  /** Cancelled on Ctrl-C: the run stops, removes its work directory, and publishes nothing. */
  signal?: AbortSignal;
  /** Progress lines ("squashfs: …"), for the CLI to show. */
  progress?(text: string): void;
}

export interface Target<O> {
  name: TargetName;
  /** The manifest schema's definition of this target's options. */
  optionsSchema: object;
  plan(build: Build, options: O, context: TargetContext): TargetPlan;
  run(plan: TargetPlan, io: TargetIO): Promise<Artifact[]>;
}

/** A user-facing reason a target cannot be planned or run (reported as a diagnostic, not a crash). */
export class TargetError extends Error {}
