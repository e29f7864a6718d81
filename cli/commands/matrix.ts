// derivc matrix [PATH…] --format github|gitlab|json [--affected --base REV]: the CI jobs that build
// the derivatives PATHs name (default: every derivative.yaml below the current directory), one per
// derivative and target, each after its upstream's (cli/fleet/matrix.ts). With --affected, only
// those a change since REV affects (cli/fleet/affected.ts).

import { choice } from '../choices.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { affectedNodes } from '../fleet/affected.js';
import { MATRIX_FORMATS } from '../fleet/formats.js';
import { validFleet } from '../fleet/load.js';
import { matrixGithub, matrixGitlab, matrixJson, matrixOf } from '../fleet/matrix.js';
import { continued } from '../format/style.js';
import { changedSince, GitError } from '../git-host.js';
import type { CliIO } from '../io.js';

export interface MatrixArgs {
  files: string[];
  format: string | undefined;
  affected: boolean;
  base: string | undefined;
}

export function matrixCommand(args: MatrixArgs, io: CliIO): number {
  if (args.format === undefined) throw new UsageError(`\`matrix\` needs --format ${MATRIX_FORMATS.join('|')}`);
  const format = choice('--format', args.format, MATRIX_FORMATS);
  if (args.affected && args.base === undefined) throw new UsageError('--affected needs --base GIT_REV: the revision the change is measured from');
  if (!args.affected && args.base !== undefined) throw new UsageError('--base GIT_REV goes with --affected');
  if (args.base !== undefined && (args.base === '' || args.base.startsWith('-'))) throw new UsageError(`\`${args.base}\` is not a git revision`);
  const nodes = validFleet(args.files, io);
  if (!nodes) return EXIT.failed;
  const cwd = io.cwd ?? process.cwd();
  let selected = new Set(nodes);
  if (args.base !== undefined) {
    let changed: string[];
    try {
      changed = changedSince(cwd, args.base).paths;
    } catch (err) {
      if (!(err instanceof GitError)) throw err;
      io.stderr(`derivc: ${continued(err.message, '  ')}\n`);
      return EXIT.failed;
    }
    selected = affectedNodes(nodes, changed, io.host, cwd);
  }
  const matrix = matrixOf(nodes, selected, cwd, args.base ?? null);
  io.stdout(format === 'github' ? matrixGithub(matrix) : format === 'gitlab' ? matrixGitlab(matrix) : matrixJson(matrix));
  return EXIT.ok;
}
