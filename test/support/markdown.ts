// Reading README.md as the tests that check it need: its fenced code blocks (found by a tag in the
// info string, e.g. ```sh derivc-install-git), its prose without them, and the inline code spans
// and links of that prose.

export interface Fence {
  /** The info string's words: `sh derivc-install-git` → ['sh', 'derivc-install-git']. */
  info: string[];
  body: string;
  /** 1-based lines of the opening and the closing fence. */
  line: number;
  end: number;
}

const FENCE = /^(`{3,}|~{3,})(.*)$/;

/** Every fenced code block, in order. */
export function fences(markdown: string): Fence[] {
  const out: Fence[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.startsWith(open[1]!)) body.push(lines[j++]!);
    out.push({ info: open[2]!.trim().split(/\s+/).filter(Boolean), body: body.join('\n'), line: i + 1, end: j + 1 });
    i = j;
  }
  return out;
}

/** The one block whose info string carries `tag`. */
export function fence(markdown: string, tag: string): Fence {
  const found = fences(markdown).filter((f) => f.info.includes(tag));
  if (found.length !== 1) throw new Error(`README.md: ${found.length} code blocks are tagged \`${tag}\`, expected exactly one`);
  return found[0]!;
}

/** The text outside fenced blocks (their lines blanked, so line numbers stay). */
export function prose(markdown: string): string {
  const lines = markdown.split('\n');
  for (const f of fences(markdown)) for (let i = f.line - 1; i < f.end && i < lines.length; i++) lines[i] = '';
  return lines.join('\n');
}

/** Inline code spans of prose (`like this`), single or double backticks. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g)].map((m) => m[2]!.trim());
}

/** Targets of Markdown links and images, `[text](target)`, outside code spans. */
export function linkTargets(text: string): string[] {
  const withoutCode = text.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, '');
  return [...withoutCode.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]!);
}
