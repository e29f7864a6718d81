// `system`: contradictions the schema cannot see — a unit enabled and disabled, a user twice.

import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, str, strings } from '../../data.js';
import { finding, type Rule } from '../context.js';
import { hasToolkit } from './toolkit.js';

/** systemd's rule: a name without a unit suffix means `.service`. */
export function unitName(name: string): string {
  return /\.(service|socket|timer|target|mount|automount|path|slice|scope|swap|device)$/.test(name) ? name : `${name}.service`;
}

export const systemRules: Rule = (ctx) => {
  const system = obj(ctx.manifest['system']);
  if (!system) return [];
  const out: Diagnostic[] = [];
  const services = obj(system['services']);
  const enabled = new Set(strings(services?.['enable']).map(unitName));
  for (const verb of ['disable', 'mask'] as const) {
    strings(services?.[verb]).forEach((unit, i) => {
      if (!enabled.has(unitName(unit))) return;
      out.push(
        finding(
          ctx,
          'system/service-conflict',
          `/system/services/${verb}/${i}`,
          `\`${unitName(unit)}\` is both enabled and ${verb === 'mask' ? 'masked' : 'disabled'}`,
          { hint: `remove it from \`enable\` or from \`${verb}\`` },
        ),
      );
    });
  }
  // With a toolkit, manifest users are created at boot; the image build cannot chown to them.
  const bootUsers = new Set(arr(system['users']).map((u) => str(obj(u)?.['name'])));
  if (hasToolkit(ctx)) {
    arr(ctx.manifest['files']).forEach((f, i) => {
      const owner = str(obj(f)?.['owner']);
      const [user, group] = owner?.split(':') ?? [];
      if (!owner || !(bootUsers.has(user) || bootUsers.has(group))) return;
      out.push(
        finding(
          ctx,
          'files/owner-created-at-boot',
          `/files/${i}/owner`,
          `\`${owner}\` names a user that the toolkit creates at boot, after the image is built`,
          {
            hint: 'give the numeric ids instead (e.g. `1000:1000`, with `uid: 1000` on the user)',
          },
        ),
      );
    });
  }
  const users = new Map<string, number>();
  arr(system['users']).forEach((u, i) => {
    const name = str(obj(u)?.['name']);
    if (name === undefined) return;
    if (users.has(name)) {
      out.push(
        finding(ctx, 'system/duplicate-user', `/system/users/${i}/name`, `user \`${name}\` is already defined by users[${users.get(name)}]`, {
          hint: 'merge the two entries into one',
        }),
      );
    } else users.set(name, i);
  });
  return out;
};
