// Runs the CLI in-process with captured output, against the real file system.

import { run } from '../../cli/main.js';
import type { Host } from '../../compiler/host.js';
import { nodeHost } from '../../cli/node-host.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(argv: string[], opts: { isTTY?: boolean; env?: Record<string, string>; host?: Host } = {}): CliRun {
  let stdout = '';
  let stderr = '';
  const code = run(argv, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTTY: opts.isTTY ?? false,
    env: opts.env ?? {},
    host: opts.host ?? nodeHost,
  });
  return { code, stdout, stderr };
}
