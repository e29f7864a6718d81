// Cloud-config as yip reads it: YAML 1.1 (go-yaml v2), so `permissions` is written as an
// unquoted octal (`0644` = 420) and words like `yes`/`on` stay strings. Map keys are sorted
// (with `name` first) so the manifest's key order never changes the bytes.

import { Document, isScalar, visit } from 'yaml';

function byName(a: { key: unknown }, b: { key: unknown }): number {
  const ka = String(isScalar(a.key) ? a.key.value : a.key);
  const kb = String(isScalar(b.key) ? b.key.value : b.key);
  if (ka === kb) return 0;
  if (ka === 'name') return -1;
  if (kb === 'name') return 1;
  return ka < kb ? -1 : 1;
}

export function cloudConfigYaml(header: string, data: unknown): string {
  const doc = new Document(data, { version: '1.1', sortMapEntries: byName });
  visit(doc, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === 'permissions' && isScalar(pair.value) && typeof pair.value.value === 'number') pair.value.format = 'OCT';
    },
  });
  return `${header}\n${doc.toString({ lineWidth: 0 })}`;
}
