// Local paths a manifest names (files[].source, overlay, oemDir, targets.iso.overlay) must stay
// inside the manifest's folder — lexically and after symlinks — so a build context can never
// pull in `~/.ssh` or `/etc/shadow`.

import { isAbsolute, join, normalize, relative, sep } from 'node:path';
import type { Diagnostic } from '../../diagnostics.js';
import { arr, obj, str } from '../../data.js';
import { walkLocalTree, type LinkPolicy, type LocalTree, type TreeLimits } from '../../local-tree.js';
import { MAX_LINK_BYTES } from '../../link-target.js';
import { isWithin } from '../../repository.js';
import { joinPointer } from '../../source-file.js';
import { finding, type Rule, type RuleContext } from '../context.js';

type Want = 'file' | 'directory';

/** Checks one local path; returns the display path when it is usable. */
export function checkLocalPath(ctx: RuleContext, pointer: string, value: string, want: Want, out: Diagnostic[]): string | undefined {
  const target = normalize(join(ctx.dir, value));
  const lexical = relative(normalize(ctx.dir), target);
  if (isAbsolute(value) || lexical === '..' || lexical.startsWith('..' + sep)) {
    out.push(
      finding(ctx, 'path/outside-manifest-dir', pointer, `\`${value}\` is outside the manifest's folder`, {
        hint: 'paths are relative to the manifest and must stay inside its folder: move the content next to the manifest',
      }),
    );
    return undefined;
  }
  const kind = ctx.host.kind(target);
  if (kind === 'loop') {
    out.push(
      finding(ctx, 'path/symlink-loop', pointer, `\`${value}\` is a symlink loop: a link on the way points back at itself`, {
        hint: 'fix or remove the symlink',
      }),
    );
    return undefined;
  }
  if (kind === 'missing') {
    out.push(
      finding(ctx, 'path/not-found', pointer, `\`${value}\` does not exist (looked for ${target})`, {
        hint: `create the ${want}, or fix the path (it is relative to the manifest's folder)`,
      }),
    );
    return undefined;
  }
  const realDir = ctx.host.realpath(ctx.dir);
  const realTarget = ctx.host.realpath(target);
  if (realDir === undefined || realTarget === undefined || !isWithin(realDir, realTarget)) {
    out.push(
      // Shown relative to the manifest's folder: the same on every machine and in every checkout.
      finding(
        ctx,
        'path/outside-manifest-dir',
        pointer,
        `\`${value}\` resolves through a symlink to ${realDir && realTarget ? `\`${relative(realDir, realTarget)}\`` : 'an unreadable place'}, outside the manifest's folder`,
        {
          hint: "copy the content into the manifest's folder instead of linking to it",
        },
      ),
    );
    return undefined;
  }
  if (kind !== want) {
    out.push(
      finding(
        ctx,
        'path/wrong-kind',
        pointer,
        `\`${value}\` is ${kind === 'directory' ? 'a directory' : kind === 'file' ? 'a file' : 'not a regular file or directory'}; a ${want} is expected`,
      ),
    );
    return undefined;
  }
  return target;
}

export const pathRules: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  const seen = new Map<string, number>();
  arr(ctx.manifest['files']).forEach((item, i) => {
    const f = obj(item);
    const at = joinPointer('/files', i);
    const source = str(f?.['source']);
    if (source !== undefined) checkLocalPath(ctx, `${at}/source`, source, 'file', out);
    // Form (absolute, normalized) is the schema's job; here only what needs the whole list.
    const path = str(f?.['path']);
    if (path === undefined) return;
    if (seen.has(path)) {
      out.push(
        finding(ctx, 'files/duplicate-path', `${at}/path`, `\`${path}\` is already written by files[${seen.get(path)}]`, {
          hint: 'keep one entry per path: the later one would silently replace the earlier',
        }),
      );
    } else seen.set(path, i);
  });
  return out;
};

/**
 * A directory the manifest names, walked: its files (and with `copy`, its symlinks, copied as
 * symlinks), or undefined when unusable. Every entry read that leaves the manifest's folder,
 * dangles, loops, every link that cannot be copied, and exceeding the limits is a diagnostic.
 */
export function checkLocalTree(
  ctx: RuleContext,
  pointer: string,
  value: string,
  limits: TreeLimits,
  links: LinkPolicy,
  out: Diagnostic[],
): LocalTree | undefined {
  const root = checkLocalPath(ctx, pointer, value, 'directory', out);
  if (root === undefined) return undefined;
  const { problems, ...tree } = walkLocalTree(ctx.host, ctx.dir, root, limits, links);
  for (const p of problems) {
    if (p.kind === 'outside') {
      out.push(
        finding(
          ctx,
          'path/outside-manifest-dir',
          pointer,
          `\`${p.relative}\` in \`${value}\` resolves through a symlink to \`${p.target}\`, outside the manifest's folder`,
          { hint: "copy the content into the manifest's folder instead of linking to it" },
        ),
      );
    } else if (p.kind === 'loop') {
      out.push(
        finding(ctx, 'path/symlink-loop', pointer, `\`${p.relative}\` in \`${value}\` is a symlink loop: a link on the way points back at itself`, {
          hint: 'fix or remove the symlink',
        }),
      );
    } else if (p.kind === 'dangling') {
      out.push(
        finding(ctx, 'path/not-found', pointer, `\`${p.relative}\` in \`${value}\` is a symlink to nothing`, {
          hint: 'remove the link, or create what it points to',
        }),
      );
    } else if (p.kind === 'not-a-file') {
      out.push(
        finding(ctx, 'path/wrong-kind', pointer, `\`${p.relative}\` in \`${value}\` is neither a regular file nor a directory`, {
          hint: 'only regular files and directories can go into the image this way',
        }),
      );
    } else if (p.kind === 'bad-link') {
      out.push(
        finding(ctx, 'path/invalid-symlink', pointer, `\`${p.relative}\` in \`${value}\` is a symlink that cannot be copied: its target ${p.problem}`, {
          hint: `a symlink is copied into the image as it is: its target must be non-empty UTF-8 text of at most ${MAX_LINK_BYTES} bytes without NUL`,
        }),
      );
    } else if (p.kind === 'too-deep') {
      out.push(
        finding(ctx, 'path/too-deep', pointer, `\`${p.relative}\` in \`${value}\` is nested deeper than ${limits.maxDepth} folders; derivc does not read it`, {
          hint: 'flatten the folder structure',
        }),
      );
    } else {
      out.push(
        finding(ctx, 'path/too-many-files', pointer, `\`${value}\` holds more than ${p.limit} files; derivc reads only the first ${p.limit}`, {
          hint: 'ship large trees as a package or an image layer instead',
        }),
      );
    }
  }
  return tree;
}
