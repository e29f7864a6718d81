// The Dockerfile steps of `files` items that are not copied from the build context: downloads,
// directories, symlinks, mode changes of what the image has, removals, and owners. Each item is
// its own step (pointer /files/N), so a failing one is reported at its line. Nothing from the
// manifest reaches a shell: every value is an argument ("$@") of a static script, or exec form.

import type { Build, FileIR } from '../normalize/build.js';
import { dockerExec } from '../quote.js';
import type { Step } from './dockerfile.js';

/** Where `ADD` puts a download (mode 0600, root) before its digest is checked. */
export const DOWNLOAD_DIR = '/usr/lib/derivc/downloads';

/** A static script run by /bin/sh, its values as arguments ($1…): nothing is pasted into it. */
const run = (script: string, ...args: string[]) => `RUN ${dockerExec(['/bin/sh', '-c', script, 'derivc', ...args])}`;

/** $1 downloaded file, $2 expected sha256, $3 path, $4 mode. The message is what cli/build/failure.ts reads. */
export const DOWNLOAD_CHECK = [
  'set -eu',
  'got=$(sha256sum "$1" | cut -d " " -f 1)',
  'if [ "$got" != "$2" ]; then echo "derivc: sha256 mismatch for $3: expected $2, got $got" >&2; rm -f "$1"; exit 1; fi',
  'mkdir -p "$(dirname "$3")"',
  // -T: a directory at the path is an error, never a folder to move the file into.
  'mv -fT "$1" "$3"',
  'chmod "$4" "$3"',
  `rmdir ${DOWNLOAD_DIR} 2>/dev/null || true`,
].join('; ');

/** $1 path, $2 mode. */
const DIRECTORY = 'set -eu; mkdir -p "$1"; chmod "$2" "$1"';

/** $1 path, $2 target, written as given. -T: a directory at the path is an error, not a folder to link into. */
const SYMLINK = 'set -eu; mkdir -p "$(dirname "$1")"; ln -sfnT -- "$2" "$1"';

/** $1 path, $2 mode (optional). The message is what cli/build/failure.ts reads. */
const ATTRIBUTES = [
  'set -eu',
  'if [ ! -e "$1" ] && [ ! -L "$1" ]; then echo "derivc: $1 is not in the image: mode and owner change a path the image already has" >&2; exit 1; fi',
  '[ "$#" -lt 2 ] || chmod "$2" "$1"',
].join('; ');

const octal = (mode: number) => `0${mode.toString(8).padStart(3, '0')}`;

/** Downloads, directories, symlinks and mode changes, in manifest order: after the files COPY, before the overlay and the initrd. */
export function fileSteps(build: Build): Step[] {
  return build.files.flatMap((f): Step[] => {
    const at = f.pointer.slice('/files/'.length);
    if (f.kind === 'url') {
      const download = `${DOWNLOAD_DIR}/${at}`;
      return [
        {
          comment: `files[${at}]: ${f.path}, downloaded, its sha256 checked`,
          lines: [`ADD ${dockerExec([f.url, download])}`, run(DOWNLOAD_CHECK, download, f.sha256, f.path, octal(f.mode))],
          pointer: f.pointer,
        },
      ];
    }
    if (f.kind === 'directory') return [{ comment: `files[${at}]: directory ${f.path}`, lines: [run(DIRECTORY, f.path, octal(f.mode))], pointer: f.pointer }];
    if (f.kind === 'symlink') return [{ comment: `files[${at}]: symlink ${f.path}`, lines: [run(SYMLINK, f.path, f.target)], pointer: f.pointer }];
    if (f.kind === 'attributes') {
      const mode = f.mode !== undefined ? [octal(f.mode)] : [];
      return [
        {
          comment: `files[${at}]: ${f.mode !== undefined ? 'mode of ' : ''}${f.path}, which the image must have`,
          lines: [run(ATTRIBUTES, f.path, ...mode)],
          pointer: f.pointer,
        },
      ];
    }
    return [];
  });
}

/** `absent` items: removed after packages, toolkit, files and overlay, before the initrd. */
export function absentStep(build: Build): Step | undefined {
  const gone = build.files.filter((f) => f.kind === 'absent');
  if (!gone.length) return undefined;
  return {
    comment: 'files removed from the image (a missing one is fine)',
    lines: [`RUN ${dockerExec(['rm', '-rf', '--', ...gone.map((f) => f.path)])}`],
    pointer: gone.length === 1 ? gone[0]!.pointer : '/files',
  };
}

/** `chown` for every item that needs one, grouped by owner; a symlink's own owner (`-h`), never its target's. */
export function ownerLines(build: Build): string[] {
  const groups = new Map<string, { link: boolean; owner: string; paths: string[] }>();
  for (const f of build.files as FileIR[]) {
    if (f.owner === undefined || f.kind === 'absent') continue;
    const link = f.kind === 'symlink';
    const key = `${link ? '-h ' : ''}${f.owner}`;
    const group = groups.get(key) ?? { link, owner: f.owner, paths: [] };
    group.paths.push(f.path);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => `RUN ${dockerExec(['chown', ...(g.link ? ['-h'] : []), g.owner, ...g.paths])}`);
}
