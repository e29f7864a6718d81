// Types and validators are generated from the schemas; this fails when a checked-in file is stale,
// so the schema stays the single source of truth (fix: `npm run codegen`).

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
// @ts-expect-error plain ESM script without types
import { generate } from '../schema/codegen.mjs';

it('compiler/generated/* is up to date with schema/*.schema.json', async () => {
  const files = (await generate()) as Record<string, string>;
  expect(Object.keys(files).sort()).toEqual(['cloud-config-types.ts', 'manifest-types.ts', 'templates.ts', 'validators.ts']);
  for (const [name, text] of Object.entries(files)) {
    expect(readFileSync(`compiler/generated/${name}`, 'utf8') === text, `compiler/generated/${name} is stale: run npm run codegen`).toBe(true);
  }
}, 60_000);
