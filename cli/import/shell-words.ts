// A deliberately small reader for the RUN lines `derivc init --from` can map: simple commands of
// plain or quoted words joined by `&&`. Anything a real shell would treat specially — `;`, `||`,
// pipes, redirections, `$`, backquotes, subshells, comments, escapes — makes the whole RUN
// "not simple", and it is then kept verbatim as a build step instead of being guessed at.

/** One word of a simple command; `glob` when an unquoted `*`, `?` or `[` would expand. */
export interface Word {
  text: string;
  glob: boolean;
}

const PLAIN = /[A-Za-z0-9_./:=@%+,~^-]/;
const GLOB = /[*?[\]]/;

/** The commands of `a && b && c`, each as its words, or undefined when the text is not that simple. */
export function simpleCommands(text: string): Word[][] | undefined {
  const commands: Word[][] = [[]];
  let word: Word | undefined;
  const end = () => {
    if (word) commands.at(-1)!.push(word);
    word = undefined;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === ' ' || c === '\t') {
      end();
    } else if (c === '&' && text[i + 1] === '&') {
      end();
      if (commands.at(-1)!.length === 0) return undefined;
      commands.push([]);
      i++;
    } else if (c === "'" || c === '"') {
      const close = text.indexOf(c, i + 1);
      if (close < 0) return undefined;
      const inner = text.slice(i + 1, close);
      // Inside double quotes `$`, backquotes and backslashes still act: not simple.
      if (c === '"' && /[$`\\]/.test(inner)) return undefined;
      if (/[\n\r]/.test(inner)) return undefined;
      word = { text: (word?.text ?? '') + inner, glob: word?.glob ?? false };
      i = close;
    } else if (PLAIN.test(c) || GLOB.test(c)) {
      word = { text: (word?.text ?? '') + c, glob: (word?.glob ?? false) || GLOB.test(c) };
    } else {
      return undefined;
    }
  }
  end();
  if (commands.some((c) => c.length === 0)) return undefined;
  // A leading `NAME=value` is an environment assignment for that command, not a command.
  if (commands.some((c) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(c[0]!.text))) return undefined;
  return commands;
}
