// A small HCL2 writer for Packer templates: blocks and attributes as data, printed as `packer fmt`
// prints them (runs of attributes aligned at `=`), so its `-check` passes. Every string goes
// through hclString (compiler/quote.ts); expressions can only be variable references and type
// keywords, never text from a manifest.

import { hclString, UnquotableError } from '../../compiler/quote.js';

/** An HCL expression derivc writes unquoted: `var.<name>` or a type keyword. */
export class Expr {
  private constructor(readonly text: string) {}

  static variable(name: string): Expr {
    return new Expr(`var.${identifier(name)}`);
  }

  static readonly string = new Expr('string');

  /** A quoted template: literal parts (quoted by hclString) around variable references, `"text${var.x}"`. */
  static template(parts: readonly (string | Expr)[]): Expr {
    return new Expr(`"${parts.map((p) => (typeof p === 'string' ? literal(p) : `\${${p.text}}`)).join('')}"`);
  }
}

/** A string's HCL-quoted body, for a template. */
function literal(text: string): string {
  if (text.includes('{{')) throw new UnquotableError(`"{{" in a Packer value would be read as a Go template: ${JSON.stringify(text)}`);
  return hclString(text).slice(1, -1);
}

/** A string derivc wrote that Packer renders as a Go template (`{{ .Name }}`), unlike a value. */
export class GoTemplate {
  constructor(readonly text: string) {}
}

export type HclValue = string | number | boolean | Expr | GoTemplate | readonly HclValue[] | { readonly [key: string]: HclValue };

/** An attribute (left out when its value is undefined: optional settings), or a nested block. */
export type Entry = readonly [name: string, value: HclValue | undefined] | Block;

export interface Block {
  type: string;
  labels: readonly string[];
  body: readonly Entry[];
  /** Comment lines above the block. */
  comment?: readonly string[];
}

function identifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) throw new UnquotableError(`not an HCL identifier: ${JSON.stringify(name)}`);
  return name;
}

function value(v: HclValue): string {
  if (typeof v === 'string') {
    // Packer renders many string settings as Go templates: `{{` in a value would run as one.
    if (v.includes('{{')) throw new UnquotableError(`"{{" in a Packer value would be read as a Go template: ${JSON.stringify(v)}`);
    return hclString(v);
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new UnquotableError(`not an integer: ${v}`);
    return String(v);
  }
  if (typeof v === 'boolean') return String(v);
  if (v instanceof Expr) return v.text;
  if (v instanceof GoTemplate) return hclString(v.text);
  if (Array.isArray(v)) return `[${(v as readonly HclValue[]).map(value).join(', ')}]`;
  const entries = Object.entries(v as { readonly [key: string]: HclValue });
  return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${value(k)} = ${value(x)}`).join(', ')} }`;
}

/** A comment line: a control character (a newline above all) would end it and start HCL. */
function comment(text: string, indent: string): string {
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) throw new UnquotableError(`control character in an HCL comment: ${JSON.stringify(text)}`);
  return `${indent}# ${text}`.trimEnd();
}

function isBlock(e: Entry): e is Block {
  return !Array.isArray(e);
}

function printBlock(block: Block, indent: string): string[] {
  const lines = (block.comment ?? []).map((c) => comment(c, indent));
  lines.push(`${indent}${identifier(block.type)}${block.labels.map((l) => ` ${value(l)}`).join('')} {`);
  const inner = `${indent}  `;
  const body = block.body.filter((e) => isBlock(e) || e[1] !== undefined);
  let run: (readonly [string, HclValue])[] = [];
  const flush = () => {
    const width = Math.max(...run.map(([n]) => n.length));
    for (const [n, v] of run) lines.push(`${inner}${identifier(n).padEnd(width)} = ${value(v)}`);
    run = [];
  };
  // A blank line around each nested block; attributes in between form one aligned run.
  body.forEach((e, i) => {
    const afterBlock = i > 0 && isBlock(body[i - 1]!);
    if (!isBlock(e)) {
      if (afterBlock) lines.push('');
      run.push(e as readonly [string, HclValue]);
      return;
    }
    if (run.length > 0) flush();
    if (i > 0) lines.push('');
    lines.push(...printBlock(e, inner));
  });
  if (run.length > 0) flush();
  lines.push(`${indent}}`);
  return lines;
}

/** A whole `.pkr.hcl` file: header comment lines, then the blocks, a blank line between them. */
export function printHcl(header: readonly string[], blocks: readonly Block[]): string {
  const parts = [header.map((h) => comment(h, '')).join('\n'), ...blocks.map((b) => printBlock(b, '').join('\n'))];
  return parts.join('\n\n') + '\n';
}
