// derivc schema [--cloud-config] [--out DIR]: the JSON Schemas editors and other tools can use,
// self-contained. --out writes both next to the manifests that name them (`$schema=./…`).

import { join } from 'node:path';
import { bundledManifestSchema, cloudConfigSchema } from '../../compiler/validate/schema.js';
import { writeFileAtomically } from '../atomic-file.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { shown } from '../format/style.js';
import type { CliIO } from '../io.js';
import { locate, makeDirectories } from '../output-location.js';

export interface SchemaArgs {
  cloudConfig: boolean;
  out?: string | undefined;
}

/** The files `--out DIR` writes: the names `derivc init` and the modelines use. */
export const SCHEMA_FILES = {
  manifest: 'derivative.schema.json',
  cloudConfig: 'cloud-config.schema.json',
} as const;

/** A schema as derivc writes it, to stdout or a file. */
export const schemaText = (schema: unknown): string => JSON.stringify(schema, null, 2) + '\n';

export function schemaCommand(args: SchemaArgs, io: CliIO): number {
  if (args.out === undefined) {
    io.stdout(schemaText(args.cloudConfig ? cloudConfigSchema : bundledManifestSchema()));
    return EXIT.ok;
  }
  if (args.cloudConfig) throw new UsageError('--out writes both schemas; --cloud-config only chooses what is printed without it');
  // Refused before anything is written: DIR (or a symlink at it) must be a directory when it exists.
  const dir = locate(args.out);
  makeDirectories(dir.real, dir.label);
  for (const [name, schema] of [
    [SCHEMA_FILES.manifest, bundledManifestSchema()],
    [SCHEMA_FILES.cloudConfig, cloudConfigSchema],
  ] as const) {
    const label = join(dir.label, name);
    const outcome = writeFileAtomically(join(dir.real, name), new TextEncoder().encode(schemaText(schema)), label);
    io.stderr(outcome === 'written' ? `wrote ${shown(label)}\n` : `${shown(label)} is up to date\n`);
  }
  return EXIT.ok;
}
