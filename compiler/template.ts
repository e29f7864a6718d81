// Handlebars templates in a manifest (`metadata.osRelease` values, `files[].content` with
// `template: true`), rendered at compile time over one documented context. Strict: a variable
// that is not in the context is an error, never an empty string; no clock, no helpers with
// effects. Validation renders them from the raw manifest, normalize again for the Build: both
// build the context here, from the same facts.

import type HandlebarsNamespace from 'handlebars';
// The compiler proper, without lib/index.js's `require.extensions` hook (which reads files).
import HandlebarsModule from 'handlebars/dist/cjs/handlebars.js';
import { entries, obj, str, type Obj } from './data.js';
import { defaultTagsOf, upgradeImageOf } from './image-tags.js';
import { commentText } from './quote.js';
import { closest } from './suggest.js';

const Handlebars = ((HandlebarsModule as unknown as { default?: typeof HandlebarsNamespace }).default ?? HandlebarsModule) as typeof HandlebarsNamespace;

/** An environment of its own: `log` (writes to the console) removed, nothing registered. */
const env = Handlebars.create();
env.unregisterHelper('log');
const HELPERS = new Set(Object.keys(env.helpers));

export interface TemplateFacts {
  family?: string | undefined;
  platform: string;
  /** The toolkit era, when the image carries a toolkit. */
  toolkit?: { flavor: string; version: string } | undefined;
}

export type TemplateContext = Record<string, unknown>;

/** The variables, and where each comes from: what an "unset" error tells the user to add. */
const VARIABLES: Record<string, string> = {
  name: 'metadata.name',
  version: 'metadata.version',
  description: 'metadata.description',
  vendor: 'metadata.vendor',
  url: 'metadata.url',
  family: 'base.family',
  platform: 'base.platform',
  image: 'build.tags',
  upgradeImage: 'upgrade',
  'toolkit.flavor': 'toolkit',
  'toolkit.version': 'toolkit',
};

/** The variable names a hint lists. */
export const TEMPLATE_VARIABLES: readonly string[] = [...Object.keys(VARIABLES), 'args.<NAME>'];

/** The context every template of a manifest is rendered over (`manifest` as written, possibly invalid). */
export function templateContext(manifest: Obj, facts: TemplateFacts): TemplateContext {
  const md = obj(manifest['metadata']) ?? {};
  const name = str(md['name']) ?? '';
  const version = str(md['version']) ?? '';
  const tagSource = {
    metadata: { name, version },
    upgrade: obj(manifest['upgrade']) as { image?: string } | undefined,
    build: obj(manifest['build']) as { tags?: string[] } | undefined,
  };
  const context: TemplateContext = { name, version, platform: facts.platform, image: defaultTagsOf(tagSource)[0] ?? '' };
  for (const key of ['description', 'vendor', 'url'] as const) {
    const value = str(md[key]);
    if (value !== undefined) context[key] = value;
  }
  if (facts.family !== undefined) context['family'] = facts.family;
  const upgradeImage = upgradeImageOf(tagSource);
  if (upgradeImage !== undefined) context['upgradeImage'] = upgradeImage;
  if (facts.toolkit) context['toolkit'] = { flavor: facts.toolkit.flavor, version: facts.toolkit.version };
  context['args'] = Object.fromEntries(entries(obj(manifest['build'])?.['args']).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return context;
}

export type TemplateResult =
  { ok: true; text: string } | { ok: false; code: 'template/unknown-variable' | 'template/invalid'; message: string; hint?: string | undefined };

/** `text` rendered over `context`, or why it cannot be. */
export function renderTemplate(text: string, context: TemplateContext): TemplateResult {
  let program: hbs.AST.Program;
  try {
    program = env.parse(text);
  } catch (e) {
    return invalid(e);
  }
  const problem = checkPaths(program, context, new Set());
  if (problem) return problem;
  try {
    return { ok: true, text: env.compile(program, { noEscape: true, strict: true })(context) };
  } catch (e) {
    return invalid(e);
  }
}

/** Handlebars's message, one line, without the excerpt of the template it quotes (the user's text). */
function invalid(e: unknown): TemplateResult {
  const lines = String((e as Error)?.message ?? e)
    .split('\n')
    .filter((l) => l.trim() !== '');
  const parse = /^Parse error on line (\d+)/.exec(lines[0] ?? '');
  const last = lines.at(-1) ?? '';
  const message = parse ? `the template does not parse (line ${parse[1]} of the value): ${last}` : `the template cannot be rendered: ${lines[0] ?? ''}`;
  return {
    ok: false,
    code: 'template/invalid',
    message: message.replace(/[^\x20-\x7e]/g, '?'),
    hint: 'write variables as `{{name}}`; a literal `{{` is written `\\{{`',
  };
}

/**
 * Every variable the template prints, checked against the context before rendering, so the
 * error names the whole path (`toolkit.versoin`, not Handlebars's `versoin`) with a suggestion.
 * Paths inside `each`/`with` blocks (another context) are left to strict rendering.
 */
function checkPaths(program: hbs.AST.Program, context: TemplateContext, guarded: ReadonlySet<string>): TemplateResult | undefined {
  for (const node of program.body) {
    if (node.type === 'MustacheStatement') {
      const m = node as hbs.AST.MustacheStatement;
      if (m.params.length === 0 && !m.hash && m.path.type === 'PathExpression') {
        const problem = checkPath(m.path as hbs.AST.PathExpression, context, 'print', guarded);
        if (problem) return problem;
      }
      for (const p of m.params) {
        const problem = p.type === 'PathExpression' ? checkPath(p as hbs.AST.PathExpression, context, 'test', guarded) : undefined;
        if (problem) return problem;
      }
    } else if (node.type === 'BlockStatement') {
      const b = node as hbs.AST.BlockStatement;
      const helper = (b.path as hbs.AST.PathExpression).original;
      for (const p of b.params) {
        const problem = p.type === 'PathExpression' ? checkPath(p as hbs.AST.PathExpression, context, 'test', guarded) : undefined;
        if (problem) return problem;
      }
      if (helper === 'if' || helper === 'unless') {
        // `{{#if description}}{{description}}{{/if}}`: printed only where it is set.
        const tested = b.params[0]?.type === 'PathExpression' ? (b.params[0] as hbs.AST.PathExpression).parts.join('.') : undefined;
        const set = tested !== undefined ? new Set([...guarded, tested]) : guarded;
        const [then, otherwise] = helper === 'if' ? [set, guarded] : [guarded, set];
        for (const [inner, names] of [
          [b.program, then],
          [b.inverse, otherwise],
        ] as const) {
          const problem = inner ? checkPaths(inner, context, names) : undefined;
          if (problem) return problem;
        }
      }
    }
  }
  return undefined;
}

function checkPath(path: hbs.AST.PathExpression, context: TemplateContext, use: 'print' | 'test', guarded: ReadonlySet<string>): TemplateResult | undefined {
  if (path.data || path.depth > 0 || path.parts.length === 0) return undefined;
  const [head, ...rest] = path.parts as string[];
  // Handlebars names may hold any character but a few: shown as a comment would show them.
  const dotted = commentText(path.parts.join('.'));
  if (use === 'print' && rest.length === 0 && HELPERS.has(head!)) return undefined;
  if (head === 'args') {
    const args = context['args'] as Record<string, string>;
    if (rest.length === 1 && Object.hasOwn(args, rest[0]!)) return undefined;
    const names = Object.keys(args);
    const near = rest.length === 1 ? closest(rest[0]!, names) : undefined;
    return unknown(
      rest.length === 0
        ? '`args` is a group of values: name one, e.g. `args.BUILD_ID`'
        : `unknown template variable \`${dotted}\`: \`build.args\` has no \`${commentText(rest.join('.'))}\``,
      near !== undefined
        ? `did you mean \`args.${near}\`? \`build.args\` has ${list(names)}`
        : names.length
          ? `\`build.args\` has ${list(names)}`
          : 'add it under `build.args`',
    );
  }
  if (head === 'toolkit' && rest.length === 0) {
    return unknown('`toolkit` is a group of values: write `toolkit.flavor` or `toolkit.version`', `known variables: ${list(TEMPLATE_VARIABLES)}`);
  }
  if (!Object.hasOwn(VARIABLES, dotted)) {
    const near = closest(dotted, Object.keys(VARIABLES));
    return unknown(
      `unknown template variable \`${dotted}\``,
      `${near !== undefined ? `did you mean \`${near}\`? ` : ''}known variables: ${list(TEMPLATE_VARIABLES)}`,
    );
  }
  const value = rest.reduce<unknown>((v, k) => obj(v)?.[k], context[head!]);
  if (value === undefined && use === 'print' && !guarded.has(path.parts.join('.'))) {
    return unknown(
      `template variable \`${dotted}\` has no value: this manifest sets no \`${VARIABLES[dotted]}\``,
      `set \`${VARIABLES[dotted]}\`, or print it only when set: \`{{#if ${dotted}}}{{${dotted}}}{{/if}}\``,
    );
  }
  return undefined;
}

function unknown(message: string, hint: string): TemplateResult {
  return { ok: false, code: 'template/unknown-variable', message, hint };
}

function list(names: readonly string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}
