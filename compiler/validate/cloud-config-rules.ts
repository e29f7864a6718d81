// Checks on yip stages beyond the schema, shared by the manifest's `stages` and `oemDir` files:
// mistakes yip would accept silently and that only show up on a booted machine.

import type { Diagnostic } from '../diagnostics.js';
import { arr, entries, obj, str } from '../data.js';
import { joinPointer, type SourceFile } from '../source-file.js';
import { didYouMean } from '../suggest.js';
import { finding } from './context.js';
import { LABEL_LIMITS } from './rules/labels.js';

const BOOT_STAGES = ['rootfs', 'initramfs', 'fs', 'boot', 'network', 'reconcile'];
const HOOKS = ['install', 'upgrade', 'reset'].flatMap((a) => [`before-${a}`, `after-${a}`, `after-${a}-chroot`]);
export const KNOWN_STAGES: readonly string[] = [...BOOT_STAGES.flatMap((s) => [`${s}.before`, s, `${s}.after`]), ...HOOKS, 'after-deploy-chroot'];

const CRYPT_HASH = /^\$(1|2[aby]|5|6|y|gy|7)\$/;

export function stageDiagnostics(source: SourceFile, stages: unknown, at: string): Diagnostic[] {
  const ctx = { source };
  const out: Diagnostic[] = [];
  for (const [name, steps] of entries(stages)) {
    const stageAt = joinPointer(at, name);
    if (!KNOWN_STAGES.includes(name)) {
      out.push(
        finding(ctx, 'stages/unknown-stage', stageAt, `\`${name}\` is not a stage the cOS toolkit runs`, {
          severity: 'warning',
          at: 'key',
          hint: didYouMean(name, KNOWN_STAGES) ?? 'custom stages run only when something calls `elemental run-stage <name>`; the boot stages are rootfs, initramfs, fs, boot, network, reconcile',
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
        finding(ctx, 'cloud-config/decimal-permissions', pointer, `permissions ${written} is a decimal number (octal ${Number(written).toString(8)}), not mode 0${written}`, {
          severity: 'warning',
          hint: `write \`permissions: 0${written}\` — yip reads the leading 0 as octal`,
        }),
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
    const limit = LABEL_LIMITS[fs];
    if (label === undefined || limit === undefined || label.length <= limit) return;
    out.push(
      finding(ctx, 'cloud-config/label-too-long', joinPointer(at, 'layout', 'add_partitions', i, 'fsLabel'), `label \`${label}\` is ${label.length} characters; ${fs} allows ${limit}`, {
        hint: `shorten it to at most ${limit} characters${fs === 'xfs' ? ' (COS_PERSISTENT does not fit xfs)' : ''}`,
      }),
    );
  });
  return out;
}
