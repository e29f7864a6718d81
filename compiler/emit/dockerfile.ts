// The Dockerfile: layers ordered from least to most often changed — boot glue, repositories,
// packages, toolkit, files (copied, then downloads, directories, symlinks, mode changes), overlay,
// removals (`absent`), the initrd, then /system/oem and config, build-time system settings, file
// owners and /etc/os-release. Every manifest value is an exec-form argument or a quoted Dockerfile string.

import { FAMILY_INFO, repoPath } from '../families.js';
import { dockerfileTemplate } from '../generated/templates.js';
import type { Build } from '../normalize/build.js';
import { dockerExec, dockerPath, dockerString } from '../quote.js';
import { BOOTARGS_APPEND_SCRIPT, BOOTARGS_APPENDIX, bootargsAppendix, bootFileOf } from './bootargs.js';
import { absentStep, fileSteps, ownerLines } from './files-steps.js';
import { generatedBy } from './header.js';
import { OS_RELEASE_SCRIPT, osReleaseStep } from './scripts/os-release.js';
import { buildTimeServices, buildTimeSystem } from './system-build-time.js';

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
  const initDracut = initBuildsInitrd(build);
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
            comment: initDracut ? "Elemental toolkit: `elemental init` builds the initrd, with derivc's dracut configuration" : 'Elemental toolkit',
            lines: [
              `COPY --from=toolkit ${dockerPath(t.binary)} ${dockerPath(t.binary)}`,
              ...(initDracut ? ['COPY boot/ /'] : []),
              `RUN ${dockerExec([t.binary, 'init', '--force', ...t.features])}`,
            ],
            pointer: '/toolkit',
          },
    );
  }

  const lp = build.luetPackages;
  if (lp) {
    if (lp.luetImage) stages.push(`${dockerPath(lp.luetImage)} AS luet`);
    steps.push({
      comment: 'luet packages on top of the toolkit',
      pointer: '/toolkit/packages',
      lines: [
        ...(lp.luetImage ? [`COPY --from=luet /usr/bin/luet ${LUET_OWN}`] : []),
        ...(lp.repository ? [`COPY ${LUET_PACKAGES_CONFIG_PATH} ${LUET_PACKAGES_CONFIG}`] : []),
        sh(luetPackagesScript(lp.repository !== undefined), ...lp.packages),
      ],
    });
  }

  if (build.files.some((f) => f.kind === 'file')) steps.push({ comment: 'files', lines: ['COPY files/ /'], pointer: '/files' });
  // Downloads, directories, symlinks and mode changes can change what the initrd holds: before it.
  steps.push(...fileSteps(build));
  if (build.overlay.length) steps.push({ comment: 'overlay', lines: ['COPY overlay/ /'], pointer: '/overlay' });
  const absent = absentStep(build);
  if (absent) steps.push(absent);
  // The initrd comes right after everything that can change it (packages, toolkit, files,
  // overlay, dracut configuration); what only the booted root filesystem reads (/system/oem,
  // bootargs, upgrade defaults, users, services) comes after it, so changing a setting does not
  // rebuild the initrd.
  if (initDracut && !build.files.length && !build.overlay.length && !build.luetPackages) {
    steps.push({
      comment: '`elemental init` built the initrd and nothing after it can change it; fails unless /boot/vmlinuz and /boot/initrd resolve',
      lines: [script('/usr/lib/derivc/initrd.sh', '--check')],
      pointer: '/toolkit',
    });
  } else {
    steps.push({
      comment: 'initrd for the one installed kernel; fails unless /boot/vmlinuz and /boot/initrd resolve',
      lines: ['COPY boot/ /', script('/usr/lib/derivc/initrd.sh')],
      pointer: '/base',
    });
  }
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
  const services = buildTimeServices(build);
  if (services.length) steps.push({ comment: 'systemd units, set in the image: on from the first boot', lines: services, pointer: '/system/services' });
  // After users are created (without a toolkit), so owners given by name exist.
  const owners = ownerLines(build);
  if (owners.length) steps.push({ comment: 'file owners', lines: owners, pointer: '/files' });
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
  const release = osReleaseStep(build);
  if (release) steps.push({ ...release, lines: [script(OS_RELEASE_SCRIPT, ...release.lines)] });
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

/** Extra luet packages: derivc's own luet and configuration, so the toolkit's stay as they are. */
export const LUET_PACKAGES_CONFIG_PATH = 'luet/packages.yaml';
const LUET_PACKAGES_CONFIG = '/usr/lib/derivc/luet.yaml';
const LUET_OWN = '/usr/lib/derivc/luet';

/** A static script: the packages arrive as arguments. */
function luetPackagesScript(ownConfig: boolean): string {
  const luet = `"$luet"${ownConfig ? ` --config ${LUET_PACKAGES_CONFIG}` : ''}`;
  return [
    'set -eu',
    'export LUET_NOLOCK=true',
    'mkdir -p /run/lock',
    `luet=${LUET_OWN}`,
    '[ -x "$luet" ] || luet=$(command -v luet) || { echo "derivc: the image has no luet for toolkit.packages; set toolkit.luetImage to an image to copy it from" >&2; exit 1; }',
    `${luet} install -y "$@"`,
    `${luet} cleanup`,
  ].join('; ');
}

/**
 * `elemental init` runs dracut itself (with its `dracut-config` feature's and derivc's
 * configuration) and links /boot/vmlinuz and /boot/initrd (pkg/action/init.go, read at v1.3.0 and
 * v2.3.2; the eras from v1.2 on). v1.1's init is not known to, so derivc builds the initrd there.
 */
export function initBuildsInitrd(build: Build): boolean {
  const t = build.toolkit;
  return t.source === 'image' && t.mode === 'elemental' && (build.era?.boot === 'elemental-v1.3' || build.era?.boot === 'elemental-v2');
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
