// Partition and filesystem labels: one source (`boot.labels`), each within its filesystem's limit
// (ext2/ext4 16, xfs 12, vfat 11 bytes) and all distinct, since boot finds partitions by label.

import type { Diagnostic } from '../../diagnostics.js';
import { entries, obj, str } from '../../data.js';
import { finding, type Rule } from '../context.js';

export const LABEL_LIMITS: Record<string, number> = { ext2: 16, ext3: 16, ext4: 16, xfs: 12, vfat: 11, fat: 11, btrfs: 255 };

/** The filesystem each `boot.labels` entry names: partitions are ext4, system images ext2. */
const LABEL_FS: Record<string, string> = { oem: 'ext4', state: 'ext4', recovery: 'ext4', persistent: 'ext4', active: 'ext2', passive: 'ext2', system: 'ext2' };

/** The cOS defaults: a label set explicitly must not collide with one left at its default. */
const DEFAULTS: Record<string, string> = {
  oem: 'COS_OEM',
  state: 'COS_STATE',
  recovery: 'COS_RECOVERY',
  persistent: 'COS_PERSISTENT',
  active: 'COS_ACTIVE',
  passive: 'COS_PASSIVE',
  system: 'COS_SYSTEM',
};

export const labelRules: Rule = (ctx) => {
  const labels = obj(obj(ctx.manifest['boot'])?.['labels']);
  if (!labels) return [];
  const out: Diagnostic[] = [];
  const owner = new Map<string, string>();
  for (const [key, label] of Object.entries(DEFAULTS)) if (str(labels[key]) === undefined) owner.set(label, `${key}` + ' (default)');
  for (const [key, value] of entries(labels)) {
    const label = str(value);
    const fs = LABEL_FS[key];
    if (label === undefined || fs === undefined) continue;
    const limit = LABEL_LIMITS[fs]!;
    const bytes = new TextEncoder().encode(label).length;
    if (bytes > limit) {
      out.push(
        finding(ctx, 'boot/label-too-long', `/boot/labels/${key}`, `label \`${label}\` is ${bytes} bytes; ${fs} allows ${limit}`, {
          hint: `shorten it to at most ${limit} bytes`,
        }),
      );
    }
    const other = owner.get(label);
    if (other !== undefined) {
      out.push(
        finding(ctx, 'boot/duplicate-label', `/boot/labels/${key}`, `label \`${label}\` is also used for \`${other}\``, {
          hint: 'every partition and image needs its own label: boot finds them by label',
        }),
      );
    } else owner.set(label, key);
  }
  return out;
};
