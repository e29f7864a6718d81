// derivc schema [--cloud-config]: the JSON Schema editors and other tools can use, self-contained.

import { bundledManifestSchema, cloudConfigSchema } from '../../compiler/validate/schema.js';
import { EXIT } from '../exit-codes.js';
import type { CliIO } from '../io.js';

export function schemaCommand(args: { cloudConfig: boolean }, io: CliIO): number {
  io.stdout(JSON.stringify(args.cloudConfig ? cloudConfigSchema : bundledManifestSchema(), null, 2) + '\n');
  return EXIT.ok;
}
