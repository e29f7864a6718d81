// The one quoting module: everything from a manifest that lands in a Dockerfile, a shell script
// or a GRUB script goes through here — never through string concatenation. Each function either
// returns text that the target language reads back as exactly the input, or throws for input
// that cannot be represented (validation has already refused such values; the throw is a last
// line of defence, not a user-facing error).

/** Characters no generated file may carry from a manifest: NUL and the other C0/C1 controls but tab. */
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/;

export class UnquotableError extends Error {}

function refuseControl(value: string, where: string): void {
  if (CONTROL.test(value)) throw new UnquotableError(`control character in a value for ${where}: ${JSON.stringify(value)}`);
}

/**
 * A Dockerfile exec-form array: `["a", "b"]`. Docker parses it as JSON, runs it without a shell,
 * so `$`, quotes, `;` and newlines in arguments are inert.
 */
export function dockerExec(args: readonly string[]): string {
  for (const a of args) if (a.includes('\u0000')) throw new UnquotableError('NUL in a Dockerfile argument');
  // `<` as \u003c: BuildKit reads `<<WORD` on a RUN line as a heredoc, even inside the JSON.
  return JSON.stringify(args)
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
    .replace(/</g, '\\u003c');
}

/**
 * A double-quoted Dockerfile word (LABEL values, ARG defaults): backslash, quote and `$` escaped,
 * so the Dockerfile lexer neither ends the string nor expands variables. Single line only.
 */
export function dockerString(value: string): string {
  refuseControl(value, 'a Dockerfile string');
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** `KEY="value"` for a Dockerfile ENV: the name checked, the value a dockerString. */
export function dockerEnv(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UnquotableError(`invalid variable name ${JSON.stringify(key)}`);
  return `${key}=${dockerString(value)}`;
}

/** A path in a Dockerfile COPY/ADD: no whitespace or quoting tricks allowed at all. */
export function dockerPath(path: string): string {
  if (!/^[A-Za-z0-9._@+,:=~/-]+$/.test(path)) throw new UnquotableError(`unsafe path for a Dockerfile: ${JSON.stringify(path)}`);
  return path;
}

/** A POSIX shell word: single-quoted, with embedded `'` as `'\''`. Multi-line values are allowed. */
export function shellWord(value: string): string {
  if (value.includes('\u0000')) throw new UnquotableError('NUL in a shell word');
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `KEY="value"` for env files that shells source (/etc/environment, /etc/os-release, /etc/cos-upgrade-image). */
export function envAssignment(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new UnquotableError(`invalid variable name ${JSON.stringify(key)}`);
  refuseControl(value, 'an env file');
  return `${key}="${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/**
 * Text inside a GRUB double-quoted string: `\`, `"` and `$` escaped — the only characters a
 * backslash escapes there (any other keeps its backslash) — so GRUB neither expands variables
 * nor ends the string. Variables derivc means to expand (`$label`) are added by the template.
 */
export function grubQuoted(value: string): string {
  refuseControl(value, 'a GRUB script');
  return value.replace(/[\\"$]/g, (c) => `\\${c}`);
}

/**
 * One kernel argument inside a GRUB `set kernelcmd="…"`: one token (whitespace would split it
 * into several arguments), GRUB-escaped.
 */
export function kernelArg(arg: string): string {
  // Whitespace splits an argument; `"` is the kernel command line's own quoting.
  if (arg === '' || /[\s"]/.test(arg)) throw new UnquotableError(`a kernel argument must be one token without quotes: ${JSON.stringify(arg)}`);
  return grubQuoted(arg);
}

/**
 * Text from the manifest — its file name above all — shown inside a generated comment (`#` in
 * shell, GRUB, Dockerfile, YAML, HCL, dracut config; `<!-- -->` in XML through xmlCommentText):
 * one line of visible characters. Anything else (newlines and other controls, bidi and other
 * format characters, separators but the space, lone surrogates) and the backslash become
 * `\u{…}` / `\\`, so the text can neither end the comment nor hide what follows it.
 */
export function commentText(value: string): string {
  return value.replace(/\\|[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/gu, (c) => (c === '\\' ? '\\\\' : `\\u{${c.codePointAt(0)!.toString(16)}}`));
}

/** commentText for an XML comment, which may not hold `--` (nor end in `-`: the callers add text after it). */
export function xmlCommentText(value: string): string {
  return commentText(value).replace(/(?<=-)-/g, '\\u{2d}');
}

/**
 * A Graphviz DOT double-quoted string (labels): the text as commentText shows it — one line of
 * visible characters, so no control character reaches a terminal the graph is printed on — with
 * `\` and `"` escaped. Graphviz's scanner reads `\\` as one pair, so a value ending in a
 * backslash cannot escape the closing quote, and labels show `\\` as one backslash, so no
 * `\N`, `\G` or `\l` escape can come from the value.
 */
export function dotString(value: string): string {
  return `"${commentText(value).replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** Inline code in Markdown that survives backticks in the text (CommonMark: a longer delimiter run). */
export function markdownCode(text: string): string {
  const flat = commentText(text);
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A lone UTF-16 surrogate: no UTF-8 encoding exists for it, so no file derivc writes can carry it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function hasLoneSurrogate(value: string): boolean {
  return LONE_SURROGATE.test(value);
}

/** The first lone surrogate in `value`, if any. */
export function loneSurrogate(value: string): string | undefined {
  return LONE_SURROGATE.exec(value)?.[0];
}
const HCL_ESCAPES: Record<string, string> = { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * An HCL2 quoted string (Packer templates): `\`, `"` and control characters as escapes, `${`
 * as `$${` and `%{` as `%%{`, so HCL neither ends the string nor reads an interpolation or a
 * directive. HCL reads strings in Unicode NFC, so a value in another form could not come back
 * as written: it is refused, like a lone surrogate.
 */
export function hclString(value: string): string {
  if (LONE_SURROGATE.test(value)) throw new UnquotableError(`lone surrogate in an HCL string: ${JSON.stringify(value)}`);
  if (value.normalize('NFC') !== value) throw new UnquotableError(`an HCL string must be in Unicode NFC (HCL normalizes it): ${JSON.stringify(value)}`);
  const escaped = value.replace(/[\\"\u0000-\u001f\u007f-\u009f]/g, (c) => HCL_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  // Escapes add neither `$`, `%` nor `{`, so these see the value's own sequences only. (Functions:
  // in a replacement string `$$` would mean one `$`.)
  return `"${escaped.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{')}"`;
}

/**
 * Characters written as escapes: what go-yaml v2 rejects raw or reads as a line break, the BOM,
 * and the invisible format characters (bidi controls, zero-width) that make a reviewed file
 * read differently from what it does.
 */
const ESCAPED_ALL =
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufffe\uffff\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/g;
const SHORT_ESCAPES: Record<string, string> = {
  '\0': '\\0',
  '\x07': '\\a',
  '\b': '\\b',
  '\t': '\\t',
  '\n': '\\n',
  '\v': '\\v',
  '\f': '\\f',
  '\r': '\\r',
  '\x1b': '\\e',
  '\x85': '\\N',
  '\u2028': '\\L',
  '\u2029': '\\P',
};

/** A YAML double-quoted scalar that go-yaml v2 reads back as exactly `value`. */
export function goYamlDoubleQuoted(value: string): string {
  if (LONE_SURROGATE.test(value)) throw new UnquotableError(`lone surrogate in a cloud-config string: ${JSON.stringify(value)}`);
  const body = value
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(ESCAPED_ALL, (c) => {
      const code = c.charCodeAt(0);
      return SHORT_ESCAPES[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
    });
  return `"${body}"`;
}

// yip renders some cloud-config strings as Go templates (text/template with sprig's functions,
// `.Values` = the machine's sysinfo) before using them; a derivc value that lands there must
// come out literally. Which strings, from yip's source (github.com/mudler/yip):
//   - files[].content, commands[], ensure_entities/delete_entities[].entity: since 0.7.0
//     (pkg/plugins/files.go, commands.go, entities.go → templateSysData);
//   - if: since 0.8.5 (pkg/plugins/if.go);
//   - environment values: since 0.9.17, Oct 2021 (pkg/plugins/environment.go, commit cddc48c;
//     cOS toolkit v0.7.0 still shipped yip 0.9.15, v0.7.4 shipped 0.9.21);
//   - hostname: since 0.9.17, with {{.UUID}}, {{.MachineID}}, {{.Random}} (pkg/plugins/hostname.go);
//   - Kairos-era package commands (packages.go, package_pins.go), which derivc never writes.
// Nothing else is rendered, and never the whole file. Through v1.24 templateSysData keeps the
// input as written when the template fails to parse or run; hostname then fails the step.

/**
 * `value` as a Go template that renders to exactly `value`: every `{{` becomes the action
 * `{{ "{{" }}`, which prints `{{` and needs no function. Nothing else in text/template is
 * special outside an action (a lone `}}` is text), and the action's own delimiters carry no
 * `-` trim markers, so the text around it keeps its spaces.
 */
export function yipTemplateLiteral(value: string): string {
  return value.replace(/\{\{/g, '{{ "{{" }}');
}

/**
 * A BuildKit `--mount=key=value,…` flag of a RUN line. Values are CSV fields: only characters
 * that can neither end a field (`,`), start a key (`=`), quote (`"`) nor end the flag (space).
 */
export function dockerMount(options: readonly (readonly [string, string])[]): string {
  for (const [k, v] of options)
    if (!/^[a-z]+$/.test(k) || !/^[A-Za-z0-9._/@+:~-]+$/.test(v))
      throw new UnquotableError(`unsafe mount option for a Dockerfile: ${JSON.stringify(`${k}=${v}`)}`);
  return `--mount=${options.map(([k, v]) => `${k}=${v}`).join(',')}`;
}

/** A token of a netrc file (apt's auth.conf.d): whitespace separates tokens, so none may hold any. */
export function netrcToken(value: string): string {
  if (value === '' || /[\s\u0000-\u001f\u007f-\u009f]/.test(value))
    throw new UnquotableError(`a netrc token cannot be empty or hold whitespace: ${JSON.stringify(value)}`);
  return value;
}

/** A value of an ini file line (zypper credentials, dnf .repo): one line, no control characters. */
export function iniValue(value: string): string {
  refuseControl(value, 'an ini value');
  return value;
}
