// Build → the files of the build context. Pure and deterministic: same Build, same bytes.

import type { Diagnostic, Result } from '../diagnostics.js';
import type { Build, LuetRepositoryIR } from '../normalize/build.js';
import { parseYaml } from '../parse.js';
import { checkCloudConfigSchema } from '../validate/schema.js';
import { bootargs, bootArgsPlan, BOOTARGS_APPENDIX_PATH, bootargsAppendix, BOOTARGS_PATH, bootFileOf } from './bootargs.js';
import { dockerfile, LUET_PACKAGES_CONFIG_PATH, sealDockerfile, type Step } from './dockerfile.js';
import { ADD_PPA, DISABLE_REPOSITORIES, packageScripts, PACKAGE_SCRIPTS_DIR, repoFiles } from './packages.js';
import { generatedBy } from './header.js';
import { OEM_DIR, oemFiles } from './oem.js';
import { ADD_USER_SH } from './scripts/add-user.js';
import { BOOTARGS_APPEND_SH } from './scripts/bootargs-append.js';
import { INITRD_SH } from './scripts/initrd.js';
import { OS_RELEASE_SH } from './scripts/os-release.js';
import { ADD_PPA_SH } from './scripts/add-ppa.js';
import { DISABLE_REPOSITORIES_SH } from './scripts/disable-repositories.js';
import { buildTimeSystemFiles } from './system-build-time.js';
import { MANIFEST_FILE, type CompileOutput, type GeneratedFile, type GeneratedRegularFile } from './types.js';
import { listingEntry } from '../output-listing.js';
import { cosUpgradeImage, elementalUpgradeConfig } from './upgrade.js';
import { stringify } from 'yaml';

const PACKAGE_SCRIPT_TEXT: Record<string, string> = { [DISABLE_REPOSITORIES]: DISABLE_REPOSITORIES_SH, [ADD_PPA]: ADD_PPA_SH };

/**
 * dracut's configuration (boot/ is copied in just before the initrd step). `compress`: with no
 * compressor configured, dracut picks `gzip -n -9`, which on a generic (no-hostonly) initrd costs
 * most of the initrd step — measured on debian-bare: 85 s against 13 s for `gzip -n -6`, whose
 * result is 0.4 % larger (bench/RESULTS.md, issue 15). A distro's own choice (an earlier
 * dracut.conf.d file, e.g. zstd or xz) is kept, and so is a later file's or `dracut --compress`.
 */
const DRACUT_CONF = [
  'hostonly="no"',
  'hostonly_cmdline="no"',
  'add_dracutmodules+=" dmsquash-live "',
  "# the same gzip as dracut's default, at -6: as small within 0.4 %, several times faster than -9",
  'compress="${compress:-gzip -n -6}"',
];

export interface EmitOptions {
  /** Where a manifest pointer is, for diagnostics about what it produced. */
  at(pointer: string): Pick<Diagnostic, 'file' | 'pointer' | 'range'>;
}

/** Everything derivc generates but what names the build ID: the Dockerfile's last label and derivc.json. */
export interface Draft {
  /** Sorted by path; the Dockerfile without its build-id label. */
  files: GeneratedFile[];
  steps: Step[];
}

export function emit(build: Build, options: EmitOptions): Result<Draft> {
  const diagnostics: Diagnostic[] = [];
  const files: GeneratedFile[] = [];
  const origin = (pointer: string) => ({ file: build.manifestName, pointer });
  const text = (path: string, content: string, pointer = '', mode = 0o644) => files.push({ path, content, mode, origin: origin(pointer) });
  const header = generatedBy(build);

  for (const r of repoFiles(build)) text(`repos${r.path}`, r.text, '/packages/repositories');
  if (build.toolkit.source === 'luet') text('luet/luet.yaml', `${header}\n${stringify(luetConfig('cos', build.toolkit.repository))}`, '/toolkit');
  // Its own configuration file: the toolkit's /etc/luet/luet.yaml stays as the toolkit wrote it.
  const extra = build.luetPackages?.repository;
  if (extra) text(LUET_PACKAGES_CONFIG_PATH, `${header}\n${stringify(luetConfig('derivc', extra))}`, '/toolkit/repository');
  // Only content and source are copied from the build context; the other kinds are RUN steps.
  for (const f of build.files) if (f.kind === 'file') files.push({ path: `files${f.path}`, content: f.content, mode: f.mode, origin: origin(f.pointer) });
  for (const f of build.overlay) {
    const path = `overlay/${f.relative}`;
    files.push(
      f.symlink !== undefined
        ? { path, symlink: f.symlink, origin: origin('/overlay') }
        : { path, content: f.content, mode: f.mode, origin: origin('/overlay') },
    );
  }

  // /system/oem: generated files, re-validated as cloud-config, then the oemDir files as written.
  const generated = oemFiles(build);
  for (const o of generated) {
    diagnostics.push(...revalidate(o.name, o.text, options.at(o.pointer)));
    text(`${OEM_DIR}/${o.name}`, o.text, o.pointer);
  }
  for (const f of build.oemFiles) {
    if (generated.some((g) => g.name === f.relative)) {
      diagnostics.push({
        code: 'compile/oem-conflict',
        severity: 'error',
        message: `oemDir file \`${f.relative}\` has the name of a file derivc generates`,
        ...options.at('/oemDir'),
        hint: `rename it: derivc generates ${generated.map((g) => g.name).join(', ')} here`,
      });
      continue;
    }
    const path = `${OEM_DIR}/${f.relative}`;
    files.push(
      f.symlink !== undefined ? { path, symlink: f.symlink, origin: origin('/oemDir') } : { path, content: f.content, mode: 0o644, origin: origin('/oemDir') },
    );
  }

  if (bootFileOf(build.era?.boot).mode === 'complete') text(BOOTARGS_PATH, bootargs(build), '/boot');
  else {
    const appendix = bootargsAppendix(build);
    if (appendix) text(BOOTARGS_APPENDIX_PATH, appendix, '/boot');
  }
  if (build.upgrade) {
    text('rootfs/etc/cos-upgrade-image', `${header}\n${cosUpgradeImage(build.upgrade)}`, '/upgrade');
    // 90_: after the toolkit's own config.d files, which elemental merges in name order.
    text('rootfs/etc/elemental/config.d/90_derivc_upgrade.yaml', `${header}\n${elementalUpgradeConfig(build.upgrade)}`, '/upgrade');
  }
  // boot/: what the initrd step needs, copied in just before it (rootfs/ comes after the initrd).
  text('boot/etc/dracut.conf.d/50-derivc.conf', [header, ...DRACUT_CONF, ''].join('\n'));
  for (const f of buildTimeSystemFiles(build)) text(`rootfs${f.path}`, f.text, '/system', f.mode);

  const script = (dir: string, name: string, body: string) => text(`${dir}/usr/lib/derivc/${name}`, body.replace('\n', `\n${header}\n`), '', 0o755);
  script('boot', 'initrd.sh', INITRD_SH);
  if (build.boot.grubEntryName || build.osRelease.length) script('rootfs', 'os-release.sh', OS_RELEASE_SH);
  if (!build.runtimeToolkit && build.system.users.length) script('rootfs', 'add-user.sh', ADD_USER_SH);
  if (files.some((f) => f.path === BOOTARGS_APPENDIX_PATH)) script('rootfs', 'bootargs-append.sh', BOOTARGS_APPEND_SH);
  for (const path of packageScripts(build))
    text(`${PACKAGE_SCRIPTS_DIR}/${path}`, PACKAGE_SCRIPT_TEXT[path]!.replace('\n', `\n${header}\n`), '/packages', 0o755);

  const docker = dockerfile(build, { rootfs: files.some((f) => f.path.startsWith('rootfs/')) });
  text('Dockerfile', docker.text);

  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { value: { files, steps: docker.steps }, diagnostics };
}

/** A luet configuration with one repository; `reference` pins its snapshot. */
function luetConfig(name: string, r: LuetRepositoryIR) {
  return {
    repositories: [
      {
        name,
        type: 'docker',
        enable: true,
        priority: 1,
        urls: [r.url],
        ...(r.reference !== undefined ? { reference: r.reference } : {}),
        ...(r.verify ? { verify: true } : {}),
      },
    ],
  };
}

/** The draft with the build ID in: the Dockerfile's last label, and derivc.json listing every file. */
export function seal(build: Build, draft: Draft, buildId: string, version: string): CompileOutput {
  const docker = draft.files.find((f) => f.path === 'Dockerfile') as GeneratedRegularFile;
  const sealed = sealDockerfile(docker.content as string, draft.steps, buildId);
  const files = draft.files.map((f) => (f === docker ? { ...docker, content: sealed.text } : f));
  files.push({ path: MANIFEST_FILE, content: derivcJson(build, buildId, version, files), mode: 0o644 });
  return {
    name: build.name,
    version: build.version,
    files,
    buildId,
    tags: build.tags,
    from: build.from.ref,
    platform: build.platform,
    args: Object.fromEntries(build.args),
    steps: sealed.steps,
    bootArgs: bootArgsPlan(build),
  };
}

function derivcJson(build: Build, buildId: string, version: string, files: GeneratedFile[]): string {
  const doc = {
    generatedBy: `derivc ${version}`,
    manifest: build.manifestName,
    name: build.name,
    version: build.version,
    buildId,
    from: build.from.ref,
    tags: build.tags,
    files: files.map((f) => listingEntry(f)),
  };
  return JSON.stringify(doc, null, 2) + '\n';
}

/** A generated cloud-config file must pass the same schema as hand-written ones. */
function revalidate(name: string, text: string, at: Pick<Diagnostic, 'file' | 'pointer' | 'range'>): Diagnostic[] {
  const parsed = parseYaml(name, new TextEncoder().encode(text), { yipOctal: 'document' });
  const found = [...parsed.diagnostics, ...checkCloudConfigSchema(parsed.value.data, parsed.value.source)];
  return found.map((d) => ({
    code: 'compile/invalid-cloud-config',
    severity: 'error' as const,
    message: `generated ${name} would be invalid cloud-config: ${d.message}`,
    ...at,
    ...(d.hint ? { hint: d.hint } : {}),
  }));
}
