// A YAML document → plain data, in one pass that refuses what the data must not carry: a key
// given twice, a key that is a list or mapping, a tag derivc does not implement, an alias to no
// anchor or to the value that contains it, and aliases that expand past a budget or the nesting
// limit. Linear in the document: yaml's own `uniqueKeys` compares every pair of keys in a mapping
// and its `toJS` finds each alias's anchor by scanning all anchors before it, both quadratic (a
// 3 MB mapping of 120k keys took minutes). Aliases share the converted value, as yaml's do.

import { isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type Node, type Pair, type Scalar } from 'yaml';
import { MAX_NESTING, type ScanFacts } from './yaml-scan.js';
import type { DiagnosticCode } from './codes.js';

/** Nodes that aliases may add to a document when expanded; a "billion laughs" file hits it at once. */
export const MAX_ALIAS_NODES = 10_000;

export interface DataProblem {
  code: DiagnosticCode;
  message: string;
  hint: string;
  start: number;
  end: number;
}

export interface DataResult {
  /** Undefined when there are problems. */
  data: unknown;
  problems: DataProblem[];
  /** Each alias's anchored node: SourceFile follows aliases through this map. */
  aliasTargets: Map<Alias, Node>;
}

export interface DataOptions {
  /** A /system/oem file rather than a manifest: only changes hints. */
  cloudConfig: boolean;
  /** 1-based line of an offset, for messages that name another line. */
  lineOf(offset: number): number;
}

export function yamlToData(doc: Document, facts: ScanFacts, options: DataOptions): DataResult {
  const c = new Converter(facts, options);
  const { value } = c.node(doc.contents, 0);
  return { data: c.problems.length ? undefined : value, problems: c.problems, aliasTargets: c.aliasTargets };
}

interface Converted {
  value: unknown;
  /** Nodes in the value once every alias in it is expanded. */
  size: number;
  /** Lists and mappings nested in the value, itself included. */
  height: number;
}

const EMPTY: Converted = { value: null, size: 1, height: 0 };
const CORE = 'tag:yaml.org,2002:';

/** A typed scalar must read the same in every YAML reader (yip's go-yaml v2 is YAML 1.1). */
const UNAMBIGUOUS: Record<string, { form: RegExp; needs: string; why: string }> = {
  '!!int': { form: /^[-+]?(0|[1-9][0-9]*)$/, needs: 'a decimal integer without leading zeros', why: 'YAML 1.1 reads `0644` as octal, YAML 1.2 as decimal' },
  '!!float': {
    form: /^[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/,
    needs: 'a decimal number without leading zeros',
    why: 'YAML 1.1 and 1.2 read other number forms differently',
  },
  '!!bool': { form: /^(true|True|TRUE|false|False|FALSE)$/, needs: '`true` or `false`', why: 'YAML 1.1 reads `yes`, `on`… as booleans, YAML 1.2 as strings' },
  '!!null': { form: /^(~|null|Null|NULL|)$/, needs: '`null`, `~` or nothing', why: 'anything else is not null' },
};

class Converter {
  readonly problems: DataProblem[] = [];
  readonly aliasTargets = new Map<Alias, Node>();
  /** The latest node defining each anchor name so far, in document order. */
  private readonly anchors = new Map<string, Node>();
  /** Anchored nodes once converted; an anchored node without an entry is still being converted. */
  private readonly done = new Map<Node, Converted>();
  private expanded = 0;
  private readonly reported = new Set<string>();

  constructor(
    private readonly facts: ScanFacts,
    private readonly options: DataOptions,
  ) {}

  /** `depth`: the lists and mappings around the node. */
  node(node: unknown, depth: number): Converted {
    if (node === null || node === undefined) return EMPTY;
    if (isAlias(node)) return this.alias(node, depth);
    const n = node as Node;
    if (n.anchor) this.anchors.set(n.anchor, n);
    if (n.tag) this.checkTag(n);
    let result: Converted;
    if (isScalar(n)) result = this.scalar(n);
    else if ((isMap(n) || isSeq(n) || isPair(n)) && depth >= MAX_NESTING) {
      this.once(
        'parse/too-deep',
        `lists and mappings are nested more than ${MAX_NESTING} levels deep`,
        'flatten the structure',
        n.range?.[0] ?? 0,
        n.range?.[0] ?? 0,
      );
      result = EMPTY;
    } else if (isMap(n)) result = this.map(n.items as Pair[], depth + 1);
    else if (isPair(n)) result = this.map([n as unknown as Pair], depth + 1);
    else if (isSeq(n)) result = this.seq(n.items, depth + 1);
    else result = EMPTY;
    if (n.anchor) this.done.set(n, result);
    return result;
  }

  private scalar(n: Scalar): Converted {
    const v = n.value;
    if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return { value: v, size: 1, height: 0 };
    // Only `%YAML 1.1` documents get here: timestamps become Dates, `!!binary` bytes (its tag is reported).
    if (n.tag) return EMPTY;
    const [start, end] = range(n);
    const kind = v instanceof Date ? 'a timestamp' : v instanceof Uint8Array ? 'binary data' : `a ${typeof v}`;
    this.problem(
      'parse/unsupported-tag',
      `\`${clip(String(n.source ?? ''))}\` reads as ${kind} under \`%YAML 1.1\`; derivc reads strings, numbers, booleans and null`,
      'quote the value to keep it a string, or remove the `%YAML 1.1` line',
      start,
      end,
    );
    return EMPTY;
  }

  private seq(items: readonly unknown[], depth: number): Converted {
    const list: unknown[] = [];
    let size = 1;
    let height = 0;
    for (const item of items) {
      const c = isPair(item) ? this.map([item as Pair], depth + 1) : this.node(item, depth);
      list.push(c.value);
      size += c.size;
      height = Math.max(height, c.height);
    }
    return { value: list, size, height: height + 1 };
  }

  private map(pairs: readonly Pair[], depth: number): Converted {
    const obj: Record<string, unknown> = {};
    const keyAt = new Map<string, number>();
    let size = 1;
    let height = 0;
    for (const pair of pairs) {
      if (isScalar(pair.key) && typeof pair.key.value === 'symbol') {
        // `<<: *base` / `<<: [*a, *b]`: keys already here win, then the first source that has it.
        const merged = this.merge(pair.value, depth);
        size += merged.size;
        height = Math.max(height, merged.height);
        for (const source of merged.sources) for (const k of Object.keys(source)) if (!Object.hasOwn(obj, k)) set(obj, k, source[k]);
        continue;
      }
      const key = this.key(pair.key, depth);
      const value = this.node(pair.value, depth);
      size += value.size;
      height = Math.max(height, value.height);
      if (key === undefined) continue;
      const first = keyAt.get(key);
      if (first !== undefined) {
        const [start, end] = range(pair.key);
        this.problem(
          'parse/duplicate-key',
          `duplicate key \`${clip(key)}\`: this mapping already has it on line ${this.options.lineOf(first)}`,
          'remove or merge the repeated key (YAML keeps only one of them)',
          start,
          end,
        );
        continue;
      }
      keyAt.set(key, (pair.key as Node | null)?.range?.[0] ?? 0);
      set(obj, key, value.value);
    }
    return { value: obj, size, height: height + 1 };
  }

  /** The key as a JavaScript property name, as yaml would make it; undefined when it is a collection. */
  private key(key: unknown, depth: number): string | undefined {
    if (key === null || key === undefined) return '';
    const c = this.node(key, depth);
    const target = isAlias(key) ? this.aliasTargets.get(key) : (key as Node);
    if (target === undefined || isScalar(target)) return c.value === null ? '' : String(c.value);
    const [start, end] = range(key);
    this.problem('parse/complex-key', 'a mapping key must be a plain value, not a list or mapping', 'write the key as a word, e.g. `name:`', start, end);
    return undefined;
  }

  private merge(value: unknown, depth: number): { sources: Record<string, unknown>[]; size: number; height: number } {
    const c = this.node(value, depth);
    const nodes = isSeq(value) ? value.items : [value];
    const values = isSeq(value) ? (Array.isArray(c.value) ? c.value : []) : [c.value];
    const sources: Record<string, unknown>[] = [];
    nodes.forEach((n, i) => {
      const target = isAlias(n) ? this.aliasTargets.get(n) : n;
      const v = values[i];
      if (target === undefined) return; // an undefined alias, reported already
      if (!isMap(target)) {
        const [start, end] = range(n);
        this.problem(
          'parse/invalid-merge',
          '`<<` merges mappings only; this is not a mapping',
          'write `<<: *name` where `&name` is on a mapping, or `<<: [*a, *b]`',
          start,
          end,
        );
      } else if (v && typeof v === 'object') sources.push(v as Record<string, unknown>);
    });
    // The merged keys sit in this mapping: one level less than their source mapping (and its list).
    return { sources, size: c.size, height: Math.max(0, c.height - (isSeq(value) ? 2 : 1)) };
  }

  private alias(alias: Alias, depth: number): Converted {
    const [start, end] = range(alias);
    const name = clip(alias.source);
    const target = this.anchors.get(alias.source);
    if (target === undefined) {
      this.problem(
        'parse/undefined-alias',
        `alias \`*${name}\` refers to no anchor defined before it`,
        `define \`&${name}\` on a value above this line, or fix the name`,
        start,
        end,
      );
      return EMPTY;
    }
    this.aliasTargets.set(alias, target);
    const done = this.done.get(target);
    if (done === undefined) {
      this.problem(
        'parse/recursive-alias',
        `alias \`*${name}\` is inside the value \`&${name}\` names: it would repeat itself forever`,
        'an alias repeats a value that is complete before it; write the nested part out',
        start,
        end,
      );
      return EMPTY;
    }
    this.expanded += done.size;
    if (this.expanded > MAX_ALIAS_NODES) {
      this.once(
        'parse/alias-limit',
        `aliases expand to more than ${MAX_ALIAS_NODES} nodes`,
        'this looks like an alias bomb; write the repeated content out, or use fewer nested aliases',
        start,
        end,
      );
      return EMPTY;
    }
    if (depth + done.height > MAX_NESTING) {
      this.once(
        'parse/too-deep',
        `alias \`*${name}\` nests lists and mappings more than ${MAX_NESTING} levels deep`,
        'flatten the structure, or write the repeated part out',
        start,
        end,
      );
      return EMPTY;
    }
    return done;
  }

  private checkTag(n: Node): void {
    const tag = n.tag!;
    const name = tag.startsWith(CORE) ? `!!${tag.slice(CORE.length)}` : tag;
    const written = this.tagBefore(range(n)[0]);
    const [start, end] = written ? [written.start, written.end] : range(n);
    const shown = written?.source ?? name;
    if (isScalar(n)) {
      if (name === '!!str') return;
      const rule = UNAMBIGUOUS[name];
      const text = String(n.source ?? '');
      if (rule?.form.test(text)) return;
      if (rule) {
        this.problem(
          'parse/unsupported-tag',
          `\`${shown}\` needs ${rule.needs}; found \`${clip(text)}\``,
          `${rule.why}: write the plain value, or drop the tag and quote it to keep a string`,
          start,
          end,
        );
        return;
      }
    } else if ((name === '!!map' && isMap(n)) || (name === '!!seq' && isSeq(n))) return;
    if (name in UNAMBIGUOUS || name === '!!str' || name === '!!map' || name === '!!seq') {
      this.problem(
        'parse/unsupported-tag',
        `tag \`${shown}\` does not match the ${isMap(n) ? 'mapping' : isSeq(n) ? 'list' : 'value'} it is on`,
        'remove the tag',
        start,
        end,
      );
      return;
    }
    this.problem(
      'parse/unsupported-tag',
      `tag \`${clip(shown)}\` is not supported: derivc reads strings, numbers, booleans, null, lists and mappings`,
      this.tagHint(name),
      start,
      end,
    );
  }

  private tagHint(name: string): string {
    if (name === '!!binary') {
      return this.options.cloudConfig
        ? 'remove the tag: write the base64 text as a string and set `encoding: b64` on the file'
        : 'remove the tag: put the file next to the manifest and name it with `files[].source`';
    }
    if (name === '!!timestamp') return 'remove the tag; quote the date to keep it a string';
    if (name === '!!set') return 'remove the tag and write a list, e.g. `[a, b]`';
    if (name === '!!omap' || name === '!!pairs') return 'remove the tag and write a mapping';
    if (name === '!') return 'remove the `!`; quote the value to keep it a string';
    if (/^!!(js|python|ruby|perl|java)\b/.test(name)) return 'remove the tag: derivc never runs code from a YAML file';
    return 'remove the tag';
  }

  /** The tag written just before the node starting at `offset` (tags come first in a node's properties). */
  private tagBefore(offset: number): ScanFacts['tags'][number] | undefined {
    const tags = this.facts.tags;
    let lo = 0;
    let hi = tags.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tags[mid]!.start < offset) lo = mid + 1;
      else hi = mid;
    }
    return tags[lo - 1];
  }

  private once(code: DiagnosticCode, message: string, hint: string, start: number, end: number): void {
    if (this.reported.has(code)) return;
    this.reported.add(code);
    this.problem(code, message, hint, start, end);
  }

  private problem(code: DiagnosticCode, message: string, hint: string, start: number, end: number): void {
    this.problems.push({ code, message, hint, start, end });
  }
}

function range(node: unknown): [number, number] {
  const r = (node as Node | null)?.range;
  return r ? [r[0], r[1]] : [0, 0];
}

/** `__proto__` as a key is data, never the object's prototype. */
function set(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}

function clip(s: string): string {
  return s.length > 60 ? s.slice(0, 57) + '…' : s;
}
