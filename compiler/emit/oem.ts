// /system/oem: the manifest's `layout`, `system` (with a toolkit) and `stages` as yip
// cloud-config with derivc's numbered names, a replacement 02_upgrades.yaml for the luet toolkit,
// and the hand-written oemDir files byte for byte. Every derivc value in a string yip renders as
// a Go template (see yip-template.ts) goes through `literal`; `stages` are the user's own yip and
// keep their templates.

import { stringify } from 'yaml';
import type { Build } from '../normalize/build.js';
import { cloudConfigYaml } from './cloud-config-yaml.js';
import { generatedBy } from './header.js';
import { envAssignment, shellWord } from '../quote.js';
import { cosUpgradeImage, elementalUpgradeConfig } from './upgrade.js';
import { yipTemplateLiteral as literal } from '../quote.js';

export const OEM_DIR = 'rootfs/system/oem';

/** A generated cloud-config file, with the manifest part it comes from. */
export interface OemOutput {
  name: string;
  text: string;
  pointer: string;
}

/**
 * The names derivc generates. The digit after the tens is the derivative's depth (0 built from an
 * image, 1 its downstream…): a downstream's files sort after, and never replace, its upstream's.
 */
export function generatedOemNames(depth: number): { layout: string; system: string; stages: string } {
  return { layout: `2${depth}_derivc_layout.yaml`, system: `3${depth}_derivc_system.yaml`, stages: `5${depth}_derivc_stages.yaml` };
}

export function oemFiles(build: Build): OemOutput[] {
  const out: OemOutput[] = [];
  const header = generatedBy(build);
  const names = generatedOemNames(build.depth);
  // Replaces the stock 02_upgrades.yaml (and an upstream's replacement): the nearest manifest's upgrade wins.
  if (build.luetRepository !== undefined && build.upgrade)
    out.push({ name: '02_upgrades.yaml', text: cloudConfigYaml(header, luetUpgrades(build, build.luetRepository)), pointer: '/upgrade' });
  if (build.layout)
    out.push({ name: names.layout, text: cloudConfigYaml(header, layout(build)), pointer: build.boot.customLabels ? '/boot/labels' : '/layout' });
  if (build.runtimeToolkit) {
    const step = systemStep(build);
    if (Object.keys(step).length > 1)
      out.push({
        name: names.system,
        text: cloudConfigYaml(header, { name: `derivc system settings (${build.name})`, stages: { initramfs: [step] } }),
        pointer: '/system',
      });
  }
  if (build.stages)
    out.push({ name: names.stages, text: cloudConfigYaml(header, { name: `derivc stages (${build.name})`, stages: build.stages }), pointer: '/stages' });
  return out;
}

function literals(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, literal(v)]));
}

/** The cOS layout contract: /run/cos/cos-layout.env, written in the rootfs stage (after 00_rootfs). */
function layout(build: Build) {
  const l = build.layout!;
  const env: Record<string, string> = { VOLUMES: l.volumes.join(' ') };
  if (l.overlay) env['OVERLAY'] = l.overlay.startsWith('tmpfs:') ? l.overlay.replace(/(KiB|MiB|GiB|TiB)$/, (u) => u[0]!) : l.overlay;
  if (l.rwPaths) env['RW_PATHS'] = l.rwPaths.join(' ');
  if (l.persistentPaths.length) env['PERSISTENT_STATE_PATHS'] = l.persistentPaths.join(' ');
  if (l.persistentTarget) env['PERSISTENT_STATE_TARGET'] = l.persistentTarget;
  if (l.persistentBind !== undefined) env['PERSISTENT_STATE_BIND'] = String(l.persistentBind);
  const recovery: Record<string, string> = { VOLUMES: `LABEL=${build.boot.labels.oem}:/oem` };
  if (env['OVERLAY']) recovery['OVERLAY'] = env['OVERLAY'];
  return {
    name: `derivc layout (${build.name})`,
    stages: {
      rootfs: [
        { name: 'layout of the active system', if: '[ ! -f /run/cos/recovery_mode ]', environment_file: '/run/cos/cos-layout.env', environment: literals(env) },
        { name: 'layout in recovery', if: '[ -f /run/cos/recovery_mode ]', environment_file: '/run/cos/cos-layout.env', environment: literals(recovery) },
      ],
    },
  };
}

/** One initramfs step: yip runs its directives in a fixed order (users before authorized keys…). */
function systemStep(build: Build): Record<string, unknown> {
  const s = build.system;
  const step: Record<string, unknown> = { name: 'system settings from the manifest' };
  if (s.hostname) step['hostname'] = literal(s.hostname);
  if (s.users.length) {
    step['users'] = Object.fromEntries(
      s.users.map((u) => [
        u.name,
        {
          ...(u.passwordHash ? { passwd: u.passwordHash } : {}),
          ...(u.sshAuthorizedKeys.length ? { ssh_authorized_keys: u.sshAuthorizedKeys } : {}),
          ...(u.groups.length ? { groups: u.groups } : {}),
          ...(u.shell ? { shell: u.shell } : {}),
          homedir: u.homeDir,
          ...(u.uid !== undefined ? { uid: String(u.uid) } : {}),
          ...(u.system ? { system: true } : {}),
        },
      ]),
    );
  }
  if (s.sysctl.length) step['sysctl'] = Object.fromEntries(s.sysctl);
  if (s.modules.length) step['modules'] = s.modules;
  // `services` are set in the image at build time (dockerfile.ts), never re-applied at boot.
  if (s.environment.length) step['environment'] = literals(Object.fromEntries(s.environment));
  if (s.dns)
    step['dns'] = {
      ...(s.dns.nameservers.length ? { nameservers: s.dns.nameservers } : {}),
      ...(s.dns.search.length ? { search: s.dns.search } : {}),
      ...(s.dns.options.length ? { options: s.dns.options } : {}),
    };
  // Not `systemd_firstboot`: yip runs it without --force, and it never replaces the time zone,
  // keymap and locale the base image and the toolkit's 01_defaults.yaml already set.
  const files = [
    ...(s.locale ? [{ path: '/etc/locale.conf', permissions: 0o644, owner: 0, group: 0, content: literal(`${envAssignment('LANG', s.locale)}\n`) }] : []),
    ...(s.keymap ? [{ path: '/etc/vconsole.conf', permissions: 0o644, owner: 0, group: 0, content: literal(`${envAssignment('KEYMAP', s.keymap)}\n`) }] : []),
  ];
  if (files.length) step['files'] = files;
  if (s.timezone) step['commands'] = [literal(`ln -sfn ${shellWord(`../usr/share/zoneinfo/${s.timezone}`)} /etc/localtime`)];
  return step;
}

/**
 * Replaces the toolkit's 02_upgrades.yaml, which rewrites the upgrade defaults to the cOS
 * channel at every boot; this one writes the manifest's (both eras) and the luet repository.
 */
function luetUpgrades(build: Build, repository: string) {
  const u = build.upgrade!;
  const luetYaml = stringify({
    logging: { color: false, enable_emoji: false },
    repositories: [{ name: 'cos', description: 'cOS toolkit', type: 'docker', enable: true, cached: true, priority: 1, verify: u.verify, urls: [repository] }],
  });
  return {
    name: 'derivc upgrade defaults',
    stages: {
      initramfs: [
        {
          name: 'upgrade defaults from the manifest',
          files: [
            { path: '/etc/cos-upgrade-image', permissions: 0o644, owner: 0, group: 0, content: literal(cosUpgradeImage(u)) },
            { path: '/etc/elemental/config.d/upgrade_channel.yaml', permissions: 0o644, owner: 0, group: 0, content: literal(elementalUpgradeConfig(u)) },
            { path: '/etc/luet/luet.yaml', permissions: 0o644, owner: 0, group: 0, content: literal(luetYaml) },
          ],
        },
      ],
    },
  };
}
