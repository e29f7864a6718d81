// The CLI's view of its process: streams, environment, working directory. Injected so command
// tests run in-process without touching the real ones.

import type { Host } from '../compiler/host.js';
import type { DockerEngine } from '../targets/io/engine.js';

export const COLOR_MODES = ['auto', 'always', 'never'] as const;
export type ColorMode = (typeof COLOR_MODES)[number];

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (colour, live progress). */
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  host: Host;
  /** The directory derivc runs in (default: the process's): where github and sarif paths are rooted. */
  cwd?: string;
  /** Standard input, read whole: a manifest named `-`. */
  stdin?: () => Uint8Array;
  /** `--color`; absent: auto. */
  color?: ColorMode;
  /** The Docker Engine, created on first use (only build-like commands need one). */
  docker?: () => DockerEngine;
  /** Cancelled on Ctrl-C: long-running commands stop cleanly. */
  signal?: AbortSignal;
}

/**
 * Colour or not, in this order: `--color always|never`; FORCE_COLOR (`0`/`false` off, empty,
 * `1`–`3`/`true` on, as Node reads it); NO_COLOR set and not empty (no-color.org) off; otherwise
 * a terminal that is not `TERM=dumb`.
 */
export function wantsColor(io: CliIO): boolean {
  if (io.color === 'always') return true;
  if (io.color === 'never') return false;
  const force = io.env['FORCE_COLOR'];
  if (force === '0' || force === 'false') return false;
  if (force === '' || force === '1' || force === '2' || force === '3' || force === 'true') return true;
  if (io.env['NO_COLOR'] !== undefined && io.env['NO_COLOR'] !== '') return false;
  return io.isTTY && io.env['TERM'] !== 'dumb';
}
