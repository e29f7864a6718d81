// The `derivc` executable: the real process wired into the CLI.

import { readFileSync } from 'node:fs';
import type { DockerEngine } from '../targets/io/engine.js';
import { lazyEngine } from '../targets/io/lazy-engine.js';
import { quietDependencyWarnings } from './dependency-warnings.js';
import { run } from './main.js';
import { nodeHost } from './node-host.js';

// Ctrl-C cancels: commands watch the signal and clean up (a second Ctrl-C exits at once).
// SIGTERM (a CI job stopped, `kill`) does the same, so no export container or QEMU is left behind.
const abort = new AbortController();
let stoppedWith = 130;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    stoppedWith = code;
    abort.abort();
    process.once(signal, () => process.exit(code));
  });
}

// `derivc schema | head -1`: the reader is gone, and what is left to write has no one to read it.
// That is not an error: stop writing to that stream and finish quietly, exit code unchanged.
const closed = new Set<NodeJS.WriteStream>();
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    // A write queued before the EPIPE arrived then fails on the destroyed stream: the same cause.
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    closed.add(stream);
  });
}
const write = (stream: NodeJS.WriteStream, text: string): void => {
  if (!closed.has(stream)) stream.write(text);
};

quietDependencyWarnings();

let engine: DockerEngine | undefined;
const code = await run(process.argv.slice(2), {
  stdout: (t) => write(process.stdout, t),
  stderr: (t) => write(process.stderr, t),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  host: nodeHost,
  cwd: process.cwd(),
  stdin: () => readFileSync(0),
  docker: () => (engine ??= lazyEngine(process.env)),
  signal: abort.signal,
});
process.exitCode = abort.signal.aborted && code !== 0 ? stoppedWith : code;
