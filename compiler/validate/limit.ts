// A file can yield a problem per key: 120,000 unknown keys make 120,000 diagnostics, which no one
// reads and which make every output format megabytes long. Each file reports its first problems
// and one more diagnostic that says how many were left out (and keeps the run failing if any of
// those were errors).

import type { Diagnostic, Severity } from '../diagnostics.js';

export const MAX_PROBLEMS_PER_FILE = 100;

/** `sorted` is in sortDiagnostics order, so each file's diagnostics are together, first ones first. */
export function limitPerFile(sorted: readonly Diagnostic[], max = MAX_PROBLEMS_PER_FILE): Diagnostic[] {
  const out: Diagnostic[] = [];
  let i = 0;
  while (i < sorted.length) {
    const file = sorted[i]!.file;
    let n = 0;
    const left: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
    let firstLeft: Diagnostic | undefined;
    for (; i < sorted.length && sorted[i]!.file === file; i++) {
      const d = sorted[i]!;
      if (++n <= max) out.push(d);
      else {
        firstLeft ??= d;
        left[d.severity]++;
      }
    }
    if (firstLeft) out.push(summary(firstLeft, left, max));
  }
  return out;
}

function summary(first: Diagnostic, left: Record<Severity, number>, max: number): Diagnostic {
  const parts = [count(left.error, 'error'), count(left.warning, 'warning'), count(left.info, 'info')].filter((p) => p !== '');
  const total = left.error + left.warning + left.info;
  return {
    code: 'validate/too-many-problems',
    severity: left.error ? 'error' : left.warning ? 'warning' : 'info',
    message: `${parts.join(' and ')} in this file ${total === 1 ? 'is' : 'are'} not shown (the first is here): derivc reports at most ${max} problems per file`,
    file: first.file,
    pointer: first.pointer,
    ...(first.range ? { range: first.range } : {}),
    hint: 'fix the problems shown and run derivc again',
  };
}

function count(n: number, what: string): string {
  return n === 0 ? '' : `${n} more ${what}${n === 1 || what === 'info' ? '' : 's'}`;
}
