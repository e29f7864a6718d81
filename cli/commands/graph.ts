// derivc graph [PATH…] [--format pretty|dot|json]: the derivatives PATHs name (default: every
// derivative.yaml below the current directory) and the upstreams they are built from.

import { choice } from '../choices.js';
import { EXIT } from '../exit-codes.js';
import { GRAPH_FORMATS } from '../fleet/formats.js';
import { graphDot, graphJson, graphPretty } from '../fleet/graph-output.js';
import { validFleet } from '../fleet/load.js';
import type { CliIO } from '../io.js';

export interface GraphArgs {
  files: string[];
  format: string;
}

export function graphCommand(args: GraphArgs, io: CliIO): number {
  const format = choice('--format', args.format, GRAPH_FORMATS);
  const nodes = validFleet(args.files, io);
  if (!nodes) return EXIT.failed;
  const cwd = io.cwd ?? process.cwd();
  io.stdout(format === 'dot' ? graphDot(nodes, cwd) : format === 'json' ? graphJson(nodes, cwd) : graphPretty(nodes, cwd));
  return EXIT.ok;
}
