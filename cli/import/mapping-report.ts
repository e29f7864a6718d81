// The report of `derivc init --from`: one line per Dockerfile instruction saying where it went.

import { commentText } from '../../compiler/quote.js';
import type { ReportEntry } from './from-dockerfile.js';

/** `Dockerfile:12  RUN zypper in -y vim → packages.install`, notes indented below. */
export function reportText(entries: readonly ReportEntry[], file: string): string {
  const lines: string[] = [];
  for (const e of entries) {
    const target =
      e.outcome === 'mapped'
        ? e.keys.join(', ')
        : e.outcome === 'step'
          ? `${e.keys[0]} (not mapped: ${e.reason})`
          : e.outcome === 'dropped'
            ? `dropped (${e.reason})`
            : e.outcome === 'ignored'
              ? `ignored (${e.reason})`
              : `not mapped (${e.reason})`;
    lines.push(commentText(`${file}:${e.line}  ${e.instruction} → ${target}`));
    for (const n of e.notes) lines.push(`    ${commentText(n)}`);
  }
  return lines.join('\n') + '\n';
}

export function reportSummary(entries: readonly ReportEntry[]): string {
  const count = (o: ReportEntry['outcome']) => entries.filter((e) => e.outcome === o).length;
  return `${count('mapped')} mapped, ${count('step')} kept as build steps, ${count('dropped')} dropped as implied or unused, ${count('not-mapped')} not mapped, ${count('ignored')} in other stages`;
}
