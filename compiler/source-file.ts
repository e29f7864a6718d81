// The one module that owns YAML positions: JSON pointer → source range, through aliases and
// merge keys, falling back to the closest existing ancestor when the node is missing. Each step
// is a hash lookup, so locating every one of 120k diagnostics in one mapping stays linear.

import { Document, LineCounter, isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Position, Range } from './diagnostics.js';

/** How deep `locate` follows aliases and merge keys before giving up (alias chains can loop). */
const MAX_ALIAS_HOPS = 64;

export class SourceFile {
  constructor(
    /** The path diagnostics print: as the user gave it, or relative to the manifest that named it. */
    readonly path: string,
    readonly text: string,
    readonly doc: Document | undefined,
    private readonly lines: LineCounter,
    /** Each alias's anchored node, as parsing resolved it; without it yaml searches the document. */
    private readonly aliasTargets?: ReadonlyMap<Alias, Node>,
  ) {}

  /** A mapping's pairs by key (the first of equal keys), and its `<<` merge pairs. */
  private readonly keyIndex = new WeakMap<YAMLMap, { byKey: Map<string, Pair>; merges: Pair[] }>();

  positionAt(offset: number): Position {
    const { line, col } = this.lines.linePos(Math.max(0, Math.min(offset, this.text.length)));
    return { line, column: col };
  }

  rangeOf(start: number, end: number): Range {
    return { start: this.positionAt(start), end: this.positionAt(Math.max(start, end)) };
  }

  /** The whole first line: where file-level problems point. */
  firstLine(): Range {
    const end = this.text.indexOf('\n');
    return this.rangeOf(0, end < 0 ? this.text.length : end);
  }

  /**
   * The range of the node at `pointer`. `key` asks for the mapping key (unknown keys, missing
   * children); otherwise scalars give their value and collections their key, so a caret lands
   * on one line. A missing node gives its closest existing ancestor's key.
   */
  locate(pointer: string, want: 'key' | 'value' = 'value'): Range {
    const found = this.find(pointer);
    const pick = want === 'key' || !found.complete || !found.node || !isScalar(found.node) ? found.keyRange : undefined;
    const r = pick ?? nodeRange(found.node) ?? found.keyRange;
    return r ? this.rangeOf(r[0], r[1]) : this.firstLine();
  }

  /** The source text of a plain scalar at `pointer` (e.g. `0644` before YAML read it as 644). */
  scalarSource(pointer: string): string | undefined {
    const { node, complete } = this.find(pointer);
    return complete && isScalar(node) ? node.source : undefined;
  }

  /** Like `scalarSource`, for an untagged plain (unquoted) scalar only: `yes` but not `"yes"`. */
  plainScalarSource(pointer: string): string | undefined {
    const { node, complete } = this.find(pointer);
    return complete && isScalar(node) && node.type === 'PLAIN' && !node.tag ? node.source : undefined;
  }

  private find(pointer: string): { node: Node | undefined; keyRange?: [number, number]; complete: boolean } {
    let node = this.deref(this.doc?.contents ?? undefined);
    let keyRange: [number, number] | undefined;
    for (const segment of parsePointer(pointer)) {
      let next: { node: Node | undefined; key?: [number, number] } | undefined;
      if (isMap(node)) {
        const pair = this.findPair(node, segment, 0);
        if (pair) next = { node: this.deref(pair.value as Node | undefined), key: nodeRange(pair.key as Node) };
      } else if (isSeq(node) && /^(0|[1-9][0-9]*)$/.test(segment)) {
        const item = node.items[Number(segment)] as Node | undefined;
        if (item !== undefined) next = { node: this.deref(item), key: nodeRange(item) };
      }
      if (!next) return { node, keyRange: keyRange ?? (node ? nodeRange(node) : undefined), complete: false };
      node = next.node;
      keyRange = next.key ?? keyRange;
    }
    return { node, keyRange, complete: true };
  }

  private findPair(map: Node, key: string, hops: number): Pair | undefined {
    if (!isMap(map) || hops > MAX_ALIAS_HOPS) return undefined;
    const { byKey, merges } = this.index(map);
    const direct = byKey.get(key);
    if (direct) return direct;
    // `<<: *anchor` / `<<: [*a, *b]`: the key lives in the merged map; report it where it is written.
    for (const p of merges) {
      const sources = isSeq(p.value) ? p.value.items : [p.value];
      for (const s of sources) {
        const target = this.deref(s as Node);
        const found = target ? this.findPair(target, key, hops + 1) : undefined;
        if (found) return found;
      }
    }
    return undefined;
  }

  private index(map: YAMLMap): { byKey: Map<string, Pair>; merges: Pair[] } {
    let index = this.keyIndex.get(map);
    if (!index) {
      index = { byKey: new Map(), merges: [] };
      for (const p of map.items) {
        if (!isPair(p)) continue;
        // With merge keys on, yaml reads a plain `<<` key as a symbol.
        if (isScalar(p.key) && typeof p.key.value === 'symbol') index.merges.push(p);
        const text = keyText(p.key);
        if (text !== undefined && !index.byKey.has(text)) index.byKey.set(text, p);
      }
      this.keyIndex.set(map, index);
    }
    return index;
  }

  private deref(node: Node | undefined): Node | undefined {
    let hops = 0;
    while (node && isAlias(node) && this.doc && hops++ < MAX_ALIAS_HOPS) {
      node = this.aliasTargets ? this.aliasTargets.get(node) : (node.resolve(this.doc) as Node | undefined);
    }
    return node;
  }
}

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => (s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s));
}

export function joinPointer(base: string, ...segments: (string | number)[]): string {
  return base + segments.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function keyText(key: unknown): string | undefined {
  // With merge keys on, yaml reads `<<` as a symbol; its source text is still `<<`.
  if (isScalar(key)) return typeof key.value === 'symbol' ? key.source : key.value === null ? '' : String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function nodeRange(node: unknown): [number, number] | undefined {
  const r = (node as Node | undefined)?.range;
  return r ? [r[0], r[1]] : undefined;
}
