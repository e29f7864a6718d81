// derivc fmt [FILE…] [--check]: rewrite manifests in their canonical form (compiler/fmt.ts).
// --check writes nothing, prints a unified diff and exits 2 when a file is not canonical, as
// `compile --check` does. A file that does not parse gets its diagnostics, exit 1, and is left
// alone. Writing is atomic: a temporary file next to it, with its mode, renamed over it.

import { lstatSync } from 'node:fs';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import { formatManifest } from '../../compiler/fmt.js';
import { writeFileAtomically } from '../atomic-file.js';
import { EXIT } from '../exit-codes.js';
import { formatDiagnostics } from '../format/index.js';
import { shown } from '../format/style.js';
import { wantsColor, type CliIO } from '../io.js';
import { unifiedDiff } from '../unified-diff.js';
import { VERSION } from '../version.js';
import { manifestPaths } from './validate.js';

export interface FmtArgs {
  files: string[];
  check: boolean;
}

export function fmtCommand(args: FmtArgs, io: CliIO): number {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, string>();
  let changed = false;
  for (const path of manifestPaths(args.files, io)) {
    const bytes = io.host.readFile(path);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!bytes || !stat?.isFile()) {
      diagnostics.push({
        code: 'io/unreadable',
        severity: 'error',
        message: stat?.isSymbolicLink() ? `\`${path}\` is a symlink; fmt rewrites only the file itself` : `\`${path}\` cannot be read as a file`,
        file: path,
        pointer: '',
        hint: stat?.isSymbolicLink() ? 'name the file the link points to' : 'check the path',
      });
      continue;
    }
    const formatted = formatManifest(path, bytes);
    if (formatted.value === undefined) {
      diagnostics.push(...formatted.diagnostics);
      sources.set(path, new TextDecoder().decode(bytes));
      continue;
    }
    const after = new TextEncoder().encode(formatted.value);
    if (Buffer.from(bytes).equals(after)) continue;
    changed = true;
    if (args.check) {
      // `a/` + the path as git names it: no doubled slash for an absolute one.
      io.stdout(unifiedDiff(path.replace(/^\/+/, ''), bytes, after));
      io.stderr(`${shown(path)} is not formatted: run \`derivc fmt ${shown(path)}\`\n`);
    } else {
      writeFileAtomically(path, after, path, stat.mode & 0o7777);
      io.stderr(`formatted ${shown(path)}\n`);
    }
  }
  if (diagnostics.length) {
    io.stderr(formatDiagnostics('pretty', { diagnostics, sources }, { color: wantsColor(io), toolVersion: VERSION }));
    return EXIT.failed;
  }
  return changed && args.check ? EXIT.changed : EXIT.ok;
}
