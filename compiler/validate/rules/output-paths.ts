// What the build-context writer (cli/output-dir.ts) would refuse, refused here at the manifest's
// line instead of after a clean validate: `files[].path` lands at `files<path>`, overlay files at
// `overlay/<relative>`, oemDir files at `rootfs/system/oem/<relative>` (compiler/emit/index.ts).
// The rules are the writer's own (compiler/output-path.ts), plus the one it checks across files:
// a path that is also another file's folder can never be written.

import { posix } from 'node:path';
import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, str } from '../../data.js';
import { OEM_DIR } from '../../emit/oem.js';
import { outputPathProblem } from '../../output-path.js';
import { joinPointer } from '../../source-file.js';
import { finding, type Rule, type RuleContext } from '../context.js';
import { fileKind } from './files.js';

export const outputPathRules: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const written = new Map<string, { i: number; kind: ReturnType<typeof fileKind> }>();
  arr(ctx.manifest['files']).forEach((item, i) => {
    const f = obj(item);
    const path = str(f?.['path']);
    if (path === undefined) return;
    // A path that is not normalized is the schema's finding (files/invalid-path); one report is enough.
    if (posix.normalize(path) !== path) return;
    const at = joinPointer('/files', i, 'path');
    const kind = fileKind(f!);
    // Only content and source land in the build context (files/…); the other kinds are RUN steps.
    const problem = kind === 'content' || kind === 'source' ? outputPathProblem(`files${path}`) : undefined;
    if (problem) {
      out.push(finding(ctx, 'path/unwritable', at, `\`${path}\` cannot be written into the build context: ${problem}`, { hint: 'rename it' }));
      return;
    }
    if (!written.has(path)) written.set(path, { i, kind });
  });
  for (const [path, { i }] of written) {
    for (let slash = path.indexOf('/', 1); slash !== -1; slash = path.indexOf('/', slash + 1)) {
      const parent = written.get(path.slice(0, slash));
      // A directory, or a mode/owner change of what the image has, can hold other items.
      if (parent === undefined || parent.kind === 'directory' || parent.kind === 'attributes') continue;
      out.push(
        finding(
          ctx,
          'files/path-conflict',
          joinPointer('/files', i, 'path'),
          parent.kind === 'absent'
            ? `\`${path}\` is inside \`${path.slice(0, slash)}\`, which files[${parent.i}] removes`
            : `\`${path}\` needs \`${path.slice(0, slash)}\` to be a folder, but files[${parent.i}] ${parent.kind === 'symlink' ? 'makes it a symlink' : 'writes a file there'}`,
          {
            hint: 'a path cannot be both a file and a folder: rename one of them',
          },
        ),
      );
    }
  }
  return out;
};

/** The files and symlinks of the folder `value` (named at `pointer`), as written into the build context's `overlay/` or system/oem. */
export function checkOutputNames(
  ctx: RuleContext,
  pointer: string,
  value: string,
  into: 'overlay' | 'oem',
  files: readonly { relative: string }[],
  out: Diagnostic[],
): void {
  const prefix = into === 'overlay' ? 'overlay/' : `${OEM_DIR}/`;
  for (const f of files) {
    const problem = outputPathProblem(prefix + f.relative);
    if (problem)
      out.push(
        finding(ctx, 'path/unwritable', pointer, `\`${f.relative}\` in \`${value}\` cannot be written into the build context: ${problem}`, {
          hint: 'rename it',
        }),
      );
  }
}
