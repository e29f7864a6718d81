// The CLI's view of its process: streams, environment, working directory. Injected so command
// tests run in-process without touching the real ones.

import type { Host } from '../compiler/host.js';
import type { DockerEngine } from '../targets/io/engine.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (colour, live progress). */
  isTTY: boolean;
  env: Readonly<Record<string, string | undefined>>;
  host: Host;
  /** The Docker Engine, created on first use (only build-like commands need one). */
  docker?: () => DockerEngine;
  /** Cancelled on Ctrl-C: long-running commands stop cleanly. */
  signal?: AbortSignal;
}

export function wantsColor(io: CliIO): boolean {
  return io.isTTY && io.env['NO_COLOR'] === undefined && io.env['TERM'] !== 'dumb';
}
