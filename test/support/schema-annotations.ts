// What editors and schema stores need from a schema, as a walk that lists what is missing, by JSON
// pointer: every key documented (plain `description` for derivc's hints, `markdownDescription` for
// hovers, `examples` that validate), `defaultSnippets` whose bodies validate once inserted, and
// every `pattern` explained by a `patternErrorMessage` that is the very hint derivc prints.

import { parse } from 'yaml';

type Node = Record<string, unknown>;

export interface AnnotationChecks {
  /** Why `value` is not valid against the subschema at `pointer`, or undefined when it is. */
  invalid(pointer: string, value: unknown): string | undefined;
  /** The catalogue hint of a diagnostic code (compiler/codes.ts), if it has one. */
  hintOf(code: string): string | undefined;
  /** Code of a pattern failure without `x-derivc-code`: `schema/invalid-format` or `cloud-config/invalid-format`. */
  genericPatternCode: string;
  /** Subtrees checked elsewhere (the manifest bundle's copy of the cloud-config definitions). */
  skip?(pointer: string): boolean;
}

export interface AnnotationProblem {
  pointer: string;
  problem: string;
}

const SCHEMA_MAPS = ['properties', 'patternProperties', 'definitions', 'dependencies'];
const SCHEMA_ONES = ['additionalProperties', 'propertyNames', 'items', 'additionalItems', 'contains', 'not', 'if', 'then', 'else'];
const SCHEMA_LISTS = ['allOf', 'anyOf', 'oneOf', 'items'];
/** Subschemas that are conditions, not documented keys: `if` and the `not` of an "exactly one of". */
const CONDITIONS = ['if', 'not'];

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isNode(v: unknown): v is Node {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Every subschema of a schema object with its pointer, and whether it sits under a condition. */
function* subschemas(node: Node, pointer: string): Generator<{ key: string; node: Node; pointer: string; entryOf?: string }> {
  for (const [key, value] of Object.entries(node)) {
    const at = `${pointer}/${escapePointer(key)}`;
    if (SCHEMA_MAPS.includes(key) && isNode(value)) {
      for (const [name, sub] of Object.entries(value)) if (isNode(sub)) yield { key, node: sub, pointer: `${at}/${escapePointer(name)}`, entryOf: key };
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      for (const [i, sub] of value.entries()) if (isNode(sub)) yield { key, node: sub, pointer: `${at}/${i}` };
    } else if (SCHEMA_ONES.includes(key) && isNode(value)) yield { key, node: value, pointer: at };
  }
}

/**
 * A snippet body as yaml-language-server inserts it: strings go in as written (after a leading
 * `^`, which marks raw text), with their tab stops `${1:default}` and choices `${1|a,b|}` left at
 * the first value; the inserted text then reads as YAML. So `"0644"` must be written `'"0644"'`.
 */
export function insertedSnippet(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(insertedSnippet);
  if (isNode(body)) return Object.fromEntries(Object.entries(body).map(([k, v]) => [expandTabStops(k), insertedSnippet(v)]));
  if (typeof body !== 'string') return body;
  // yaml-language-server quotes these two itself, so they stay strings.
  if (body === 'true' || body === 'false') return body;
  return parse(expandTabStops(body.startsWith('^') ? body.slice(1) : body));
}

function expandTabStops(text: string): string {
  return text
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/\$\{\d+\|([^,|]*)[^}]*\|\}/g, '$1')
    .replace(/\$\{?\d+\}?/g, '');
}

/** Everything an editor would miss in `schema`, each at its JSON pointer. */
export function annotationProblems(schema: Node, checks: AnnotationChecks): AnnotationProblem[] {
  const problems: AnnotationProblem[] = [];
  const report = (pointer: string, problem: string) => problems.push({ pointer, problem });
  const skip = (pointer: string) => checks.skip?.(pointer) ?? false;

  // Definitions that are the value of a key (`$ref` from a property) are documented like the key.
  const keyValueDefinitions = new Set<string>();
  const collectRefs = (node: Node, pointer: string) => {
    for (const sub of subschemas(node, pointer)) {
      if (sub.entryOf === 'properties' && typeof sub.node['$ref'] === 'string') keyValueDefinitions.add(sub.node['$ref'].replace(/^#/, ''));
      collectRefs(sub.node, sub.pointer);
    }
  };
  collectRefs(schema, '');

  const documented = (node: Node, pointer: string) => {
    if (typeof node['description'] !== 'string' || !node['description']) report(pointer, 'no `description`');
    if (typeof node['markdownDescription'] !== 'string' || !node['markdownDescription']) report(pointer, 'no `markdownDescription`');
    if (!Array.isArray(node['examples']) || node['examples'].length === 0) report(pointer, 'no `examples`');
  };

  const visit = (node: Node, pointer: string, condition: boolean) => {
    if (skip(pointer)) return;
    if (Array.isArray(node['examples'])) {
      node['examples'].forEach((example, i) => {
        const why = checks.invalid(pointer, example);
        if (why) report(`${pointer}/examples/${i}`, `example does not validate: ${why}`);
      });
    }
    // Draft-07 ignores the siblings of `$ref`; yaml-language-server keeps only descriptions, examples and defaults.
    for (const key of ['defaultSnippets', 'patternErrorMessage'])
      if (node['$ref'] !== undefined && node[key] !== undefined)
        report(pointer, `\`${key}\` beside \`$ref\`: editors drop it (draft-07), put it on the definition or wrap the reference in \`allOf\``);
    if (node['defaultSnippets'] !== undefined) {
      const snippets = Array.isArray(node['defaultSnippets']) ? node['defaultSnippets'] : [];
      if (!snippets.length) report(`${pointer}/defaultSnippets`, '`defaultSnippets` is not a list of snippets');
      snippets.forEach((s: unknown, i) => {
        const at = `${pointer}/defaultSnippets/${i}`;
        if (!isNode(s) || typeof s['label'] !== 'string' || typeof s['description'] !== 'string' || !('body' in s))
          return report(at, 'a snippet needs `label`, `description` and `body`');
        const why = checks.invalid(pointer, insertedSnippet(s['body']));
        if (why) report(`${at}/body`, `snippet body does not validate once inserted: ${why}`);
      });
    }
    if (typeof node['pattern'] === 'string') {
      const code = typeof node['x-derivc-code'] === 'string' ? node['x-derivc-code'] : undefined;
      const hint = checks.hintOf(code ?? checks.genericPatternCode);
      if (!code) report(pointer, `\`pattern\` without \`x-derivc-code\`: derivc reports it as ${checks.genericPatternCode}`);
      else if (!hint) report(pointer, `\`pattern\` whose code ${code} has no catalogue \`hint\` (compiler/codes.ts)`);
      if (node['patternErrorMessage'] === undefined) report(pointer, `\`pattern\` without \`patternErrorMessage\`${hint ? ` (derivc's hint: "${hint}")` : ''}`);
      else if (hint && node['patternErrorMessage'] !== hint)
        report(pointer, `\`patternErrorMessage\` "${String(node['patternErrorMessage'])}" is not derivc's hint "${hint}"`);
    } else if (node['patternErrorMessage'] !== undefined) report(pointer, '`patternErrorMessage` without a `pattern`');
    for (const sub of subschemas(node, pointer)) {
      const under = condition || CONDITIONS.includes(sub.key);
      if (skip(sub.pointer)) continue;
      if (!under && sub.entryOf === 'properties') documented(sub.node, sub.pointer);
      if (sub.entryOf === 'definitions' && keyValueDefinitions.has(sub.pointer)) documented(sub.node, sub.pointer);
      visit(sub.node, sub.pointer, under);
    }
  };
  visit(schema, '', false);
  return problems;
}

/** One line per problem, sorted by pointer: what a failing test prints. */
export function formatProblems(problems: readonly AnnotationProblem[]): string[] {
  return problems.map((p) => `${p.pointer || '/'}: ${p.problem}`).sort();
}
