// `layout`: a path may be ephemeral (rwPaths) or persistent (persistentPaths), never both, and
// never one nested in the other — the cOS layout script mounts them in an order that would hide one.

import type { Diagnostic } from '../../diagnostics.js';
import { obj, strings } from '../../data.js';
import { finding, type Rule } from '../context.js';

function within(inner: string, outer: string): boolean {
  const o = outer.endsWith('/') ? outer : outer + '/';
  return inner === outer || inner.startsWith(o) || outer === '/';
}

export const layoutRules: Rule = (ctx) => {
  const layout = obj(ctx.manifest['layout']);
  if (!layout) return [];
  const out: Diagnostic[] = [];
  const rw = strings(layout['rwPaths']);
  const persistent = strings(layout['persistentPaths']);
  persistent.forEach((p, i) => {
    const clash = rw.find((r) => within(p, r) || within(r, p));
    if (clash === undefined) return;
    const how = clash === p ? 'is also in `rwPaths`' : within(p, clash) ? `is inside \`${clash}\` from \`rwPaths\`` : `contains \`${clash}\` from \`rwPaths\``;
    out.push(
      finding(ctx, 'layout/path-overlap', `/layout/persistentPaths/${i}`, `persistent path \`${p}\` ${how}`, {
        hint: 'a path is either ephemeral (`rwPaths`) or persistent (`persistentPaths`): remove it from one list, or persist a sibling path instead',
      }),
    );
  });
  for (const key of ['rwPaths', 'persistentPaths'] as const) {
    const list = strings(layout[key]);
    list.forEach((p, i) => {
      const outer = list.findIndex((q, j) => j !== i && within(p, q) && !(p === q && j > i));
      if (outer < 0) return;
      out.push(
        finding(ctx, 'layout/nested-path', `/layout/${key}/${i}`, p === list[outer] ? `\`${p}\` is listed twice in \`${key}\`` : `\`${p}\` is inside \`${list[outer]}\`, already in \`${key}\``, {
          severity: 'warning',
          hint: 'remove it: the outer path already covers it',
        }),
      );
    });
  }
  return out;
};
