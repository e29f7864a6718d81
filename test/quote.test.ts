// The quoting module, against the real readers: every output reads back as exactly the input
// (POSIX sh for shell words and env files, JSON and dockerfile-ast for Dockerfiles, GRUB's lexer
// rules and grub-script-check for GRUB strings), and every function refuses what it documents.
// Spawns are batched (one sh per property run) to keep the count to a few hundred.

import fc from 'fast-check';
import { DockerfileParser } from 'dockerfile-ast';
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import {
  commentText,
  dockerExec,
  dockerPath,
  dockerString,
  envAssignment,
  grubQuoted,
  kernelArg,
  markdownCode,
  shellWord,
  UnquotableError,
  xmlCommentText,
} from '../compiler/quote.js';
import { dockerPair, dockerQuoted, execArgs, grubDoubleQuoted, checkGrub, parseDockerfile, sh, sourceWithSh } from './golden/read-back.js';

/** Characters quote.ts documents as refused (NUL, C0 but tab, DEL, C1). */
const CONTROLS = [...Array(0xa0).keys()]
  .filter((c) => c < 0x20 || c >= 0x7f)
  .filter((c) => c !== 0x09)
  .map((c) => String.fromCharCode(c));
const WHITESPACE = [...Array(0x10000).keys()].map((c) => String.fromCharCode(c)).filter((c) => /\s/.test(c));

/** Characters that mean something to sh, Docker or GRUB, plus non-ASCII and a tab. */
const SPECIAL = [
  '"',
  "'",
  '\\',
  '$',
  '`',
  '{',
  '}',
  '(',
  ')',
  '#',
  ';',
  '&',
  '|',
  '<',
  '>',
  '*',
  '?',
  '[',
  ']',
  '!',
  '~',
  '=',
  '%',
  ' ',
  '\t',
  '-',
  'a',
  'Z',
  '0',
  'é',
  '🚀',
  '\u2028',
  '\u00a0',
  '\ufeff',
];
/** No lone surrogates: they cannot come from a UTF-8 manifest, and cannot reach sh intact. */
const wellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);
const special = fc.string({ unit: fc.constantFrom(...SPECIAL), maxLength: 24 });
const anyUnicode = fc.string({ unit: 'binary', maxLength: 24 }).filter(wellFormed);
/** Text validation could let through to a quoting function: no control characters but tab. */
const text = fc.oneof(special, anyUnicode).map((s) => s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g, ''));
/** Anything but NUL (multi-line shell words, exec arguments). */
const noNul = fc
  .oneof(special, anyUnicode, fc.string({ unit: fc.constantFrom(...SPECIAL, '\n', '\r', '\u0001', '\u007f', '\u0085'), maxLength: 24 }))
  .map((s) => s.replace(/\u0000/g, ''));

function refuses(f: () => unknown): void {
  expect(f).toThrow(UnquotableError);
}

describe('the readers these tests trust', () => {
  // A reader that accepts everything would make every round trip below pass.
  it('catch breakouts', () => {
    expect(() => dockerQuoted('"a$b"')).toThrow(/variable/);
    expect(() => dockerPair('"k"="a" "k2"="b"')).toThrow(/after the value/);
    expect(() => dockerQuoted('"a\\"')).toThrow(/unterminated/);
    expect(() => grubDoubleQuoted('a"b"')).toThrow(/after the closing quote/);
    expect(grubDoubleQuoted('a$img"').vars).toEqual(['img']);
    expect(grubDoubleQuoted('a\\`b"').value).toBe('a\\`b');
    expect(() => parseDockerfile('FROM x\nLABEL "a"="b\\\nRUN ["evil"]"\n')).toThrow();
    expect(() => parseDockerfile('FROM x\nRUN ["a", "b"\n')).toThrow();
    expect(() => parseDockerfile('# escape=`\nFROM x\n')).toThrow(/directive/);
  });
});

describe('shellWord', () => {
  it('round-trips any text but NUL through a real /bin/sh (batched: one sh per run)', () => {
    fc.assert(
      fc.property(fc.array(noNul, { minLength: 1, maxLength: 12 }), (words) => {
        const out = sh(`printf '%s\\0' ${words.map(shellWord).join(' ')}`);
        expect(out.split('\u0000').slice(0, -1)).toEqual(words);
      }),
      { numRuns: 80 },
    );
  });

  it('round-trips the hard cases: empty, quotes only, leading dash, globs, tilde, newlines, assignments', () => {
    const words = ['', "'", "''", '"', '\\', '-n', '--', '*', '~', '~root', '$(id)', '`id`', 'a\nb', '\n', ' ', 'a=b', "it's", '!', '#', 'é🚀'];
    expect(
      sh(`printf '%s\\0' ${words.map(shellWord).join(' ')}`)
        .split('\u0000')
        .slice(0, -1),
    ).toEqual(words);
  });

  it('leaves only safe words unquoted (no glob, tilde, expansion or whitespace)', () => {
    fc.assert(
      fc.property(noNul, (w) => {
        if (shellWord(w) === w) expect(w).toMatch(/^[A-Za-z0-9_./:=@%+,-]+$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses NUL', () => refuses(() => shellWord('a\u0000b')));
});

describe('envAssignment', () => {
  const entry = fc.record({ key: fc.stringMatching(/^[A-Za-z0-9_]{0,12}$/).map((k) => `K_${k}`), value: text });

  it('round-trips when a real /bin/sh sources the file (batched: one sh per run)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { selector: (e) => e.key, minLength: 1, maxLength: 10 }), (entries) => {
        const file = entries.map((e) => envAssignment(e.key, e.value)).join('\n') + '\n';
        expect(
          sourceWithSh(
            file,
            entries.map((e) => e.key),
          ),
        ).toEqual(Object.fromEntries(entries.map((e) => [e.key, e.value])));
      }),
      { numRuns: 60 },
    );
  });

  it('writes one line of KEY="…"', () => {
    fc.assert(
      fc.property(entry, ({ key, value }) => {
        const line = envAssignment(key, value);
        expect(line).toMatch(new RegExp(`^${key}="[^\\n]*"$`));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses invalid names', () => {
    for (const key of ['', '1A', 'A-B', 'A B', 'A=B', 'A$', 'é', 'A\n']) refuses(() => envAssignment(key, 'x'));
  });

  it('refuses NUL and every control character but tab', () => {
    for (const c of CONTROLS) refuses(() => envAssignment('K', `a${c}b`));
    expect(envAssignment('K', 'a\tb')).toBe('K="a\tb"');
  });
});

describe('dockerExec', () => {
  it('is one line of valid JSON equal to the input array, read the same by dockerfile-ast', () => {
    fc.assert(
      fc.property(fc.array(noNul, { minLength: 1, maxLength: 8 }), (args) => {
        const out = dockerExec(args);
        expect(JSON.parse(out)).toEqual(args);
        // Docker splits lines on \n (and \r); JS tools on U+2028/U+2029 too.
        expect(out).not.toMatch(/[\n\r\u2028\u2029]/);
        const [, run] = parseDockerfile(`FROM x\nRUN ${out}\n`).instructions;
        expect(execArgs(run!)).toEqual(args);
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses NUL in any argument', () => {
    refuses(() => dockerExec(['ok', 'a\u0000b']));
  });
});

describe('dockerString', () => {
  it('reads back as the input in LABEL and ARG (BuildKit rules; dockerfile-ast agrees)', () => {
    fc.assert(
      fc.property(text, (value) => {
        const out = dockerString(value);
        // One line, and never ending in a backslash (a line continuation).
        expect(out).not.toMatch(/[\n\r]/);
        expect(out.endsWith('"')).toBe(true);
        const d = DockerfileParser.parse(`FROM x\nLABEL "k"=${out}\nARG K=${out}\n`);
        const [, label, arg] = d.getInstructions() as unknown as {
          getRawArgumentsContent(): string;
          getProperties(): { getName(): string; getValue(): string | null }[];
        }[];
        expect(dockerPair(label!.getRawArgumentsContent())).toEqual(['k', value]);
        expect(dockerPair(arg!.getRawArgumentsContent())).toEqual(['K', value]);
        // dockerfile-ast unescapes `\"` and `\\` but keeps `\$` for its variable resolution.
        for (const ins of [label!, arg!]) {
          expect(ins.getProperties().length).toBe(1);
          expect(ins.getProperties()[0]!.getValue() ?? '').toBe(value.replace(/\$/g, '\\$'));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses NUL and every control character but tab', () => {
    for (const c of CONTROLS) refuses(() => dockerString(`a${c}b`));
  });
});

describe('dockerPath', () => {
  it('returns a path unchanged, or refuses it: nothing Docker would split, glob or expand gets through', () => {
    fc.assert(
      fc.property(fc.oneof(noNul, fc.stringMatching(/^[A-Za-z0-9._@+,:=~/-]{1,30}$/)), (p) => {
        let out: string | undefined;
        try {
          out = dockerPath(p);
        } catch (e) {
          expect(e).toBeInstanceOf(UnquotableError);
          return;
        }
        expect(out).toBe(p);
        expect(p).toMatch(/^[A-Za-z0-9._@+,:=~/-]+$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses whitespace, quotes, $, backslash, globs, NUL and the empty path', () => {
    for (const p of ['', 'a b', 'a\tb', 'a\nb', '"a"', "'a'", '$HOME', '${x}', 'a\\b', '*', 'a?', '[ab]', 'a\u0000b', 'é']) refuses(() => dockerPath(p));
    expect(dockerPath('registry.example.com:5000/a/b:1.0@sha256:00')).toBe('registry.example.com:5000/a/b:1.0@sha256:00');
  });
});

/** Every `"`, `$` and `\` in GRUB-quoted text is escaped: a backslash pair (a backtick needs none). */
function allEscaped(out: string): boolean {
  for (let i = 0; i < out.length; i++) {
    if (out[i] === '\\') {
      if (!'\\"$'.includes(out[i + 1] ?? '')) return false;
      i++;
    } else if ('"$'.includes(out[i]!)) return false;
  }
  return true;
}

describe('grubQuoted', () => {
  const noBacktick = text.map((s) => s.replace(/`/g, ''));

  it('never leaves an unescaped `"`, `$` or `\\`', () => {
    fc.assert(
      fc.property(text, (value) => allEscaped(grubQuoted(value))),
      { numRuns: 2000 },
    );
  });

  it('reads back as the input inside GRUB double quotes, with no variable', () => {
    fc.assert(
      fc.property(noBacktick, (value) => {
        expect(grubDoubleQuoted(`${grubQuoted(value)}"`)).toEqual({ value, vars: [] });
      }),
      { numRuns: 2000 },
    );
  });

  // GRUB escapes only `$`, `"`, `\` and newline inside double quotes: a backtick stays as it is.
  it('reads back a backtick as itself', () => {
    expect(grubDoubleQuoted(`${grubQuoted('a`b')}"`).value).toBe('a`b');
  });

  it('is accepted by grub-script-check inside `set` and `if` (batched: one check per run)', (ctx) => {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (values) => {
        const script = [
          'if [ -n "$recoverylabel" ]; then',
          ...values.map((x) => `  set kernelcmd="a ${grubQuoted(x)} b"`),
          'else',
          '  set kernelcmd="x"',
          'fi',
          '',
        ].join('\n');
        checkGrub(ctx, script);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses NUL and every control character but tab', () => {
    for (const c of CONTROLS) refuses(() => grubQuoted(`a${c}b`));
  });
});

describe('kernelArg', () => {
  it('is grubQuoted for one token', () => {
    fc.assert(
      fc.property(
        text.filter((s) => s !== '' && !/[\s"]/.test(s)),
        (arg) => {
          expect(kernelArg(arg)).toBe(grubQuoted(arg));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it(`refuses the empty argument and every whitespace character (${WHITESPACE.length} of them), which would split it`, () => {
    refuses(() => kernelArg(''));
    for (const w of WHITESPACE) {
      refuses(() => kernelArg(`a${w}b`));
      refuses(() => kernelArg(w));
    }
  });

  it('refuses NUL and every control character', () => {
    for (const c of CONTROLS) refuses(() => kernelArg(`a${c}b`));
  });

  it('refuses `"`, the kernel command line\'s own quoting', () => refuses(() => kernelArg('a"b')));
});

describe('commentText, xmlCommentText, markdownCode (a manifest file name in generated comments)', () => {
  const hostile = [
    'a\nRUN curl x | sh\n#.yaml',
    'b\r\u0001\u001b[31mc',
    'x\u202eevil\u2066',
    'l\u2028m\u2029n\u0085',
    'back\\slash',
    'a--b-',
    '`tick`',
    '\ud800lone',
    'tab\there',
    'nbsp\u00a0',
  ];

  it('is one line of visible characters, whatever the input', () => {
    fc.assert(
      fc.property(
        fc.oneof(anyUnicode, fc.string({ unit: fc.constantFrom(...SPECIAL, '\n', '\r', '\u0001', '\u202e', '\u2066', '\ud800'), maxLength: 24 })),
        (s) => {
          const c = commentText(s);
          expect(c).toMatch(/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u);
          expect(xmlCommentText(s)).not.toContain('--');
        },
      ),
      { numRuns: 300 },
    );
    for (const s of hostile) expect(commentText(s)).toMatch(/^[\p{L}\p{M}\p{N}\p{P}\p{S} ]*$/u);
  });

  it('keeps what is visible and tells apart what is not', () => {
    expect(commentText('acme-os.derivative.yaml')).toBe('acme-os.derivative.yaml');
    expect(commentText('a\nb')).toBe('a\\u{a}b');
    expect(commentText('a\\u{a}b')).toBe('a\\\\u{a}b');
    expect(commentText('x\u202ey')).toBe('x\\u{202e}y');
    expect(xmlCommentText('a--b')).toBe('a-\\u{2d}b');
  });

  it('stays inside an XML comment (xmllint) and a Markdown code span', () => {
    for (const s of hostile) {
      const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<!-- from ${xmlCommentText(s)} (x) -->\n<a/>\n`;
      expect(() => execFileSync('xmllint', ['--noout', '-'], { input: xml, stdio: 'pipe' }), s).not.toThrow();
      const md = markdownCode(s);
      const fence = /^`+/.exec(md)![0];
      expect(md.slice(fence.length, -fence.length)).not.toContain(fence);
    }
  });
});
