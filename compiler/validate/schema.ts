// Runs the ahead-of-time compiled validators (compiler/generated/validators.ts) and maps their
// errors. Compiling Ajv at start-up would cost more than the whole rest of `derivc validate`.

import type { ErrorObject } from 'ajv';
import manifestSchema from '../../schema/derivative.schema.json' with { type: 'json' };
import cloudConfigSchema from '../../schema/cloud-config.schema.json' with { type: 'json' };
import * as compiled from '../generated/validators.js';
import type { Diagnostic } from '../diagnostics.js';
import type { SourceFile } from '../source-file.js';
import { schemaDiagnostics, type SchemaContext } from './schema-errors.js';

type Validator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

function run(validate: Validator, data: unknown, source: SourceFile, ctx: SchemaContext): Diagnostic[] {
  return validate(data) ? [] : schemaDiagnostics(validate.errors ?? [], source, data, ctx);
}

export function checkManifestSchema(data: unknown, source: SourceFile): Diagnostic[] {
  return run(compiled.validateManifest as Validator, data, source, { prefix: 'schema' });
}

/** How a /system/oem file is read: a yip file, a `#cloud-config` (cloud-init) file, one with Kairos's keys too. */
export type CloudConfigFormat = 'yipFile' | 'cloudInitFile' | 'kairosFile';

const VALIDATORS: Record<CloudConfigFormat, Validator> = {
  yipFile: compiled.validateCloudConfig as Validator,
  cloudInitFile: compiled.validateCloudInit as Validator,
  kairosFile: compiled.validateKairosConfig as Validator,
};

/** A /system/oem file; by default cloud-init when its first line is `#cloud-config`, else yip. */
export function checkCloudConfigSchema(data: unknown, source: SourceFile, format?: CloudConfigFormat): Diagnostic[] {
  const legacy = /^#cloud-config[ \t]*(\r?\n|$)/.test(source.text);
  return run(VALIDATORS[format ?? (legacy ? 'cloudInitFile' : 'yipFile')], data, source, { prefix: 'cloud-config' });
}

export { manifestSchema, cloudConfigSchema };

/**
 * The manifest schema as one self-contained document (what `derivc schema` prints): the
 * cloud-config definitions it references are copied in, so editors and other tools need no
 * second file and no network.
 */
export function bundledManifestSchema(): Record<string, unknown> {
  const prefix = 'cloudConfig_';
  const local = (ref: string) => ref.replace(/^#\/definitions\//, `#/definitions/${prefix}`);
  const rewrite = (node: unknown, refFix: (ref: string) => string): unknown => {
    if (Array.isArray(node)) return node.map((n) => rewrite(n, refFix));
    if (!node || typeof node !== 'object') return node;
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? refFix(v) : rewrite(v, refFix)]));
  };
  const cc = cloudConfigSchema as { definitions: Record<string, unknown> };
  const copied = Object.fromEntries(Object.entries(cc.definitions).map(([k, v]) => [`${prefix}${k}`, rewrite(v, local)]));
  const main = rewrite(manifestSchema, (ref) => ref.replace(/^cloud-config\.schema\.json#\/definitions\//, `#/definitions/${prefix}`)) as {
    definitions: Record<string, unknown>;
  };
  return { ...main, definitions: { ...main.definitions, ...copied } };
}
