// `derivc validate`: parse → apiVersion → schema → semantic rules, for a manifest, its upstream
// derivatives (cycles detected across files) and its oemDir files, each at its own file:line:col.

import { dirname, join, normalize } from 'node:path';
import type { Diagnostic, Result } from '../diagnostics.js';
import { dedupeDiagnostics, hasErrors, sortDiagnostics } from '../diagnostics.js';
import { obj, str, strings, type Obj } from '../data.js';
import type { Family } from '../family.js';
import { archOf, type BuildFacts } from '../normalize/build.js';
import type { Host } from '../host.js';
import type { Manifest } from '../generated/manifest-types.js';
import { parseYaml } from '../parse.js';
import { isWithin, repositoryRoot } from '../repository.js';
import { walkOrder, type TreeFile, type TreeLink } from '../local-tree.js';
import type { SourceFile } from '../source-file.js';
import { checkApiVersion } from './api-version.js';
import type { ToolkitEra } from '../toolkit-era.js';
import { cloudConfigFormat, eraDiagnostics, kairosTypoDiagnostics, lateHeaderDiagnostic, stageDiagnostics } from './cloud-config-rules.js';
import { finding, type ManifestCheck, type Rule, type RuleContext, type UpstreamFacts } from './context.js';
import { limitPerFile } from './limit.js';
import { baseRules } from './rules/base.js';
import { kernelCmdlineRules } from './rules/kernel-cmdline.js';
import { labelRules } from './rules/labels.js';
import { layoutRules } from './rules/layout.js';
import { packageRules } from './rules/packages.js';
import { buildStepRules } from './rules/build-steps.js';
import { checkOutputNames, outputPathRules } from './rules/output-paths.js';
import { fileRules } from './rules/files.js';
import { checkLocalTree, pathRules } from './rules/paths.js';
import { sshKeyRules } from './rules/ssh-keys.js';
import { systemRules } from './rules/system.js';
import { decodeAsYip } from './yip-walk.js';
import { loneSurrogateDiagnostics, yipYamlDiagnostics } from './yip-yaml.js';
import { effectiveFamily, hasToolkit, manifestEra, toolkitRules } from './rules/toolkit.js';
import { checkCloudConfigSchema, checkManifestSchema } from './schema.js';

const RULES: readonly Rule[] = [
  baseRules,
  toolkitRules,
  pathRules,
  fileRules,
  outputPathRules,
  layoutRules,
  labelRules,
  kernelCmdlineRules,
  packageRules,
  buildStepRules,
  systemRules,
  sshKeyRules,
  (ctx) => loneSurrogateDiagnostics(ctx.source),
];

/** yip reads only these; anything else in oemDir is ignored at boot. */
const CLOUD_CONFIG_FILE = /\.ya?ml$/;
/** How far derivc reads the directories a manifest names (oemDir, overlay). */
export const TREE_LIMITS = { maxDepth: 16, maxFiles: 10_000 };

export interface OemFile {
  /** Path inside oemDir, with `/` separators (`sub/10_x.yaml`). */
  relative: string;
  path: string;
  data: unknown;
}

/** A manifest that passed validation (warnings allowed), with what later stages need. */
export interface ValidatedManifest {
  path: string;
  dir: string;
  source: SourceFile;
  manifest: Manifest;
  family: Family | undefined;
  hasToolkit: boolean;
  /** Whose toolkit of which release the image carries (compiler/toolkit-era.ts); undefined without one. */
  era: ToolkitEra | undefined;
  upstream?: ValidatedManifest;
  oemFiles: OemFile[];
  /** The symlinks of `oemDir`: copied as symlinks, not read (their target is in the image). */
  oemLinks: TreeLink[];
  /** The files of `overlay`, walked and checked. */
  overlayFiles: TreeFile[];
  /** The symlinks of `overlay`: copied as symlinks, never followed. */
  overlayLinks: TreeLink[];
}

/** `push(...list)` overflows the stack for very long lists (a manifest can yield 100k findings). */
/** Names of `system.users` with a `passwordHash`, as far as the manifest is well formed. */
function passwordUsers(manifest: Obj): string[] {
  const users = obj(manifest['system'])?.['users'];
  if (!Array.isArray(users)) return [];
  return users.flatMap((u) => {
    const name = str(obj(u)?.['name']);
    return name !== undefined && str(obj(u)?.['passwordHash']) !== undefined ? [name] : [];
  });
}

function append<T>(into: T[], items: readonly T[]): void {
  for (const item of items) into.push(item);
}

/**
 * A mapping without `apiVersion` is a cloud-config file, never a manifest — unless it says
 * `kind: Derivative`: a manifest that lost its first line, better told so than given a page of
 * unknown cloud-config keys.
 */
function isCloudConfig(data: unknown): boolean {
  const root = obj(data);
  return root !== undefined && root['kind'] !== 'Derivative';
}

/** A manifest on the way from the file being validated to its furthest upstream. */
interface StackEntry {
  real: string;
  display: string;
}

/** What one manifest file yielded: facts whenever it parsed, `validated` only without errors. */
interface Checked {
  validated?: ValidatedManifest;
  facts?: UpstreamFacts;
  /** The manifest `base.derivative` names, when it was found inside the repository (also when either has errors, or they form a cycle). */
  upstreamPath?: string;
}

export interface Validation {
  /** Undefined when any file (this one, an upstream, an oemDir file) has an error. */
  manifest: ValidatedManifest | undefined;
  /** Every file read, by display path: what formatters need for code frames. */
  sources: Map<string, string>;
  /**
   * The upstream manifest `base.derivative` names, as it was read, whenever it was found inside the
   * repository — also when this manifest or the upstream has errors: a fleet (cli/fleet) still
   * knows which manifests depend on which.
   */
  upstreamPath: string | undefined;
}

/** Shared across the files of one run, so an upstream named twice is read once. */
export class ValidationSession {
  readonly sources = new Map<string, string>();
  private readonly done = new Map<string, Result<Checked>>();
  private readonly cloudConfigDone = new Map<string, Result<unknown>>();
  constructor(
    readonly host: Host,
    /** Run on every manifest after the rules (cli/validation.ts adds the targets'). */
    private readonly checks: readonly ManifestCheck[] = [],
  ) {}

  validate(path: string): Result<Validation> {
    const r = this.one(path, []);
    return {
      value: { manifest: r.value.validated, sources: this.sources, upstreamPath: r.value.upstreamPath },
      diagnostics: limitPerFile(sortDiagnostics(dedupeDiagnostics(r.diagnostics))),
    };
  }

  private one(path: string, stack: StackEntry[]): Result<Checked> {
    const key = this.host.realpath(path) ?? normalize(path);
    const cached = this.done.get(key);
    if (cached) return cached;
    const result = this.read(path, [...stack, { real: key, display: path }]);
    this.done.set(key, result);
    return result;
  }

  private read(path: string, stack: StackEntry[]): Result<Checked> {
    // A manifest named on the command line is read only from inside its own repository: a symlink
    // committed as `x.yaml -> /proc/self/environ` must not print the CI job's secrets.
    if (stack.length === 1) {
      const outside = this.outsideRepository(dirname(path), path);
      if (outside) {
        return {
          value: {},
          diagnostics: [
            {
              code: 'io/outside-repository',
              severity: 'error',
              message: `\`${path}\` resolves through a symlink to a file outside its repository; derivc does not read it`,
              file: path,
              pointer: '',
              hint: 'name the manifest itself, not a link to a file elsewhere',
            },
          ],
        };
      }
    }
    const bytes = this.host.readFile(path);
    if (!bytes) {
      const kind = this.host.kind(path);
      const message =
        kind === 'directory'
          ? `\`${path}\` is a directory; a manifest file is expected`
          : kind === 'missing'
            ? `\`${path}\` does not exist`
            : kind === 'loop'
              ? `\`${path}\` is a symlink loop`
              : `\`${path}\` cannot be read`;
      return {
        value: {},
        diagnostics: [
          {
            code: 'io/unreadable',
            severity: 'error',
            message,
            file: path,
            pointer: '',
            hint:
              kind === 'directory'
                ? `name the manifest inside it, e.g. ${join(path, 'derivative.yaml')}`
                : kind === 'loop'
                  ? 'fix or remove the symlink'
                  : 'check the path',
          },
        ],
      };
    }
    const parsed = parseYaml(path, bytes, { yipOctal: 'stages' });
    const { source, data } = parsed.value;
    this.keepForCodeFrames(path, source.text, data);
    if (parsed.diagnostics.length) return { value: {}, diagnostics: parsed.diagnostics };
    const api = checkApiVersion(data, source);
    // `derivc validate system/oem/*.yaml` checks existing cloud-config files directly.
    if (api?.code === 'api/missing-version' && isCloudConfig(data)) return { value: {}, diagnostics: this.cloudConfigFile(path).diagnostics };
    if (api) return { value: {}, diagnostics: [api] };

    const manifest = data as Obj;
    const ctx: RuleContext = { source, manifest, host: this.host, dir: dirname(path) };
    const diagnostics: Diagnostic[] = [];
    const found: { path?: string } = {};
    const upstream = this.upstream(ctx, stack, diagnostics, found);
    if (upstream) ctx.upstream = upstream.facts;
    const { era } = manifestEra(ctx);

    // yip's decoder reads `yes`, `22.10`… in its own way; the stages are emitted as it read them.
    if (manifest['stages'] !== undefined) decodeAsYip(manifest['stages'], source, 'stages', '/stages');
    append(diagnostics, checkManifestSchema(manifest, source));
    for (const rule of RULES) append(diagnostics, rule(ctx));
    if (manifest['stages'] !== undefined) {
      append(diagnostics, stageDiagnostics(source, manifest['stages'], '/stages', era));
      append(diagnostics, eraDiagnostics(source, manifest['stages'], 'stages', '/stages', era));
    }
    const oem = this.oemDir(ctx, era, diagnostics);
    const overlay = str(manifest['overlay']);
    const overlayTree = (overlay !== undefined ? checkLocalTree(ctx, '/overlay', overlay, TREE_LIMITS, 'copy', diagnostics) : undefined) ?? {
      files: [],
      links: [],
    };
    if (overlay !== undefined) checkOutputNames(ctx, '/overlay', overlay, 'overlay', [...overlayTree.files, ...overlayTree.links], diagnostics);
    const isoOverlay = str(obj(obj(manifest['targets'])?.['iso'])?.['overlay']);
    // The ISO tree is assembled from the files as read: its links are followed (and must stay inside).
    if (isoOverlay !== undefined) checkLocalTree(ctx, '/targets/iso/overlay', isoOverlay, TREE_LIMITS, 'follow', diagnostics);

    const boot = obj(manifest['boot']);
    const console = boot?.['console'] !== undefined ? strings(boot['console']) : upstream?.facts.console;
    const platform = str(obj(manifest['base'])?.['platform']) ?? upstream?.facts.platform;
    const facts: UpstreamFacts = {
      path,
      family: effectiveFamily(ctx) as Family | undefined,
      hasToolkit: hasToolkit(ctx),
      ...(era ? { era } : {}),
      kernelArgs: [...(upstream?.facts.kernelArgs ?? []), ...strings(boot?.['cmdline'])],
      ...(console ? { console } : {}),
      ...(platform !== undefined ? { platform } : {}),
      passwordUsers: [...(upstream?.facts.passwordUsers ?? []), ...passwordUsers(manifest)],
    };
    if (this.checks.length > 0) {
      const metadata = obj(manifest['metadata']);
      const build: BuildFacts = {
        name: str(metadata?.['name']) ?? '',
        version: str(metadata?.['version']) ?? '',
        arch: archOf(platform),
        runtimeToolkit: facts.hasToolkit,
        ...(era ? { era } : {}),
        passwordUsers: facts.passwordUsers,
      };
      for (const check of this.checks) append(diagnostics, check(ctx, build, diagnostics));
    }
    const validated: ValidatedManifest | undefined = hasErrors(diagnostics)
      ? undefined
      : {
          path,
          dir: ctx.dir,
          source,
          manifest: manifest as unknown as Manifest,
          family: facts.family,
          hasToolkit: facts.hasToolkit,
          era,
          upstream: upstream?.validated,
          oemFiles: oem.files,
          oemLinks: oem.links,
          overlayFiles: overlayTree.files,
          overlayLinks: overlayTree.links,
        };
    return { value: { validated, facts, ...(found.path !== undefined ? { upstreamPath: found.path } : {}) }, diagnostics };
  }

  /** Reads `base.derivative`, reporting a cycle at the reference that closes it; `found.path`: the upstream, once known to be inside the repository. */
  private upstream(
    ctx: RuleContext,
    stack: StackEntry[],
    out: Diagnostic[],
    found: { path?: string },
  ): { facts: UpstreamFacts; validated?: ValidatedManifest } | undefined {
    const ref = str(obj(ctx.manifest['base'])?.['derivative']);
    if (ref === undefined) return undefined;
    const pointer = '/base/derivative';
    const path = normalize(join(ctx.dir, ref));
    const real = this.host.realpath(path);
    if (this.host.kind(path) === 'loop') {
      out.push(
        finding(ctx, 'path/symlink-loop', pointer, `upstream manifest \`${ref}\` is a symlink loop (looked for ${path})`, {
          hint: 'fix or remove the symlink',
        }),
      );
      return undefined;
    }
    if (real === undefined || this.host.kind(path) !== 'file') {
      out.push(
        finding(ctx, 'base/derivative-not-found', pointer, `upstream manifest \`${ref}\` does not exist (looked for ${path})`, {
          hint: 'the path is relative to this manifest',
        }),
      );
      return undefined;
    }
    if (this.outsideRepository(ctx.dir, path)) {
      out.push(
        finding(
          ctx,
          'base/derivative-outside-repository',
          pointer,
          `upstream manifest \`${ref}\` resolves outside this manifest's repository; derivc does not read it`,
        ),
      );
      return undefined;
    }
    found.path = path;
    const at = stack.findIndex((s) => s.real === real);
    if (at >= 0) {
      const names = [...stack.slice(at).map((s) => s.display), path];
      out.push(
        finding(ctx, 'base/derivative-cycle', pointer, `upstream derivatives form a cycle: ${names.join(' → ')}`, {
          hint: 'a derivative cannot be built from itself; point one of them at a base `image:`',
        }),
      );
      return undefined;
    }
    const r = this.one(path, stack);
    append(out, r.diagnostics);
    // An upstream with errors (reported in its own file) still passes on what could be read.
    return r.value.facts ? { facts: r.value.facts, validated: r.value.validated } : undefined;
  }

  /**
   * Whether `path` (a manifest in `dir`) resolves outside the repository holding `dir`: its git
   * work tree, or `dir` itself when there is none. Unresolvable paths are left to the readers.
   */
  private outsideRepository(dir: string, path: string): boolean {
    const root = repositoryRoot(this.host, dir);
    const real = this.host.realpath(path);
    return root !== undefined && real !== undefined && !isWithin(root, real);
  }

  /**
   * Code frames print the lines of a file: only of a file read as YAML — named `.yaml`/`.yml`,
   * or a mapping as manifests and cloud-config files are — never of something else a path led to.
   */
  private keepForCodeFrames(path: string, text: string, data: unknown): void {
    if (/\.ya?ml$/i.test(path) || (data !== null && typeof data === 'object' && !Array.isArray(data))) this.sources.set(path, text);
  }

  /**
   * Every cloud-config file under oemDir, recursively as yip walks it, and its symlinks. A symlink
   * is copied as a symlink and not validated: what it names is in the image, not here (one naming
   * a file of oemDir itself reaches a file that is validated on its own).
   */
  private oemDir(ctx: RuleContext, era: ToolkitEra | undefined, out: Diagnostic[]): { files: OemFile[]; links: TreeLink[] } {
    const dir = str(ctx.manifest['oemDir']);
    if (dir === undefined) return { files: [], links: [] };
    const tree = checkLocalTree(ctx, '/oemDir', dir, TREE_LIMITS, 'copy', out) ?? { files: [], links: [] };
    const read = (relative: string) => {
      if (CLOUD_CONFIG_FILE.test(relative)) return true;
      out.push(
        finding(ctx, 'oemDir/ignored-file', '/oemDir', `\`${relative}\` in oemDir is not a .yaml/.yml file: the toolkit ignores it at boot`, {
          severity: 'warning',
          hint: 'rename it to end in .yaml, or move it out of oemDir (use `files:` for other files)',
        }),
      );
      return false;
    };
    const files: OemFile[] = [];
    const links: TreeLink[] = [];
    // Files and links in the order of the walk: the warnings come in the order of the folder.
    const entries = [...tree.files.map((f) => ({ f, l: undefined })), ...tree.links.map((l) => ({ f: undefined, l }))].sort((a, b) =>
      walkOrder((a.f ?? a.l)!.relative, (b.f ?? b.l)!.relative),
    );
    for (const { f, l } of entries) {
      if (l) {
        if (read(l.relative)) links.push(l);
        continue;
      }
      if (!read(f!.relative)) continue;
      const checked = this.cloudConfigFile(f!.path, era);
      append(out, checked.diagnostics);
      files.push({ relative: f!.relative, path: f!.path, data: checked.value });
    }
    checkOutputNames(ctx, '/oemDir', dir, 'oem', [...files, ...links], out);
    return { files, links };
  }

  /**
   * Validates one /system/oem file for a toolkit era (without one: the newest yip, any toolkit);
   * manifests of one era sharing an oemDir read it once per session.
   */
  cloudConfigFile(path: string, era?: ToolkitEra): Result<unknown> {
    const key = `${era ? `${era.flavor}@${era.version}` : ''}\0${path}`;
    const cached = this.cloudConfigDone.get(key);
    if (cached) return cached;
    const result = this.readCloudConfig(path, era);
    this.cloudConfigDone.set(key, result);
    return result;
  }

  private readCloudConfig(path: string, era: ToolkitEra | undefined): Result<unknown> {
    const bytes = this.host.readFile(path) ?? new Uint8Array();
    const parsed = parseYaml(path, bytes, { yipOctal: 'document' });
    const { source, data } = parsed.value;
    this.keepForCodeFrames(path, source.text, data);
    if (parsed.diagnostics.length) {
      // An empty file does nothing at boot: worth a warning, not a failed build.
      return {
        value: undefined,
        diagnostics: parsed.diagnostics.map((d) =>
          d.code === 'parse/empty' ? { ...d, severity: 'warning' as const, message: 'cloud-config file is empty', hint: 'remove it, or add `stages:`' } : d,
        ),
      };
    }
    const { format, lateHeader } = cloudConfigFormat(source.text, era);
    decodeAsYip(data, source, format);
    const diagnostics = checkCloudConfigSchema(data, source, format);
    if (lateHeader !== undefined && era) diagnostics.push(lateHeaderDiagnostic(source, lateHeader, era));
    if (format === 'kairosFile') append(diagnostics, kairosTypoDiagnostics(source, data));
    // yip skips a file its YAML reader rejects: checked even where the schema already failed.
    append(diagnostics, yipYamlDiagnostics(source));
    const stages = obj(data)?.['stages'];
    if (stages !== undefined) append(diagnostics, stageDiagnostics(source, stages, '/stages', era));
    append(diagnostics, eraDiagnostics(source, data, format, '', era));
    // A step reused through `<<: *anchor` reports once, at the anchor.
    return { value: data, diagnostics: dedupeDiagnostics(diagnostics) };
  }
}
