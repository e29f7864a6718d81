// Types, validators and the manifest reference are generated from the schemas; this fails when a
// checked-in file is stale, so the schema stays the single source of truth (fix: `npm run codegen`).

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { generate } from '../schema/codegen.mjs';

it('compiler/generated/* and docs/manifest.md are up to date with schema/*.schema.json', async () => {
  const files = (await generate()) as Record<string, string>;
  expect(Object.keys(files).sort()).toEqual([
    'compiler/generated/cloud-config-types.ts',
    'compiler/generated/manifest-types.ts',
    'compiler/generated/templates.ts',
    'compiler/generated/validators.ts',
    'docs/manifest.md',
  ]);
  for (const [name, text] of Object.entries(files)) {
    expect(readFileSync(name, 'utf8') === text, `${name} is stale: run npm run codegen`).toBe(true);
  }
}, 60_000);
