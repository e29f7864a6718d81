// The toolkit era of a manifest: whose toolkit (cOS, Elemental, Kairos) of which release the image
// carries, and what follows from it — the yip that decodes its cloud-config, the YAML reader yip
// uses, the directives that toolkit's runner does not run, the boot files it ships. Pure data and
// lookups; validate/rules/toolkit.ts reports what cannot be inferred.
//
// Every row below was read from the toolkit's sources at the tag named (derivc research notes
// research/toolkit-yip-versions.md and research/yip-schema.md):
//   cOS: rancher-sandbox/cOS-toolkit (tags live on in rancher/elemental-toolkit),
//        packages/toolchain/{yip,collection}.yaml up to v0.7, then the elemental-cli git hash in
//        packages/toolchain/elemental-cli/collection.yaml → rancher/elemental-cli go.mod;
//   Elemental: rancher/elemental-toolkit go.mod at each tag (`github.com/mudler/yip`, from v2.0.0
//        the fork `github.com/rancher/yip`, whose schema stays mudler v1.4.6's: compare keys against
//        `keys`, never the fork's own number), plugin list in pkg/cloudinit/cloudinit.go;
//   Kairos: kairos-io/kairos → kairos-framework / kairos-init → kairos-agent go.mod; the agent used
//        its own plugin list up to v2.21.7 (Kairos v3.4) and is built `-tags nogit` from v2.26.0.

export const TOOLKIT_FLAVORS = ['cos', 'elemental', 'kairos'] as const;
export type ToolkitFlavor = (typeof TOOLKIT_FLAVORS)[number];

/**
 * Which boot files (grub.cfg, bootargs.cfg) the toolkit ships — see
 * shared/reference/toolkit-boot/README.md. `kairos-v2` is the framework-package layout (Kairos
 * v2.x up to v3.3: static/grub-config, kairos-overlay-files), `kairos-v3` the kairos-init one (v3.4+).
 */
export type BootEra = 'cos-v0' | 'elemental-v1.1' | 'elemental-v1.3' | 'elemental-v2' | 'kairos-v2' | 'kairos-v3';

/** The YAML library yip decodes plain yip files with (v3 from mudler/yip v1.21.0 and rancher/yip v1.4.10). */
export type YamlDecoder = 'yaml.v2' | 'yaml.v3';

export interface ToolkitEra {
  flavor: ToolkitFlavor;
  /** The toolkit release (`v2.3.2`): stated, read from an image tag, or the newest derivc knows. */
  version: string;
  versionFrom: 'manifest' | 'image-tag' | 'kairos-framework-tag' | 'luet-repository' | 'assumed';
  /** The first release of the table row that applies (the release itself before the table's first row). */
  release: string;
  boot: BootEra;
  yip: {
    /** What the runner links, as its go.mod names it. */
    module: string;
    /** The mudler/yip tag whose `pkg/schema` the runner decodes: keys newer than this are ignored. */
    keys: string;
    decoder: YamlDecoder;
  };
  /** Step directives this runner decodes but does not run (or no longer decodes at all). */
  notRun: readonly string[];
}

interface Row {
  from: string;
  module: string;
  keys: string;
  decoder: YamlDecoder;
  boot: BootEra;
  notRun?: readonly string[];
}

const GIT_MODULES = ['git', 'modules'] as const;
/** kairos-agent ≤ v2.21.6 built its executor with the v1.4 plugin list: newer directives decode but never run. */
const KAIROS_OWN_EXECUTOR = ['packages', 'unpack_images', 'only_os', 'only_os_version', 'only_arch', 'only_service_manager'] as const;

/** Rows by first release; a row lasts until the next one. */
const RELEASES: Record<ToolkitFlavor, readonly Row[]> = {
  cos: [
    // ≤ v0.7: the `yip` binary (packages/toolchain/yip); from v0.8 `elemental run-stage`.
    { from: 'v0.0.0', module: 'mudler/yip 0.9.2', keys: '0.9.2', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.6.0', module: 'mudler/yip 0.9.7', keys: '0.9.7', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.6.2', module: 'mudler/yip 0.9.8', keys: '0.9.8', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.6.8', module: 'mudler/yip 0.9.12', keys: '0.9.12', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.7.0', module: 'mudler/yip 0.9.15', keys: '0.9.15', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.7.3', module: 'mudler/yip 0.9.21', keys: '0.9.21', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.8.2', module: 'mudler/yip 0.10.1', keys: '0.10.1', decoder: 'yaml.v2', boot: 'cos-v0' },
    // v0.8.14: elemental-cli 7ccfda5f links mudler/yip v0.0.0-20220321143540-2617d71ea02a (0.10.1-3-g2617d71).
    { from: 'v0.8.7', module: 'mudler/yip 0.10.1-3-g2617d71', keys: '0.10.1', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.9.1', module: 'mudler/yip 0.11.1', keys: '0.11.1', decoder: 'yaml.v2', boot: 'cos-v0' },
  ],
  elemental: [
    // Tags below v0.11.0 are cOS releases and the elemental-cli of that time.
    { from: 'v0.0.0', module: 'mudler/yip 0.10.1-3-g2617d71', keys: '0.10.1', decoder: 'yaml.v2', boot: 'cos-v0' },
    { from: 'v0.11.0', module: 'mudler/yip v1.1.0', keys: 'v1.1.0', decoder: 'yaml.v2', boot: 'elemental-v1.1' },
    { from: 'v1.1.0', module: 'mudler/yip v1.4.0', keys: 'v1.4.0', decoder: 'yaml.v2', boot: 'elemental-v1.1' },
    { from: 'v1.1.8', module: 'mudler/yip v1.4.4', keys: 'v1.4.4', decoder: 'yaml.v2', boot: 'elemental-v1.1' },
    { from: 'v1.2.0', module: 'mudler/yip v1.4.6', keys: 'v1.4.6', decoder: 'yaml.v2', boot: 'elemental-v1.3' },
    { from: 'v2.0.0', module: 'rancher/yip v1.4.10', keys: 'v1.4.6', decoder: 'yaml.v3', boot: 'elemental-v2' },
    // rancher/yip v1.6.2 deleted `modules` from the schema; Elemental's plugin list dropped git.
    { from: 'v2.1.2', module: 'rancher/yip v1.9.6', keys: 'v1.4.6', decoder: 'yaml.v3', boot: 'elemental-v2', notRun: GIT_MODULES },
    { from: 'v2.2.0', module: 'rancher/yip v1.9.3', keys: 'v1.4.6', decoder: 'yaml.v3', boot: 'elemental-v2', notRun: GIT_MODULES },
    { from: 'v2.2.1', module: 'rancher/yip v1.9.6', keys: 'v1.4.6', decoder: 'yaml.v3', boot: 'elemental-v2', notRun: GIT_MODULES },
  ],
  kairos: [
    // Kairos v2.x: kairos-agent v2.4.5 (read at Kairos v2.4.3).
    { from: 'v0.0.0', module: 'mudler/yip v1.4.5', keys: 'v1.4.5', decoder: 'yaml.v2', boot: 'kairos-v2' },
    { from: 'v3.0.0', module: 'mudler/yip v1.4.6', keys: 'v1.4.6', decoder: 'yaml.v2', boot: 'kairos-v2' },
    { from: 'v3.1.0', module: 'mudler/yip v1.9.0', keys: 'v1.9.0', decoder: 'yaml.v2', boot: 'kairos-v2' },
    { from: 'v3.2.0', module: 'mudler/yip v1.10.0', keys: 'v1.10.0', decoder: 'yaml.v2', boot: 'kairos-v2' },
    { from: 'v3.3.0', module: 'mudler/yip v1.12.0', keys: 'v1.12.0', decoder: 'yaml.v2', boot: 'kairos-v2' },
    { from: 'v3.4.0', module: 'mudler/yip v1.15.0', keys: 'v1.15.0', decoder: 'yaml.v2', boot: 'kairos-v3', notRun: KAIROS_OWN_EXECUTOR },
    { from: 'v3.5.0', module: 'mudler/yip v1.16.3', keys: 'v1.16.3', decoder: 'yaml.v2', boot: 'kairos-v3' },
    { from: 'v3.6.0', module: 'mudler/yip v1.18.1', keys: 'v1.18.1', decoder: 'yaml.v2', boot: 'kairos-v3' },
    // kairos-agent v2.26.0: `-tags nogit`, a `git` step fails ("git plugin not available").
    { from: 'v3.7.0', module: 'mudler/yip v1.21.2', keys: 'v1.21.2', decoder: 'yaml.v3', boot: 'kairos-v3', notRun: ['git'] },
    { from: 'v4.1.0', module: 'mudler/yip v1.23.6', keys: 'v1.23.6', decoder: 'yaml.v3', boot: 'kairos-v3', notRun: ['git'] },
    // v1.25 is not in the stored snapshots; the only change seen from outside is the `maas` datasource.
    { from: 'v4.2.0', module: 'mudler/yip v1.25.1', keys: 'v1.25.1', decoder: 'yaml.v3', boot: 'kairos-v3', notRun: ['git'] },
  ],
};

/** The newest release of each flavor derivc knows (assumed when a manifest does not say). */
export const NEWEST_RELEASE: Record<ToolkitFlavor, string> = { cos: 'v0.10.7', elemental: 'v2.3.2', kairos: 'v4.2.0' };

/** The newest yip derivc knows: what a cloud-config file validated on its own is checked against. */
export const NEWEST_YIP = 'v1.25.1';

/**
 * kairos-framework image tags are the framework's version, not Kairos's: the framework each Kairos
 * release pinned (Earthfile KAIROS_FRAMEWORK_VERSION, kairos-init pkg/values/versions.go).
 */
const FRAMEWORK_TO_KAIROS: readonly [framework: string, kairos: string][] = [
  ['v0.0.0', 'v2.4.3'],
  ['v2.7.14', 'v3.0.0'],
  ['v2.9.2', 'v3.1.0'],
  ['v2.12.1', 'v3.2.0'],
  ['v2.15.4', 'v3.3.0'],
  ['v2.18.0', 'v3.4.0'],
];

export const FLAVOR_NAMES: Record<ToolkitFlavor, string> = { cos: 'cOS', elemental: 'Elemental', kairos: 'Kairos' };

/** `v1.2.3`, `1.2`, `0.9.21` → [1, 2, 3]; anything else undefined. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = /^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?$/.exec(v);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** Orders release numbers (with or without `v`); unparsable ones sort first. */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a) ?? [-1, 0, 0];
  const y = parseVersion(b) ?? [-1, 0, 0];
  return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
}

/** `1.2` → `v1.2.0`: one spelling in messages and the IR. */
export function canonicalVersion(v: string): string {
  const p = parseVersion(v);
  return p ? `v${p.join('.')}` : v;
}

function rowFor(flavor: ToolkitFlavor, version: string): Row {
  const rows = RELEASES[flavor];
  let found = rows[0]!;
  for (const r of rows) if (compareVersions(r.from, version) <= 0) found = r;
  return found;
}

/** The era of a flavor and release; `versionFrom` says how the release was found. */
export function toolkitEra(
  flavor: ToolkitFlavor,
  version: string | undefined,
  versionFrom: ToolkitEra['versionFrom'] = version === undefined ? 'assumed' : 'manifest',
): ToolkitEra {
  const release = canonicalVersion(version ?? NEWEST_RELEASE[flavor]);
  const row = rowFor(flavor, release);
  return {
    flavor,
    version: release,
    versionFrom,
    release: row.from === 'v0.0.0' ? release : row.from,
    boot: row.boot,
    yip: { module: row.module, keys: row.keys, decoder: row.decoder },
    notRun: row.notRun ?? [],
  };
}

/** "Kairos v3.7.2" — how messages name an era. */
export function describeEra(era: ToolkitEra): string {
  return `${FLAVOR_NAMES[era.flavor]} ${era.version}`;
}

/** Whether a key or value introduced in yip `since` is decoded by this era's yip. */
export function eraHasYip(era: ToolkitEra | undefined, since: string): boolean {
  return compareVersions(since, era?.yip.keys ?? NEWEST_YIP) <= 0;
}

/**
 * yip ≥ v1.22.0 finds `#cloud-config` on any of the first 9 lines after blank and `#` lines;
 * before, only the first line counts. The 1-based line of the header yip reads, if any.
 */
export function cloudConfigHeaderLine(text: string, yipKeys: string = NEWEST_YIP): number | undefined {
  const lines = text.split('\n', 9).map((l) => l.replace(/\r$/, '').trimEnd());
  if (compareVersions(yipKeys, 'v1.22.0') < 0) return lines[0] === '#cloud-config' ? 1 : undefined;
  for (const [i, line] of lines.entries()) {
    if (line === '#cloud-config') return i + 1;
    if (line.trim() !== '' && !line.startsWith('#')) return undefined;
  }
  return undefined;
}

// ---- inference from image names -----------------------------------------------------------

function repoAndTag(ref: string): { components: string[]; tag: string | undefined } {
  const path = ref.split('@')[0]!;
  const colon = path.lastIndexOf(':');
  const slash = path.lastIndexOf('/');
  const tag = colon > slash ? path.slice(colon + 1) : undefined;
  const parts = (colon > slash ? path.slice(0, colon) : path).split('/');
  // A first component with a dot, a port or `localhost` is a registry host, not a name.
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0]!)) parts.shift();
  return { components: parts, tag };
}

/** A release number in an image tag: `v2.1.0`, `cos-system-0.8.14-3`, `24.04-core-amd64-generic-v3.7.2`. */
export function versionInTag(tag: string | undefined): string | undefined {
  if (tag === undefined) return undefined;
  const m = /(?:^|[-_])(v?(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*))(?=$|[-_+.])/.exec(tag);
  return m ? canonicalVersion(m[1]!) : undefined;
}

/**
 * The flavor of a base image that already carries a toolkit, from well-known names:
 * `quay.io/kairos/*`, `*kairos-*`; `*elemental*`; `quay.io/costoolkit/*`, `cos-toolkit*`.
 */
export function flavorOfImage(ref: string): ToolkitFlavor | undefined {
  const { components } = repoAndTag(ref);
  if (components.some((c) => c === 'kairos' || /^kairos[-_]/.test(c))) return 'kairos';
  if (components.some((c) => c.includes('elemental'))) return 'elemental';
  if (components.some((c) => c === 'costoolkit' || /^cos-toolkit/.test(c))) return 'cos';
  return undefined;
}

/**
 * The toolkit release an image tag names, where the tag is known to be one: Elemental's
 * `elemental-toolkit/*` images, Kairos images, cOS toolkit images, and kairos-framework images
 * (mapped to the Kairos release that pinned that framework).
 */
export function releaseOfImage(ref: string, flavor: ToolkitFlavor, toolkitImage: boolean): { version: string; from: ToolkitEra['versionFrom'] } | undefined {
  const { components, tag } = repoAndTag(ref);
  const version = versionInTag(tag);
  if (version === undefined) return undefined;
  if (flavor === 'kairos' && components.at(-1) === 'framework') {
    let kairos = FRAMEWORK_TO_KAIROS[0]![1];
    for (const [fw, k] of FRAMEWORK_TO_KAIROS) if (compareVersions(fw, version) <= 0) kairos = k;
    return { version: kairos, from: 'kairos-framework-tag' };
  }
  // A base image's tag is its own version (`opensuse/leap:15.5`), unless the image is the toolkit's.
  if (!toolkitImage && flavorOfImage(ref) !== flavor) return undefined;
  if (flavor === 'elemental' && !toolkitImage && !components.some((c) => c === 'elemental-toolkit')) return undefined;
  return { version, from: 'image-tag' };
}

// ---- stage names -------------------------------------------------------------------------

export const BOOT_STAGES = ['rootfs', 'initramfs', 'fs', 'boot', 'network', 'reconcile'] as const;
const HOOKS = ['install', 'upgrade', 'reset'].flatMap((a) => [`before-${a}`, `after-${a}`, `after-${a}-chroot`]);
/** Each flavor's lifecycle hooks (every one is also run as `<hook>.before` and `<hook>.after`). */
const FLAVOR_HOOKS: Record<ToolkitFlavor, readonly string[]> = {
  // cos-installer (≤ v0.7) also ran after-deploy-chroot.
  cos: [...HOOKS, 'after-deploy-chroot'],
  // elemental-toolkit pkg/constants/constants.go: post-* from v0.11.0, the build-disk hooks from v1.1.0.
  elemental: [...HOOKS, 'post-install', 'post-upgrade', 'post-reset', 'before-disk', 'after-disk', 'after-disk-chroot', 'post-disk'],
  // kairos-agent pkg/action/install.go, pkg/uki/{install,reset,upgrade}.go.
  kairos: [
    ...HOOKS,
    'kairos-install.pre',
    'kairos-install.after',
    ...['install', 'reset', 'upgrade'].flatMap((a) => [`kairos-uki-${a}.pre`, `kairos-uki-${a}.after`]),
  ],
};

/** provider-kairos runs `provider-kairos.bootstrap.{before,after}.<p2p role>`. */
const KAIROS_PROVIDER_STAGE = /^provider-kairos\.bootstrap\.(before|after)\.[a-z0-9][a-z0-9_-]*$/;

/** The stage names a runner calls: the boot stages and the flavor's hooks, each with .before/.after. */
export function knownStages(flavor: ToolkitFlavor | undefined): string[] {
  const hooks = flavor ? FLAVOR_HOOKS[flavor] : [...new Set(TOOLKIT_FLAVORS.flatMap((f) => FLAVOR_HOOKS[f]))];
  return [...BOOT_STAGES, ...hooks].flatMap((s) => [`${s}.before`, s, `${s}.after`]);
}

export function isKnownStage(name: string, flavor: ToolkitFlavor | undefined): boolean {
  if ((flavor === undefined || flavor === 'kairos') && KAIROS_PROVIDER_STAGE.test(name)) return true;
  return knownStages(flavor).includes(name);
}

// ---- a manifest's era ----------------------------------------------------------------------

/** The `toolkit` keys inference reads (already schema-checked where it matters). */
export interface ToolkitSettings {
  source?: string;
  mode?: string;
  image?: string;
  flavor?: string;
  version?: string;
}

export interface EraInference {
  /** Undefined without a toolkit, or when the flavor cannot be told. */
  era: ToolkitEra | undefined;
  /** `flavor-required`: `source: base` on an image whose name does not say; `unknown-version`: the newest release was assumed. */
  problem?: 'flavor-required' | 'unknown-version';
}

/**
 * Flavor: stated, else `luet` → cos, `image` → elemental (`mode: framework` → kairos), `base` →
 * from well-known image names. Version: stated, else the toolkit image's tag when it is a release;
 * a luet toolkit is whatever its repository serves, the last cOS release.
 */
export function inferEra(toolkit: ToolkitSettings | undefined, baseImage: string | undefined): EraInference {
  const source = toolkit?.source ?? 'none';
  if (source !== 'luet' && source !== 'image' && source !== 'base') return { era: undefined };
  const stated = TOOLKIT_FLAVORS.find((f) => f === toolkit?.flavor);
  const flavor =
    stated ??
    (source === 'luet'
      ? 'cos'
      : source === 'image'
        ? toolkit?.mode === 'framework'
          ? 'kairos'
          : 'elemental'
        : baseImage !== undefined
          ? flavorOfImage(baseImage)
          : undefined);
  if (flavor === undefined) return { era: undefined, problem: 'flavor-required' };
  if (toolkit?.version !== undefined && parseVersion(toolkit.version)) return { era: toolkitEra(flavor, toolkit.version, 'manifest') };
  if (source === 'luet' && flavor === 'cos') return { era: toolkitEra('cos', undefined, 'luet-repository') };
  const image = source === 'image' ? toolkit?.image : source === 'base' ? baseImage : undefined;
  const found = image !== undefined ? releaseOfImage(image, flavor, source === 'image') : undefined;
  if (found) return { era: toolkitEra(flavor, found.version, found.from) };
  return { era: toolkitEra(flavor, undefined, 'assumed'), problem: 'unknown-version' };
}
