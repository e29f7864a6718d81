// Output of manifests built side by side (`derivc build --jobs N`): every line says whose it is.
// Text lines start with `[NAME] `; a JSON line (--json) gets a `manifest` member first. Lines are
// passed on whole, so two builds never interleave inside one line; what a build leaves without
// a newline is passed on by `flush`.

import type { CliIO } from '../io.js';

class Lines {
  private partial = '';
  constructor(
    private readonly write: (text: string) => void,
    private readonly label: (line: string) => string,
  ) {}

  add(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    if (lines.length) this.write(lines.map((l) => `${this.label(l)}\n`).join(''));
  }

  flush(): void {
    if (this.partial) this.write(`${this.label(this.partial)}\n`);
    this.partial = '';
  }
}

/** A JSON line with `manifest` added in front; anything that is not a JSON object passes as it is. */
function withManifest(manifest: string, line: string): string {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return line;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? JSON.stringify({ manifest, ...value }) : line;
}

export interface LabelledIO {
  io: CliIO;
  /** Passes on the last, unfinished lines. */
  flush(): void;
}

/**
 * `io` whose lines say which manifest they are about: stdout's JSON lines carry `manifest`
 * (always, in a fleet), stderr's lines start with `prefix` when it is given (builds running side by side).
 */
export function labelledIO(io: CliIO, manifest: string, prefix: string | undefined): LabelledIO {
  const out = new Lines(io.stdout, (l) => withManifest(manifest, l));
  const err = prefix === undefined ? undefined : new Lines(io.stderr, (l) => (l === '' ? prefix.trimEnd() : `${prefix}${l}`));
  return {
    io: { ...io, stdout: (t) => out.add(t), stderr: err ? (t) => err.add(t) : io.stderr },
    flush: () => {
      out.flush();
      err?.flush();
    },
  };
}
