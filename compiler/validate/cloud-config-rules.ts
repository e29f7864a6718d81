// Checks on cloud-config beyond the schema, shared by the manifest's `stages` and `oemDir` files:
// mistakes yip would accept silently and that only show up on a booted machine, and what the
// manifest's toolkit era (compiler/toolkit-era.ts) would ignore. Without an era (a file validated
// on its own) the newest yip and every toolkit's stage names apply.

import type { Diagnostic } from '../diagnostics.js';
import { arr, entries, obj, str } from '../data.js';
import { joinPointer, parsePointer, type SourceFile } from '../source-file.js';
import { didYouMean } from '../suggest.js';
import {
  cloudConfigHeaderLine,
  compareVersions,
  describeEra,
  eraHasYip,
  FLAVOR_NAMES,
  isKnownStage,
  knownStages,
  NEWEST_YIP,
  type ToolkitEra,
} from '../toolkit-era.js';
import { finding } from './context.js';
import { LABEL_LIMITS } from './rules/labels.js';
import { describePointer } from './schema-errors.js';
import type { CloudConfigFormat } from './schema.js';
import { nearMissKeys, versionedUses, type CloudConfigRoot, type VersionedUse } from './yip-walk.js';

const CRYPT_HASH = /^\$(1|2[aby]|5|6|y|gy|7)\$/;
const FAT_LABEL = 11;

/**
 * How yip (and Kairos) read a file: `#cloud-config` where this era's yip looks for it makes a
 * cloud-init file, with Kairos's keys on a Kairos toolkit (or on no toolkit in particular).
 * `lateHeader`: the header sits where only a newer yip finds it.
 */
export function cloudConfigFormat(text: string, era: ToolkitEra | undefined): { format: CloudConfigFormat; lateHeader?: number } {
  const line = cloudConfigHeaderLine(text, era?.yip.keys ?? NEWEST_YIP);
  const late = line === undefined ? cloudConfigHeaderLine(text, NEWEST_YIP) : undefined;
  if (line === undefined && late === undefined) return { format: 'yipFile' };
  const format = era === undefined || era.flavor === 'kairos' ? 'kairosFile' : 'cloudInitFile';
  return late !== undefined ? { format, lateHeader: late } : { format };
}

export function lateHeaderDiagnostic(source: SourceFile, line: number, era: ToolkitEra): Diagnostic {
  const start = source.text.split('\n', line - 1).reduce((n, l) => n + l.length + 1, 0);
  return {
    code: 'cloud-config/late-header',
    severity: 'error',
    message: `\`#cloud-config\` is on line ${line}; ${describeEra(era)} runs ${era.yip.module}, which reads it only on the first line, so it would ignore every cloud-init key in this file`,
    file: source.path,
    pointer: '',
    range: source.rangeOf(start, start + '#cloud-config'.length),
    hint: 'move `#cloud-config` to the first line (yip finds it after comment lines only from v1.22.0)',
  };
}

/** swapped words: `install-after` → `after-install`. */
function swappedWords(name: string, known: readonly string[]): string | undefined {
  const [stem, ...suffix] = name.split('.');
  const words = stem!.split('-');
  if (words.length !== 2) return undefined;
  const swapped = [[words[1], words[0]].join('-'), ...suffix].join('.');
  return known.includes(swapped) ? `did you mean \`${swapped}\`?` : undefined;
}

export function stageDiagnostics(source: SourceFile, stages: unknown, at: string, era?: ToolkitEra): Diagnostic[] {
  const ctx = { source };
  const out: Diagnostic[] = [];
  const flavor = era?.flavor;
  for (const [name, steps] of entries(stages)) {
    const stageAt = joinPointer(at, name);
    if (!isKnownStage(name, flavor)) {
      const known = knownStages(flavor);
      const runs = flavor ? FLAVOR_NAMES[flavor] : 'cOS, Elemental or Kairos';
      out.push(
        finding(ctx, 'stages/unknown-stage', stageAt, `\`${name}\` is not a stage ${runs} runs`, {
          severity: 'warning',
          at: 'key',
          hint:
            didYouMean(name, known) ??
            swappedWords(name, known) ??
            `custom stages run only when something calls \`${flavor === 'kairos' ? 'kairos-agent' : 'elemental'} run-stage <name>\`; the boot stages are rootfs, initramfs, fs, boot, network, reconcile`,
        }),
      );
    }
    arr(steps).forEach((step, i) => {
      for (const d of stepDiagnostics(source, obj(step), joinPointer(stageAt, i))) out.push(d);
    });
  }
  return out;
}

function stepDiagnostics(source: SourceFile, step: Record<string, unknown> | undefined, at: string): Diagnostic[] {
  if (!step) return [];
  const ctx = { source };
  const out: Diagnostic[] = [];
  for (const key of ['files', 'directories', 'downloads'] as const) {
    arr(step[key]).forEach((item, i) => {
      const pointer = joinPointer(at, key, i, 'permissions');
      const written = source.scalarSource(pointer);
      if (typeof obj(item)?.['permissions'] !== 'number' || written === undefined || !/^[1-7][0-7]{2,3}$/.test(written)) return;
      out.push(
        finding(
          ctx,
          'cloud-config/decimal-permissions',
          pointer,
          `permissions ${written} is a decimal number (octal ${Number(written).toString(8)}), not mode 0${written}`,
          {
            severity: 'warning',
            hint: `write \`permissions: 0${written}\` — yip reads the leading 0 as octal`,
          },
        ),
      );
    });
  }
  for (const [user, spec] of entries(step['users'])) {
    const passwd = str(obj(spec)?.['passwd']);
    if (passwd === undefined || passwd === '' || CRYPT_HASH.test(passwd) || /^[!*]/.test(passwd)) continue;
    out.push(
      finding(ctx, 'stages/plaintext-password', joinPointer(at, 'users', user, 'passwd'), `user \`${user}\` has a plaintext password`, {
        severity: 'warning',
        hint: 'store a crypt hash instead (`openssl passwd -6`): this file ends up readable in the image',
      }),
    );
  }
  arr(obj(step['layout'])?.['add_partitions']).forEach((p, i) => {
    const part = obj(p);
    const label = str(part?.['fsLabel']);
    const fs = str(part?.['filesystem']) ?? 'ext2';
    const limit = LABEL_LIMITS[fs] ?? (fs === 'fat16' || fs === 'fat32' ? FAT_LABEL : undefined);
    if (label === undefined || limit === undefined || label.length <= limit) return;
    out.push(
      finding(
        ctx,
        'cloud-config/label-too-long',
        joinPointer(at, 'layout', 'add_partitions', i, 'fsLabel'),
        `label \`${label}\` is ${label.length} characters; ${fs} allows ${limit}`,
        {
          hint: `shorten it to at most ${limit} characters${fs === 'xfs' ? ' (COS_PERSISTENT does not fit xfs)' : ''}`,
        },
      ),
    );
  });
  return out;
}

/** Conditions whose step runs anyway where they are ignored. */
const CONDITIONS = new Set(['only_os', 'only_os_version', 'only_arch', 'only_service_manager', 'if_files']);

/** Why a toolkit does not run a directive it decodes (or no longer decodes). */
function notRunReason(era: ToolkitEra, key: string): string {
  if (era.flavor === 'elemental' && key === 'modules') return `its yip (${era.yip.module}) no longer reads \`modules\``;
  if (era.flavor === 'elemental' && key === 'git') return 'its runner has no git plugin';
  if (era.flavor === 'kairos' && key === 'git') return 'kairos-agent is built without git, so the step fails';
  return `kairos-agent runs its own plugin list without it${CONDITIONS.has(key) ? ', so the step runs unconditionally' : ''}`;
}

/**
 * What the era's toolkit would ignore: keys and values newer than its yip (or its Kairos), keys
 * its Kairos no longer reads, and directives its runner does not run. Nothing without an era.
 */
export function eraDiagnostics(source: SourceFile, data: unknown, root: CloudConfigRoot, at: string, era: ToolkitEra | undefined): Diagnostic[] {
  if (!era) return [];
  const ctx = { source };
  const out: Diagnostic[] = [];
  const name = describeEra(era);
  for (const use of versionedUses(data, root, at)) {
    const d = versionDiagnostic(ctx, use, era, name);
    if (d) out.push(d);
  }
  if (era.notRun.length) {
    for (const step of stepPointers(data, root, at)) {
      for (const key of era.notRun) {
        if (obj(step.value)?.[key] === undefined) continue;
        out.push(
          finding(ctx, 'cloud-config/not-run-by-toolkit', joinPointer(step.pointer, key), `\`${key}\` is not run by ${name}: ${notRunReason(era, key)}`, {
            severity: 'warning',
            at: 'key',
            hint:
              key === 'git'
                ? 'fetch the repository at build time (a `build.steps` entry), or with `commands`'
                : key === 'modules'
                  ? 'load the modules with `commands: [modprobe …]`, or list them in `system.modules`'
                  : `upgrade the toolkit, or write the step without \`${key}\``,
          }),
        );
      }
    }
  }
  return out;
}

function versionDiagnostic(ctx: { source: SourceFile }, use: VersionedUse, era: ToolkitEra, name: string): Diagnostic | undefined {
  if (use.kind === 'yip-since') {
    if (eraHasYip(era, use.version)) return undefined;
    // Elemental's own layout plugin makes btrfs from v1.2.0, whatever its yip.
    if (use.at === 'value' && use.what === 'btrfs' && era.flavor === 'elemental' && compareVersions(era.version, 'v1.2.0') >= 0) return undefined;
    const runs = era.yip.module.endsWith(era.yip.keys) ? `yip ${era.yip.keys}` : `${era.yip.module} (the yip ${era.yip.keys} schema)`;
    const field = parsePointer(use.pointer)
      .filter((s) => !/^\d+$/.test(s))
      .at(-1);
    const subject = use.at === 'key' ? `\`${use.what}\`` : `\`${use.what}\` in \`${field}\``;
    const effect = use.at === 'key' && CONDITIONS.has(use.what) ? ', so the step runs unconditionally' : '';
    return finding(
      ctx,
      'cloud-config/newer-than-toolkit',
      use.pointer,
      `${subject} needs yip ${use.version} or later; ${name} runs ${runs}, which ignores it${effect}`,
      {
        severity: 'warning',
        at: use.at,
        hint: `use a toolkit release whose yip is ${use.version} or later (\`toolkit.version\`, the toolkit image's tag), or do without ${use.at === 'key' ? `\`${use.what}\`` : 'it'}`,
      },
    );
  }
  if (era.flavor !== 'kairos') return undefined;
  const newer = compareVersions(era.version, use.version) < 0;
  if (use.kind === 'kairos-since' && newer) {
    return finding(
      ctx,
      'cloud-config/newer-than-toolkit',
      use.pointer,
      `${describePointer(use.pointer)} is read by Kairos ${use.version} and later; this manifest's toolkit is ${name}, which ignores it`,
      {
        severity: 'warning',
        at: 'key',
        hint: "use a newer Kairos release (`toolkit.version`, the toolkit image's tag), or remove the key",
      },
    );
  }
  if (use.kind === 'kairos-until' && !newer) {
    return finding(
      ctx,
      'cloud-config/not-run-by-toolkit',
      use.pointer,
      `${describePointer(use.pointer)} is no longer read from Kairos ${use.version} on; this manifest's toolkit is ${name}`,
      {
        severity: 'warning',
        at: 'key',
        hint: '`derivc schema` describes what replaced it',
      },
    );
  }
  return undefined;
}

/** Every step of a file's (or the manifest's) stages, with its pointer. */
function stepPointers(data: unknown, root: CloudConfigRoot, at: string): { pointer: string; value: unknown }[] {
  const stagesAt = root === 'stages' ? at : joinPointer(at, 'stages');
  const stages = root === 'stages' ? data : obj(data)?.['stages'];
  return entries(stages).flatMap(([stage, steps]) => arr(steps).map((value, i) => ({ pointer: joinPointer(stagesAt, stage, i), value })));
}

/** Kairos's pass-through objects (the top level, `k3s`, `p2p`…): an unknown key one typo away from a known one. */
export function kairosTypoDiagnostics(source: SourceFile, data: unknown): Diagnostic[] {
  const ctx = { source };
  return nearMissKeys(data, 'kairosFile').map((m) => {
    const parent = m.pointer.slice(0, m.pointer.lastIndexOf('/'));
    return finding(ctx, 'cloud-config/unknown-key', m.pointer, `unknown key \`${m.key}\` in ${describePointer(parent)}`, {
      at: 'key',
      hint: `did you mean \`${m.suggestion}\`?`,
    });
  });
}
