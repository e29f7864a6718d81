// `derivc fmt`: the canonical text of a manifest. Keys in the order the schema lists them (which
// is MANIFEST.md's), keys the schema does not know after them as written; comments and blank
// lines kept (yaml's Document API carries them on the nodes that move); 2-space indentation and a
// final newline; file modes as double-quoted strings ("0644"). Kept as written: every scalar's
// text except modes (a number stays `0644`, a boolean stays `yes` — the same meaning to every
// reader), the order inside `stages` (yip's cloud-config, in the order its author reads it) and in
// free-form mappings (sysctl, env, labels), and the whole key order of a file with YAML aliases
// (moving an alias above its anchor would break it). The result is re-read and must hold the same
// data as the input, or formatting fails loudly instead of changing a manifest.

import { isDeepStrictEqual } from 'node:util';
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, Scalar, visit, type Document, type Node, type ScalarTag } from 'yaml';
import manifestSchema from '../schema/derivative.schema.json' with { type: 'json' };
import type { Result } from './diagnostics.js';
import { parseYaml } from './parse.js';

type Schema = Record<string, unknown>;

/** A scalar printed exactly as it was written. */
class Verbatim {
  constructor(readonly source: string) {}
}

const verbatimTag: ScalarTag = {
  tag: 'tag:derivc.dev,2024:verbatim',
  default: true,
  identify: (value) => value instanceof Verbatim,
  resolve: (text) => text,
  stringify: (item) => (item as Scalar<Verbatim>).value.source,
};

/** The document of `text` whose numbers, booleans and nulls print as written (yaml would print 0644 as 644, yes as true). */
export function verbatimDocument(text: string): Document {
  const doc = parseDocument(text, { merge: true, uniqueKeys: false, customTags: [verbatimTag], keepSourceTokens: false });
  visit(doc, {
    Scalar(_, node) {
      if (node.type === 'PLAIN' && typeof node.value !== 'string' && typeof node.source === 'string') node.value = new Verbatim(node.source);
    },
  });
  return doc;
}

/** The formatted text, or undefined (with diagnostics) when the file does not parse. */
export function formatManifest(path: string, bytes: Uint8Array): Result<string | undefined> {
  const parsed = parseYaml(path, bytes, { yipOctal: 'stages' });
  if (parsed.diagnostics.some((d) => d.severity === 'error')) return { value: undefined, diagnostics: parsed.diagnostics };
  const text = parsed.value.source.text;
  const doc = verbatimDocument(text);
  let aliases = false;
  visit(doc, {
    Alias() {
      aliases = true;
      return visit.BREAK;
    },
  });
  if (doc.contents) canonical(doc.contents, manifestSchema as Schema, !aliases, '');
  const out = doc.toString({ indent: 2, indentSeq: true, lineWidth: 0, flowCollectionPadding: false });
  const again = parseYaml(path, new TextEncoder().encode(out), { yipOctal: 'stages' });
  if (again.diagnostics.length || !isDeepStrictEqual(again.value.data, parsed.value.data))
    throw new Error(`formatting ${path} would change what it means; it is left as it is (this is a bug in derivc fmt)`);
  return { value: out, diagnostics: [] };
}

function canonical(node: Node, schema: Schema | undefined, reorder: boolean, pointer: string): void {
  if (isAlias(node)) return;
  if (isSeq(node)) {
    const items = schema ? itemSchema(schema) : undefined;
    node.items.forEach((item, i) => canonical(item as Node, items, reorder, `${pointer}/${i}`));
    return;
  }
  if (!isMap(node)) return;
  // yip's cloud-config: its keys stay where their author put them.
  if (pointer === '/stages') return;
  const present = node.items.flatMap((p) => (isPair(p) && isScalar(p.key) ? [String(p.key.value)] : []));
  const order = schema ? propertyOrder(schema, present) : [];
  if (reorder && order.length) {
    const rank = (p: unknown) => {
      const key = isPair(p) && isScalar(p.key) ? String(p.key.value) : undefined;
      const i = key === undefined ? -1 : order.indexOf(key);
      return i < 0 ? order.length : i;
    };
    const first = node.items[0];
    // A stable sort: unknown keys (and `<<` merges) keep their relative order, after the known ones.
    node.items = node.items
      .map((p, i) => ({ p, i, r: rank(p) }))
      .sort((a, b) => a.r - b.r || a.i - b.i)
      .map((x) => x.p);
    // yaml keeps a comment right above a mapping's first key on the mapping: it belongs to that key, and moves with it.
    if (node.commentBefore && !node.flow && first !== node.items[0] && isPair(first) && isScalar(first.key)) {
      first.key.commentBefore = first.key.commentBefore ? `${node.commentBefore}\n${first.key.commentBefore}` : node.commentBefore;
      node.commentBefore = undefined;
    }
  }
  for (const pair of node.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const value = pair.value as Node | null;
    if (key === 'mode' && isScalar(value) && typeof value.value === 'string' && /^0?[0-7]{3,4}$/.test(value.value)) value.type = Scalar.QUOTE_DOUBLE;
    if (value) canonical(value, schema ? childSchema(schema, key) : undefined, reorder, `${pointer}/${key}`);
  }
}

function resolve(schema: Schema): Schema[] {
  const out: Schema[] = [];
  const walk = (s: unknown, depth: number) => {
    if (!s || typeof s !== 'object' || depth > 16) return;
    const node = s as Schema;
    const ref = node['$ref'];
    if (typeof ref === 'string') {
      // Only this schema's own definitions; cloud-config is yip's and stays as written.
      const m = /^#\/definitions\/(.+)$/.exec(ref);
      if (m) walk((manifestSchema.definitions as Record<string, unknown>)[m[1]!], depth + 1);
      return;
    }
    out.push(node);
    for (const k of ['allOf', 'anyOf', 'oneOf']) if (Array.isArray(node[k])) for (const branch of node[k] as unknown[]) walk(branch, depth + 1);
    if (node['if']) for (const k of ['then', 'else']) walk(node[k], depth + 1);
  };
  walk(schema, 0);
  return out;
}

/**
 * The order of an object's keys: of the first schema branch (oneOf/anyOf) that has every key
 * present (`toolkit` with `source: image` lists its own keys in its own order), else all
 * branches' keys in the order they first appear.
 */
function propertyOrder(schema: Schema, present: readonly string[]): string[] {
  const lists: string[][] = [];
  for (const s of resolve(schema)) {
    const props = s['properties'];
    if (props && typeof props === 'object') lists.push(Object.keys(props));
  }
  const union: string[] = [];
  for (const list of lists) for (const k of list) if (!union.includes(k)) union.push(k);
  const known = present.filter((k) => union.includes(k));
  const branch = lists.find((list) => known.every((k) => list.includes(k)));
  return branch ? [...branch, ...union.filter((k) => !branch.includes(k))] : union;
}

function childSchema(schema: Schema, key: string): Schema | undefined {
  for (const s of resolve(schema)) {
    const props = s['properties'] as Record<string, Schema> | undefined;
    if (props && Object.hasOwn(props, key)) return props[key];
  }
  for (const s of resolve(schema)) {
    const extra = s['additionalProperties'];
    if (extra && typeof extra === 'object') return extra as Schema;
    const patterns = s['patternProperties'] as Record<string, Schema> | undefined;
    if (patterns) for (const [re, sub] of Object.entries(patterns)) if (new RegExp(re, 'u').test(key)) return sub;
  }
  return undefined;
}

function itemSchema(schema: Schema): Schema | undefined {
  for (const s of resolve(schema)) if (s['items'] && typeof s['items'] === 'object' && !Array.isArray(s['items'])) return s['items'] as Schema;
  return undefined;
}
