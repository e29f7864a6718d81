// derivc explain CODE: what a diagnostic means and how to fix it.

import { CODES, describeCode } from '../../compiler/codes.js';
import { didYouMean } from '../../compiler/suggest.js';
import { suppressionNote } from '../../compiler/suppress/suppressible.js';
import { EXIT, UsageError } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export function explainCommand(args: { code: string | undefined }, io: CliIO): number {
  if (args.code === undefined) {
    const width = Math.max(...Object.keys(CODES).map((c) => c.length));
    io.stdout(
      Object.entries(CODES)
        .map(([code, info]) => `${code.padEnd(width)}  ${info.summary}`)
        .join('\n') + '\n',
    );
    return EXIT.ok;
  }
  const info = describeCode(args.code);
  if (!info)
    throw new UsageError(
      `unknown diagnostic code \`${args.code}\`${didYouMean(args.code, Object.keys(CODES)) ? `; ${didYouMean(args.code, Object.keys(CODES))}` : ''} (\`derivc explain\` lists them all)`,
    );
  const lines = [`${args.code}: ${info.summary}`, '', info.explanation];
  if (info.hint) lines.push('', `Fix: ${info.hint}`);
  lines.push('', suppressionNote(args.code));
  io.stdout(lines.join('\n') + '\n');
  return EXIT.ok;
}
