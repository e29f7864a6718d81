// `layout`: a path is ephemeral (rwPaths) or persistent (persistentPaths), never both. Nesting:
// the cOS layout script mounts the ephemeral overlays first and the persistent paths on top, so
// - an rwPath inside a persistent path hides the persistence beneath it: always an error;
// - a persistent path inside an rwPath works with bind mounts (`persistentBind: true`, Harvester's
//   layout: rw /etc, persistent /etc/ssh) and is an error with overlay state, which would stack an
//   overlay on an overlay.

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
  const bind = layout['persistentBind'] === true;
  persistent.forEach((p, i) => {
    const at = `/layout/persistentPaths/${i}`;
    const same = rw.find((r) => r === p);
    const inner = rw.find((r) => r !== p && within(r, p));
    const outer = rw.find((r) => r !== p && within(p, r));
    if (same !== undefined) {
      out.push(
        finding(ctx, 'layout/path-overlap', at, `\`${p}\` is both persistent and in \`rwPaths\` (ephemeral)`, { hint: 'remove it from one of the two lists' }),
      );
    } else if (inner !== undefined) {
      out.push(
        finding(
          ctx,
          'layout/path-overlap',
          at,
          `persistent path \`${p}\` contains \`${inner}\` from \`rwPaths\`: the ephemeral overlay would hide what persists beneath it`,
          {
            hint: `remove \`${inner}\` from \`rwPaths\` (it persists with \`${p}\`), or persist narrower paths`,
          },
        ),
      );
    } else if (outer !== undefined && !bind) {
      out.push(
        finding(ctx, 'layout/path-overlap', at, `persistent path \`${p}\` is inside \`${outer}\` from \`rwPaths\`, which needs bind-mounted state`, {
          hint: 'set `persistentBind: true` (state is bind-mounted over the ephemeral parent), or remove the parent from `rwPaths`',
        }),
      );
    }
  });
  for (const key of ['rwPaths', 'persistentPaths'] as const) {
    const list = strings(layout[key]);
    list.forEach((p, i) => {
      const outer = list.findIndex((q, j) => j !== i && within(p, q) && !(p === q && j > i));
      if (outer < 0) return;
      out.push(
        finding(
          ctx,
          'layout/nested-path',
          `/layout/${key}/${i}`,
          p === list[outer] ? `\`${p}\` is listed twice in \`${key}\`` : `\`${p}\` is inside \`${list[outer]}\`, already in \`${key}\``,
          {
            severity: 'warning',
            hint: 'remove it: the outer path already covers it',
          },
        ),
      );
    });
  }
  return out;
};
