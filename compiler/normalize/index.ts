// ValidatedManifest → Build: defaults applied, family and labels resolved, upstream resolved
// (a downstream builds FROM its upstream's first tag), referenced files read through the Host.

import { basename, join } from 'node:path';
import { MAX_FILE_BYTES } from '../parse.js';
import type { Diagnostic, Result } from '../diagnostics.js';
import { bootPackages, FAMILY_INFO } from '../families.js';
import { defaultTagsOf, tagOf, upgradeImageOf } from '../image-tags.js';
import type { Host } from '../host.js';
import { walkOrder } from '../local-tree.js';
import { openNamedFile, refusalDiagnostic } from '../named-file.js';
import type { ValidatedManifest } from '../validate/index.js';
import { fileKind } from '../validate/rules/files.js';
import { unitName } from '../validate/rules/system.js';
import type { Obj } from '../data.js';
import { renderTemplate, templateContext, type TemplateContext } from '../template.js';
import {
  archOf,
  DEFAULT_LABELS,
  type Build,
  type FileIR,
  type Labels,
  type OemFileIR,
  type OverlayFileIR,
  type BuildStepIR,
  type LayoutIR,
  type PackagesIR,
  type RepositoryAuthIR,
  type RepositoryIR,
  type StepAt,
  type LuetPackagesIR,
  type LuetRepositoryIR,
  type SystemIR,
  type ToolkitIR,
  type UpgradeIR,
} from './build.js';

export const DEFAULT_LUET_IMAGE = 'quay.io/luet/base:0.32.0';
export const DEFAULT_LUET_PACKAGES = ['meta/cos-minimal'];
export const DEFAULT_ELEMENTAL_BINARY = '/usr/bin/elemental';
export const DEFAULT_CONSOLE: readonly string[] = ['tty1', 'ttyS0'];

export { tagOf };

export function defaultTags(v: ValidatedManifest): string[] {
  return defaultTagsOf(v.manifest);
}

export function normalize(v: ValidatedManifest, host: Host): Result<Build> {
  const m = v.manifest;
  const diagnostics: Diagnostic[] = [];
  const platform = m.base.platform ?? upstreamChain(v).find((u) => u.manifest.base.platform)?.manifest.base.platform ?? 'linux/amd64';
  const arch = archOf(platform);
  // Validation guarantees a family (stated, inferred or inherited) for a valid manifest.
  const family = v.family!;
  const upstream = v.upstream;
  const labels = resolveLabels(v);
  const tags = defaultTags(v);

  const toolkit: ToolkitIR = upstream ? { source: 'none' } : toolkitOf(v);
  // The toolkit in the image: this manifest's, or the one the nearest upstream installed.
  const installed = [v, ...upstreamChain(v)].find((x) => !x.upstream);
  const imageToolkit = installed ? toolkitOf(installed) : toolkit;
  const chain = [...upstreamChain(v)]
    .reverse()
    .concat(v)
    .map((x) => x.manifest);
  const nearest = <T>(pick: (m: ValidatedManifest['manifest']) => T | undefined): T | undefined =>
    [...chain]
      .reverse()
      .map(pick)
      .find((x) => x !== undefined);
  const { files, overlay, oemFiles } = namedFiles(v, host, diagnostics);

  const upgrade = upgradeOf(v);
  const layout = layoutOf(v, labels);
  const build: Build = {
    manifestName: basename(v.path),
    name: m.metadata.name,
    version: m.metadata.version,
    family,
    platform,
    arch,
    from: upstream
      ? { kind: 'derivative', ref: defaultTags(upstream)[0]!, upstreamName: upstream.manifest.metadata.name }
      : { kind: 'image', ref: m.base.image! },
    toolkit,
    runtimeToolkit: v.hasToolkit,
    ...(v.era ? { era: v.era } : {}),
    ...(imageToolkit.source === 'luet' ? { luetRepository: imageToolkit.repository.url } : {}),
    ...luetPackagesOf(v),
    depth: upstreamChain(v).length,
    // Validation refuses `packages.kernel` in a downstream, which installs no boot glue.
    bootPackages: upstream ? [] : bootPackages(family, arch, m.packages?.kernel),
    packages: packagesOf(v, platform),
    files,
    overlay,
    system: systemOf(v),
    ...(layout ? { layout } : {}),
    ...(m.stages ? { stages: m.stages as Record<string, unknown> } : {}),
    oemFiles,
    // A complete bootargs.cfg replaces the upstream's, so a downstream carries its upstreams' kernel arguments on;
    // GRUB_ENTRY_NAME is only set where stated (an upstream's stays in /etc/os-release).
    boot: {
      ...(m.boot?.grubEntryName ? { grubEntryName: m.boot.grubEntryName } : {}),
      cmdline: chain.flatMap((x) => x.boot?.cmdline ?? []),
      console: [...(nearest((x) => x.boot?.console) ?? DEFAULT_CONSOLE)],
      labels,
      customLabels: Object.entries(labels).some(([k, l]) => DEFAULT_LABELS[k as keyof Labels] !== l),
      selinux: nearest((x) => x.boot?.selinux) ?? false,
      own: ownBootArgs(m.boot, upstream !== undefined),
    },
    ...(upgrade ? { upgrade } : {}),
    osRelease: osReleaseOf(v, diagnostics),
    tags,
    args: sorted(Object.entries(m.build?.args ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
    env: sorted(Object.entries(m.build?.env ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
    steps: stepsOf(v),
    labels: ociLabels(v),
  };
  return { value: build, diagnostics };
}

/**
 * The files the manifest names, each opened once by the Host and checked as opened: sources and
 * overlay files as references to what was checked (never their bytes), oemDir files — parsed too,
 * and small — with their bytes. A file refused at this point changed since validation: an error.
 */
function namedFiles(v: ValidatedManifest, host: Host, diagnostics: Diagnostic[]): Pick<Build, 'files' | 'overlay' | 'oemFiles'> {
  const m = v.manifest;
  const realBase = host.realpath(v.dir);
  const at = (pointer: string) => ({ file: v.path, pointer, range: v.source.locate(pointer, 'key') });
  const files: FileIR[] = [];
  (m.files ?? []).forEach((f, i) => {
    const pointer = `/files/${i}`;
    const kind = fileKind(f);
    const mode = (fallback: string) => parseInt(f.mode ?? fallback, 8);
    // What derivc creates belongs to root already; a directory or a path the image has may not.
    const chown = kind === 'directory' || kind === 'attributes' ? f.owner : f.owner !== 'root:root' ? f.owner : undefined;
    const entry = { path: f.path, pointer, ...(chown !== undefined ? { owner: chown } : {}) };
    if (kind === 'content') {
      const text = f.template === true ? rendered(v, f.content!, `${pointer}/content`, diagnostics) : f.content!;
      if (text !== undefined) files.push({ ...entry, kind: 'file', mode: mode('0644'), content: new TextEncoder().encode(text) });
    } else if (kind === 'source') {
      const opened = openNamedFile(host, join(v.dir, f.source!), v.dir);
      if ('refused' in opened) diagnostics.push(refusalDiagnostic(opened, f.source!, realBase, at(`${pointer}/source`)));
      else files.push({ ...entry, kind: 'file', mode: mode('0644'), content: opened.content });
    } else if (kind === 'url') files.push({ ...entry, kind: 'url', mode: mode('0644'), url: f.url!, sha256: f.sha256! });
    else if (kind === 'symlink') files.push({ ...entry, kind: 'symlink', target: f.symlink! });
    else if (kind === 'directory') files.push({ ...entry, kind: 'directory', mode: mode('0755') });
    else if (kind === 'absent') files.push({ path: f.path, pointer, kind: 'absent' });
    else files.push({ ...entry, kind: 'attributes', ...(f.mode !== undefined ? { mode: mode('') } : {}) });
  });

  const overlay: OverlayFileIR[] = [];
  for (const f of v.overlayFiles) {
    const opened = openNamedFile(host, f.path, v.dir);
    if ('refused' in opened) diagnostics.push(refusalDiagnostic(opened, join(m.overlay!, f.relative), realBase, at('/overlay')));
    // Only the executable bit carries over (as git keeps it), so output does not depend on umask.
    else overlay.push({ relative: f.relative, content: opened.content, mode: opened.mode & 0o111 ? 0o755 : 0o644 });
  }
  for (const l of v.overlayLinks) overlay.push({ relative: l.relative, symlink: l.target });
  overlay.sort((a, b) => walkOrder(a.relative, b.relative));

  const oemFiles: OemFileIR[] = [];
  for (const f of v.oemFiles) {
    const opened = openNamedFile(host, f.path, v.dir, { maxBytes: MAX_FILE_BYTES });
    if ('refused' in opened) diagnostics.push(refusalDiagnostic(opened, join(m.oemDir!, f.relative), realBase, at('/oemDir'), MAX_FILE_BYTES));
    else oemFiles.push({ relative: f.relative, content: opened.bytes! });
  }
  for (const l of v.oemLinks) oemFiles.push({ relative: l.relative, symlink: l.target });
  oemFiles.sort((a, b) => walkOrder(a.relative, b.relative));
  return { files, overlay, oemFiles };
}

/** The context templates of this manifest render over: the facts validation used. */
function templateContextOf(v: ValidatedManifest): TemplateContext {
  const platform = v.manifest.base.platform ?? upstreamChain(v).find((u) => u.manifest.base.platform)?.manifest.base.platform ?? 'linux/amd64';
  return templateContext(v.manifest as unknown as Obj, {
    family: v.family,
    platform,
    toolkit: v.era ? { flavor: v.era.flavor, version: v.era.version } : undefined,
  });
}

/** A template validation rendered already; a failure here is still a diagnostic, never a throw. */
function rendered(v: ValidatedManifest, text: string, pointer: string, diagnostics: Diagnostic[]): string | undefined {
  const r = renderTemplate(text, templateContextOf(v));
  if (r.ok) return r.text;
  diagnostics.push({ code: r.code, severity: 'error', message: r.message, file: v.path, pointer, range: v.source.locate(pointer), hint: r.hint });
  return undefined;
}

/** `metadata.osRelease` rendered, sorted by key: the manifest's key order does not change the output. */
function osReleaseOf(v: ValidatedManifest, diagnostics: Diagnostic[]): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(v.manifest.metadata.osRelease ?? {})) {
    if (value === undefined) continue;
    const text = rendered(v, value, `/metadata/osRelease/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`, diagnostics);
    if (text !== undefined) out.push([key, text]);
  }
  return sorted(out);
}

/** The kernel arguments this manifest's own block appends (see Build.boot.own). */
function ownBootArgs(boot: ValidatedManifest['manifest']['boot'], downstream: boolean): Build['boot']['own'] {
  const console = boot?.console ?? (downstream ? undefined : DEFAULT_CONSOLE);
  const selinux = boot?.selinux ?? (downstream ? undefined : false);
  return {
    cmdline: [...(boot?.cmdline ?? [])],
    ...(console ? { console: [...console] } : {}),
    ...(selinux !== undefined ? { selinux } : {}),
    ...(boot?.labels?.oem !== undefined ? { oemLabel: boot.labels.oem } : {}),
  };
}

/** This manifest, then its upstream, then that one's upstream… */
function upstreamChain(v: ValidatedManifest): ValidatedManifest[] {
  const chain: ValidatedManifest[] = [];
  for (let u = v.upstream; u; u = u.upstream) chain.push(u);
  return chain;
}

/** Labels come from one place: the nearest manifest that sets each, else the cOS defaults. */
function resolveLabels(v: ValidatedManifest): Labels {
  const out = { ...DEFAULT_LABELS };
  for (const m of [...upstreamChain(v)]
    .reverse()
    .concat(v)
    .map((x) => x.manifest)) {
    for (const [k, l] of Object.entries(m.boot?.labels ?? {})) if (l !== undefined) out[k as keyof Labels] = l;
  }
  return out;
}

function toolkitOf(v: ValidatedManifest): ToolkitIR {
  const t = v.manifest.toolkit;
  if (!t || t.source === 'none') return { source: 'none' };
  if (t.source === 'base') return { source: 'base' };
  if (t.source === 'luet') {
    const flavor = FAMILY_INFO[v.family!].luetFlavor;
    const suffix = v.manifest.base.platform === 'linux/arm64' ? '-arm64' : '';
    return {
      source: 'luet',
      luetImage: t.luetImage ?? DEFAULT_LUET_IMAGE,
      // Validation requires `repository` where the family has no published flavor.
      repository: luetRepositoryOf(t.repository) ?? { url: `quay.io/costoolkit/releases-${flavor}${suffix}`, verify: false },
      packages: [...(t.packages ?? DEFAULT_LUET_PACKAGES)],
    };
  }
  if (t.mode === 'framework') return { source: 'image', image: t.image, mode: 'framework' };
  return { source: 'image', image: t.image, mode: 'elemental', binary: t.binary ?? DEFAULT_ELEMENTAL_BINARY, features: [...(t.features ?? [])] };
}

/** The schema's `luetRepository` (an if/then/else, which the generated types cannot express). */
type LuetRepositoryValue = string | { url: string; reference?: string; verify?: boolean };

function luetRepositoryOf(value: unknown): LuetRepositoryIR | undefined {
  const r = value as LuetRepositoryValue | undefined;
  if (r === undefined) return undefined;
  if (typeof r === 'string') return { url: r, verify: false };
  return { url: r.url, ...(r.reference !== undefined ? { reference: r.reference } : {}), verify: r.verify ?? false };
}

/** `toolkit.packages` where the toolkit is not installed with luet here: an image, a base image, or an upstream's. */
function luetPackagesOf(v: ValidatedManifest): { luetPackages?: LuetPackagesIR } {
  const t = v.manifest.toolkit;
  if (!t || (t.source !== 'image' && t.source !== 'base') || !t.packages) return {};
  const repository = luetRepositoryOf(t.repository);
  return { luetPackages: { packages: [...t.packages], ...(repository ? { repository } : {}), ...(t.luetImage ? { luetImage: t.luetImage } : {}) } };
}

/** The schema's `packageItem`, `repository` and `stepRun` (if/then/else, which the generated types cannot express). */
type PackageItemValue = string | { name: string; platforms: string[] };
type RepositoryValue =
  | { name: string; ppa: string }
  | {
      name: string;
      url: string;
      gpgKeyUrl?: string;
      gpgCheck?: boolean;
      priority?: number;
      suites?: string[];
      components?: string[];
      auth?: { username: string; env?: string; file?: string };
    };
type BuildStepValue = { name: string; run: string | string[]; at?: StepAt };

/** Validation made sure of exactly one of `env` and `file`. */
function authOf(auth: { username: string; env?: string; file?: string }, pointer: string): RepositoryAuthIR {
  return { username: auth.username, source: auth.env !== undefined ? { env: auth.env } : { file: auth.file! }, pointer };
}

/** The package names of a list meant for this platform (an item without `platforms` is for every one). */
function forPlatform(items: unknown[] | undefined, platform: string): string[] {
  return ((items ?? []) as PackageItemValue[]).flatMap((p) => (typeof p === 'string' ? [p] : p.platforms.includes(platform) ? [p.name] : []));
}

function packagesOf(v: ValidatedManifest, platform: string): PackagesIR {
  const p = v.manifest.packages;
  const repositories = ((p?.repositories ?? []) as unknown as RepositoryValue[]).map((r, i): RepositoryIR =>
    'ppa' in r
      ? { kind: 'ppa', name: r.name, ppa: r.ppa }
      : {
          kind: 'url',
          name: r.name,
          url: r.url,
          ...(r.gpgKeyUrl ? { gpgKeyUrl: r.gpgKeyUrl } : {}),
          gpgCheck: r.gpgCheck ?? true,
          ...(r.priority !== undefined ? { priority: r.priority } : {}),
          suites: [...(r.suites ?? [])],
          components: [...(r.components ?? [])],
          ...(r.auth ? { auth: authOf(r.auth, `/packages/repositories/${i}/auth`) } : {}),
        },
  );
  return {
    install: forPlatform(p?.install, platform),
    remove: forPlatform(p?.remove, platform),
    upgrade: p?.upgrade ?? false,
    repositories,
    disable: [...(p?.disableRepositories ?? [])],
  };
}

/** `build.steps`: a list runs as written (exec form), a string by `/bin/sh -eu -c`, the user's own shell. */
function stepsOf(v: ValidatedManifest): BuildStepIR[] {
  return ((v.manifest.build?.steps ?? []) as unknown as BuildStepValue[]).map((s, i) => ({
    name: s.name,
    at: s.at ?? 'after-files',
    args: typeof s.run === 'string' ? ['/bin/sh', '-eu', '-c', s.run] : [...s.run],
    pointer: `/build/steps/${i}`,
  }));
}

function systemOf(v: ValidatedManifest): SystemIR {
  const s = v.manifest.system ?? {};
  return {
    ...(s.hostname ? { hostname: s.hostname } : {}),
    ...(s.timezone ? { timezone: s.timezone } : {}),
    ...(s.keymap ? { keymap: s.keymap } : {}),
    ...(s.locale ? { locale: s.locale } : {}),
    users: (s.users ?? []).map((u) => ({
      name: u.name,
      ...(u.passwordHash ? { passwordHash: u.passwordHash } : {}),
      sshAuthorizedKeys: [...(u.sshAuthorizedKeys ?? [])],
      groups: [...(u.groups ?? [])],
      ...(u.shell ? { shell: u.shell } : {}),
      homeDir: u.homeDir ?? (u.name === 'root' ? '/root' : `/home/${u.name}`),
      ...(u.uid !== undefined ? { uid: u.uid } : {}),
      system: u.system ?? false,
    })),
    sysctl: sorted(
      Object.entries(s.sysctl ?? {})
        .filter((e) => e[1] !== undefined)
        .map(([k, x]) => [k, String(x)]),
    ),
    modules: [...(s.modules ?? [])],
    services: {
      enable: (s.services?.enable ?? []).map(unitName),
      disable: (s.services?.disable ?? []).map(unitName),
      mask: (s.services?.mask ?? []).map(unitName),
    },
    environment: sorted(Object.entries(s.environment ?? {}).filter((e): e is [string, string] => e[1] !== undefined)),
    ...(s.dns ? { dns: { nameservers: [...(s.dns.nameservers ?? [])], search: [...(s.dns.search ?? [])], options: [...(s.dns.options ?? [])] } } : {}),
  };
}

/**
 * A layout file is needed for this manifest's `layout:` section, or to carry labels it changed
 * into VOLUMES. An upstream's layout file stays in the image (yip merges both into the env file).
 */
function layoutOf(v: ValidatedManifest, labels: Labels): LayoutIR | undefined {
  const l = v.manifest.layout;
  const own = v.manifest.boot?.labels ?? {};
  const custom =
    (own.oem !== undefined && labels.oem !== DEFAULT_LABELS.oem) || (own.persistent !== undefined && labels.persistent !== DEFAULT_LABELS.persistent);
  if (!l && !custom) return undefined;
  const volumes = l?.volumes
    ? l.volumes.map((vol) => `${vol.label !== undefined ? `LABEL=${vol.label}` : `UUID=${vol.uuid}`}:${vol.mountpoint}`)
    : [`LABEL=${labels.oem}:/oem`, `LABEL=${labels.persistent}:/usr/local`];
  return {
    volumes,
    ...(l?.overlay ? { overlay: l.overlay } : {}),
    ...(l?.rwPaths ? { rwPaths: [...l.rwPaths] } : {}),
    persistentPaths: [...(l?.persistentPaths ?? [])],
    ...(l?.persistentTarget ? { persistentTarget: l.persistentTarget } : {}),
    ...(l?.persistentBind !== undefined ? { persistentBind: l.persistentBind } : {}),
  };
}

function upgradeOf(v: ValidatedManifest): UpgradeIR | undefined {
  const u = v.manifest.upgrade;
  if (!u) return undefined;
  const tag = tagOf(v.manifest.metadata.version);
  const image = upgradeImageOf(v.manifest)!;
  return { image, recoveryImage: u.recoveryImage ? `${u.recoveryImage}:${tag}` : image, channel: u.channel ?? false, verify: u.verify ?? false };
}

function ociLabels(v: ValidatedManifest): [string, string][] {
  const md = v.manifest.metadata;
  const labels = new Map<string, string>([
    ['org.opencontainers.image.title', md.name],
    ['org.opencontainers.image.version', md.version],
  ]);
  if (md.description) labels.set('org.opencontainers.image.description', md.description);
  if (md.vendor) labels.set('org.opencontainers.image.vendor', md.vendor);
  if (md.url) labels.set('org.opencontainers.image.url', md.url);
  for (const extra of [md.labels, v.manifest.build?.labels]) for (const [k, x] of Object.entries(extra ?? {})) if (x !== undefined) labels.set(k, x);
  return sorted([...labels]);
}

function sorted<T extends [string, unknown]>(entries: T[]): T[] {
  return [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}
