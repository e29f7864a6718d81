// `derivc init --from Dockerfile`: the manifest that says what an existing derivative Dockerfile
// does, and a report of where each instruction went. Pure: text in, manifest data and report out
// (the CLI reads and writes the files). Nothing from the Dockerfile is executed; what cannot be
// mapped is kept verbatim as a `build.steps` entry, the manifest's own escape hatch.

import { posix } from 'node:path';
import type { Diagnostic, Result } from '../../compiler/diagnostics.js';
import { FAMILY_INFO } from '../../compiler/families.js';
import { inferFamily, type Family } from '../../compiler/family.js';
import { expand, parseDockerfile, platformArgs, type DockerInstruction, type Scope, type Stage } from './dockerfile-stages.js';
import { DOWNLOAD_REASON, mapCommand, type Effect, type FileItem, type Repository } from './run-commands.js';
import { simpleCommands } from './shell-words.js';

export interface ConvertOptions {
  /** The Dockerfile's name as shown in the report and diagnostics. */
  file: string;
  name: string;
  version?: string;
  /** `--arg NAME=VALUE`: values for build arguments, as `docker build --build-arg` gives them. */
  args?: Record<string, string>;
  family?: Family;
  platform?: 'linux/amd64' | 'linux/arm64';
  /** Path from the manifest's directory to the Dockerfile's (the build context), `/`-separated; '' when the same. */
  contextPrefix?: string;
  /** Whether a path inside the build context is a directory (undefined: unknown). */
  isDirectory?: (relative: string) => boolean | undefined;
}

export type Outcome = 'mapped' | 'step' | 'dropped' | 'not-mapped' | 'ignored';

export interface ReportEntry {
  line: number;
  /** The instruction, shortened to one line. */
  instruction: string;
  outcome: Outcome;
  /** Manifest keys it became (mapped), e.g. `packages.install`. */
  keys: string[];
  /** Index into build.steps (step). */
  step?: number;
  /** Why it is a step, dropped, or not mapped. */
  reason?: string;
  notes: string[];
}

export interface Step {
  name: string;
  run: string | string[];
  at: 'after-packages' | 'after-toolkit' | 'after-files' | 'final';
  /** Dockerfile line, for the comment above the step. */
  line: number;
  reason: string;
}

export interface Conversion {
  /** The manifest as plain data, keys in MANIFEST.md order (steps carry `line`/`reason` for comments: see manifestYaml). */
  manifest: Record<string, unknown>;
  steps: Step[];
  report: ReportEntry[];
}

const PHASES = ['after-packages', 'after-toolkit', 'after-files', 'final'] as const;
const OCI_METADATA: Record<string, 'description' | 'vendor' | 'url'> = {
  'org.opencontainers.image.description': 'description',
  'org.opencontainers.image.vendor': 'vendor',
  'org.opencontainers.image.url': 'url',
};
const LABEL_KEY = /^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,253}[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RELATIVE = /^(?:[A-Za-z0-9._@+,=~-]+\/)*[A-Za-z0-9._@+,=~-]+\/?$/;
const IMAGE_PATH = /^(?!.*\/\.\.?(?:\/|$))(?:\/[A-Za-z0-9._@+,:=~-]+)+$/;
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
const OWNER = /^(?:[a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10}):(?:[a-z_][a-z0-9_.-]{0,31}|[0-9]{1,10})$/;
/** cOS images name their flavor: green openSUSE, teal SLE Micro, blue Fedora, orange Ubuntu. */
const COS_FLAVORS: [RegExp, Family][] = [
  [/releases-(green|teal)\b/, 'opensuse'],
  [/releases-blue\b/, 'fedora'],
  [/releases-orange\b/, 'ubuntu'],
];

type Toolkit =
  { source: 'luet'; luetImage: string; line: number } | { source: 'image'; mode: 'elemental' | 'framework'; image: string; binary?: string; line: number };

/** One line of visible text for the report (the Dockerfile is hostile input, shown on a terminal). */
function shortened(keyword: string, text: string): string {
  const flat = `${keyword} ${text.replace(/\s+/g, ' ')}`.trim();
  return flat.length > 72 ? `${flat.slice(0, 71)}…` : flat;
}

function uniquePush<T>(list: T[], ...items: T[]): void {
  for (const item of items) if (!list.includes(item)) list.push(item);
}

export function convertDockerfile(text: string, opts: ConvertOptions): Result<Conversion | undefined> {
  return new Converter(text, opts).run();
}

class Converter {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly report: ReportEntry[] = [];
  private readonly parsed;
  private readonly globals: Scope;
  private readonly overrides: Map<string, string>;
  private family: Family | undefined;
  private toolkit: Toolkit | undefined;
  private phase = -1;
  private shell: string[] | undefined;
  private workdir = '/';
  private readonly out = {
    labels: {} as Record<string, string>,
    meta: {} as Partial<Record<'description' | 'vendor' | 'url', string>>,
    install: [] as string[],
    remove: [] as string[],
    upgrade: false,
    kernel: undefined as string | undefined,
    repositories: [] as Repository[],
    disableRepositories: [] as string[],
    luetPackages: [] as string[],
    files: [] as FileItem[],
    overlay: undefined as string | undefined,
    enable: [] as string[],
    args: {} as Record<string, string>,
    env: {} as Record<string, string>,
    steps: [] as Step[],
  };

  constructor(
    text: string,
    private readonly opts: ConvertOptions,
  ) {
    this.parsed = parseDockerfile(text);
    this.overrides = new Map(Object.entries(opts.args ?? {}));
    this.globals = platformArgs(opts.platform ?? 'linux/amd64');
    for (const k of [...this.globals.keys()]) if (this.overrides.has(k)) this.globals.set(k, this.overrides.get(k)!);
  }

  run(): Result<Conversion | undefined> {
    const { preamble, stages } = this.parsed;
    for (const ins of preamble) this.globalArg(ins);
    if (stages.length === 0) {
      return {
        value: undefined,
        diagnostics: [
          this.diagnostic(
            'init/no-from',
            'error',
            'the dockerfile has no FROM: there is no image to describe',
            1,
            'name the Dockerfile that builds the derivative',
          ),
        ],
      };
    }
    const chain = this.chain(stages);
    if (!chain) return { value: undefined, diagnostics: this.diagnostics };
    const root = chain[0]!;
    const base = this.fromRef(root);
    this.family = this.opts.family ?? inferFamily(base) ?? COS_FLAVORS.find(([re]) => re.test(base))?.[1] ?? this.managerFamily(chain);
    this.toolkit = this.findToolkit(chain);

    const inChain = new Set(chain.map((s) => s.index));
    for (const stage of chain) {
      const scope: Scope = new Map();
      for (const ins of stage.instructions) this.instruction(ins, stage, scope, stage === root);
    }
    for (const stage of stages) {
      if (inChain.has(stage.index)) continue;
      for (const ins of stage.instructions) {
        if (ins.keyword === 'FROM' && this.toolkit?.line === ins.line) {
          this.entry(ins, 'mapped', [this.toolkit.source === 'luet' ? 'toolkit.luetImage' : 'toolkit.image'], {});
          continue;
        }
        this.entry(ins, 'ignored', [], { reason: `stage \`${stage.name ?? stage.index}\` is not part of the final image` });
      }
    }
    this.report.sort((a, b) => a.line - b.line);
    return { value: { manifest: this.manifest(base), steps: this.out.steps, report: this.report }, diagnostics: this.diagnostics };
  }

  // --- stages -------------------------------------------------------------------------------

  private globalArg(ins: DockerInstruction): void {
    if (ins.keyword !== 'ARG') {
      this.entry(ins, 'dropped', [], { reason: 'before the first FROM only ARG has a meaning' });
      return;
    }
    for (const p of propertiesOf(ins)) {
      const declared = p.value === undefined ? undefined : expand(p.value, this.globals).value;
      const value = this.overrides.get(p.name) ?? declared;
      this.globals.set(p.name, value);
    }
    const names = propertiesOf(ins).map((p) => p.name);
    const unset = names.filter((n) => this.globals.get(n) === undefined);
    this.entry(ins, 'dropped', [], {
      reason: unset.length
        ? `a global ARG without a value (${unset.join(', ')}): only FROM lines see it`
        : 'a global ARG: only FROM lines see it (its value is substituted there)',
    });
  }

  /** The stages the final image is built from, first (the external base) to last. */
  private chain(stages: Stage[]): Stage[] | undefined {
    const chain: Stage[] = [];
    let stage: Stage | undefined = stages.at(-1)!;
    while (stage) {
      chain.unshift(stage);
      const { value, unresolved } = expand(stage.from, this.globals);
      if (unresolved.length) {
        this.diagnostics.push(
          this.diagnostic(
            'init/unresolved-from',
            'error',
            `\`FROM ${stage.from}\` needs build arguments without a value: ${unresolved.join(', ')}`,
            stage.line,
            `pass ${unresolved.map((n) => `--arg ${n}=…`).join(' ')}: the manifest pins the variant they select`,
          ),
        );
        return undefined;
      }
      stage = this.earlierStage(value, stage.index);
    }
    return chain;
  }

  private earlierStage(ref: string, before: number): Stage | undefined {
    const name = ref.toLowerCase();
    return this.parsed.stages
      .slice(0, before)
      .reverse()
      .find((s) => s.name === name || String(s.index) === name);
  }

  private fromRef(stage: Stage): string {
    return expand(stage.from, this.globals).value;
  }

  /** The image a stage is, when it only names one (`FROM img AS luet`); undefined for a stage that builds something. */
  private stageImage(ref: string, before: number): { image: string; line: number } | undefined {
    const stage = this.earlierStage(ref, before);
    if (!stage) return { image: ref, line: 0 };
    if (stage.instructions.some((i) => !['FROM', 'ARG', 'LABEL', 'ENV'].includes(i.keyword))) return undefined;
    const from = this.fromRef(stage);
    const parent = this.stageImage(from, stage.index);
    return parent && { image: parent.image, line: stage.line };
  }

  private managerFamily(chain: Stage[]): Family | undefined {
    const runs = chain.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.text)).join('\n');
    if (/\bzypper\b/.test(runs)) return 'opensuse';
    if (/\b(dnf|yum|microdnf)\b/.test(runs)) return 'fedora';
    if (/\badd-apt-repository\b|ppa:/.test(runs)) return 'ubuntu';
    return undefined;
  }

  /** The toolkit, from what the chain copies out of other stages or images. */
  private findToolkit(chain: Stage[]): Toolkit | undefined {
    const found: Toolkit[] = [];
    for (const stage of chain) {
      for (const ins of stage.instructions) {
        if (ins.keyword !== 'COPY') continue;
        const from = copyParts(ins).flags.get('from');
        const parts = copyParts(ins).paths;
        if (from === undefined || parts.length !== 2) continue;
        const src = parts[0]!;
        const ref = this.stageImage(expand(from, this.globals).value, stage.index);
        if (!ref) continue;
        if (src === '/' && parts[1] === '/') found.push({ source: 'image', mode: 'framework', image: ref.image, line: ref.line });
        else if (src.endsWith('/elemental'))
          found.push({ source: 'image', mode: 'elemental', image: ref.image, line: ref.line, ...(src !== '/usr/bin/elemental' ? { binary: src } : {}) });
        else if (src.endsWith('/luet')) found.push({ source: 'luet', luetImage: ref.image, line: ref.line });
      }
    }
    return found.find((t) => t.source === 'image' && t.mode === 'framework') ?? found.find((t) => t.source === 'image') ?? found[0];
  }

  // --- instructions -------------------------------------------------------------------------

  private instruction(ins: DockerInstruction, stage: Stage, scope: Scope, isRoot: boolean): void {
    const vars = (): Scope => new Map([...this.envScope(), ...scope]);
    switch (ins.keyword) {
      case 'FROM':
        if (isRoot) {
          const notes = this.family && !inferFamily(this.fromRef(stage)) ? [`base.family: ${this.family} (derivc cannot infer it from the image name)`] : [];
          this.entry(ins, 'mapped', ['base.image', ...(notes.length ? ['base.family'] : [])], { notes });
        } else
          this.entry(ins, 'dropped', [], {
            reason: `builds on the stage above (\`${expand(stage.from, this.globals).value}\`): its instructions are converted in order`,
          });
        return;
      case 'ARG':
        return this.stageArg(ins, scope);
      case 'ENV':
        return this.env(ins, vars());
      case 'LABEL':
        return this.label(ins, vars());
      case 'COPY':
      case 'ADD':
        return this.copy(ins, stage, vars());
      case 'RUN':
        return this.runInstruction(ins);
      case 'SHELL': {
        const shell = jsonArray(ins.text);
        this.shell = shell;
        this.entry(ins, 'dropped', [], { reason: 'the build steps after it are written in exec form through this shell' });
        return;
      }
      case 'WORKDIR':
        this.workdir = posix.resolve(this.workdir, expand(ins.text, vars()).value);
        this.entry(ins, 'not-mapped', [], { reason: 'build steps run in `/`: the steps after it may need a `cd`' });
        return;
      case 'USER':
        this.entry(ins, 'not-mapped', [], { reason: 'build steps run as root' });
        return;
      default:
        this.entry(ins, 'dropped', [], { reason: 'not part of a bootable image: the booted system runs its own init' });
    }
  }

  private envScope(): Scope {
    return new Map(Object.entries(this.out.env));
  }

  private stageArg(ins: DockerInstruction, scope: Scope): void {
    const keys: string[] = [];
    const notes: string[] = [];
    for (const p of propertiesOf(ins)) {
      // `ARG X` inside a stage brings in the global value; a passed --arg wins over any default.
      const value =
        this.overrides.get(p.name) ?? (p.value !== undefined ? expand(p.value, new Map([...this.envScope(), ...scope])).value : this.globals.get(p.name));
      scope.set(p.name, value);
      if (value === undefined) notes.push(`${p.name} has no value: pass --arg ${p.name}=… to pin one`);
      else if (CONTROL.test(value)) notes.push(`${p.name}: a value with control characters cannot be a build argument`);
      else {
        this.out.args[p.name] = value;
        uniquePush(keys, 'build.args');
      }
    }
    this.entry(ins, keys.length ? 'mapped' : 'not-mapped', keys, keys.length ? { notes } : { reason: notes.join('; ') });
  }

  private env(ins: DockerInstruction, scope: Scope): void {
    const notes: string[] = [];
    let mapped = false;
    for (const p of propertiesOf(ins)) {
      const { value, unresolved } = expand(p.value ?? '', scope);
      if (!ENV_NAME.test(p.name) || CONTROL.test(value)) {
        notes.push(`\`${p.name}\` cannot be a build.env entry (a name like a shell variable, a one-line value)`);
        continue;
      }
      if (unresolved.length) notes.push(`${p.name}: ${unresolved.join(', ')} had no value, so it is empty as in the Dockerfile's default build`);
      this.out.env[p.name] = value;
      mapped = true;
    }
    this.entry(ins, mapped ? 'mapped' : 'not-mapped', mapped ? ['build.env'] : [], mapped ? { notes } : { reason: notes.join('; ') });
  }

  private label(ins: DockerInstruction, scope: Scope): void {
    const keys: string[] = [];
    const notes: string[] = [];
    for (const p of propertiesOf(ins)) {
      const { value, unresolved } = expand(p.value ?? '', scope);
      if (!LABEL_KEY.test(p.name) || CONTROL.test(value)) {
        notes.push(`label \`${p.name}\` cannot be carried over (a label key of letters, digits and \`._/-\`; a one-line value)`);
        continue;
      }
      if (unresolved.length) notes.push(`${p.name}: ${unresolved.join(', ')} had no value, so it is empty`);
      const meta = OCI_METADATA[p.name];
      if (meta) {
        this.out.meta[meta] = value;
        uniquePush(keys, `metadata.${meta}`);
      } else {
        this.out.labels[p.name] = value;
        uniquePush(keys, 'metadata.labels');
      }
    }
    this.entry(ins, keys.length ? 'mapped' : 'not-mapped', keys, keys.length ? { notes } : { reason: notes.join('; ') });
  }

  private copy(ins: DockerInstruction, stage: Stage, scope: Scope): void {
    const { flags, paths } = copyParts(ins);
    const from = flags.get('from');
    if (from !== undefined) {
      const ref = this.stageImage(expand(from, scope).value, stage.index);
      if (this.toolkit && ref && ref.image === (this.toolkit.source === 'luet' ? this.toolkit.luetImage : this.toolkit.image)) {
        const key = this.toolkit.source === 'luet' ? 'toolkit.source: luet' : `toolkit.source: image (mode: ${this.toolkit.mode})`;
        this.entry(ins, 'mapped', [key], {});
        this.advance(1);
      } else this.entry(ins, 'not-mapped', [], { reason: 'copies out of another build stage or image: build that separately and copy its result in as files' });
      return;
    }
    if (paths.length < 2) return this.entry(ins, 'not-mapped', [], { reason: 'a COPY without source and destination' });
    const unknownFlag = [...flags.keys()].find((f) => !['chown', 'chmod', 'link'].includes(f));
    if (unknownFlag) return this.entry(ins, 'not-mapped', [], { reason: `COPY --${unknownFlag} has no manifest key` });
    const owner = flags.get('chown');
    const mode = flags.get('chmod');
    if ((owner !== undefined && !OWNER.test(owner)) || (mode !== undefined && !/^0?[0-7]?[0-7]{3}$/.test(mode))) {
      return this.entry(ins, 'not-mapped', [], { reason: 'a --chown or --chmod the manifest cannot say (user:group, an octal mode)' });
    }
    const expanded = paths.map((p) => expand(p, scope).value);
    const dest = expanded.at(-1)!;
    const sources = expanded.slice(0, -1);
    const keys: string[] = [];
    const notes: string[] = [];
    const refused: string[] = [];
    for (const src of sources) {
      const result = this.copySource(ins, src, dest, sources.length > 1, { owner, mode });
      if (typeof result === 'string') refused.push(result);
      else {
        uniquePush(keys, result.key);
        notes.push(...result.notes);
      }
    }
    if (keys.length) this.advance(2);
    if (refused.length && !keys.length) this.entry(ins, 'not-mapped', [], { reason: refused.join('; ') });
    else this.entry(ins, 'mapped', keys, { notes: [...notes, ...refused.map((r) => `not mapped: ${r}`)] });
  }

  /** One COPY source: the manifest key it became, or why it could not. */
  private copySource(
    ins: DockerInstruction,
    src: string,
    dest: string,
    several: boolean,
    attrs: { owner?: string; mode?: string },
  ): { key: string; notes: string[] } | string {
    if (ins.keyword === 'ADD' && /^[a-z][a-z0-9+.-]*:\/\//i.test(src)) return `ADD of a URL: add a files item with \`url\` and its \`sha256\``;
    if (ins.keyword === 'ADD' && /\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst))$/.test(src))
      return `ADD unpacks \`${src}\`: unpack it into an overlay directory instead`;
    if (/[*?[]/.test(src)) return `\`${src}\` is a pattern: name the files`;
    const relative = posix.normalize(src.replace(/^\/+/, '') || '.');
    if (relative === '..' || relative.startsWith('../') || src.startsWith('/') || CONTROL.test(src)) {
      this.diagnostics.push(
        this.diagnostic(
          'init/copy-outside',
          'warning',
          `\`${ins.keyword} ${src}\` reads from outside the dockerfile's directory; it is not carried over`,
          ins.line,
          'move the file next to the Dockerfile and add a files item',
        ),
      );
      return `\`${src}\` is outside the Dockerfile's directory`;
    }
    const bare = relative.replace(/\/+$/, '');
    if (bare !== '.' && !RELATIVE.test(bare)) return `\`${src}\` has characters a manifest path cannot hold`;
    const inManifest = this.opts.contextPrefix ? posix.join(this.opts.contextPrefix, bare) : bare;
    const isDir = src.endsWith('/') || bare === '.' || this.opts.isDirectory?.(bare) === true;
    const target = posix.resolve(this.workdir, dest);
    if (isDir) {
      if (target !== '/') return `a directory copied to \`${dest}\`: overlay goes onto /; put the files under the same path in an overlay directory`;
      if (this.out.overlay !== undefined) return `a second directory copied onto /: the manifest has one overlay (\`${this.out.overlay}\`); merge them`;
      if (attrs.owner || attrs.mode) return 'overlay files keep their own modes and root ownership; use files items for --chown/--chmod';
      this.out.overlay = inManifest;
      return { key: 'overlay', notes: [] };
    }
    const path = dest.endsWith('/') || several ? posix.join(target, posix.basename(bare)) : target;
    if (!IMAGE_PATH.test(path)) return `\`${path}\` is not a path a files item can hold`;
    this.out.files.push({
      path,
      ...(attrs.mode ? { mode: attrs.mode.padStart(4, '0') } : {}),
      ...(attrs.owner ? { owner: attrs.owner } : {}),
      source: inManifest,
    });
    const notes: string[] = [];
    if (/^\/(usr\/lib|etc)\/os-release$/.test(path))
      notes.push("os-release: the copied file replaces the base's; `metadata.osRelease` can set its keys instead (derivc does not read the file)");
    if (path === '/etc/luet/luet.yaml' && this.toolkit?.source === 'luet')
      notes.push('luet.yaml lands after the toolkit is installed: set toolkit.repository to the repository it names');
    if (/^\/etc\/(zypp\/repos\.d|yum\.repos\.d|apt\/sources\.list\.d)\//.test(path))
      notes.push('a repository file: packages.repositories can say it (derivc does not read the file)');
    return { key: 'files', notes };
  }

  private runInstruction(ins: DockerInstruction): void {
    const exec = jsonArray(ins.text);
    if (exec) return this.step(ins, exec, 'an exec-form RUN');
    if (/<<-?\s*['"]?[A-Za-z_]/.test(ins.text)) return this.step(ins, ins.text, 'a heredoc: kept as written; check it reads the same under /bin/sh -c');
    const implied = this.impliedRun(ins.text);
    if (implied) {
      this.entry(ins, 'dropped', [], { reason: `implied: ${implied.reason}`, notes: implied.notes });
      if (implied.initrd) this.advance(3);
      return;
    }
    if (this.kernelIfMissing(ins)) return;
    const commands = simpleCommands(ins.text);
    if (!commands) return this.step(ins, ins.text, this.whyNotSimple(ins.text));
    const mapped = commands.map((c) => ({ words: c.map((w) => w.text).join(' '), m: mapCommand(c) }));
    const failed = mapped.find((x) => 'unmapped' in x.m);
    if (failed && 'unmapped' in failed.m)
      return this.step(ins, ins.text, failed.m.unmapped + (commands.length > 1 ? ' (the whole RUN is kept as one step)' : ''));
    const effects = mapped.flatMap((x) => ('effects' in x.m ? x.m.effects.map((e) => ({ e, words: x.words })) : []));
    if (effects.some(({ e }) => e.kind === 'luet') && !this.luetCapable()) {
      return this.step(ins, ins.text, 'luet packages need a toolkit that brings luet (toolkit.source luet or image)');
    }
    const keys: string[] = [];
    const notes: string[] = [];
    for (const { e, words } of effects) this.apply(e, words, keys, notes);
    if (keys.length) this.entry(ins, 'mapped', keys, { notes });
    else this.entry(ins, 'dropped', [], { reason: `implied: ${notes.map((n) => n.replace(/^`[^`]*` dropped: implied \(|\)$/g, '')).join('; ')}` });
  }

  /**
   * Kairos's idiom `[ -z "$(ls -A /lib/modules)" ] && apt-get install KERNEL || true`: install that
   * kernel unless the base has one. derivc installs a kernel itself, so the idiom's meaning in a
   * manifest is `packages.kernel` (the base's own kernel would be `packages.kernel: none`).
   */
  private kernelIfMissing(ins: DockerInstruction): boolean {
    const m = /^\[\s+-z\s+"\$\(ls\s+-A\s+\/lib\/modules\/?\)"\s+\]\s+&&\s+(.+?)\s*\|\|\s*true$/.exec(ins.text);
    const commands = m ? simpleCommands(m[1]!) : undefined;
    const mapped = commands?.length === 1 ? mapCommand(commands[0]!) : undefined;
    const install = mapped && 'effects' in mapped && mapped.effects.length === 1 ? mapped.effects[0] : undefined;
    if (install?.kind !== 'install' || install.packages.length !== 1 || !this.isKernel(install.packages[0]!) || this.out.kernel !== undefined) return false;
    this.out.kernel = install.packages[0]!;
    this.advance(0);
    this.entry(ins, 'mapped', ['packages.kernel'], {
      notes: [
        "installed only when the base image has no kernel: with packages.kernel derivc installs it instead of the family's (use `none` to keep a base's own kernel)",
      ],
    });
    return true;
  }

  private luetCapable(): boolean {
    return this.toolkit !== undefined;
  }

  /** RUN lines derivc's own generated steps already do, whatever else they contain. */
  private impliedRun(text: string): { reason: string; notes: string[]; initrd?: boolean } | undefined {
    const command = (name: string) => new RegExp(`(?:^|[;&|(]\\s*|\\b(?:then|do|else)\\s+)${name}(?:\\s+-|\\s*$|\\s*[;&|)])`).test(text);
    if (
      this.toolkit?.source === 'image' &&
      this.toolkit.mode === 'elemental' &&
      /(?:^|[;&|]\s*|\b(?:then|do|else)\s+)elemental(?:\s+--?[A-Za-z-]+)*\s+init\b/.test(text)
    ) {
      return {
        reason: 'toolkit (mode: elemental) runs `elemental init --force` and builds the initrd',
        notes: /\bFEATURES\b|\bif\b/.test(text)
          ? ['the rest of this RUN chose init features by architecture: set toolkit.features if your build needs a choice']
          : [],
        initrd: true,
      };
    }
    if (command('mkinitrd') || command('dracut') || command('mkinitfs'))
      return { reason: 'derivc builds the initrd after the last step that can change it', notes: [], initrd: true };
    if (/\bln\s+-s\w*\s+\S+\s+\/boot\/(vmlinuz|initrd)\b/.test(text)) return { reason: 'derivc makes /boot/vmlinuz and /boot/initrd resolve', notes: [] };
    if (/^luet\s+cleanup$|^rm\s+-[rf]+\s+\/var\/(luet|cache)\b[^\s;&|]*$/.test(text.trim()))
      return { reason: 'derivc cleans the luet and package caches itself', notes: [] };
    return undefined;
  }

  private whyNotSimple(full: string): string {
    // The heuristics below only pick the wording; a bounded prefix keeps them linear on hostile input.
    const text = full.slice(0, 8192);
    if (/\b(curl|wget)\b[^;&|]*\s-[a-zA-Z]*[oO]\b/.test(text)) {
      return DOWNLOAD_REASON;
    }
    if (/\bsed\s+-[a-z]*i/.test(text)) return 'edits a file in place (`sed -i`)';
    if (/(^|[\s;&|])(if|\[\[?|case|for|while)\s/.test(text) || /\|\|/.test(text)) return 'a conditional: kept as written (the manifest pins one variant)';
    return 'shell syntax a manifest key cannot say (`;`, `|`, redirections, `$(…)`, variables): kept as written';
  }

  private step(ins: DockerInstruction, command: string | string[], reason: string): void {
    const at = PHASES[Math.max(0, this.phase)]!;
    const first = (typeof command === 'string' ? command : command.join(' ')).match(/[a-z][a-z0-9-]*/i)?.[0]?.toLowerCase() ?? 'run';
    const run = typeof command === 'string' && this.shell ? [...this.shell, command] : command;
    const index = this.out.steps.length;
    this.out.steps.push({ name: `line-${ins.line}-${first}`.slice(0, 63), run, at, line: ins.line, reason });
    const notes: string[] = [];
    if (/\/etc\/os-release|\/usr\/lib\/os-release/.test(typeof command === 'string' ? command : command.join(' '))) {
      notes.push('writes os-release: `metadata.osRelease` can set those keys (rendered at compile time, no clock)');
    }
    if (/\$\{?(FLAVOR|VARIANT|MODEL|TARGETARCH|ARCH)\b/.test(typeof command === 'string' ? command : ''))
      notes.push('reads build arguments: the manifest pins their values in build.args');
    this.entry(ins, 'step', [`build.steps[${index}]`], { step: index, reason, notes });
  }

  private apply(e: Effect, words: string, keys: string[], notes: string[]): void {
    switch (e.kind) {
      case 'install':
        for (const pkg of e.packages) {
          if (this.isKernel(pkg)) {
            const implied = this.family && FAMILY_INFO[this.family].kernel('amd64') === pkg;
            if (implied) notes.push(`\`${pkg}\`: the family's kernel, installed by derivc's boot glue`);
            else if (this.out.kernel === undefined) {
              this.out.kernel = pkg;
              uniquePush(keys, 'packages.kernel');
            } else notes.push(`\`${pkg}\`: a second kernel; derivc needs exactly one (packages.kernel is \`${this.out.kernel}\`)`);
          } else {
            uniquePush(this.out.install, pkg);
            uniquePush(keys, 'packages.install');
          }
        }
        this.advance(0);
        return;
      case 'remove':
        uniquePush(this.out.remove, ...e.packages);
        uniquePush(keys, 'packages.remove');
        return this.advance(0);
      case 'upgrade':
        this.out.upgrade = true;
        uniquePush(keys, 'packages.upgrade');
        return this.advance(0);
      case 'disableRepositories':
        uniquePush(this.out.disableRepositories, ...e.names);
        uniquePush(keys, 'packages.disableRepositories');
        return;
      case 'repository':
        if (!this.out.repositories.some((r) => r.name === e.repo.name)) this.out.repositories.push(e.repo);
        uniquePush(keys, 'packages.repositories');
        return;
      case 'luet':
        uniquePush(this.out.luetPackages, ...e.packages);
        uniquePush(keys, 'toolkit.packages');
        for (const d of e.dropped) notes.push(`\`${d}\` dropped: derivc runs luet with its own options`);
        return this.advance(1);
      case 'file':
        this.fileItem(e.item);
        uniquePush(keys, 'files');
        return this.advance(2);
      case 'enable':
        uniquePush(this.out.enable, ...e.units);
        uniquePush(keys, 'system.services.enable');
        return;
      case 'implied':
        notes.push(`\`${words}\` dropped: implied (${e.reason})`);
        if (/initrd/.test(e.reason)) this.advance(3);
        return;
    }
  }

  /** chmod/chown on a path an earlier item already places change that item; otherwise a new item. */
  private fileItem(item: FileItem): void {
    const attributesOnly = !item.source && !item.symlink && !item.directory && !item.absent;
    const existing = attributesOnly ? [...this.out.files].reverse().find((f) => f.path === item.path && !f.absent) : undefined;
    if (existing) Object.assign(existing, item);
    else this.out.files.push({ ...item });
  }

  private isKernel(pkg: string): boolean {
    const name = pkg.split('=')[0]!;
    return /^kernel-(default|default-base|kvmsmall|rt|longterm|vanilla|azure|preempt)$|^kernel(-core)?$|^linux-image-|^linux-(generic|virtual|lowlatency|raspi|aws|azure|gcp|kvm|oracle)(-hwe-[0-9.]+)?$/.test(
      name,
    );
  }

  private advance(phase: number): void {
    this.phase = Math.max(this.phase, phase);
  }

  // --- output -------------------------------------------------------------------------------

  private manifest(base: string): Record<string, unknown> {
    const o = this.out;
    const m: Record<string, unknown> = {
      apiVersion: 'derivc.dev/v1alpha1',
      kind: 'Derivative',
      metadata: { name: this.opts.name, version: this.opts.version ?? '0.1.0', ...o.meta, ...(Object.keys(o.labels).length ? { labels: o.labels } : {}) },
      base: {
        image: base,
        ...(this.family && !inferFamily(base) ? { family: this.family } : {}),
        ...(this.opts.platform && this.opts.platform !== 'linux/amd64' ? { platform: this.opts.platform } : {}),
      },
    };
    const t = this.toolkit;
    if (t?.source === 'luet') m['toolkit'] = { source: 'luet', luetImage: t.luetImage, ...(o.luetPackages.length ? { packages: o.luetPackages } : {}) };
    else if (t)
      m['toolkit'] = {
        source: 'image',
        image: t.image,
        mode: t.mode,
        ...(t.binary ? { binary: t.binary } : {}),
        ...(o.luetPackages.length ? { packages: o.luetPackages } : {}),
      };
    const packages = {
      ...(o.install.length ? { install: o.install } : {}),
      ...(o.remove.length ? { remove: o.remove } : {}),
      ...(o.upgrade ? { upgrade: true } : {}),
      ...(o.kernel ? { kernel: o.kernel } : {}),
      ...(o.repositories.length ? { repositories: o.repositories.map(repositoryData) } : {}),
      ...(o.disableRepositories.length ? { disableRepositories: o.disableRepositories } : {}),
    };
    if (Object.keys(packages).length) m['packages'] = packages;
    if (o.files.length) m['files'] = o.files.map(fileData);
    if (o.overlay !== undefined) m['overlay'] = o.overlay;
    if (o.enable.length) m['system'] = { services: { enable: o.enable } };
    const build = {
      ...(Object.keys(o.args).length ? { args: o.args } : {}),
      ...(Object.keys(o.env).length ? { env: o.env } : {}),
      ...(o.steps.length ? { steps: o.steps.map((s) => ({ name: s.name, run: s.run, at: s.at })) } : {}),
    };
    if (Object.keys(build).length) m['build'] = build;
    return m;
  }

  private entry(ins: DockerInstruction, outcome: Outcome, keys: string[], extra: { reason?: string; notes?: string[]; step?: number }): void {
    this.report.push({
      line: ins.line,
      instruction: shortened(ins.keyword, ins.text),
      outcome,
      keys,
      ...(extra.step !== undefined ? { step: extra.step } : {}),
      ...(extra.reason ? { reason: extra.reason } : {}),
      notes: extra.notes ?? [],
    });
  }

  private diagnostic(code: Diagnostic['code'], severity: Diagnostic['severity'], message: string, line: number, hint: string): Diagnostic {
    return { code, severity, message, file: this.opts.file, pointer: '', range: { start: { line, column: 1 }, end: { line, column: 1 } }, hint };
  }
}

/** MANIFEST.md key order for a files item. */
function fileData(f: FileItem): Record<string, unknown> {
  const keys = ['path', 'mode', 'owner', 'source', 'symlink', 'directory', 'absent'] as const;
  return Object.fromEntries(keys.filter((k) => f[k] !== undefined).map((k) => [k, f[k]]));
}

function repositoryData(r: Repository): Record<string, unknown> {
  const keys = ['name', 'url', 'ppa', 'gpgCheck', 'priority'] as const;
  return Object.fromEntries(keys.filter((k) => r[k] !== undefined).map((k) => [k, r[k]]));
}

function propertiesOf(ins: DockerInstruction): { name: string; value: string | undefined }[] {
  const node = ins.node as unknown as { getProperties?: () => { getName(): string; getValue(): string | null }[] };
  return (node.getProperties?.() ?? []).map((p) => ({ name: p.getName(), value: p.getValue() ?? undefined }));
}

/** Docker's exec form: the arguments are a JSON array of strings. */
function jsonArray(text: string): string[] | undefined {
  if (!text.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** COPY/ADD flags (`--from=x`) and paths, in shell or JSON form. */
function copyParts(ins: DockerInstruction): { flags: Map<string, string>; paths: string[] } {
  const flags = new Map<string, string>();
  let rest = ins.text;
  for (;;) {
    const m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest);
    if (!m) break;
    flags.set(m[1]!, m[2] ?? '');
    rest = rest.slice(m[0].length);
  }
  const json = jsonArray(rest);
  return { flags, paths: json ?? rest.split(/\s+/).filter(Boolean) };
}
