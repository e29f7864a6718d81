// Docker numbers build steps over every instruction of the Dockerfile ("Step 5/12"); this maps
// such a number back to derivc's step (its comment) and the manifest part that produced it.

import type { CompileOutput } from '../../compiler/emit/types.js';
import { contentBytes } from '../content.js';

export interface InstructionOrigin {
  instruction: string;
  /** The derivc step it belongs to, e.g. "packages"; "base image" for FROM. */
  title: string;
  pointer: string;
}

export function instructionOrigins(output: CompileOutput): InstructionOrigin[] {
  const dockerfile = output.files.find((f) => f.path === 'Dockerfile');
  const text = dockerfile?.content !== undefined ? contentBytes(dockerfile.content).toString('utf8') : '';
  // In Dockerfile order: two steps may write the same line (two build steps running one command).
  const byLine = new Map<string, { title: string; pointer: string }[]>();
  for (const step of output.steps)
    for (const line of step.lines) byLine.set(line, [...(byLine.get(line) ?? []), { title: step.comment, pointer: step.pointer }]);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    .map((instruction) => {
      const queue = byLine.get(instruction);
      const known = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      if (known) return { instruction, ...known };
      if (instruction.startsWith('FROM '))
        return {
          instruction,
          title: instruction.includes(' AS ') ? 'toolkit image' : 'base image',
          pointer: instruction.includes(' AS ') ? '/toolkit' : '/base',
        };
      if (instruction.startsWith('ARG ')) return { instruction, title: 'build arguments', pointer: '/build/args' };
      return { instruction, title: 'build', pointer: '' };
    });
}
