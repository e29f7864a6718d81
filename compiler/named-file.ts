// Opening a file the manifest names, for normalize: through the Host's checked open (the checks
// apply to the opened file, so a path swapped for a symlink after validation is caught), or by
// path for a host without one. A refusal becomes a diagnostic — never an empty file.

import { relative } from 'node:path';
import { SourceContent, type OpenedFile, type OpenRefusal } from './checked-file.js';
import { isWithin } from './repository.js';
import type { Diagnostic } from './diagnostics.js';
import type { Host } from './host.js';
import type { DiagnosticCode } from './codes.js';

export function openNamedFile(host: Host, path: string, within: string, options: { maxBytes?: number } = {}): OpenedFile | OpenRefusal {
  if (host.openFile) return host.openFile(path, within, options);
  // A git revision cannot change while derivc reads it: the path checks validation made still hold.
  const kind = host.kind(path);
  if (kind === 'missing') return { refused: 'missing' };
  if (kind !== 'file') return { refused: 'not-a-file' };
  const base = host.realpath(within);
  const real = host.realpath(path);
  if (base === undefined || real === undefined || !isWithin(base, real)) return { refused: 'outside', real: real ?? path };
  const bytes = host.readFile(path);
  if (bytes === undefined) return { refused: 'unreadable', reason: 'the host could not read it' };
  if (options.maxBytes !== undefined && bytes.byteLength > options.maxBytes) return { refused: 'too-large', size: bytes.byteLength };
  return { content: SourceContent.of(path, bytes), mode: host.mode?.(path) ?? 0o644, bytes };
}

/**
 * The diagnostic for a file refused when it was opened. Validation checked the same path a moment
 * earlier, so this means it changed in between: said plainly, since it may be an attack.
 */
export function refusalDiagnostic(
  r: OpenRefusal,
  display: string,
  realBase: string | undefined,
  at: Pick<Diagnostic, 'file' | 'pointer' | 'range'>,
  maxBytes?: number,
): Diagnostic {
  const error = (code: DiagnosticCode, message: string, hint: string): Diagnostic => ({ code, severity: 'error', message, ...at, hint });
  const changed = 'it changed after validation: keep the files the manifest names as they are while derivc runs';
  switch (r.refused) {
    case 'missing':
      return error('path/not-found', `\`${display}\` does not exist any more (it did when the manifest was validated)`, changed);
    case 'not-a-file':
      return error('path/wrong-kind', `\`${display}\` is not a regular file when derivc opens it`, changed);
    case 'outside':
      return error(
        'path/outside-manifest-dir',
        `\`${display}\` resolved to \`${realBase ? relative(realBase, r.real) : r.real}\` when derivc opened it, outside the manifest's folder`,
        `copy the content into the manifest's folder instead of linking to it; if nothing links it, ${changed}`,
      );
    case 'too-large':
      return error('parse/too-large', `\`${display}\` is ${r.size} bytes; the limit is ${maxBytes ?? 'smaller'}`, 'split it');
    case 'changed':
      return error('io/unreadable', `\`${display}\` was moved or replaced while derivc opened it`, changed);
    case 'unreadable':
      return error('io/unreadable', `\`${display}\` cannot be read: ${r.reason}`, 'check that derivc may read it');
  }
}
