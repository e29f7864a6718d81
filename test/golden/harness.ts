// Shared by the golden, determinism and Dockerfile-safety tests: which cases exist, how one is
// compiled in memory, and hosts that serve a changed file in place of a real one.

import { seededRandom } from '../support/random.js';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isPair, isScalar, parseDocument, visit } from 'yaml';
import { contentBytes } from '../../cli/content.js';
import { nodeHost } from '../../cli/node-host.js';
import { SourceContent } from '../../compiler/checked-file.js';
import { compile } from '../../compiler/compile.js';
import type { CompileOutput, FileContent } from '../../compiler/emit/types.js';
import type { Host } from '../../compiler/host.js';
import { ValidationSession, type ValidatedManifest } from '../../compiler/validate/index.js';

/** A fixed derivc version, so expected trees do not change with releases. */
export const TEST_VERSION = '0.0.0-test';
export const GOLDEN_DIR = 'test/golden';

export interface GoldenCase {
  name: string;
  manifest: string;
  expected: string;
}

/** Every example (expected tree under test/golden/<example>/) and every own case (test/golden/<case>/derivative.yaml). */
export function goldenCases(): GoldenCase[] {
  const examples = readdirSync('examples', { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join('examples', d.name, 'derivative.yaml')))
    .map((d) => ({ name: d.name, manifest: join('examples', d.name, 'derivative.yaml'), expected: join(GOLDEN_DIR, d.name, 'expected') }));
  const own = readdirSync(GOLDEN_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(GOLDEN_DIR, d.name, 'derivative.yaml')))
    .map((d) => ({ name: d.name, manifest: join(GOLDEN_DIR, d.name, 'derivative.yaml'), expected: join(GOLDEN_DIR, d.name, 'expected') }));
  return [...examples, ...own].sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Validation must pass with no diagnostics at all: golden cases are meant to be clean. */
export function validated(path: string, host: Host = nodeHost): ValidatedManifest {
  const v = new ValidationSession(host).validate(path);
  if (!v.value.manifest || v.diagnostics.length)
    throw new Error(`${path} does not validate cleanly:\n${v.diagnostics.map((d) => `${d.code} ${d.file}: ${d.message}`).join('\n')}`);
  return v.value.manifest;
}

export function compiled(path: string, host: Host = nodeHost, version = TEST_VERSION): CompileOutput {
  const r = compile(validated(path, host), host, { version });
  if (r.diagnostics.length) throw new Error(`${path} compiles with diagnostics:\n${r.diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n')}`);
  return r.value;
}

export function bytes(content: FileContent): Uint8Array {
  return contentBytes(content);
}

export function text(output: CompileOutput, path: string): string {
  const f = output.files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} in the output (${output.files.map((x) => x.path).join(', ')})`);
  if (f.content === undefined) throw new Error(`${path} is a symlink to ${f.symlink}, not a file`);
  return new TextDecoder().decode(bytes(f.content));
}

/** nodeHost, except that the given files (by path as the compiler asks for them) read as given. */
export function hostWith(replacements: Record<string, Uint8Array | string>, modes: Record<string, number> = {}): Host {
  const table = new Map(Object.entries(replacements).map(([p, c]) => [resolve(p), bytes(c)]));
  const modeTable = new Map(Object.entries(modes).map(([p, m]) => [resolve(p), m]));
  return {
    ...nodeHost,
    readFile: (p) => table.get(resolve(p)) ?? nodeHost.readFile(p),
    mode: (p) => modeTable.get(resolve(p)) ?? nodeHost.mode!(p),
    openFile: (p, within, options) => {
      const replaced = table.get(resolve(p));
      const opened = replaced
        ? { content: SourceContent.of(p, replaced), mode: nodeHost.mode!(p) ?? 0o644, bytes: replaced }
        : nodeHost.openFile!(p, within, options);
      const mode = modeTable.get(resolve(p));
      return mode === undefined || 'refused' in opened ? opened : { ...opened, mode };
    },
  };
}

/**
 * The manifest text with every mapping's keys reversed or shuffled, recursively. `permissions`
 * written as a YAML 1.1 octal (`0644`) stays exactly that: the document is read as YAML 1.2, which
 * would re-serialize it as the decimal 644, so such scalars go through a placeholder.
 */
export function reorderKeys(source: string, order: 'reverse' | { seed: number }): string {
  const doc = parseDocument(source);
  const random = order === 'reverse' ? undefined : seededRandom(order.seed);
  const octals: string[] = [];
  visit(doc, {
    Map(_, map) {
      if (random) {
        for (let i = map.items.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [map.items[i], map.items[j]] = [map.items[j]!, map.items[i]!];
        }
      } else map.items.reverse();
    },
    Pair(_, pair) {
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === 'permissions' && isScalar(pair.value)) {
        const src = pair.value.source;
        if (pair.value.type === 'PLAIN' && typeof src === 'string' && /^0[0-7]+$/.test(src)) {
          octals.push(src);
          pair.value.value = `DERIVC_OCTAL_${octals.length - 1}_`;
        }
      }
    },
  });
  if (!isMap(doc.contents)) throw new Error('a manifest is a mapping');
  return doc.toString({ lineWidth: 0 }).replace(/DERIVC_OCTAL_(\d+)_/g, (_, i: string) => octals[Number(i)]!);
}
