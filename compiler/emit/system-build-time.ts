// `system` for a derivative without a toolkit: nothing runs /system/oem at boot, so the settings
// become files in the image and RUN steps at build time. Either way every stated setting takes
// effect on the booted system.

import type { Build } from '../normalize/build.js';
import { dockerExec, envAssignment } from '../quote.js';
import { generatedBy } from './header.js';

/** Files under rootfs/ (paths absolute in the image). */
export function buildTimeSystemFiles(build: Build): { path: string; text: string; mode: number }[] {
  if (build.runtimeToolkit) return [];
  const s = build.system;
  const h = generatedBy(build);
  const out: { path: string; text: string; mode: number }[] = [];
  if (s.hostname) out.push({ path: '/etc/hostname', text: `${s.hostname}\n`, mode: 0o644 });
  if (s.sysctl.length) out.push({ path: '/etc/sysctl.d/90-derivc.conf', text: [h, ...s.sysctl.map(([k, v]) => `${k} = ${v}`), ''].join('\n'), mode: 0o644 });
  if (s.modules.length) out.push({ path: '/etc/modules-load.d/derivc.conf', text: [h, ...s.modules, ''].join('\n'), mode: 0o644 });
  if (s.environment.length)
    out.push({ path: '/etc/environment', text: [h, ...s.environment.map(([k, v]) => envAssignment(k, v)), ''].join('\n'), mode: 0o644 });
  if (s.dns) {
    const lines = [
      ...s.dns.nameservers.map((n) => `nameserver ${n}`),
      ...(s.dns.search.length ? [`search ${s.dns.search.join(' ')}`] : []),
      ...(s.dns.options.length ? [`options ${s.dns.options.join(' ')}`] : []),
    ];
    out.push({ path: '/etc/resolv.conf', text: [h, ...lines, ''].join('\n'), mode: 0o644 });
  }
  if (s.locale) out.push({ path: '/etc/locale.conf', text: `${envAssignment('LANG', s.locale)}\n`, mode: 0o644 });
  if (s.keymap) out.push({ path: '/etc/vconsole.conf', text: `${envAssignment('KEYMAP', s.keymap)}\n`, mode: 0o644 });
  if (s.timezone) out.push({ path: '/etc/timezone', text: `${s.timezone}\n`, mode: 0o644 });
  for (const u of s.users)
    if (u.sshAuthorizedKeys.length) out.push({ path: `/usr/lib/derivc/users/${u.name}.keys`, text: u.sshAuthorizedKeys.join('\n') + '\n', mode: 0o600 });
  return out;
}

/** RUN steps, in an order where each can rely on the one before. */
export function buildTimeSystem(build: Build): string[] {
  const s = build.system;
  const out: string[] = [];
  if (s.timezone) out.push(`RUN ${dockerExec(['ln', '-sfn', `../usr/share/zoneinfo/${s.timezone}`, '/etc/localtime'])}`);
  for (const u of s.users) {
    out.push(
      `RUN ${dockerExec(['/bin/sh', '/usr/lib/derivc/add-user.sh', u.name, u.homeDir, u.shell ?? '', u.uid !== undefined ? String(u.uid) : '', u.groups.join(','), u.system ? '1' : '0', u.passwordHash ?? ''])}`,
    );
  }
  return out;
}

/**
 * `system.services`, for every toolkit: applied in the image, so a unit is on from the first boot,
 * before any cloud-config runs, and nothing re-applies it at boot. `systemctl` works offline on
 * the image's unit files and fails the build on a unit the image does not have.
 */
export function buildTimeServices(build: Build): string[] {
  const sc = build.system.services;
  return (['enable', 'disable', 'mask'] as const).filter((verb) => sc[verb].length).map((verb) => `RUN ${dockerExec(['systemctl', verb, ...sc[verb]])}`);
}
