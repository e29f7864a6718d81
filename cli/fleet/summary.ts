// The table `derivc build PATH…` ends with when it built more than one manifest: per manifest its
// image tag, what happened (built, up-to-date, failed, skipped and why), how long it took and the
// media made. A table on the terminal and in CI logs; one JSON line with --json.

import { createStyle } from '../format/style.js';
import { shown } from '../format/style.js';

export type RowResult = 'built' | 'up-to-date' | 'failed' | 'skipped';

export interface SummaryRow {
  /** The manifest, as output shows paths. */
  manifest: string;
  name: string | undefined;
  /** The image's first tag (undefined when the manifest did not validate). */
  tag: string | undefined;
  result: RowResult;
  /** Why it was skipped. */
  reason?: string;
  /** Milliseconds it took; undefined when it never started. */
  ms: number | undefined;
  /** The targets whose media were made, in making order. */
  media: string[];
}

/** `0.4s`, `12.3s`, `2m05s`. */
export function formatDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
}

export function summaryTable(rows: readonly SummaryRow[], color: boolean): string {
  const style = createStyle(color);
  const cells = rows.map((r) => [
    shown(r.manifest),
    shown(r.tag ?? '-'),
    r.reason !== undefined ? `${r.result}: ${shown(r.reason)}` : r.result,
    r.ms !== undefined ? formatDuration(r.ms) : '-',
    r.media.length ? r.media.join(', ') : '-',
  ]);
  const header = ['manifest', 'image', 'result', 'time', 'media'];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[], paint: (i: number, text: string) => string = (_i, t) => t) =>
    c
      .map((text, i) => paint(i, i === c.length - 1 ? text : text.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const counts = (['built', 'up-to-date', 'failed', 'skipped'] as const).map((k) => `${rows.filter((r) => r.result === k).length} ${k}`);
  return [
    style.bold(line(header)),
    ...cells.map((c, n) =>
      line(c, (i, text) => {
        if (i !== 2) return text;
        const result = rows[n]!.result;
        return result === 'failed' ? style.severity('error', text) : result === 'skipped' ? style.severity('warning', text) : text;
      }),
    ),
    `${rows.length} manifests: ${counts.join(', ')}`,
    '',
  ].join('\n');
}

/** The summary as one JSON line (`derivc build --json`). */
export function summaryJson(rows: readonly SummaryRow[]): string {
  return (
    JSON.stringify({
      kind: 'summary',
      manifests: rows.map((r) => ({
        manifest: r.manifest,
        name: r.name ?? null,
        tag: r.tag ?? null,
        result: r.result,
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        seconds: r.ms !== undefined ? Math.round(r.ms) / 1000 : null,
        media: r.media,
      })),
    }) + '\n'
  );
}
