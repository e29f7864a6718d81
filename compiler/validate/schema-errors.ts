// Raw Ajv errors never reach a user: this turns them into deduplicated diagnostics with stable
// codes, positions from the YAML source, and hints ("did you mean", the expected form).

import { posix } from 'node:path';
import type { ErrorObject } from 'ajv';
import type { Diagnostic, Range } from '../diagnostics.js';
import { describeCode, toCode } from '../codes.js';
import type { SourceFile } from '../source-file.js';
import { joinPointer, parsePointer } from '../source-file.js';
import { closest, didYouMean } from '../suggest.js';
import { MAX_PROBLEMS_PER_FILE } from './limit.js';

type SchemaNode = Record<string, unknown>;

export interface SchemaContext {
  /** `schema` for manifests, `cloud-config` for /system/oem files: the prefix of generic codes. */
  prefix: 'schema' | 'cloud-config';
}

/**
 * "Did you mean" hints cost an edit distance per candidate. A file can hold 120,000 unknown keys,
 * and only the first problems of a file are shown (validate/limit.ts): past this many errors,
 * only the first ones by position get suggestions.
 */
const SUGGEST_LIMIT = 2 * MAX_PROBLEMS_PER_FILE;

export function schemaDiagnostics(errors: readonly ErrorObject[], source: SourceFile, data: unknown, ctx: SchemaContext): Diagnostic[] {
  const kept = collapseAnyOf(withoutOneOfBranches(errors)).filter((e) => !isNoise(e));
  const full: RenderContext = { ...ctx, suggest: true };
  if (kept.length <= SUGGEST_LIMIT) return kept.map((e) => toDiagnostic(e, source, data, full)).filter((d) => d !== undefined);
  const quick: RenderContext = { ...ctx, suggest: false };
  const rendered: { e: ErrorObject; d: Diagnostic }[] = [];
  for (const e of kept) {
    const d = toDiagnostic(e, source, data, quick);
    if (d) rendered.push({ e, d });
  }
  const at = (d: Diagnostic) => d.range?.start ?? { line: 0, column: 0 };
  const first = [...rendered].sort((a, b) => at(a.d).line - at(b.d).line || at(a.d).column - at(b.d).column).slice(0, SUGGEST_LIMIT);
  for (const r of first) r.d = toDiagnostic(r.e, source, data, full) ?? r.d;
  return rendered.map((r) => r.d);
}

interface RenderContext extends SchemaContext {
  /** Compute "did you mean" hints (the position and message never depend on it). */
  suggest: boolean;
}

/**
 * Ajv reports an `anyOf` as each branch's failure followed by the `anyOf` itself (the branch
 * errors come right before it, at the same node or deeper). One finding is enough: the branch
 * error that names a specific code for a string (e.g. "invalid size" for `5G`), else the anyOf.
 */
function collapseAnyOf(errors: readonly ErrorObject[]): ErrorObject[] {
  const out: ErrorObject[] = [];
  for (const e of errors) {
    if (e.keyword !== 'anyOf') {
      out.push(e);
      continue;
    }
    const inner: ErrorObject[] = [];
    while (out.length && out.at(-1)!.instancePath.startsWith(e.instancePath) && out.at(-1)!.keyword !== 'anyOf') inner.unshift(out.pop()!);
    const specific = inner.find((i) => i.instancePath === e.instancePath && i.keyword === 'pattern');
    out.push(specific ?? e);
  }
  return out;
}

/**
 * An "exactly one of" that failed is reported once, by exactlyOne: the failures of its branches
 * (a `required`, an otherwise-branch's `not` or `anyOf`) only restate it. They sit in the same
 * schema as the oneOf (its branches hold no `$ref`), so their schemaPath is under the oneOf's.
 */
function withoutOneOfBranches(errors: readonly ErrorObject[]): readonly ErrorObject[] {
  const failed = errors.filter((e) => e.keyword === 'oneOf' && isExactlyOneOf(e.parentSchema as SchemaNode | undefined));
  if (!failed.length) return errors;
  return errors.filter((e) => !failed.some((f) => f !== e && e.instancePath === f.instancePath && e.schemaPath.startsWith(`${f.schemaPath}/`)));
}

/** Errors that only restate another one: branch failures of an "exactly one of", `if`, propertyNames wrappers. */
function isNoise(e: ErrorObject): boolean {
  if (e.keyword === 'if' || e.keyword === 'propertyNames') return true;
  return e.keyword === 'required' && isExactlyOneBranch(e.parentSchema);
}

function toDiagnostic(e: ErrorObject, source: SourceFile, data: unknown, ctx: RenderContext): Diagnostic | undefined {
  const here = e.instancePath;
  // Compiled with `verbose`, every error carries the schema object that holds the failing keyword.
  const parent = e.parentSchema as SchemaNode | undefined;
  const custom = typeof parent?.['x-derivc-code'] === 'string' ? (parent['x-derivc-code'] as string) : undefined;
  const made = (fields: Fields) => diagnosticOf(source, fields);
  const where = describePointer(here);
  // Errors inside a propertyNames schema are about the key itself.
  const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    const pointer = joinPointer(here, propertyName);
    const code = custom ?? `${ctx.prefix}/invalid-key`;
    const info = describeCode(code);
    return made({ code, pointer, range: source.locate(pointer, 'key'), message: `${info?.summary ?? 'invalid key'}: \`${propertyName}\``, hint: info?.hint });
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const pointer = joinPointer(here, key);
      const allowed = allowedKeys(parent);
      const special = specialUnknownKey(key, here, ctx);
      if (special) return made({ code: special.code, pointer, range: source.locate(pointer, 'key'), message: special.message, hint: special.hint });
      return made({
        code: `${ctx.prefix}/unknown-key`,
        pointer,
        range: source.locate(pointer, 'key'),
        message: `unknown key ${show(key)} in ${where}`,
        hint: (ctx.suggest ? didYouMean(key, allowed.keys) : undefined) ?? allowed.hint,
      });
    }
    case 'required': {
      const key = String((e.params as { missingProperty: string }).missingProperty);
      const pointer = joinPointer(here, key);
      const described = (parent?.['properties'] as Record<string, SchemaNode> | undefined)?.[key]?.['description'];
      // `sourc:` for `source:` — point at the typo, which is where the fix goes.
      const present = Object.keys((valueAt(data, here) as Record<string, unknown> | undefined) ?? {});
      const typo = present.find((k) => !Object.hasOwn((parent?.['properties'] as object | undefined) ?? {}, k) && closest(k, [key]) === key);
      if (typo !== undefined) {
        const at = joinPointer(here, typo);
        return made({
          code: `${ctx.prefix}/missing-key`,
          pointer: at,
          range: source.locate(at, 'key'),
          message: `missing required key \`${key}\` in ${where}; \`${typo}\` is not a key here`,
          hint: `did you mean \`${key}\`?`,
        });
      }
      return made({
        code: `${ctx.prefix}/missing-key`,
        pointer,
        range: source.locate(pointer, 'key'),
        message: `missing required key \`${key}\` in ${where}`,
        hint: typeof described === 'string' ? `add \`${key}:\` — ${lowerFirst(described)}` : `add \`${key}:\``,
      });
    }
    case 'type':
      // x-derivc-code names what a pattern or oneOf means, never a wrong type: that stays generic.
      return typeDiagnostic(e, source, data, ctx);
    case 'enum':
    case 'const': {
      const allowed =
        e.keyword === 'enum' ? ((e.params as { allowedValues: unknown[] }).allowedValues ?? []) : [(e.params as { allowedValue: unknown }).allowedValue];
      const value = valueAt(data, here);
      const code = custom ?? `${ctx.prefix}/${e.keyword === 'enum' ? 'invalid-value' : 'invalid-value'}`;
      const list = allowed.map((v) => `\`${String(v)}\``).join(', ');
      return made({
        code,
        pointer: here,
        range: source.locate(here),
        message: `${where} must be ${allowed.length > 1 ? `one of ${list}` : list}; found ${show(value)}`,
        hint: typeof value === 'string' && ctx.suggest ? didYouMean(value, allowed.map(String)) : undefined,
      });
    }
    case 'discriminator': {
      const p = e.params as { tag: string; tagValue?: unknown };
      if (p.tagValue === undefined) return undefined;
      const pointer = joinPointer(here, p.tag);
      const branches = ((parent?.['oneOf'] as SchemaNode[] | undefined) ?? []).map((b) =>
        String((b['properties'] as Record<string, SchemaNode>)?.[p.tag]?.['const']),
      );
      const value = p.tagValue;
      return made({
        code: custom ?? `${ctx.prefix}/invalid-value`,
        pointer,
        range: source.locate(pointer),
        message: `${describePointer(pointer)} must be one of ${branches.map((b) => `\`${b}\``).join(', ')}; found ${show(value)}`,
        hint: typeof value === 'string' && ctx.suggest ? didYouMean(value, branches) : undefined,
      });
    }
    case 'uniqueItems': {
      const { i, j } = e.params as { i: number; j: number };
      const pointer = joinPointer(here, Math.max(i, j));
      return made({
        code: custom ?? `${ctx.prefix}/duplicate-item`,
        pointer,
        range: source.locate(pointer),
        message: `${show(valueAt(data, pointer))} is listed twice in ${where}`,
        hint: 'name each item once',
      });
    }
    case 'anyOf': {
      const value = valueAt(data, here);
      const forms = ((parent?.['anyOf'] as SchemaNode[] | undefined) ?? []).map(describeForm);
      return made({
        code: custom ?? `${ctx.prefix}/wrong-type`,
        pointer: here,
        range: source.locate(here),
        message: `${where} must be ${forms.join(' or ')}; found ${kindOf(value)}${value !== null && typeof value !== 'object' ? ` ${show(value)}` : ''}`,
      });
    }
    case 'oneOf': {
      if (isExactlyOneOf(parent)) return exactlyOne(e, source, data, parent!, custom, ctx);
      return made({
        code: custom ?? `${ctx.prefix}/invalid-value`,
        pointer: here,
        range: source.locate(here),
        message: `${where} matches none of the allowed forms`,
      });
    }
    default: {
      const code = custom ?? `${ctx.prefix}/${genericCode(e.keyword)}`;
      const info = describeCode(code);
      const raw = valueAt(data, here);
      // Show what the user wrote (`017777`), not what YAML made of it (8191).
      const written = typeof raw === 'number' ? source.scalarSource(here) : undefined;
      const value = written ?? raw;
      const specific = custom && info;
      return made({
        code,
        pointer: here,
        range: source.locate(here),
        message: specific
          ? `${info.summary}: ${show(value)}`
          : `${where} ${ajvMessage(e)}${value !== null && typeof value === 'object' ? '' : `; found ${show(value)}`}`,
        hint: betterHint(code, value) ?? info?.hint,
      });
    }
  }
}

interface Fields {
  code: string;
  pointer: string;
  range: Range;
  message: string;
  hint?: string | undefined;
}

/**
 * Every schema diagnostic built as one object literal: spreading a shared base object instead
 * cost about 10 µs per diagnostic, which 120,000 unknown keys turn into seconds.
 */
function diagnosticOf(source: SourceFile, f: Fields): Diagnostic {
  return { code: toCode(f.code), severity: 'error', message: f.message, file: source.path, pointer: f.pointer, range: f.range, hint: f.hint };
}

function typeDiagnostic(e: ErrorObject, source: SourceFile, data: unknown, ctx: SchemaContext): Diagnostic {
  const here = e.instancePath;
  const value = valueAt(data, here);
  // `["array", "null"]`: an empty value is fine too, but the fix is still to write a list.
  const types = String((e.params as { type: string | string[] }).type).split(',');
  const expected = (types.length > 1 ? types.filter((t) => t !== 'null') : types).join(' or ');
  const key = parsePointer(here).at(-1);
  const range = source.locate(here);
  if (ctx.prefix === 'schema' && key === 'mode' && typeof value === 'number' && !here.startsWith('/stages')) {
    const written = source.scalarSource(here) ?? String(value);
    const octal = /^0?[0-7]{3,4}$/.test(written);
    return diagnosticOf(source, {
      pointer: here,
      range,
      code: 'files/mode-not-string',
      message: `mode must be a quoted octal string; found the number ${written}`,
      hint: octal
        ? `write \`mode: "${written.padStart(4, '0')}"\` — YAML 1.1 and 1.2 read an unquoted ${written} differently`
        : 'write the mode as a quoted octal string, e.g. `mode: "0644"`',
    });
  }
  if (key === 'permissions' && typeof value === 'string') {
    return diagnosticOf(source, {
      pointer: here,
      range,
      code: 'cloud-config/quoted-permissions',
      message: `permissions must be an unquoted octal number; found the string "${value}"`,
      hint: `write \`permissions: ${value}\` without quotes — yip skips the whole file when a mode is quoted`,
    });
  }
  const written = source.scalarSource(here);
  const hint =
    expected === 'string' && written !== undefined && (typeof value === 'number' || typeof value === 'boolean')
      ? `quote it: \`"${written}"\` — unquoted, YAML reads it as a ${typeof value}`
      : expected === 'array'
        ? 'write a list: one `- item` per line, or `[a, b]`'
        : expected === 'object'
          ? 'indent the keys that belong to it under it'
          : value === null
            ? 'give it a value, or remove the key'
            : undefined;
  const found = written !== undefined && typeof value !== 'string' ? `\`${written}\`` : show(value);
  const kind = typeof value === 'number' && written !== undefined && /[.eE]/.test(written) ? 'a number' : kindOf(value);
  return diagnosticOf(source, {
    pointer: here,
    range,
    code: `${ctx.prefix}/wrong-type`,
    message: `${describePointer(here)} must be ${article(expected)}; found ${kind}${value !== null && typeof value !== 'object' ? ` ${found}` : ''}`,
    hint,
  });
}

function exactlyOne(e: ErrorObject, source: SourceFile, data: unknown, parent: SchemaNode, custom: string | undefined, ctx: SchemaContext): Diagnostic {
  const here = e.instancePath;
  const branches = parent['oneOf'] as SchemaNode[];
  const names = branches.filter(isExactlyOneBranch).map((b) => String((b['required'] as string[])[0]));
  // `files`: with none of the kinds, `mode`/`owner` alone are a form of their own.
  const otherwise = branches.find(isOtherwiseBranch);
  const value = valueAt(data, here);
  const present = names.filter((n) => value && typeof value === 'object' && Object.hasOwn(value, n));
  const list = names.map((n) => `\`${n}\``);
  const either = `${list.slice(0, -1).join(', ')} or ${list.at(-1)}`;
  const both = present.length > 1;
  const pointer = both ? joinPointer(here, present[1]!) : here;
  const found = present.map((n) => `\`${n}\``);
  const named = `${found.slice(0, -1).join(', ')} and ${found.at(-1)}`;
  const short = names.length === 2 && !otherwise;
  const alone = ((otherwise?.['anyOf'] as SchemaNode[] | undefined) ?? []).map((b) => `\`${String((b['required'] as string[])[0])}\``).join(' or ');
  return {
    severity: 'error',
    file: source.path,
    code: toCode(custom ?? `${ctx.prefix}/exactly-one`),
    pointer,
    range: source.locate(pointer, 'key'),
    message: both
      ? short
        ? `${describePointer(here)} sets both ${named}; exactly one is allowed`
        : `${describePointer(here)} sets ${named}; exactly one of ${either} is allowed`
      : otherwise
        ? `${describePointer(here)} needs one of ${either}, or ${alone} alone; found none of them`
        : `${describePointer(here)} needs exactly one of ${either}`,
    hint: both
      ? short
        ? `keep one of ${either} and remove the other`
        : `keep one of ${named} and remove the others`
      : otherwise && typeof otherwise['description'] === 'string'
        ? `add one of ${either}; without them, ${otherwise['description']}`
        : `add ${either}`,
  };
}

const allowedCache = new WeakMap<object, { keys: string[]; hint: string | undefined }>();

/** The keys a closed object allows, and the hint listing them (one string per schema node, not per error). */
function allowedKeys(parent: SchemaNode | undefined): { keys: string[]; hint: string | undefined } {
  if (!parent) return { keys: [], hint: undefined };
  let found = allowedCache.get(parent);
  if (!found) {
    const keys = Object.keys((parent['properties'] as SchemaNode | undefined) ?? {});
    found = { keys, hint: keys.length ? `allowed keys here: ${keys.map((k) => `\`${k}\``).join(', ')}` : undefined };
    allowedCache.set(parent, found);
  }
  return found;
}

/** Unknown keys that are really a known mistake get their own code and a precise hint. */
function specialUnknownKey(key: string, at: string, ctx: SchemaContext): Pick<Diagnostic, 'code' | 'message' | 'hint'> | undefined {
  if (ctx.prefix === 'schema' && key === 'password' && /^\/system\/users\/\d+$/.test(at)) {
    return {
      code: 'system/plaintext-password',
      message: 'plaintext `password` in a user: a manifest is committed to git, so only a hash belongs here',
      hint: 'replace it with `passwordHash:` — make one with `openssl passwd -6` or `mkpasswd -m sha-512`',
    };
  }
  if (
    ctx.prefix === 'schema' &&
    at.startsWith('/targets/packer') &&
    /(secret|password|token|accesskey|credential|clientid|privatekey)/i.test(key.replace(/[-_]/g, ''))
  ) {
    return {
      code: 'targets/packer-credential',
      message: `\`${key}\` looks like a credential; derivc never writes credentials into templates`,
      hint: "credentials are packer variables: set them at build time, e.g. `PKR_VAR_<name>=…` or your cloud CLI's environment",
    };
  }
  return undefined;
}

/**
 * The house convention for "exactly one of A / B": `oneOf: [{required: [A]}, {required: [B]}]`,
 * optionally with one otherwise-branch (`{not: {anyOf: [...]}, ...}`: none of them, in another form).
 */
function isExactlyOneOf(node: SchemaNode | undefined): boolean {
  const oneOf = node?.['oneOf'];
  if (!Array.isArray(oneOf) || oneOf.length < 2) return false;
  const otherwise = oneOf.filter(isOtherwiseBranch).length;
  return otherwise <= 1 && oneOf.filter(isExactlyOneBranch).length + otherwise === oneOf.length;
}

/** The branch of an "exactly one of" that holds when none of the others' keys is there. */
function isOtherwiseBranch(b: unknown): boolean {
  return !!b && typeof b === 'object' && 'not' in b;
}

/** `{required: [A]}`, optionally with `properties: {A: true}` (kept for type generation). */
function isExactlyOneBranch(b: unknown): boolean {
  if (!b || typeof b !== 'object') return false;
  const { required, properties, ...rest } = b as SchemaNode;
  const props = Object.values((properties as SchemaNode | undefined) ?? {});
  return Object.keys(rest).length === 0 && Array.isArray(required) && required.length === 1 && props.every((v) => v === true);
}

function valueAt(data: unknown, pointer: string): unknown {
  let v = data;
  for (const seg of parsePointer(pointer)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}

/** `/system/users/0` → "`system.users[0]`", "" → "the top level". */
export function describePointer(pointer: string): string {
  const segs = parsePointer(pointer);
  if (segs.length === 0) return 'the top level';
  return '`' + segs.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : (i ? '.' : '') + s)).join('') + '`';
}

/** One alternative of an anyOf, for a person: `rest`, "a string", "a size such as `8GiB`". */
function describeForm(branch: SchemaNode): string {
  if ('const' in branch) return `\`${String(branch['const'])}\``;
  if (Array.isArray(branch['enum'])) return (branch['enum'] as unknown[]).map((v) => `\`${String(v)}\``).join(' or ');
  const ref = typeof branch['$ref'] === 'string' ? (branch['$ref'] as string).split('/').at(-1) : undefined;
  const named: Record<string, string> = { size: 'a size such as `8GiB`', duration: 'a duration such as `5m`' };
  if (ref && named[ref]) return named[ref]!;
  if (typeof branch['type'] === 'string') return article(branch['type'] as string);
  return 'another form';
}

/** Hints that can name the exact fix for a given value. */
function betterHint(code: string, value: unknown): string | undefined {
  if (code === 'files/invalid-path' && typeof value === 'string' && value.startsWith('/')) {
    const clean = posix.normalize(value).replace(/(.)\/+$/, '$1');
    if (clean !== value && clean !== '/') return `write the normalized path \`${clean}\``;
  }
  return undefined;
}

function genericCode(keyword: string): string {
  const map: Record<string, string> = {
    pattern: 'invalid-format',
    format: 'invalid-format',
    minItems: 'too-few-items',
    maxItems: 'too-many-items',
    uniqueItems: 'duplicate-item',
    minimum: 'out-of-range',
    maximum: 'out-of-range',
    exclusiveMinimum: 'out-of-range',
    exclusiveMaximum: 'out-of-range',
    minLength: 'too-short',
    maxLength: 'too-long',
    minProperties: 'too-few-items',
    maxProperties: 'too-many-items',
    not: 'invalid-value',
    anyOf: 'invalid-value',
  };
  return map[keyword] ?? 'invalid-value';
}

function ajvMessage(e: ErrorObject): string {
  const limit = (e.params as { limit?: number }).limit;
  if (e.keyword === 'minItems') return limit === 1 ? 'must not be empty' : `must have at least ${limit} items`;
  if (e.keyword === 'maxItems') return `must have at most ${limit} items`;
  if (e.keyword === 'minLength') return limit === 1 ? 'must not be empty' : `must be at least ${limit} characters long`;
  if (e.keyword === 'maxLength') return `must be at most ${limit} characters long`;
  if (e.keyword === 'minimum' || e.keyword === 'maximum') return `must be ${e.keyword === 'minimum' ? 'at least' : 'at most'} ${limit}`;
  if (e.keyword === 'pattern') return `must match ${String((e.params as { pattern: string }).pattern)}`;
  if (e.keyword === 'uniqueItems')
    return `must not repeat an item (items ${(e.params as { j: number; i: number }).j} and ${(e.params as { i: number }).i} are equal)`;
  return e.message ?? 'is invalid';
}

function kindOf(v: unknown): string {
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'an integer' : 'a number';
  return typeof v === 'boolean' ? 'a boolean' : 'a string';
}

function article(type: string): string {
  return type
    .split(' or ')
    .map(
      (t) =>
        ({
          object: 'a mapping',
          array: 'a list',
          string: 'a string',
          integer: 'an integer',
          number: 'a number',
          boolean: 'a boolean (true/false)',
          null: 'empty',
        })[t] ?? t,
    )
    .join(' or ');
}

function show(v: unknown): string {
  if (typeof v === 'string') {
    const visible = v.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
    return `\`${visible.length > 60 ? visible.slice(0, 57) + '…' : visible}\``;
  }
  if (v === undefined) return 'nothing';
  if (v !== null && typeof v === 'object') return kindOf(v);
  return `\`${String(v)}\``;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}
