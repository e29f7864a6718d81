// The packages block of the Dockerfile and the repository files it copies in. Order: the base's
// repositories disabled, ours added, the upgrade, then the boot glue and the packages — so a base
// whose repositories are replaced by mirrors installs everything, the boot glue included, from
// the mirrors, and an upgrade never finds a newer kernel beside the one the boot glue installed
// (the initrd needs exactly one). Package names and repository names are exec-form arguments
// of static scripts; URLs land only in repository files, read by the package manager.

import { FAMILY_INFO, repoDir, repoPath } from '../families.js';
import type { Build, RepositoryIR } from '../normalize/build.js';
import { dockerExec, dockerMount } from '../quote.js';
import type { Step } from './dockerfile.js';
import { generatedBy } from './header.js';
import { secretMounts, zyppCredentialsName } from './repo-auth.js';

/** Where the package scripts sit in the build context and in the image. */
export const DISABLE_REPOSITORIES = 'usr/lib/derivc/disable-repositories.sh';
export const ADD_PPA = 'usr/lib/derivc/add-ppa.sh';
export const PACKAGE_SCRIPTS_DIR = 'packages';

type UrlRepository = Extract<RepositoryIR, { kind: 'url' }>;

/**
 * BuildKit mounts of every RUN that runs the package manager: its cache directories (shared by
 * every build of the family on the Engine, one at a time) and the repositories' credentials.
 * The classic builder gets the same line without them (classicDockerfile); the scripts tell.
 */
export function packageManagerMounts(build: Build): string[] {
  const cache = FAMILY_INFO[build.family].cache.map((target) =>
    dockerMount([
      ['type', 'cache'],
      ['id', `derivc-${build.family}${target.replace(/\//g, '-')}`],
      ['target', target],
      ['sharing', 'locked'],
    ]),
  );
  return [...cache, ...secretMounts(build)];
}
/** A static script copied on its own (its layer depends on its bytes only), then run with the manifest's values as arguments. */
const contextScript = (path: string, ...args: string[]) => [
  `COPY ${PACKAGE_SCRIPTS_DIR}/${path} /${path}`,
  `RUN ${dockerExec(['/bin/sh', `/${path}`, ...args])}`,
];

export function packageSteps(build: Build): Step[] {
  const family = FAMILY_INFO[build.family];
  const p = build.packages;
  const steps: Step[] = [];
  if (p.disable.length) {
    const where = build.family === 'opensuse' || build.family === 'fedora' ? repoDir(build.family) : 'apt';
    steps.push({
      comment: "the base image's repositories disabled before anything is installed",
      lines: contextScript(DISABLE_REPOSITORIES, where, ...p.disable),
      pointer: '/packages/disableRepositories',
    });
  }
  const urls = urlRepositories(build);
  const ppas = p.repositories.flatMap((r) => (r.kind === 'ppa' ? [r.ppa] : []));
  if (p.repositories.length) {
    // apt reads keys as the unprivileged _apt user; ADD from a URL creates them 0600.
    const keys = urls.filter((r) => r.gpgKeyUrl && family.repoFile === 'apt').map((r) => [r.gpgKeyUrl!, aptKeyPath(r.name, r.gpgKeyUrl!)] as const);
    steps.push({
      comment: 'package repositories',
      pointer: '/packages/repositories',
      lines: [
        ...(urls.length ? ['COPY repos/ /'] : []),
        ...keys.map(([url, path]) => `ADD ${dockerExec([url, path])}`),
        ...(keys.length ? [`RUN ${dockerExec(['chmod', '0644', ...keys.map(([, path]) => path)])}`] : []),
        ...(ppas.length ? contextScript(ADD_PPA, ...ppas) : []),
      ],
    });
  }
  const mounts = packageManagerMounts(build);
  const pm = (script: string, ...args: string[]) => `RUN ${[...mounts, dockerExec(['/bin/sh', '-c', script, 'derivc', ...args])].join(' ')}`;
  if (p.upgrade) steps.push({ comment: 'full distribution upgrade', lines: [pm(family.upgrade)], pointer: '/packages/upgrade' });
  if (build.bootPackages.length) {
    steps.push({
      comment: `boot glue: kernel, dracut, GRUB, systemd, squashfs (${build.family})`,
      lines: [pm(family.install, ...build.bootPackages)],
      pointer: '/base',
    });
  }
  if (p.install.length) steps.push({ comment: 'packages', lines: [pm(family.install, ...p.install)], pointer: '/packages/install' });
  if (p.remove.length) steps.push({ comment: 'packages removed', lines: [pm(family.remove, ...p.remove)], pointer: '/packages/remove' });
  return steps;
}

/** The static scripts the packages block runs, as build-context files (path under PACKAGE_SCRIPTS_DIR). */
export function packageScripts(build: Build): string[] {
  return [...(build.packages.disable.length ? [DISABLE_REPOSITORIES] : []), ...(build.packages.repositories.some((r) => r.kind === 'ppa') ? [ADD_PPA] : [])];
}

function urlRepositories(build: Build): UrlRepository[] {
  return build.packages.repositories.filter((r): r is UrlRepository => r.kind === 'url');
}

/** apt tells armored from binary keys by extension: `.asc` or `.gpg`. */
function aptKeyPath(name: string, url: string): string {
  return `/etc/apt/keyrings/${name}${/\.gpg$/i.test(url.split(/[?#]/)[0]!) ? '.gpg' : '.asc'}`;
}

/** The host an apt pin names (`Pin: origin`): empty for a file: repository, which apt pins as origin "". */
export function urlHost(url: string): string {
  return /^[a-z]+:\/\/(?:[^/@]*@)?(\[[^\]]*\]|[^/:?#]*)/i.exec(url)?.[1] ?? '';
}

/**
 * Repository definitions in the family's own format, copied into the image before packages
 * (paths under /); apt priorities as a pin file beside them. Values are validated to one line
 * of safe characters, so none can add a line or a key.
 */
export function repoFiles(build: Build): { path: string; text: string }[] {
  const header = generatedBy(build);
  const rpm = FAMILY_INFO[build.family].repoFile === 'rpm';
  return urlRepositories(build).flatMap((r) => {
    const path = repoPath(build.family, r.name);
    if (rpm) {
      const gpg = [`gpgcheck=${r.gpgCheck ? 1 : 0}`, ...(r.gpgKeyUrl ? [`gpgkey=${r.gpgKeyUrl}`] : [])];
      // autorefresh is zypper's; dnf refreshes by metadata age.
      const refresh = build.family === 'opensuse' ? ['autorefresh=1'] : [];
      const priority = r.priority !== undefined ? [`priority=${r.priority}`] : [];
      // zypper finds a repository's credentials file through its URL (derivc's is there only while packages are installed).
      const url = build.family === 'opensuse' && r.auth ? `${r.url}${r.url.includes('?') ? '&' : '?'}credentials=${zyppCredentialsName(r.name)}` : r.url;
      return [{ path, text: [header, `[${r.name}]`, `name=${r.name}`, `baseurl=${url}`, 'enabled=1', ...refresh, ...gpg, ...priority, ''].join('\n') }];
    }
    // deb822: without suites a flat repository (Suites: /); flat suites end in `/` and have no components.
    const suites = r.suites.length ? r.suites : ['/'];
    const source = [
      header,
      'Types: deb',
      `URIs: ${r.url}`,
      `Suites: ${suites.join(' ')}`,
      ...(r.components.length ? [`Components: ${r.components.join(' ')}`] : []),
      ...(r.gpgKeyUrl ? [`Signed-By: ${aptKeyPath(r.name, r.gpgKeyUrl)}`] : []),
      ...(r.gpgCheck ? [] : ['Trusted: yes']),
      '',
    ];
    const pin =
      r.priority !== undefined
        ? [
            {
              path: `/etc/apt/preferences.d/${r.name}.pref`,
              text: [header, 'Package: *', `Pin: origin "${urlHost(r.url)}"`, `Pin-Priority: ${r.priority}`, ''].join('\n'),
            },
          ]
        : [];
    return [{ path, text: source.join('\n') }, ...pin];
  });
}
