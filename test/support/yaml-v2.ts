// The real reader of cloud-config for tests: go-yaml v2, what yip decodes with, in a small Go
// program (yaml-v2-reader/main.go) built from Debian's golang-go and golang-gopkg-yaml.v2-dev,
// offline (GOPATH mode, no module download). Built once per source digest into the temp dir:
// concurrent vitest workers each build into their own directory and rename the binary into
// place, so no worker runs a half-written one. Without Go or the yaml.v2 source a test skips
// with the reason printed; under DERIVC_E2E=1 (CI) it fails instead.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTool } from '../e2e/require.js';

const SOURCE = fileURLToPath(new URL('./yaml-v2-reader/main.go', import.meta.url));
/** Where Debian's golang-gopkg-yaml.v2-dev puts the source (a GOPATH). */
export const DEBIAN_GOPATH = '/usr/share/gocode';
const YAML_V2 = `${DEBIAN_GOPATH}/src/gopkg.in/yaml.v2/yaml.go`;
const APT = 'apt-get install -y golang-go golang-gopkg-yaml.v2-dev';

/**
 * What go-yaml v2 decoded, types kept. Strings, booleans, null, lists and string-keyed maps are
 * plain JSON; what JSON cannot say is a one-key object with a `!` key (a plain map never has
 * one): `{ '!int': '420' }`, `{ '!float': '+Inf' }`, `{ '!timestamp': … }`, and
 * `{ '!map': [[key, value], …] }` for a map with a key that is not a string.
 */
export type GoValue = string | boolean | null | GoValue[] | { [key: string]: GoValue };

export type Decoded = { ok: true; value: GoValue } | { ok: false; error: string };

export interface Rendered {
  /** What yip would use: the rendering, or the input itself when the template failed. */
  rendered: string;
  /** Why the template failed to parse or run (yip logs it and keeps the input). */
  error?: string;
}

export interface YamlV2Reader {
  /** Decodes each document as yip does (`yaml.Unmarshal` into interface{}); one process for all. */
  decode(docs: readonly (string | Uint8Array)[]): Decoded[];
  /**
   * Renders each string with Go's text/template as yip's templateSysData does, without sprig's
   * functions: an action calling one is an error here, where yip would run it.
   */
  render(templates: readonly string[]): Rendered[];
}

let built: Promise<string | undefined> | undefined;

/** The reader, or undefined (reason printed) when this machine cannot build it. */
export async function yamlV2Reader(): Promise<YamlV2Reader | undefined> {
  built ??= build();
  const binary = await built;
  return binary === undefined ? undefined : reader(binary);
}

async function build(): Promise<string | undefined> {
  const tools = [await withHint(() => requireTool('go')), await withHint(() => requireTool(YAML_V2))];
  if (tools.includes(undefined)) return undefined;
  const go = tools[0]!;
  const digest = createHash('sha256').update(readFileSync(SOURCE)).update(readFileSync(YAML_V2)).update(goVersion(go)).digest('hex').slice(0, 16);
  const root = join(tmpdir(), 'derivc-yaml-v2-reader');
  const binary = join(root, `reader-${digest}`);
  if (existsSync(binary)) return binary;
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, 'build-'));
  try {
    const r = spawnSync(go, ['build', '-o', join(work, 'reader'), SOURCE], {
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: work,
        GO111MODULE: 'off',
        GOPATH: DEBIAN_GOPATH,
        GOCACHE: join(root, 'cache'),
        GOFLAGS: '',
        GOTOOLCHAIN: 'local',
        CGO_ENABLED: '0',
      },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`building the go-yaml v2 reader failed: ${r.error?.message ?? r.stderr}`);
    renameSync(join(work, 'reader'), binary);
    return binary;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** requireTool, with the Debian packages named in the skip reason or the CI failure. */
async function withHint(probe: () => Promise<string | undefined>): Promise<string | undefined> {
  try {
    const found = await probe();
    if (found === undefined) console.warn(`go-yaml v2 reader: ${APT}`);
    return found;
  } catch (err) {
    throw new Error(`${(err as Error).message}; the go-yaml v2 reader needs: ${APT}`, { cause: err });
  }
}

function goVersion(go: string): string {
  return spawnSync(go, ['version'], { encoding: 'utf8' }).stdout ?? '';
}

function reader(binary: string): YamlV2Reader {
  const call = (request: { docs: string[]; templates: readonly string[] }) => {
    const r = spawnSync(binary, [], { input: JSON.stringify(request), maxBuffer: 1 << 30 });
    if (r.status !== 0) throw new Error(`the go-yaml v2 reader failed: ${r.error?.message ?? r.stderr.toString()}`);
    return JSON.parse(r.stdout.toString('utf8')) as { docs: { value?: GoValue; error?: string }[]; templates: Rendered[] };
  };
  return {
    decode(docs) {
      // A string is encoded as derivc's writer would (a lone surrogate becomes U+FFFD, as on disk).
      const encoded = docs.map((d) => Buffer.from(typeof d === 'string' ? new TextEncoder().encode(d) : d).toString('base64'));
      return call({ docs: encoded, templates: [] }).docs.map((d) =>
        d.error !== undefined ? { ok: false, error: d.error } : { ok: true, value: d.value ?? null },
      );
    },
    render(templates) {
      return templates.length ? call({ docs: [], templates }).templates : [];
    },
  };
}

/** The plain value of a decoded document: integers and floats as numbers; non-string keys stay tagged. */
export function plain(value: GoValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(plain);
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0]!.startsWith('!')) {
    const tagged = value[keys[0]!] as string;
    if (keys[0] === '!int' || keys[0] === '!float') return tagged === '+Inf' ? Infinity : tagged === '-Inf' ? -Infinity : Number(tagged);
    // A map tagged only because a string key starts with `!` is a plain map.
    const entries = value['!map'] as [GoValue, GoValue][] | undefined;
    if (entries?.every(([k]) => typeof k === 'string')) return Object.fromEntries(entries.map(([k, v]) => [k, plain(v)]));
    return value;
  }
  return Object.fromEntries(keys.map((k) => [k, plain(value[k]!)]));
}

/** A step's strings yip renders as Go templates (compiler/emit/yip-template.ts lists them, with versions). */
const TEMPLATED = {
  scalar: ['if', 'hostname'],
  list: ['commands'],
  map: ['environment'],
  itemField: { files: 'content', ensure_entities: 'entity', delete_entities: 'entity' } as Record<string, string>,
};

/**
 * A decoded cloud-config as yip uses it: every templated string rendered. Returns the errors
 * too (a failed template is one that yip logs and keeps as written).
 */
export function asYipUsesIt(reader: YamlV2Reader, config: unknown): { config: unknown; errors: string[] } {
  const copy = structuredClone(config) as { stages?: Record<string, Record<string, unknown>[]> };
  const slots: { set(v: string): void; text: string }[] = [];
  const slot = (holder: Record<string, unknown> | unknown[], key: string | number) => {
    const v = (holder as Record<string | number, unknown>)[key];
    if (typeof v === 'string') slots.push({ text: v, set: (r) => ((holder as Record<string | number, unknown>)[key] = r) });
  };
  for (const steps of Object.values(copy.stages ?? {})) {
    for (const step of Array.isArray(steps) ? steps : []) {
      if (!step || typeof step !== 'object') continue;
      for (const k of TEMPLATED.scalar) slot(step, k);
      for (const k of TEMPLATED.list) if (Array.isArray(step[k])) (step[k] as unknown[]).forEach((_, i) => slot(step[k] as unknown[], i));
      for (const k of TEMPLATED.map)
        if (step[k] && typeof step[k] === 'object') for (const name of Object.keys(step[k] as object)) slot(step[k] as Record<string, unknown>, name);
      for (const [k, field] of Object.entries(TEMPLATED.itemField))
        if (Array.isArray(step[k])) for (const item of step[k] as unknown[]) if (item && typeof item === 'object') slot(item as Record<string, unknown>, field);
    }
  }
  const rendered = reader.render(slots.map((s) => s.text));
  rendered.forEach((r, i) => slots[i]!.set(r.rendered));
  return { config: copy, errors: rendered.flatMap((r, i) => (r.error ? [`${JSON.stringify(slots[i]!.text)}: ${r.error}`] : [])) };
}
