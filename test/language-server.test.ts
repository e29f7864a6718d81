// The schemas as an editor uses them: `derivc schema --out` writes them next to a manifest whose
// first line names one (`derivc init` writes that line), and a real yaml-language-server — the one
// behind the YAML extensions of VS Code, Neovim, Helix, … — completes keys inside `system:`, shows
// a key's description on hover, and reports a misspelt key and a malformed value where they are,
// with the message the schema gives. Expected texts come from the written schema files.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scaffold } from '../cli/commands/init.js';
import { requireBuiltCli } from './security/support/built-cli.js';
import { LspClient, type Diagnostic, type Position } from './support/lsp-client.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const SERVER = path.join(ROOT, 'node_modules/yaml-language-server/bin/yaml-language-server');

/** What an editor sends for `yaml.*`; no schema store or CRD store (no network), no formatter. */
const YAML_SETTINGS = {
  validate: true,
  hover: true,
  completion: true,
  schemaStore: { enable: false },
  kubernetesCRDStore: { enable: false },
  format: { enable: false },
};

/** The manifest `derivc init` would start from, with the modeline that names the schema. */
const HEAD = `# yaml-language-server: $schema=./derivative.schema.json
apiVersion: derivc.dev/v1alpha1
kind: Derivative
metadata:
  name: acme-os
  version: 1.0.0
base:
  image: registry.opensuse.org/opensuse/leap:15.5
`;

const MANIFEST = `${HEAD}system:
  hostname: acme
  sysctl:
    vm.swappiness: 10
  systctl:
    vm.swappiness: 10
targets:
  raw:
    size: 8GB
`;

/** The cursor on the empty line inside \`system:\`, where an editor user asks for completion. */
const COMPLETION = `${HEAD}system:
  
`;

const CLOUD_CONFIG = `# yaml-language-server: $schema=./cloud-config.schema.json
name: custom
stages:
  boot:
    - name: set the hostname
      hostnmae: acme
`;

/** Where `needle` starts in `text` (the first occurrence), as LSP counts: 0-based line and column. */
function positionOf(text: string, needle: string): Position {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`\`${needle}\` is not in the document`);
  const before = text.slice(0, offset).split('\n');
  return { line: before.length - 1, character: before.at(-1)!.length };
}

/** The range of `needle` in `text` (on one line). */
function rangeOf(text: string, needle: string): Diagnostic['range'] {
  const start = positionOf(text, needle);
  return { start, end: { line: start.line, character: start.character + needle.length } };
}

type SchemaNode = {
  $ref?: string;
  properties?: Record<string, SchemaNode>;
  description?: string;
  markdownDescription?: string;
  patternErrorMessage?: string;
};

/** `node` with its `$ref` followed inside `schema`; keywords beside the `$ref` kept, as the server reads them. */
function resolved(schema: SchemaNode, node: SchemaNode): SchemaNode {
  if (!node.$ref) return node;
  const target = node.$ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], schema) as SchemaNode;
  const { $ref: _, ...beside } = node;
  return { ...resolved(schema, target), ...beside };
}

/** The schema of the value at `keys` (a path of property names), resolved. */
function schemaAt(schema: SchemaNode, keys: readonly string[]): SchemaNode {
  return keys.reduce((node, key) => {
    const child = resolved(schema, node).properties?.[key];
    if (!child) throw new Error(`the schema has no \`${keys.join('.')}\``);
    return resolved(schema, child);
  }, schema);
}

let dir: string;
let server: LspClient | undefined;
let manifestSchema: SchemaNode;
const uri = (name: string) => pathToFileURL(path.join(dir, name)).href;
const opened = new Map<string, Promise<Diagnostic[]>>();

beforeAll(async () => {
  const derivc = requireBuiltCli(); // dist/derivc.mjs, refused when older than the sources
  // A devDependency: a missing server fails the test, it never skips it.
  if (!fs.existsSync(SERVER)) throw new Error('yaml-language-server is missing from node_modules: run `npm ci`');
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-lsp-')));
  execFileSync(process.execPath, [derivc, 'schema', '--out', dir], { stdio: 'pipe' });
  manifestSchema = JSON.parse(fs.readFileSync(path.join(dir, 'derivative.schema.json'), 'utf8'));
  const files = { 'derivative.yaml': MANIFEST, 'completion.yaml': COMPLETION, 'custom.yaml': CLOUD_CONFIG, 'init.yaml': scaffold('acme-os', 'opensuse') };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);

  server = await LspClient.start({
    command: [process.execPath, SERVER, '--stdio'],
    root: dir,
    settings: { yaml: YAML_SETTINGS, '[yaml]': {}, http: {}, editor: {} },
  });
  await server.changeConfiguration({ yaml: YAML_SETTINGS });
  // The server pulls its settings after `initialized` and again after the change; documents are
  // opened once both pulls were answered, so they are validated with these settings.
  await server.configurationsPulled(2);
  for (const [name, text] of Object.entries(files)) opened.set(name, server.open(uri(name), text));
  await Promise.all(opened.values());
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('yaml-language-server with the schemas `derivc schema --out` writes', () => {
  it('completes the keys of `system` inside `system:`: every key the schema lists, and no other', async () => {
    const keys = Object.keys(schemaAt(manifestSchema, ['system']).properties ?? {});
    expect(keys).toEqual(expect.arrayContaining(['hostname', 'sysctl', 'users']));
    const items = await server!.completion(uri('completion.yaml'), { line: COMPLETION.split('\n').indexOf('  '), character: 2 });
    const PROPERTY = 10; // CompletionItemKind.Property
    const offered = items.filter((i) => i.kind === PROPERTY).map((i) => i.label);
    expect(offered.sort()).toEqual([...keys].sort());
  });

  it.each(['sysctl', 'hostname'])('shows the schema’s description of `system.%s` on hover', async (key) => {
    const node = schemaAt(manifestSchema, ['system', key]);
    const line = positionOf(MANIFEST, `\n  ${key}:`).line + 1;
    const hover = await server!.hover(uri('derivative.yaml'), { line, character: 3 }); // on the key, past its indentation
    expect(hover).toBeDefined();
    if (node.markdownDescription !== undefined) {
      // Markdown is shown as written.
      expect(hover).toContain(node.markdownDescription);
    } else {
      // A plain description is shown with some of markdown's special characters escaped.
      expect(node.description).toBeTruthy();
      expect(hover!.replace(/\\([\\`*_{}[\]#+!])/g, '$1')).toContain(node.description);
    }
  });

  it('reports the misspelt `systctl:` under `system:` on that key', async () => {
    const diagnostics = await opened.get('derivative.yaml')!;
    const found = diagnostics.filter((d) => d.message.includes('systctl'));
    expect(found).toEqual([expect.objectContaining({ range: rangeOf(MANIFEST, 'systctl'), severity: 1 })]);
    expect(found[0]!.message).toMatch(/not allowed/);
  });

  it('reports a malformed size with the schema’s patternErrorMessage, on the value', async () => {
    const { patternErrorMessage } = schemaAt(manifestSchema, ['targets', 'raw', 'size']);
    expect(patternErrorMessage, 'the size definition needs a patternErrorMessage: the hint derivc prints').toBeTruthy();
    const diagnostics = await opened.get('derivative.yaml')!;
    expect(diagnostics).toContainEqual(expect.objectContaining({ range: rangeOf(MANIFEST, '8GB'), message: patternErrorMessage }));
  });

  it('reports a misspelt key in a cloud-config stage step', async () => {
    const diagnostics = await opened.get('custom.yaml')!;
    expect(diagnostics).toEqual([expect.objectContaining({ range: rangeOf(CLOUD_CONFIG, 'hostnmae'), severity: 1 })]);
    expect(diagnostics[0]!.message).toMatch(/hostnmae.*not allowed/);
  });

  it('finds nothing wrong in the manifest `derivc init` writes (no false alarms)', async () => {
    expect(await opened.get('init.yaml')!).toEqual([]);
  });
});
