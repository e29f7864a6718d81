// `targets`: the raw disk must hold the partitions it is asked to carry.

import type { Diagnostic } from '../../diagnostics.js';
import { entries, obj } from '../../data.js';
import { formatSize, parseSize } from '../../units.js';
import { finding, type Rule } from '../context.js';

/** What the raw disk needs besides the named partitions: GPT, BIOS boot and EFI partitions. */
export const RAW_OVERHEAD_BYTES = (1 + 1 + 64 + 1) * 2 ** 20;
export const DEFAULT_RAW_SIZE = '8GiB';

export const targetRules: Rule = (ctx) => {
  const raw = obj(obj(ctx.manifest['targets'])?.['raw']);
  if (!raw) return [];
  const out: Diagnostic[] = [];
  const size = parseSize(raw['size'] ?? DEFAULT_RAW_SIZE);
  const parts = entries(raw['partitions']).map(([k, v]) => [k, parseSize(v)] as const);
  const fixed = parts.reduce((sum, [, v]) => sum + (v ?? 0), 0) + RAW_OVERHEAD_BYTES;
  if (size !== undefined && fixed > size) {
    out.push(
      finding(ctx, 'targets/raw-too-small', raw['size'] === undefined ? '/targets/raw' : '/targets/raw/size', `the raw disk is ${formatSize(size)}, but its partitions need ${formatSize(fixed)} (including ${formatSize(RAW_OVERHEAD_BYTES)} for GPT, BIOS and EFI)`, {
        at: raw['size'] === undefined ? 'key' : 'value',
        hint: 'raise `targets.raw.size` or shrink `targets.raw.partitions`',
      }),
    );
  }
  return out;
};
