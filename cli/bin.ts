// The `derivc` executable: the real process wired into the CLI.

import { run } from './main.js';
import { nodeHost } from './node-host.js';

process.exitCode = run(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  isTTY: process.stdout.isTTY === true,
  env: process.env,
  host: nodeHost,
});
