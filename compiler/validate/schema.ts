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

/** A /system/oem file: yip format, or cloud-init format when its first line is `#cloud-config`. */
export function checkCloudConfigSchema(data: unknown, source: SourceFile): Diagnostic[] {
  const legacy = /^#cloud-config[ \t]*(\r?\n|$)/.test(source.text);
  const validate = (legacy ? compiled.validateCloudInit : compiled.validateCloudConfig) as Validator;
  return run(validate, data, source, { prefix: 'cloud-config' });
}

export { manifestSchema, cloudConfigSchema };
