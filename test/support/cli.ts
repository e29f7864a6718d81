// Runs the CLI in-process with captured output, against the real file system.

import { run } from '../../cli/main.js';
import type { Host } from '../../compiler/host.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { nodeHost } from '../../cli/node-host.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  isTTY?: boolean;
  env?: Record<string, string>;
  host?: Host;
  docker?: () => DockerEngine;
  signal?: AbortSignal;
  /** What standard input holds (`-` as the manifest). */
  stdin?: string;
  /** The directory derivc runs in, for github and sarif paths (default: the process's). */
  cwd?: string;
}

/** For the synchronous commands (validate, compile, plan, diff, schema, explain). */
export function runCli(argv: string[], opts: CliOptions = {}): CliRun {
  const out = { stdout: '', stderr: '' };
  const code = run(argv, io(out, opts));
  if (typeof code !== 'number') throw new Error(`\`${argv[0]}\` is asynchronous: use runCliAsync`);
  return { code, ...out };
}

/** For commands that talk to the Docker Engine (build, doctor, …). */
export async function runCliAsync(argv: string[], opts: CliOptions = {}): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const code = await run(argv, io(out, opts));
  return { code, ...out };
}

function io(out: { stdout: string; stderr: string }, opts: CliOptions) {
  return {
    stdout: (t: string) => void (out.stdout += t),
    stderr: (t: string) => void (out.stderr += t),
    isTTY: opts.isTTY ?? false,
    env: opts.env ?? {},
    host: opts.host ?? nodeHost,
    ...(opts.docker ? { docker: opts.docker } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.stdin !== undefined ? { stdin: () => new TextEncoder().encode(opts.stdin) } : {}),
    ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
  };
}
