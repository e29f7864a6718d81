// The injection sweep: every string field of the manifest schema (and of a cloud-config step),
// every map key a user writes, and the manifest's own file name, each given hostile text —
// newlines, quotes, `$()`, backticks, `${}`, `{{ }}`, `;`, NUL, line separators, bidi controls,
// GRUB, XML and HCL specials, 8 KiB values — through validate → compile → the plans of all four
// targets. Either derivc refuses the value with a positioned diagnostic that prints safely, or
// every output it writes is read by the real reader of its language and has the structure it has
// for a harmless value: a value can change values, never add a line, an instruction or a key.

import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { contentBytes } from '../../cli/content.js';
import { hasErrors } from '../../compiler/diagnostics.js';
import { formatDiagnostics } from '../../cli/format/index.js';
import { requireTool } from '../e2e/require.js';
import { manifestYaml, outputsOf, REPO, repoFiles, type Outputs } from './support/outputs.js';
import { asYipUsesIt, plain, yamlV2Reader } from '../support/yaml-v2.js';
import { dataShape, digest, languageOf, read, shapeOf, type Language, type Verdict } from './support/readers.js';
import { execArgs, parseDockerfile } from '../golden/read-back.js';
import { APT, DOWNSTREAM, SUPPORT_FILES, VARIANTS, type Variant } from './support/variants.js';

const PAYLOADS: Record<string, string> = {
  newline: '\nINJECTED line',
  crlf: '\r\nINJECTED',
  quotes: `'"quoted"'`,
  subshell: '$(touch /tmp/pwned)',
  backticks: '`touch /tmp/pwned`',
  expansion: '${HOME}$PATH',
  template: '{{ .Values.x }}{{ "{{" }}',
  semicolon: '; reboot #',
  nul: 'a\u0000b',
  separators: '\u2028\u2029\u0085',
  bidi: '\u202e\u2066evil\u2069',
  grub: '"; menuentry x { linux /x }; "\\$root',
  xml: ']]>--><!--&amp;<x/>',
  hcl: '${var.x}%{ if true }%%{',
  yaml: ': {a: [b]}\n- c # d',
  long: 'x'.repeat(9000),
};

/** Maps whose keys are the user's data (a key there is a field like any value). */
const KEYED_MAPS = [
  /^\/metadata\/(labels|osRelease)$/,
  /^\/build\/(args|labels|env)$/,
  /^\/system\/(sysctl|environment)$/,
  /^\/stages$/,
  /^\/stages\/[^/]+\/\d+\/(users|authorized_keys|sysctl|environment|timesyncd|systemd_firstboot|package_pins)$/,
];

function* walk(v: unknown, pointer: string): Generator<{ pointer: string; kind: 'value' | 'key' }> {
  if (typeof v === 'string') yield { pointer, kind: 'value' };
  else if (Array.isArray(v)) for (const [i, x] of v.entries()) yield* walk(x, `${pointer}/${i}`);
  else if (v !== null && typeof v === 'object') {
    const keyed = KEYED_MAPS.some((r) => r.test(pointer));
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (keyed) yield { pointer: p, kind: 'key' };
      yield* walk(x, p);
    }
  }
}

/** The schema's shape of a pointer: list indices as 0, user keys as {key}, stage names as {stage}. */
function generic(pointer: string): string {
  const parts = pointer.split('/');
  return parts
    .map((p, i) => {
      const parent = parts.slice(0, i).join('/');
      if (/^\d+$/.test(p)) return '0';
      if (parent === '/stages' || parent === '') return parent === '/stages' ? '{stage}' : p;
      return KEYED_MAPS.some((r) => r.test(parent)) ? '{key}' : p;
    })
    .join('/');
}

/** Every string field and user-keyed map the schemas define, as generic pointers. */
function schemaSlots(): Set<string> {
  const manifest = JSON.parse(readFileSync('schema/derivative.schema.json', 'utf8'));
  const cloud = JSON.parse(readFileSync('schema/cloud-config.schema.json', 'utf8'));
  const slots = new Set<string>();
  const visit = (node: Record<string, unknown>, root: Record<string, unknown>, ptr: string, depth: number): void => {
    if (depth > 24) return;
    const ref = node['$ref'] as string | undefined;
    if (ref) {
      const [file, path] = ref.split('#');
      const target = file ? cloud : root;
      const def = path!
        .split('/')
        .slice(1)
        .reduce((n: Record<string, unknown>, k) => n[k] as Record<string, unknown>, target);
      // A step's fields are swept through /stages/{stage}/0; elsewhere the stages ref ends here.
      if (!(file && path === '/definitions/stages')) visit(def, target, ptr, depth + 1);
      else visit((cloud.definitions as Record<string, Record<string, unknown>>)['step']!, cloud, `${ptr}/{stage}/0`, depth + 1);
      return;
    }
    for (const k of ['then', 'else']) if (node[k] && typeof node[k] === 'object') visit(node[k] as Record<string, unknown>, root, ptr, depth + 1);
    for (const k of ['oneOf', 'anyOf', 'allOf']) for (const alt of (node[k] as Record<string, unknown>[] | undefined) ?? []) visit(alt, root, ptr, depth + 1);
    if (node['type'] === 'string') slots.add(ptr);
    for (const [k, sub] of Object.entries((node['properties'] as Record<string, Record<string, unknown>> | undefined) ?? {}))
      if (typeof sub === 'object') visit(sub, root, `${ptr}/${k}`, depth + 1);
    const extra = node['additionalProperties'];
    if (extra && typeof extra === 'object') {
      slots.add(`${ptr}/{key}#key`);
      visit(extra as Record<string, unknown>, root, `${ptr}/{key}`, depth + 1);
    }
    const items = node['items'];
    if (items && typeof items === 'object' && !Array.isArray(items)) visit(items as Record<string, unknown>, root, `${ptr}/0`, depth + 1);
  };
  visit(manifest, manifest, '', 0);
  return slots;
}

function setAt(data: unknown, pointer: string, kind: 'value' | 'key', f: (old: string) => string): unknown {
  const copy = structuredClone(data) as Record<string, unknown>;
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const last = parts.pop()!;
  const parent = parts.reduce((n: Record<string, unknown>, k) => n[k] as Record<string, unknown>, copy);
  if (kind === 'value') parent[last] = f(parent[last] as string);
  else {
    // Rename the key in place, keeping the order.
    const entries = Object.entries(parent).map(([k, x]) => [k === last ? f(k) : k, x] as const);
    for (const k of Object.keys(parent)) delete parent[k];
    for (const [k, x] of entries) parent[k] = x;
  }
  return copy;
}

interface Case {
  name: string;
  variant: string;
  /** The manifest slot the hostile value went into ('' for the file name). */
  pointer: string;
  /** The hostile value (or file name) this case put in the manifest. */
  value: string;
  outputs: Outputs;
}

const UPSTREAM_FILES = Object.fromEntries([
  ['upstream/derivative.yaml', manifestYaml(VARIANTS[1]!.manifest)],
  ...Object.entries(SUPPORT_FILES).map(([p, c]) => [`upstream/${p}`, c]),
]);

function runVariant(variant: Variant, manifest: unknown, name = 'derivative.yaml'): Outputs {
  const extra = variant === DOWNSTREAM ? UPSTREAM_FILES : {};
  return outputsOf(repoFiles(manifest as Record<string, unknown>, name, extra), `${REPO}/${name}`);
}

/**
 * yip's reading: go-yaml v2 must decode the file, to the structure derivc reads in it, and every
 * string yip renders as a Go template must render without error (derivc escapes `{{` in its own values).
 */
async function readAsYip(items: { text: string; from: string; value: string }[]): Promise<Verdict[]> {
  const reader = await yamlV2Reader();
  if (!reader) throw new Error('the go-yaml v2 reader could not be built');
  return reader.decode(items.map((i) => i.text)).map((d, i) => {
    if (!d.ok) return { ok: false, output: `go-yaml v2: ${d.error}` };
    const decoded = plain(d.value);
    const v2 = JSON.stringify(dataShape(decoded));
    if (v2 !== shapeOf('yip', items[i]!.text)) return { ok: false, output: `go-yaml v2 reads another structure: ${v2}` };
    // derivc's own files hold the manifest's values, which yip must use as written: the injected
    // value, where it reaches yip's input, must come out of yip's template rendering unchanged.
    // Only `stages` (50_derivc_stages.yaml) and oemDir files hold templates the user meant.
    if (!/_derivc_(system|layout)\.yaml$|\/02_upgrades\.yaml$/.test(items[i]!.from)) return { ok: true, output: '' };
    const { config, errors } = asYipUsesIt(reader, decoded);
    if (errors.length) return { ok: false, output: `yip's templates: ${errors.join('; ')}` };
    const has = (data: unknown) => JSON.stringify(data).includes(JSON.stringify(items[i]!.value).slice(1, -1));
    if (has(decoded) && !has(config)) return { ok: false, output: `yip's templates change the manifest's value: ${JSON.stringify(config)}` };
    return { ok: true, output: '' };
  });
}

function sameBytes(a: Parameters<typeof contentBytes>[0], b: Parameters<typeof contentBytes>[0]): boolean {
  return a === b || Buffer.from(contentBytes(a)).equals(Buffer.from(contentBytes(b)));
}

const cases: Case[] = [];
const baselines = new Map<string, Outputs>();
const slotsSwept = new Set<string>();

beforeAll(() => {
  const seen = new Set<string>();
  for (const variant of [...VARIANTS, APT, DOWNSTREAM]) {
    const baseline = runVariant(variant, variant.manifest);
    expect(baseline.diagnostics, `${variant.name} is a clean baseline`).toEqual([]);
    baselines.set(variant.name, baseline);
    for (const slot of walk(variant.manifest, '')) {
      const g = generic(slot.pointer) + (slot.kind === 'key' ? '#key' : '');
      // A slot is swept once; `system` and `boot` in every variant (build-time files vs cloud-config).
      if (seen.has(g) && !/^\/(system|boot)\//.test(slot.pointer)) continue;
      seen.add(g);
      slotsSwept.add(g);
      for (const [payload, text] of Object.entries(PAYLOADS)) {
        let value = '';
        const manifest = setAt(variant.manifest, slot.pointer, slot.kind, (old) => (value = old + text));
        cases.push({
          name: `${variant.name} ${slot.pointer}${slot.kind === 'key' ? ' (key)' : ''} + ${payload}`,
          variant: variant.name,
          pointer: slot.kind === 'key' ? `${slot.pointer}#key` : slot.pointer,
          value,
          outputs: runVariant(variant, manifest),
        });
      }
    }
  }
  // The manifest's own file name (a file name holds neither NUL nor `/`).
  for (const variant of VARIANTS) {
    for (const [payload, text] of Object.entries(PAYLOADS)) {
      if (text.includes('\u0000') || text.includes('/') || text.length > 200) continue;
      const name = `derivative${text}.yaml`;
      cases.push({
        name: `${variant.name} file name + ${payload}`,
        variant: variant.name,
        pointer: '',
        value: name,
        outputs: runVariant(variant, variant.manifest, name),
      });
    }
  }
}, 600_000);

describe('the injection sweep', () => {
  it('covers every string field and user key of the manifest schema and of a cloud-config step', () => {
    const missing = [...schemaSlots()].filter((s) => !slotsSwept.has(s));
    expect(missing).toEqual([]);
    expect(cases.length).toBeGreaterThan(1500);
  });

  it('refuses a value with a positioned diagnostic that prints safely in every format', () => {
    const refused = cases.filter((c) => hasErrors(c.outputs.diagnostics));
    expect(refused.length).toBeGreaterThan(500);
    for (const c of refused) {
      for (const d of c.outputs.diagnostics.filter((x) => x.severity === 'error')) {
        expect(d.code, c.name).toMatch(/^[a-z-]+\/[a-z0-9-]+$/);
        // The value passed validation, then broke a generated file: an escaping bug, not a refusal.
        expect(d.code, `${c.name}: ${d.message}`).not.toBe('compile/invalid-cloud-config');
        expect(d.range, `${c.name}: ${d.code} ${d.message}`).toBeDefined();
      }
      const input = { diagnostics: c.outputs.diagnostics, sources: c.outputs.sources };
      const pretty = formatDiagnostics('pretty', input, { color: false, toolVersion: 'test' });
      // Only newlines and tabs may reach a terminal: no escape sequence, no NUL, no bidi override.
      expect(pretty, c.name).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(() => JSON.parse(formatDiagnostics('json', input, { color: false, toolVersion: 'test' })), c.name).not.toThrow();
      expect(() => JSON.parse(formatDiagnostics('sarif', input, { color: false, toolVersion: 'test' })), c.name).not.toThrow();
      // A workflow command starts a line: an annotation must stay on its own line.
      for (const line of formatDiagnostics('github', input, { color: false, toolVersion: 'test' }).split('\n').filter(Boolean))
        expect(line, c.name).toMatch(/^::(error|warning|notice) /);
    }
  });

  it('gives every output of an accepted value a reader, and the structure of the harmless output', () => {
    const accepted = cases.filter((c) => !hasErrors(c.outputs.diagnostics));
    expect(accepted.length).toBeGreaterThan(200);
    const baselineShapes = new Map<string, string>();
    for (const c of accepted) {
      const baseline = baselines.get(c.variant)!;
      for (const [path, content] of c.outputs.files) {
        const language = languageOf(path);
        expect(language, `${c.name}: no reader for ${path}`).toBeDefined();
        const before = baseline.files.get(path);
        // Most outputs of a case are the baseline's, byte for byte: the same shape without parsing both.
        if (before !== undefined && !sameBytes(content, before)) {
          const key = `${c.variant}\0${path}`;
          if (!baselineShapes.has(key)) baselineShapes.set(key, shapeOf(language!, before));
          expect(shapeOf(language!, content), `${c.name}: ${path}`).toBe(baselineShapes.get(key));
        }
      }
      for (const args of c.outputs.execArgs) for (const a of args) expect(a, c.name).not.toMatch(/[\u0000\n\r]/);
    }
    // Every output of every accepted case parsed in-process: close to a minute on a loaded machine.
  }, 240_000);

  it("reaches no shell but the user's own: a build step's string runs as written by /bin/sh -eu -c, nothing else is in a script", () => {
    const accepted = cases.filter((c) => !hasErrors(c.outputs.diagnostics));
    let userShell = 0;
    for (const c of accepted) {
      const dockerfile = c.outputs.files.get('Dockerfile');
      if (dockerfile === undefined) continue;
      const runs = parseDockerfile(new TextDecoder().decode(contentBytes(dockerfile)))
        .instructions.filter((i) => i.getKeyword() === 'RUN')
        .map((i) => execArgs(i));
      // Every script a RUN hands to a shell (`sh -c SCRIPT`, `sh -eu -c SCRIPT`).
      const scripts = runs.flatMap((args) => (/(^|\/)sh$/.test(args[0]!) && args.includes('-c') ? [args[args.indexOf('-c') + 1]!] : []));
      if (/^\/build\/steps\/\d+\/run$/.test(c.pointer)) {
        userShell++;
        expect(
          runs.filter((args) => args.includes(c.value)),
          c.name,
        ).toEqual([['/bin/sh', '-eu', '-c', c.value]]);
      } else
        expect(
          scripts.filter((s) => s.includes(c.value)),
          c.name,
        ).toEqual([]);
    }
    expect(userShell).toBeGreaterThan(5);
  });

  const LANGUAGES: [Language, string | undefined][] = [
    ['sh', 'sh'],
    ['grub', 'grub-script-check'],
    ['xml', 'xmllint'],
    ['hcl', 'packer'],
    ['yip', 'go'],
    ['dockerfile', undefined],
    ['yaml', undefined],
    ['json', undefined],
    ['lines', undefined],
  ];
  for (const [language, tool] of LANGUAGES) {
    it(`reads every ${language} output with its real reader${tool ? ` (${tool})` : ''}`, async (ctx) => {
      if (tool && !(await requireTool(tool))) return ctx.skip();
      const unique = new Map<string, { text: string; from: string; value: string }>();
      for (const c of cases) {
        for (const [path, content] of c.outputs.files) {
          if (languageOf(path) !== language) continue;
          const text = new TextDecoder().decode(contentBytes(content));
          unique.set(digest(text), { text, from: `${c.name}: ${path}`, value: c.value });
        }
      }
      expect(unique.size).toBeGreaterThan(0);
      const list = [...unique.values()];
      const verdicts =
        language === 'yip'
          ? await readAsYip(list)
          : read(
              language,
              list.map((u) => u.text),
            );
      const failed = verdicts.flatMap((v, i) => (v.ok ? [] : [`${list[i]!.from}\n${v.output}`]));
      expect(failed).toEqual([]);
    });
  }
});
