// The Dockerfile: layers ordered from least to most often changed — repositories, boot glue,
// packages, toolkit, files (copied, then downloads, directories, symlinks, mode changes), overlay,
// the build steps that can change the initrd, removals (`absent`), the initrd, then /system/oem and
// config, build-time system settings, file owners, /etc/os-release, `final` build steps, labels.
// Every manifest value is an exec-form argument or a quoted Dockerfile string.

import { dockerfileTemplate } from '../generated/templates.js';
import type { Build, StepAt } from '../normalize/build.js';
import { dockerExec, dockerPath, dockerString } from '../quote.js';
import { BOOTARGS_APPEND_SCRIPT, BOOTARGS_APPENDIX, bootargsAppendix, bootFileOf } from './bootargs.js';
import { absentStep, fileSteps, ownerLines } from './files-steps.js';
import { generatedBy } from './header.js';
import { changesInitrd, envStep, userSteps } from './build-steps.js';
import { packageSteps } from './packages.js';
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
  const stages: string[] = [];
  const steps: Step[] = [];

  steps.push(...packageSteps(build));
  // build.env right before the first build step (every step sees it), else after the initrd.
  let env = envStep(build);
  const atPoint = (at: StepAt) => {
    const own = userSteps(build, at);
    if (!own.length) return;
    steps.push(...env, ...own);
    env = [];
  };
  atPoint('after-packages');

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

  atPoint('after-toolkit');
  if (build.files.some((f) => f.kind === 'file')) steps.push({ comment: 'files', lines: ['COPY files/ /'], pointer: '/files' });
  // Downloads, directories, symlinks and mode changes can change what the initrd holds: before it.
  steps.push(...fileSteps(build));
  if (build.overlay.length) steps.push({ comment: 'overlay', lines: ['COPY overlay/ /'], pointer: '/overlay' });
  atPoint('after-files');
  // Removals last before the initrd: whatever packages, toolkit, files or steps put there is gone.
  const absent = absentStep(build);
  if (absent) steps.push(absent);
  // The initrd comes right after everything that can change it (packages, toolkit, files,
  // overlay, build steps but final ones, dracut configuration); what only the booted root filesystem reads (/system/oem,
  // bootargs, upgrade defaults, users, services) comes after it, so changing a setting does not
  // rebuild the initrd.
  if (
    initDracut &&
    !build.files.length &&
    !build.overlay.length &&
    !build.luetPackages &&
    !build.steps.some((s) => changesInitrd(s) && s.at !== 'after-packages')
  ) {
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
  if (!build.steps.length) steps.push(...env);
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
  atPoint('final');
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

/** The image label that carries the build ID (compared by `derivc build`, skipped by `diff --ignore-build-id`). */
export const BUILD_ID_LABEL = 'derivc.build-id';

/**
 * The Dockerfile without the line `sealDockerfile` appends. Only the last line: a label of the
 * manifest's own with that name stays part of the text.
 */
export function unsealDockerfile(text: string): string {
  const last = text.lastIndexOf('\n', text.length - 2) + 1;
  return text.startsWith(`LABEL ${dockerString(BUILD_ID_LABEL)}=`, last) ? text.slice(0, last) : text;
}

function imageLabel(key: string, value: string): string {
  return `LABEL ${dockerString(key)}=${dockerString(value)}`;
}

/**
 * The Dockerfile and its steps with the build ID's label as the very last line. The ID is a
 * digest of everything else derivc generates, so it can only be added after the rest.
 */
export function sealDockerfile(text: string, steps: readonly Step[], buildId: string): { text: string; steps: Step[] } {
  const line = imageLabel(BUILD_ID_LABEL, buildId);
  const last = steps[steps.length - 1]!;
  return { text: `${text}${line}\n`, steps: [...steps.slice(0, -1), { ...last, lines: [...last.lines, line] }] };
}
