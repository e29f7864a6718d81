// Which diagnostics a user may turn off (`--ignore`, derivc.config.yaml, `# derivc-ignore`).
// Only advisory findings: the codes derivc reports as warnings. An error means the manifest
// would build something wrong or nothing at all, and validation hands no manifest to the later
// stages while one is left — so errors are never suppressible, and a code that is sometimes an
// error (toolkit/downstream) is dropped only where it is a warning.

import type { DiagnosticCode } from '../codes.js';

export const SUPPRESSIBLE: ReadonlySet<DiagnosticCode> = new Set<DiagnosticCode>([
  'base/unpinned',
  'toolkit/unknown-version',
  'toolkit/no-runtime',
  'toolkit/luet-without-packages',
  'toolkit/downstream',
  'packages/no-gpg-check',
  'layout/nested-path',
  'oemDir/ignored-file',
  'stages/unknown-stage',
  'stages/plaintext-password',
  'cloud-config/decimal-permissions',
  'cloud-config/not-run-by-toolkit',
  'cloud-config/newer-than-toolkit',
  'parse/empty',
  'suppress/no-reason',
  'suppress/unused',
  'suppress/unknown-code',
  'suppress/not-suppressible',
]);

export function isSuppressible(code: string): boolean {
  return SUPPRESSIBLE.has(code as DiagnosticCode);
}

/** The line `derivc explain CODE` prints about suppressing it. */
export function suppressionNote(code: string): string {
  return isSuppressible(code)
    ? 'Suppressible: yes, where it is a warning — `--ignore CODE`, `rules: {CODE: off}` in derivc.config.yaml, or `# derivc-ignore CODE: reason` on the line before.'
    : 'Suppressible: no — derivc never drops an error; fix the manifest instead.';
}
