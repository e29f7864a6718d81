// The Dockerfile: layers ordered from least to most often changed — boot glue, repositories,
// packages, toolkit, files, overlay, /system/oem and config, build-time system settings — and the
// initrd built last. Every manifest value is an exec-form argument or a quoted Dockerfile string.

import { FAMILY_INFO, repoPath } from '../families.js';
import { dockerfileTemplate } from '../generated/templates.js';
import type { Build } from '../normalize/build.js';
import { dockerExec, dockerPath, dockerString, envAssignment } from '../quote.js';
import { BOOTARGS_APPEND_SCRIPT, BOOTARGS_APPENDIX, bootargsAppendix, bootFileOf } from './bootargs.js';
import { generatedBy } from './header.js';
import { buildTimeSystem } from './system-build-time.js';

export interface Step {
  comment: string;
  lines: string[];
  /** The manifest part this step comes from: where a failing step is reported. */
  pointer: string;
}

const sh = (script: string, ...args: string[]) => `RUN ${dockerExec(['/bin/sh', '-c', script, 'derivc', ...args])}`;
const script = (path: string, ...args: string[]) => `RUN ${dockerExec(['/bin/sh', path, ...args])}`;

export interface DockerfileOptions {
  /** The build context has a rootfs/ tree (a downstream that changes nothing the root reads has none). */
  rootfs: boolean;
}

export function dockerfile(build: Build, options: DockerfileOptions): { text: string; steps: Step[] } {
  const family = FAMILY_INFO[build.family];
  const stages: string[] = [];
  const steps: Step[] = [];

  if (build.bootPackages.length) {
    steps.push({
      comment: `boot glue: kernel, dracut, GRUB, systemd, squashfs (${build.family})`,
      lines: [sh(family.install, ...build.bootPackages)],
      pointer: '/base',
    });
  }
  if (build.packages.repositories.length) {
    // apt reads keys as the unprivileged _apt user; ADD from a URL creates them 0600.
    const keys = build.packages.repositories
      .filter((r) => r.gpgKeyUrl && family.repoFile === 'apt')
      .map((r) => [r.gpgKeyUrl!, aptKeyPath(r.name, r.gpgKeyUrl!)] as const);
    steps.push({
      comment: 'package repositories',
      pointer: '/packages/repositories',
      lines: [
        `COPY repos/ /`,
        ...keys.map(([url, path]) => `ADD ${dockerExec([url, path])}`),
        ...(keys.length ? [`RUN ${dockerExec(['chmod', '0644', ...keys.map(([, path]) => path)])}`] : []),
      ],
    });
  }
  if (build.packages.install.length) steps.push({ comment: 'packages', lines: [sh(family.install, ...build.packages.install)], pointer: '/packages/install' });
  if (build.packages.remove.length)
    steps.push({ comment: 'packages removed', lines: [sh(family.remove, ...build.packages.remove)], pointer: '/packages/remove' });

  const t = build.toolkit;
  if (t.source === 'luet') {
    stages.push(`${dockerPath(t.luetImage)} AS luet`);
    steps.push({
      comment: 'cOS toolkit from luet',
      pointer: '/toolkit',
      lines: [
        'ENV LUET_NOLOCK=true',
        'COPY --from=luet /usr/bin/luet /usr/bin/luet',
        'COPY luet/luet.yaml /etc/luet/luet.yaml',
        sh('set -eu; mkdir -p /run/lock; luet install -y "$@"; luet cleanup; rm -rf /var/cache/luet /var/luet', ...t.packages),
      ],
    });
  } else if (t.source === 'image') {
    stages.push(`${dockerPath(t.image)} AS toolkit`);
    steps.push(
      t.mode === 'framework'
        ? { comment: 'toolkit framework image', lines: ['COPY --from=toolkit / /'], pointer: '/toolkit' }
        : {
            comment: 'Elemental toolkit',
            lines: [`COPY --from=toolkit ${dockerPath(t.binary)} ${dockerPath(t.binary)}`, `RUN ${dockerExec([t.binary, 'init', '--force'])}`],
            pointer: '/toolkit',
          },
    );
  }

  if (build.files.length) steps.push({ comment: 'files', lines: ['COPY files/ /'], pointer: '/files' });
  if (build.overlay.length) steps.push({ comment: 'overlay', lines: ['COPY overlay/ /'], pointer: '/overlay' });
  // The initrd comes right after everything that can change it (packages, toolkit, files,
  // overlay, dracut configuration); what only the booted root filesystem reads (/system/oem,
  // bootargs, upgrade defaults, users, services) comes after it, so changing a setting does not
  // rebuild the initrd.
  steps.push({
    comment: 'initrd for the one installed kernel; fails unless /boot/vmlinuz and /boot/initrd resolve',
    lines: ['COPY boot/ /', script('/usr/lib/derivc/initrd.sh')],
    pointer: '/base',
  });
  if (options.rootfs) steps.push({ comment: '/system/oem, boot arguments, upgrade defaults', lines: ['COPY rootfs/ /'], pointer: '' });
  const bootFile = bootFileOf(build.era?.boot);
  if (bootFile.mode === 'append' && bootargsAppendix(build)) {
    // The toolkit's file exists only now; its content stays, the manifest's arguments follow it.
    steps.push({
      comment: `boot arguments appended to the toolkit's ${bootFile.path} (its GRUB reads it last)`,
      lines: [script(BOOTARGS_APPEND_SCRIPT, bootFile.path, BOOTARGS_APPENDIX)],
      pointer: '/boot',
    });
  }

  if (!build.runtimeToolkit) {
    const system = buildTimeSystem(build);
    if (system.length) steps.push({ comment: 'system settings applied at build time (no toolkit runs /system/oem)', lines: system, pointer: '/system' });
  }
  // After users are created (without a toolkit), so owners given by name exist.
  const owners = new Map<string, string[]>();
  for (const f of build.files) if (f.owner !== 'root:root') owners.set(f.owner, [...(owners.get(f.owner) ?? []), f.path]);
  if (owners.size)
    steps.push({ comment: 'file owners', lines: [...owners].map(([owner, paths]) => `RUN ${dockerExec(['chown', owner, ...paths])}`), pointer: '/files' });
  if ((build.family === 'ubuntu' || build.family === 'debian') && build.runtimeToolkit && build.depth === 0) {
    // The cOS installer and boot assessment call the grub2-* names; Debian's GRUB has grub-*.
    steps.push({
      comment: 'grub2-* names the cOS toolkit calls',
      lines: [`RUN ${dockerExec(['/bin/sh', '-c', 'ln -sf grub-install /usr/sbin/grub2-install && ln -sf grub-editenv /usr/bin/grub2-editenv'])}`],
      pointer: '/toolkit',
    });
  }
  const persistent = build.layout?.persistentPaths ?? [];
  if (persistent.length)
    steps.push({
      comment: 'persistent paths exist in the image, so boot never waits for a missing one',
      lines: [`RUN ${dockerExec(['mkdir', '-p', ...persistent])}`],
      pointer: '/layout/persistentPaths',
    });
  if (build.boot.grubEntryName) {
    steps.push({
      comment: 'GRUB menu title, read from /etc/os-release by the installer and upgrades',
      lines: [script('/usr/lib/derivc/os-release.sh', envAssignment('GRUB_ENTRY_NAME', build.boot.grubEntryName))],
      pointer: '/boot/grubEntryName',
    });
  }
  // The build ID's own label is added last, by sealDockerfile, once the ID is known.
  steps.push({ comment: 'image labels', lines: build.labels.map(([k, v]) => imageLabel(k, v)), pointer: '/metadata' });

  const text = dockerfileTemplate({
    header: generatedBy(build),
    stages,
    from: dockerPath(build.from.ref),
    args: build.args.map(([k, v]) => `${k}=${dockerString(v)}`),
    steps,
  });
  return { text, steps };
}

function imageLabel(key: string, value: string): string {
  return `LABEL ${dockerString(key)}=${dockerString(value)}`;
}

/**
 * The Dockerfile and its steps with the build ID's label as the very last line. The ID is a
 * digest of everything else derivc generates, so it can only be added after the rest.
 */
export function sealDockerfile(text: string, steps: readonly Step[], buildId: string): { text: string; steps: Step[] } {
  const line = imageLabel('derivc.build-id', buildId);
  const last = steps[steps.length - 1]!;
  return { text: `${text}${line}\n`, steps: [...steps.slice(0, -1), { ...last, lines: [...last.lines, line] }] };
}

/** apt tells armored from binary keys by extension: `.asc` or `.gpg`. */
function aptKeyPath(name: string, url: string): string {
  return `/etc/apt/keyrings/${name}${/\.gpg$/i.test(url.split(/[?#]/)[0]!) ? '.gpg' : '.asc'}`;
}

/** Repository definitions in the family's own format, copied into the image before packages. */
export function repoFiles(build: Build): { path: string; text: string }[] {
  const header = generatedBy(build);
  return build.packages.repositories.map((r) => {
    const path = repoPath(build.family, r.name);
    if (FAMILY_INFO[build.family].repoFile === 'rpm') {
      const gpg = r.gpgKeyUrl ? [`gpgcheck=1`, `gpgkey=${r.gpgKeyUrl}`] : ['gpgcheck=0'];
      // autorefresh is zypper's; dnf refreshes by metadata age.
      const refresh = build.family === 'opensuse' ? ['autorefresh=1'] : [];
      return { path, text: [header, `[${r.name}]`, `name=${r.name}`, `baseurl=${r.url}`, 'enabled=1', ...refresh, ...gpg, ''].join('\n') };
    }
    // deb822: the manifest names a URL only, so the repository is a flat one (Suites: /).
    const signed = r.gpgKeyUrl ? [`Signed-By: ${aptKeyPath(r.name, r.gpgKeyUrl)}`] : [];
    return { path, text: [header, 'Types: deb', `URIs: ${r.url}`, 'Suites: /', ...signed, ''].join('\n') };
  });
}
