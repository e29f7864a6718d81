// Shared inputs for the formatter specifications: one manifest, one unreadable file, and the five
// kinds of diagnostic every format must render (range+hint, no hint, no range, multi-line, no source).

import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { FormatInput, FormatOptions } from '../../cli/format/index.js';

export const MANIFEST = 'examples/foo/derivative.yaml';
export const UNREADABLE = 'includes/extra.yaml';

export const MANIFEST_TEXT = [
  'apiVersion: derivc.dev/v1alpha1', // 1
  'kind: Derivative', // 2
  'metadata:', // 3
  '  name: acme', // 4
  'base:', // 5
  '  family: opensuse', // 6
  '  image: registry.example/cos:1.0', // 7
  'packages:', // 8
  '  - vim', // 9
  'system:', // 10
  '  hostname: acme', // 11
  '  systctl:', // 12
  '    net.ipv4.ip_forward: 1', // 13
  '  users:', // 14
  '    admin:', // 15
  '      password: secret', // 16
  '',
].join('\n');

/** No range, with a hint. */
export const unpinned: Diagnostic = {
  code: 'base/unpinned',
  severity: 'info',
  message: 'base image is not pinned by digest',
  file: MANIFEST,
  pointer: '/base/image',
  hint: 'pin it with `@sha256:<digest>`',
};

/** A range on one line, with a hint. */
export const unknownKey: Diagnostic = {
  code: 'schema/unknown-key',
  severity: 'error',
  message: 'unknown key `systctl` in `system`',
  file: MANIFEST,
  pointer: '/system/systctl',
  range: { start: { line: 12, column: 3 }, end: { line: 12, column: 10 } },
  hint: 'did you mean `sysctl`?',
};

/** A range over two lines, no hint. */
export const plaintextPassword: Diagnostic = {
  code: 'system/plaintext-password',
  severity: 'warning',
  message: 'user `admin` has a plaintext password',
  file: MANIFEST,
  pointer: '/system/users/admin',
  range: { start: { line: 15, column: 5 }, end: { line: 16, column: 23 } },
};

/** A file that is not in `sources`; the whole-document pointer. */
export const syntaxError: Diagnostic = {
  code: 'parse/syntax',
  severity: 'error',
  message: 'unexpected end of flow mapping',
  file: UNREADABLE,
  pointer: '',
  range: { start: { line: 3, column: 1 }, end: { line: 3, column: 2 } },
};

export const ALL: readonly Diagnostic[] = [unpinned, unknownKey, plaintextPassword, syntaxError];

export function input(diagnostics: readonly Diagnostic[], sources: Record<string, string> = { [MANIFEST]: MANIFEST_TEXT }): FormatInput {
  return { diagnostics, sources: new Map(Object.entries(sources)) };
}

export const PLAIN: FormatOptions = { color: false, toolVersion: '0.1.0' };
export const COLOR: FormatOptions = { color: true, toolVersion: '0.1.0' };
