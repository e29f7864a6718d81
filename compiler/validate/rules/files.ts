// `files` items: what the schema's "exactly one kind" cannot say — keys that belong to one kind
// only (`template` to `content`, `sha256` to `url`), attributes that mean nothing for a kind, and
// templates that do not render. `metadata.osRelease`: its templates, and GRUB_ENTRY_NAME said twice.

import type { Diagnostic } from '../../diagnostics.js';
import { arr, entries, obj, str, type Obj } from '../../data.js';
import { joinPointer } from '../../source-file.js';
import { renderTemplate, templateContext, type TemplateContext } from '../../template.js';
import { finding, type Rule, type RuleContext } from '../context.js';
import { effectiveFamily, manifestEra } from './toolkit.js';

export const FILE_KINDS = ['content', 'source', 'url', 'symlink', 'directory', 'absent'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** The kind of a `files` item as written; `attributes` when it names none (`mode`/`owner` alone). */
export function fileKind(item: Obj): FileKind | 'attributes' {
  return FILE_KINDS.find((k) => item[k] !== undefined) ?? 'attributes';
}

/** The template context of the manifest being validated (the same facts normalize uses). */
export function ruleTemplateContext(ctx: RuleContext): TemplateContext {
  const era = manifestEra(ctx).era;
  return templateContext(ctx.manifest, {
    family: effectiveFamily(ctx),
    platform: str(obj(ctx.manifest['base'])?.['platform']) ?? ctx.upstream?.platform ?? 'linux/amd64',
    toolkit: era ? { flavor: era.flavor, version: era.version } : undefined,
  });
}

export const fileRules: Rule = (ctx) => {
  const out: Diagnostic[] = [];
  let context: TemplateContext | undefined;
  arr(ctx.manifest['files']).forEach((raw, i) => {
    const item = obj(raw);
    if (!item) return;
    const at = joinPointer('/files', i);
    const kinds = FILE_KINDS.filter((k) => item[k] !== undefined);
    // Two kinds at once is the schema's finding (files/exactly-one-kind).
    if (kinds.length > 1) return;
    const kind = fileKind(item);
    const misplaced = (key: string, message: string, hint: string) =>
      out.push(finding(ctx, 'files/invalid-combination', `${at}/${key}`, message, { at: 'key', hint }));
    if (item['template'] !== undefined && kind !== 'content')
      misplaced('template', `\`template\` renders \`content\`; this item has ${kind === 'attributes' ? 'none' : `\`${kind}\``}`, 'remove `template`');
    if (item['sha256'] !== undefined && kind !== 'url')
      misplaced('sha256', `\`sha256\` checks a download from \`url\`; this item has ${kind === 'attributes' ? 'none' : `\`${kind}\``}`, 'remove `sha256`');
    if (kind === 'url' && item['sha256'] === undefined) {
      out.push(
        finding(ctx, 'files/missing-sha256', `${at}/url`, 'a download needs `sha256`: its digest, checked at build time', {
          at: 'key',
          hint: 'add `sha256:` with the 64 hex digits of `sha256sum FILE` of the file you mean',
        }),
      );
    }
    if (kind === 'absent') {
      for (const key of ['mode', 'owner'])
        if (item[key] !== undefined) misplaced(key, `\`absent\` removes the path: \`${key}\` would change nothing`, `remove \`${key}\``);
    }
    if (kind === 'symlink' && item['mode'] !== undefined)
      misplaced('mode', 'a symlink has no mode of its own: `chmod` would change the file it points to', 'remove `mode` (set it on the target)');
    const content = str(item['content']);
    if (kind === 'content' && item['template'] === true && content !== undefined) {
      context ??= ruleTemplateContext(ctx);
      const r = renderTemplate(content, context);
      if (!r.ok) out.push(finding(ctx, r.code, `${at}/content`, `files[${i}].content: ${r.message}`, { hint: r.hint }));
    }
  });
  out.push(...osReleaseRules(ctx, () => (context ??= ruleTemplateContext(ctx))));
  return out;
};

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;
/** `boot.grubEntryName`'s pattern in the schema. */
const GRUB_ENTRY_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._+:,()/@-]{0,127}$/;

function osReleaseRules(ctx: RuleContext, context: () => TemplateContext): Diagnostic[] {
  const out: Diagnostic[] = [];
  const osRelease = obj(obj(ctx.manifest['metadata'])?.['osRelease']);
  for (const [key, value] of entries(osRelease)) {
    // A value with a control character is the schema's finding (metadata/invalid-os-release-value).
    if (typeof value !== 'string' || CONTROL.test(value)) continue;
    const pointer = joinPointer('/metadata/osRelease', key);
    const r = renderTemplate(value, context());
    if (!r.ok) {
      out.push(finding(ctx, r.code, pointer, `metadata.osRelease.${key}: ${r.message}`, { hint: r.hint }));
      continue;
    }
    // os-release is one assignment per line; a value cannot hold another (variables are single-line, templates too).
    if (CONTROL.test(r.text)) {
      out.push(
        finding(ctx, 'metadata/invalid-os-release-value', pointer, `metadata.osRelease.${key} renders to a value with a line break or control character`),
      );
    } else if (key === 'GRUB_ENTRY_NAME' && !GRUB_ENTRY_NAME.test(r.text)) {
      // The installer copies it into GRUB's environment: the same form as `boot.grubEntryName`.
      out.push(
        finding(ctx, 'boot/invalid-entry-name', pointer, `metadata.osRelease.GRUB_ENTRY_NAME renders to a value that is not a GRUB menu title`, {
          hint: 'letters, digits, spaces and `._+:,()/@-`, at most 128 characters, starting with a letter or digit',
        }),
      );
    }
  }
  if (osRelease?.['GRUB_ENTRY_NAME'] !== undefined && obj(ctx.manifest['boot'])?.['grubEntryName'] !== undefined) {
    out.push(
      finding(ctx, 'metadata/os-release-conflict', '/metadata/osRelease/GRUB_ENTRY_NAME', '`GRUB_ENTRY_NAME` is set twice: here and by `boot.grubEntryName`', {
        at: 'key',
        hint: 'keep one: `boot.grubEntryName` is the same key of /etc/os-release',
      }),
    );
  }
  return out;
}
