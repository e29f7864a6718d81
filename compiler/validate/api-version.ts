// `apiVersion` is read first and alone: it decides which schema applies, so nothing else is
// checked against a version the manifest did not ask for.

import type { Diagnostic } from '../diagnostics.js';
import { obj } from '../data.js';
import type { SourceFile } from '../source-file.js';
import { didYouMean } from '../suggest.js';
import { finding } from './context.js';

export const API_VERSIONS = ['derivc.dev/v1alpha1'] as const;

export function checkApiVersion(data: unknown, source: SourceFile): Diagnostic | undefined {
  const ctx = { source };
  const root = obj(data);
  if (!root) {
    return finding(ctx, 'parse/not-a-mapping', '', 'a manifest is a YAML mapping of keys (`apiVersion:`, `kind:`, …)', {
      hint: 'start the file with `apiVersion: derivc.dev/v1alpha1`; run `derivc init` to scaffold one',
    });
  }
  const version = root['apiVersion'];
  if (version === undefined) {
    return finding(ctx, 'api/missing-version', '', 'missing `apiVersion`: derivc cannot tell which manifest format this is', {
      hint: `add \`apiVersion: ${API_VERSIONS[0]}\` as the first line`,
    });
  }
  if (typeof version === 'string' && (API_VERSIONS as readonly string[]).includes(version)) return undefined;
  return finding(
    ctx,
    'api/unknown-version',
    '/apiVersion',
    `unknown apiVersion ${typeof version === 'string' ? `\`${version}\`` : String(version)}; known versions: ${API_VERSIONS.map((v) => `\`${v}\``).join(', ')}`,
    {
      hint: (typeof version === 'string' ? didYouMean(version, API_VERSIONS) : undefined) ?? `use \`apiVersion: ${API_VERSIONS[0]}\``,
    },
  );
}
