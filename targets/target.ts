// The target interface: a target turns a built image into media. `validate` says what is wrong
// with its options from the manifest alone (`derivc validate` runs it: no image, no file read);
// `plan` is pure — it is what `derivc plan` shows — and plan-run.ts carries the plan out with
// injected effects (TargetIO), so it is tested with a recording fake and for real in e2e. The
// steps a target needs beyond plan-run's own it registers itself (StepActions, ActionHandlers),
// so plan-run knows no target. Every target works in a temporary directory next to its output
// and renames finished artifacts into place.

import type { DiagnosticCode } from '../compiler/codes.js';
import type { Build, BuildFacts } from '../compiler/normalize/build.js';
import type { TargetName, TargetsIR } from '../compiler/normalize/targets.js';
import type { DockerEngine } from './io/engine.js';
import type { ImageCapture } from './io/image-stream.js';

export type { TargetName } from '../compiler/normalize/targets.js';

/** What every target's plan knows besides the manifest: the image and where media go. */
export interface TargetContext {
  /** The built image (a tag or ID). */
  image: string;
  /** The image's size in bytes (its layers unpacked): what the raw disk sizes its partitions by. Unknown while only planning. */
  imageBytes: number | undefined;
  /** Directory the finished media land in. */
  outDir: string;
  /**
   * Seconds since the epoch for every timestamp in the media (reproducible builds). Unknown
   * while only planning (its default is the image's creation time): the plan then shows
   * placeholders, and such a plan cannot run.
   */
  sourceDateEpoch: number | undefined;
  /** The targets made before this one in the same run, into the same outDir: the OVA takes the disk the raw target published. */
  earlier: readonly TargetName[];
}

/** Stands in for SOURCE_DATE_EPOCH, or a value derived from it, in a plan made without one. */
export function epochPlaceholder(what: string): string {
  return `<${what}>`;
}

/** A problem with a target's options, at the option it is about. The CLI positions it in the manifest. */
export interface TargetFinding {
  /** Catalogued in compiler/codes.ts (`targets/…`). */
  code: DiagnosticCode;
  /**
   * JSON pointer of the option in the manifest. It may name an option the manifest leaves out
   * (its default is what is wrong): the finding then shows at the closest part that is there.
   */
  pointer: string;
  /** Lowercase: what is wrong, what was expected, what was found. */
  message: string;
  hint?: string;
}

/** A finding only the built image can tell (its size against a stated disk size), thrown by `plan`. */
export class TargetError extends Error {
  constructor(readonly finding: TargetFinding) {
    super(finding.message);
  }
}

/**
 * Every kind of step, by name, as data: plan-run carries it out, `derivc plan` prints it.
 * Relative paths are inside the run's temporary work directory (tools run there); absolute ones
 * are the host's. These are plan-run's own (targets/core-actions.ts); each target adds the kinds
 * it owns in its actions.ts, by declaration merging.
 */
export interface StepActions {
  /**
   * A host tool with an argument array, never a shell. `stdin` names a stream derivc feeds it:
   * the image's filesystem as a tar, of which the files under `capture` are also kept for a
   * later `extract` (so the kernel and initrd need no second pass over the image).
   */
  exec: { kind: 'exec'; tool: string; args: string[]; env?: Record<string, string>; stdin?: { from: 'image-filesystem'; image: string; capture?: string } };
  /** Files of the image, symlinks followed (kept from an earlier stream of it, else read from its layers), written into the work directory. */
  extract: { kind: 'extract'; image: string; files: { from: string; to: string }[] };
  /** A directory (and its parents) in the work directory. */
  mkdir: { kind: 'mkdir'; path: string };
  /**
   * A text file derivc writes. `sizes`: placeholders in `content` replaced by the byte size of a
   * work file made by an earlier step (an OVF descriptor names its disk's size).
   */
  write: { kind: 'write'; path: string; content: string; sizes?: { placeholder: string; file: string }[] };
  /** A host directory merged into a work directory (files replace what is there). */
  'copy-tree': { kind: 'copy-tree'; from: string; to: string };
  /** `sha256sum` format: "<hex>  <name>\n". */
  checksum: { kind: 'checksum'; file: string; to: string; name: string };
  /** Renames into place, in order; sidecars (all but the first) are removed first so none describes other bytes. */
  publish: { kind: 'publish'; files: { from: string; to: string }[] };
  /** `sha256sum` format over several files into one (a directory's SHA256SUMS): "<hex>  <name>\n" each. */
  checksums: { kind: 'checksums'; files: { file: string; name: string }[]; to: string };
  /** A finished work directory renamed into place, replacing the one there whole: its files belong together. */
  'publish-dir': { kind: 'publish-dir'; from: string; to: string };
}

export type ActionKind = keyof StepActions;
export type StepAction = StepActions[ActionKind];

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

/** What a step sees of the run it is part of. */
export interface StepContext {
  io: TargetIO;
  /** A path of the plan made absolute: relative ones are in the work directory. */
  at(path: string): string;
  /** SHA-256 and size of a work file as it is now, read once while no step changes files. */
  digest(file: string): Promise<{ sha256: string; bytes: number }>;
  /** Checksums made so far, by work path: a published file with one becomes an artifact. */
  readonly sums: Map<string, { sha256: string; bytes: number }>;
  /** What the run published. */
  readonly artifacts: Artifact[];
  /** Files kept from the image's filesystem as it streamed past, by image. */
  readonly captures: Map<string, ImageCapture>;
}

/** How plan-run carries out one kind of step, and how `derivc plan` shows it. */
export interface ActionHandler<K extends ActionKind> {
  /** The lines a reader checks under the step's title: the command as it runs, the files it touches. */
  describe(action: StepActions[K]): string[];
  run(action: StepActions[K], step: StepContext): Promise<void>;
  /** The work files the step writes when it leaves every other as it was (their digests stay); without it, a step may change any. */
  writes?(action: StepActions[K]): string[];
}

export type ActionHandlers = { [K in ActionKind]: ActionHandler<K> };

export interface Target<O, K extends ActionKind = never> {
  name: TargetName;
  /** The manifest schema's definition of this target's options; its defaults are applied in the IR. */
  optionsSchema: object;
  /** Its options from the manifest's targets, defaults applied (the OVA reads the raw disk's too). */
  options(targets: TargetsIR): O;
  /** What is wrong with the options, from the manifest alone: no image, no file. */
  validate(options: O, build: BuildFacts): TargetFinding[];
  /** The plan for options that passed `validate`; throws TargetError for what only the built image tells. */
  plan(build: Build, options: O, context: TargetContext): TargetPlan;
  /** The kinds of step this target owns. */
  actions: Pick<ActionHandlers, K>;
}
