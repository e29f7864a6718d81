// Both schemas as editors and schema stores want them (yaml-language-server, VS Code): every key
// with a hover text and examples that validate, snippets that validate once inserted, and each
// pattern failure explained in the editor with the same hint derivc prints. The walk lists every
// offending JSON pointer, so a new key without them fails here and says where.

import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { CODES, type CodeInfo } from '../compiler/codes.js';
import { bundledManifestSchema, cloudConfigSchema } from '../compiler/validate/schema.js';
// @ts-expect-error plain ESM script without types
import { ANNOTATION_KEYWORDS, EDITOR_ANNOTATIONS } from '../schema/codegen.mjs';
import { annotationProblems, escapePointer, formatProblems, insertedSnippet, type AnnotationChecks } from './support/schema-annotations.js';

type Node = Record<string, unknown>;

const hintOf = (code: string) => (CODES as Record<string, CodeInfo>)[code]?.hint;

/** Checks against `schema` with the settings of the ahead-of-time validators (schema/codegen.mjs). */
function checksFor(schema: Node, prefix: 'schema' | 'cloud-config', skip?: (pointer: string) => boolean): AnnotationChecks {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, discriminator: true, keywords: ANNOTATION_KEYWORDS });
  ajv.addSchema(schema);
  const id = schema['$id'] as string;
  return {
    invalid(pointer, value) {
      const fragment = pointer
        .split('/')
        .map((s) => encodeURIComponent(s))
        .join('/');
      const validate = ajv.getSchema(`${id}#${fragment}`) ?? ajv.compile({ $ref: `${id}#${fragment}` });
      if (validate(value)) return undefined;
      return ajv.errorsText(validate.errors, { dataVar: 'value' });
    },
    hintOf,
    genericPatternCode: `${prefix}/invalid-format`,
    ...(skip ? { skip } : {}),
  };
}

const manifest = bundledManifestSchema();

// The manifest bundle carries a copy of the cloud-config definitions: they are checked as the cloud-config schema.
describe.each<[string, Node, 'schema' | 'cloud-config', ((pointer: string) => boolean) | undefined]>([
  ['manifest', manifest, 'schema', (p) => p.startsWith('/definitions/cloudConfig_')],
  ['cloud-config', cloudConfigSchema as unknown as Node, 'cloud-config', undefined],
])('the %s schema, for editors', (_name, schema, prefix, skip) => {
  const problems = annotationProblems(schema, checksFor(schema, prefix, skip));
  const kinds: [string, RegExp][] = [
    ['documents every key: description, markdownDescription and examples', /^no `/],
    ['has examples that validate against their key', /^example/],
    ['has snippets that validate once inserted', /snippet/],
    ["explains each pattern failure with derivc's own hint", /pattern/i],
  ];

  it('has a versioned $id', () => {
    expect(schema['$id']).toMatch(/^https:\/\/derivc\.dev\/schema\/v\d+(?:alpha|beta)?\d*\/[a-z-]+\.schema\.json$/);
  });

  it.each(kinds)('%s', (_, kind) => {
    expect(formatProblems(problems.filter((p) => kind.test(p.problem)))).toEqual([]);
  });

  it('has no other problem', () => {
    expect(formatProblems(problems.filter((p) => !kinds.some(([, kind]) => kind.test(p.problem))))).toEqual([]);
  });
});

describe('the manifest schema offers snippets for the common blocks', () => {
  const snippetsAt = (pointer: string): string[] => {
    let node: unknown = manifest;
    for (const seg of pointer.split('/').slice(1)) node = (node as Node)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
    return (((node as Node)['defaultSnippets'] as { label: string }[] | undefined) ?? []).map((s) => s.label);
  };

  it.each([
    ['', 1],
    ['/definitions/metadata', 1],
    ['/definitions/base', 2],
    ['/definitions/toolkit', 5],
    ['/definitions/packages', 1],
    ['/definitions/system', 3],
    ['/definitions/boot', 1],
    ['/definitions/upgrade', 1],
    ['/definitions/file', 3],
    ['/properties/stages', 1],
    ['/definitions/targets', 2],
    ['/definitions/tests/properties/boot', 1],
  ])('at %j (%i)', (pointer, count) => {
    expect(snippetsAt(pointer)).toHaveLength(count);
  });

  it('the whole-document snippet is a minimal valid manifest', () => {
    const checks = checksFor(manifest, 'schema');
    const body = insertedSnippet((manifest['defaultSnippets'] as { body: unknown }[])[0]!.body) as Node;
    expect(checks.invalid('', body)).toBeUndefined();
    expect(Object.keys(body)).toEqual(['apiVersion', 'kind', 'metadata', 'base']);
  });
});

describe('the annotation walk', () => {
  // A schema with one of each defect, to show that every check can fail and where it points.
  const broken: Node = {
    $id: 'https://derivc.dev/schema/v1alpha1/broken.schema.json',
    type: 'object',
    properties: {
      size: {
        $ref: '#/definitions/size',
        description: 'A size.',
        markdownDescription: 'A size.',
        examples: ['5G'],
        defaultSnippets: [{ label: 'size', description: 'a size', body: '${1:8GiB}' }],
      },
      plain: { type: 'string', description: 'No hover text.' },
      name: {
        type: 'string',
        description: 'A name.',
        markdownDescription: 'A name.',
        examples: ['a'],
        pattern: '^[a-z]+$',
        'x-derivc-code': 'metadata/invalid-name',
      },
      labels: {
        type: 'object',
        description: 'Labels.',
        markdownDescription: 'Labels.',
        examples: [{}],
        propertyNames: { pattern: '^[a-z]+$' },
        defaultSnippets: [
          { label: 'labels', description: 'one label', body: { a: '${1:b}' } },
          { label: 'no body', description: 'x' },
        ],
      },
      mode: {
        type: 'string',
        description: 'A mode.',
        markdownDescription: 'A mode.',
        examples: ['0644'],
        defaultSnippets: [{ label: 'mode', description: 'unquoted', body: '0644' }],
      },
    },
    if: { properties: { conditional: { type: 'string' } } },
    then: { properties: { size: true } },
    definitions: {
      size: { type: 'string', description: 'A size.', pattern: '^[0-9]+GiB$', 'x-derivc-code': 'schema/invalid-size', patternErrorMessage: 'use GiB' },
      unused: { type: 'string' },
    },
  };

  it('lists each offending pointer', () => {
    const problems = formatProblems(annotationProblems(broken, checksFor(broken, 'schema')));
    expect(problems).toEqual([
      '/definitions/size: `patternErrorMessage` "use GiB" is not derivc\'s hint "write e.g. `8GiB`"',
      '/definitions/size: no `examples`',
      '/definitions/size: no `markdownDescription`',
      '/properties/labels/defaultSnippets/1: a snippet needs `label`, `description` and `body`',
      '/properties/labels/propertyNames: `pattern` without `patternErrorMessage`',
      '/properties/labels/propertyNames: `pattern` without `x-derivc-code`: derivc reports it as schema/invalid-format',
      '/properties/mode/defaultSnippets/0/body: snippet body does not validate once inserted: value must be string',
      '/properties/name: `pattern` without `patternErrorMessage` (derivc\'s hint: "use lowercase letters, digits and dashes, e.g. `acme-os`")',
      '/properties/plain: no `examples`',
      '/properties/plain: no `markdownDescription`',
      '/properties/size/examples/0: example does not validate: value must match pattern "^[0-9]+GiB$"',
      '/properties/size: `defaultSnippets` beside `$ref`: editors drop it (draft-07), put it on the definition or wrap the reference in `allOf`',
    ]);
  });

  it('reads snippet bodies as yaml-language-server inserts them', () => {
    expect(insertedSnippet({ mode: '"${1:0644}"', n: '${2|3,4|}', raw: '^${3:x}', t: 'true', v: '1.0' })).toEqual({
      mode: '0644',
      n: 3,
      raw: 'x',
      t: 'true',
      v: 1,
    });
  });

  it('escapes keys in pointers', () => {
    expect(escapePointer('a/b~c')).toBe('a~1b~0c');
  });
});

describe('the editor annotations', () => {
  it('are not compiled into the validators', () => {
    const validators = readFileSync('compiler/generated/validators.ts', 'utf8');
    for (const keyword of EDITOR_ANNOTATIONS as string[]) expect(validators, keyword).not.toContain(`"${keyword}"`);
    // …while `derivc schema` (and the schema file) keep them for editors.
    expect(JSON.stringify(manifest).includes('"markdownDescription"')).toBe(true);
  });
});
