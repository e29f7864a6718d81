// What compile produces: the build context as a list of files, written by the CLI (or compared
// with what is on disk for --check, or diffed for `derivc diff`).

import type { SourceContent } from '../checked-file.js';
import type { BootArgsPlan } from './bootargs.js';

/**
 * What a generated file holds: text, bytes, or a file the manifest names as the Host checked it
 * (its digest and size, and a way to stream those bytes: never held whole in memory). Consumers
 * go through cli/content.ts, which handles every form.
 */
export type FileContent = string | Uint8Array | SourceContent;

/** A regular file, or a symlink (from `overlay` or `oemDir`): `symlink` tells them apart. */
export type GeneratedFile = GeneratedRegularFile | GeneratedSymlink;

export interface GeneratedRegularFile {
  /** Path inside the output directory: `/`-separated, relative, normalized (`rootfs/etc/cos/bootargs.cfg`). */
  path: string;
  content: FileContent;
  /** Permission bits (0o644 by default). The build context carries them into the image. */
  mode: number;
  symlink?: undefined;
  /** Where in which manifest it comes from, for plans and diagnostics. */
  origin?: { file: string; pointer: string };
}

/**
 * A symlink, written as a symlink (never a file written through it, never followed by derivc) and
 * carried into the image as one. Its link text is data: absolute, `..` or dangling alike. No mode:
 * a symlink's own permission bits mean nothing on Linux.
 */
export interface GeneratedSymlink {
  path: string;
  /** The link text, exactly as read (compiler/link-target.ts says what it may be). */
  symlink: string;
  content?: undefined;
  mode?: undefined;
  origin?: { file: string; pointer: string };
}

export interface CompileOutput {
  /** `metadata.name` and `metadata.version` of the manifest. */
  name: string;
  version: string;
  files: GeneratedFile[];
  /** Digest of the normalized manifest, every referenced file and the derivc version. */
  buildId: string;
  /** Image tags the build will apply; the first is the one downstream derivatives build FROM. */
  tags: string[];
  /** The image the Dockerfile builds FROM. */
  from: string;
  /** `linux/amd64` or `linux/arm64`. */
  platform: string;
  /** Build arguments (also the Dockerfile's ARG defaults). */
  args: Record<string, string>;
  /** The Dockerfile's steps after FROM, in order: what `derivc plan` shows. */
  steps: { comment: string; lines: string[]; pointer: string }[];
  /** Which bootargs file the image's GRUB reads last, and whether derivc writes, replaces or appends to it. */
  bootArgs?: BootArgsPlan;
}

/** The file derivc writes into every output directory; lists what it wrote (for stale-file removal). */
export const MANIFEST_FILE = 'derivc.json';
