// Cloud-config data walked together with its schema (schema/cloud-config.schema.json), for what
// a JSON Schema validator cannot do:
//   - read values as yip's Go decoders do (`decodeAsYip`): any scalar in a string field is its
//     source text (`only_os_version: 22.10` is "22.10", not 22.1), a plain YAML 1.1 word
//     (`yes`, `on`, `N`…) in a boolean field is a boolean. derivc's YAML 1.2 reader would make
//     these numbers and strings; mutating the data keeps what the manifest's stages emit faithful;
//   - find keys and values newer than a toolkit's yip or Kairos (`x-yip-since`,
//     `x-yip-values-since`, `x-yip-prefix-since`, `x-kairos-since`, `x-kairos-until`);
//   - find likely typos among the keys of open objects (Kairos's pass-through keys).

import cloudConfigSchema from '../../schema/cloud-config.schema.json' with { type: 'json' };
import { joinPointer, type SourceFile } from '../source-file.js';
import { closest } from '../suggest.js';

type SchemaNode = Record<string, unknown>;
const DEFINITIONS = (cloudConfigSchema as { definitions: Record<string, SchemaNode> }).definitions;

export type CloudConfigRoot = 'yipFile' | 'cloudInitFile' | 'kairosFile' | 'stages';

function rootSchema(root: CloudConfigRoot): SchemaNode {
  return root === 'yipFile' ? (cloudConfigSchema as unknown as SchemaNode) : DEFINITIONS[root]!;
}

function resolve(node: SchemaNode): SchemaNode {
  let n = node;
  for (let hops = 0; typeof n['$ref'] === 'string' && hops < 8; hops++) {
    const name = (n['$ref'] as string).split('#/definitions/')[1];
    const target = name !== undefined ? DEFINITIONS[name] : undefined;
    if (!target) break;
    n = target;
  }
  return n;
}

function types(node: SchemaNode): string[] {
  const t = node['type'];
  const own = Array.isArray(t) ? (t as string[]) : typeof t === 'string' ? [t] : [];
  const anyOf = Array.isArray(node['anyOf']) ? (node['anyOf'] as SchemaNode[]).flatMap(types) : [];
  return [...own, ...anyOf];
}

/** One value of the data with the schema node that describes it (as written, before `$ref`). */
interface Visit {
  value: unknown;
  pointer: string;
  /** The property node: annotations sit here, next to the `$ref`. */
  schema: SchemaNode;
  /** The key that holds the value when its parent is a mapping. */
  key?: string;
  /** The mapping or list holding the value, and where in it (absent for the root). */
  holder?: Record<string, unknown> | unknown[];
  slot?: string | number;
}

/** Every value the schema describes, depth first; `visit` sees a value before its children. */
function walk(visit: (v: Visit) => void, value: unknown, schema: SchemaNode, pointer: string, place: Pick<Visit, 'key' | 'holder' | 'slot'> = {}): void {
  visit({ value, pointer, schema, ...place });
  const node = resolve(schema);
  if (Array.isArray(value)) {
    const items = node['items'];
    if (items && typeof items === 'object')
      value.forEach((item, i) => walk(visit, item, items as SchemaNode, joinPointer(pointer, i), { holder: value, slot: i }));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const props = (node['properties'] as Record<string, SchemaNode> | undefined) ?? {};
  const extra = node['additionalProperties'];
  const map = value as Record<string, unknown>;
  for (const [k, v] of Object.entries(map)) {
    const child = Object.hasOwn(props, k) ? props[k] : extra && typeof extra === 'object' ? (extra as SchemaNode) : undefined;
    if (child) walk(visit, v, child, joinPointer(pointer, k), { key: k, holder: map, slot: k });
  }
}

/** go-yaml's YAML 1.1 booleans (resolve.go), which both yaml.v2 and yaml.v3 apply to a bool field. */
const YAML11_BOOLEANS: Record<string, boolean> = Object.fromEntries([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'true', 'True', 'TRUE'].map((w) => [w, true]),
  ...['n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF', 'false', 'False', 'FALSE'].map((w) => [w, false]),
]);

/**
 * Rewrites `data` (in place) to the values yip decodes. Quoted text stays text: `"true"` in a
 * boolean field is still a string, and still an error, as yip drops the whole file over it.
 * An empty value stays empty (null): where yip reads it as "" the schema says whether that is fine.
 */
export function decodeAsYip(data: unknown, source: SourceFile, root: CloudConfigRoot, at = ''): void {
  walk(
    ({ value, pointer, schema, holder, slot }) => {
      if (!holder || slot === undefined) return;
      const t = types(resolve(schema));
      let decoded: unknown = value;
      if ((typeof value === 'number' || typeof value === 'boolean') && t.includes('string')) decoded = source.scalarSource(pointer) ?? String(value);
      else if (typeof value === 'string' && t.length === 1 && t[0] === 'boolean') {
        const plain = source.plainScalarSource(pointer);
        if (plain !== undefined && Object.hasOwn(YAML11_BOOLEANS, plain)) decoded = YAML11_BOOLEANS[plain];
      }
      if (decoded === value) return;
      if (Array.isArray(holder)) holder[slot as number] = decoded;
      else Object.defineProperty(holder, slot, { value: decoded, writable: true, enumerable: true, configurable: true });
    },
    data,
    rootSchema(root),
    at,
  );
}

/** A key or value that only some releases read. */
export interface VersionedUse {
  pointer: string;
  /** `key`: the key at `pointer` is versioned; `value`: its value (a provider, a filesystem, a `script://` path). */
  at: 'key' | 'value';
  /** What is versioned, for messages: `only_os`, `maas`, `script://`. */
  what: string;
  kind: 'yip-since' | 'kairos-since' | 'kairos-until';
  version: string;
}

export function versionedUses(data: unknown, root: CloudConfigRoot, at = ''): VersionedUse[] {
  const out: VersionedUse[] = [];
  walk(
    ({ value, pointer, schema, key }) => {
      const annotated = [schema, resolve(schema)];
      for (const [keyword, kind] of [
        ['x-yip-since', 'yip-since'],
        ['x-kairos-since', 'kairos-since'],
        ['x-kairos-until', 'kairos-until'],
      ] as const) {
        const version = annotated.map((n) => n[keyword]).find((v): v is string => typeof v === 'string');
        if (version !== undefined && key !== undefined) out.push({ pointer, at: 'key', what: key, kind, version });
      }
      const node = resolve(schema);
      const values = node['x-yip-values-since'] as Record<string, string> | undefined;
      if (typeof value === 'string' && values && Object.hasOwn(values, value))
        out.push({ pointer, at: 'value', what: value, kind: 'yip-since', version: values[value]! });
      const prefixes = node['x-yip-prefix-since'] as Record<string, string> | undefined;
      for (const [prefix, version] of Object.entries(prefixes ?? {})) {
        if (typeof value === 'string' && value.startsWith(prefix)) out.push({ pointer, at: 'value', what: prefix, kind: 'yip-since', version });
      }
    },
    data,
    rootSchema(root),
    at,
  );
  return out;
}

/** An unknown key of an open mapping that is one edit or so away from a known key. */
export interface NearMiss {
  pointer: string;
  key: string;
  suggestion: string;
  allowed: string[];
}

/** At most this many unknown keys are compared (a file can hold 100k keys; only typos matter). */
const NEAR_MISS_LIMIT = 500;

export function nearMissKeys(data: unknown, root: CloudConfigRoot, at = ''): NearMiss[] {
  const out: NearMiss[] = [];
  let compared = 0;
  walk(
    ({ value, pointer, schema }) => {
      const node = resolve(schema);
      if (node['additionalProperties'] !== true || value === null || typeof value !== 'object' || Array.isArray(value)) return;
      const allowed = Object.keys((node['properties'] as object | undefined) ?? {});
      for (const key of Object.keys(value)) {
        if (allowed.includes(key) || compared++ >= NEAR_MISS_LIMIT) continue;
        const suggestion = closest(key, allowed);
        if (suggestion !== undefined) out.push({ pointer: joinPointer(pointer, key), key, suggestion, allowed });
      }
    },
    data,
    rootSchema(root),
    at,
  );
  return out;
}
