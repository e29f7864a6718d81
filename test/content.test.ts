// File content in every form the compiler hands out — text, bytes, a file the manifest names as
// the Host checked it — digested, compared, written and diffed by cli/content.ts without holding
// a checked source in memory, and never written unless it still is what was checked.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentDiff, contentSha256, contentSize, sameContentAs, TEXT_DIFF_LIMIT, writeContentTo } from '../cli/content.js';
import { diffOutputs, renderGithub } from '../cli/commands/diff.js';
import { planOf } from '../cli/commands/plan.js';
import { checkOutputDir, OutputDirError, writeOutputDir } from '../cli/output-dir.js';
import { SourceContent } from '../compiler/checked-file.js';
import { compile } from '../compiler/compile.js';
import { canonicalJson, sha256 } from '../compiler/emit/build-id.js';
import type { CompileOutput, FileContent } from '../compiler/emit/types.js';
import type { Host } from '../compiler/host.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { MemoryHost } from './support/memory-host.js';

let tmp: string;
beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-content-'))));
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A checked source whose bytes must not be read: digest and size are all a consumer may use. */
function unreadable(bytes: Uint8Array): SourceContent {
  const of = SourceContent.of('big.bin', bytes);
  return new SourceContent('big.bin', of.size, of.sha256, () => {
    throw new Error('the bytes of a checked source were read');
  });
}

/** A checked source that yields its first chunk, then finds the file changed. */
function changingAfterOneChunk(): SourceContent {
  return new SourceContent('x.bin', 8, sha256('12345678'), function* () {
    yield Buffer.from('1234');
    throw new Error('x.bin changed after derivc checked it');
  });
}

describe('the build ID digest (canonicalJson)', () => {
  it('spells file contents as their digest in every form, never as bytes', () => {
    const bytes = Buffer.alloc(1 << 20, 7);
    const expected = JSON.stringify({ a: `sha256:${sha256(bytes)}` });
    // A Buffer's own toJSON is an array of a million numbers: dozens of times the file's size.
    expect(canonicalJson({ a: bytes })).toBe(expected);
    expect(canonicalJson({ a: new Uint8Array(bytes) })).toBe(expected);
    expect(canonicalJson({ a: unreadable(bytes) })).toBe(expected);
  });

  it('sorts keys at every level, inside arrays too', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});

describe('size and digest', () => {
  it('of a checked source come from the check: nothing is read', () => {
    const c = unreadable(Buffer.from('hello'));
    expect(contentSize(c)).toBe(5);
    expect(contentSha256(c)).toBe(sha256('hello'));
  });

  it('of text count UTF-8 bytes', () => {
    expect(contentSize('é')).toBe(2);
    expect(contentSha256('é')).toBe(sha256(Buffer.from('é')));
  });
});

describe('writeContentTo', () => {
  const written = (content: FileContent) => {
    const file = path.join(tmp, 'out');
    const fd = fs.openSync(file, 'w');
    try {
      writeContentTo(fd, content);
    } finally {
      fs.closeSync(fd);
    }
    return fs.readFileSync(file, 'utf8');
  };

  it('writes text, bytes and a checked source chunk by chunk', () => {
    expect(written('text')).toBe('text');
    expect(written(Buffer.from('bytes'))).toBe('bytes');
    expect(written(new SourceContent('s', 6, sha256('abcdef'), () => [Buffer.from('abc'), Buffer.from('def')]))).toBe('abcdef');
  });

  it('throws when a checked source is no longer what was checked (the caller discards the file)', () => {
    expect(() => written(changingAfterOneChunk())).toThrow('x.bin changed after derivc checked it');
  });
});

describe('sameContentAs', () => {
  it('compares a file on disk with text, bytes, or a checked source (by digest, not reading the source)', () => {
    const file = path.join(tmp, 'f');
    fs.writeFileSync(file, 'same');
    expect(sameContentAs(file, 'same')).toBe(true);
    expect(sameContentAs(file, Buffer.from('same'))).toBe(true);
    expect(sameContentAs(file, unreadable(Buffer.from('same')))).toBe(true);
    expect(sameContentAs(file, 'diff')).toBe(false);
    expect(sameContentAs(file, unreadable(Buffer.from('diff')))).toBe(false);
    expect(sameContentAs(file, 'longer')).toBe(false);
  });

  it('is false for a symlink (never followed) and for a missing file', () => {
    fs.writeFileSync(path.join(tmp, 'target'), 'same');
    fs.symlinkSync(path.join(tmp, 'target'), path.join(tmp, 'link'));
    expect(sameContentAs(path.join(tmp, 'link'), 'same')).toBe(false);
    expect(sameContentAs(path.join(tmp, 'missing'), 'same')).toBe(false);
  });
});

describe('contentDiff', () => {
  const large = (fill: number) => Buffer.alloc(TEXT_DIFF_LIMIT + 1, fill);

  it('diffs small text line by line, as before', () => {
    expect(contentDiff('a.txt', 'one\n', 'two\n')).toBe('--- a/a.txt\n+++ b/a.txt\n@@ -1,1 +1,1 @@\n-one\n+two\n');
    expect(contentDiff('a.txt', 'same\n', Buffer.from('same\n'))).toBe('');
  });

  it('compares files over the limit by digest, in one line, without reading a checked source', () => {
    const [a, b] = [large(1), large(2)];
    expect(contentDiff('big.bin', unreadable(a), unreadable(b))).toBe(
      `Large files a/big.bin and b/big.bin differ: sha256:${sha256(a)} (${a.length} bytes) → sha256:${sha256(b)} (${b.length} bytes)\n`,
    );
    expect(contentDiff('big.bin', a, unreadable(a))).toBe('');
    expect(contentDiff('big.bin', null, unreadable(b))).toBe(`Large files /dev/null and b/big.bin differ: absent → sha256:${sha256(b)} (${b.length} bytes)\n`);
  });

  it('shows in `derivc diff` as a change of digest', () => {
    const before = [{ path: 'files/big.bin', content: unreadable(large(1)), mode: 0o644 }];
    const after = [{ path: 'files/big.bin', content: unreadable(large(2)), mode: 0o644 }];
    const [change] = diffOutputs(before, after);
    expect(change).toMatchObject({ path: 'files/big.bin', change: 'modified', lines: null });
    expect(change!.text).toMatch(/^Large files a\/files\/big\.bin and b\/files\/big\.bin differ: sha256:[0-9a-f]{64} /);
    expect(renderGithub('t', [change!])).toContain('| modified | large, by digest |');
  });
});

describe('the output directory (compile -o, --check)', () => {
  /** One file, with the derivc.json listing it that every write carries. */
  const big = (content: FileContent) => [
    { path: 'files/big.bin', content, mode: 0o644 },
    { path: 'derivc.json', content: JSON.stringify({ files: [{ path: 'files/big.bin', sha256: contentSha256(content), mode: '0644' }] }), mode: 0o644 },
  ];

  it('writes a large checked source, then compares it by digest without reading the source again', () => {
    const dir = path.join(tmp, 'out');
    const bytes = Buffer.alloc(TEXT_DIFF_LIMIT + 1, 3);
    writeOutputDir(dir, big(SourceContent.of('big.bin', bytes)));
    expect(fs.readFileSync(path.join(dir, 'files/big.bin')).equals(bytes)).toBe(true);
    expect(checkOutputDir(dir, big(unreadable(bytes)))).toEqual({ stale: false, diff: '' });
    expect(writeOutputDir(dir, big(unreadable(bytes))).unchanged).toEqual(['derivc.json', 'files/big.bin']);
    const other = Buffer.alloc(TEXT_DIFF_LIMIT + 1, 4);
    expect(checkOutputDir(dir, big(unreadable(other))).diff).toContain(
      `Large files a/files/big.bin and b/files/big.bin differ: sha256:${sha256(bytes)} (${bytes.length} bytes) → sha256:${sha256(other)} (${other.length} bytes)\n`,
    );
  });
});

describe('derivc plan', () => {
  it('lists a checked source by digest and size without reading it', () => {
    const bytes = Buffer.alloc(3 * TEXT_DIFF_LIMIT, 1);
    const output: CompileOutput = {
      name: 'n',
      version: '1',
      files: [{ path: 'files/big.bin', content: unreadable(bytes), mode: 0o644 }],
      buildId: 'sha256:x',
      tags: [],
      from: 'f',
      platform: 'linux/amd64',
      args: {},
      steps: [],
    };
    expect(planOf('m.yaml', output).compile.files).toEqual([{ path: 'files/big.bin', sha256: sha256(bytes), mode: '0644', bytes: bytes.length, origin: null }]);
  });
});

describe('the in-memory host (MemoryHost) and hosts without a checked open', () => {
  const MANIFEST = [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    'metadata: { name: m, version: "1" }',
    'base: { image: "local/debian:bookworm", family: debian }',
    'files:',
    '  - { path: /etc/a.txt, source: a.txt }',
    '',
  ].join('\n');

  function compiled(host: Host) {
    const v = new ValidationSession(host).validate('derivative.yaml');
    expect(v.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    return compile(v.value.manifest!, host, { version: '0.0.0-test' });
  }

  it('passes a files[].source on as a checked reference, and refuses to write it once it changed', () => {
    const host = new MemoryHost({ 'derivative.yaml': MANIFEST, 'a.txt': 'checked\n' });
    const out = compiled(host).value;
    const file = out.files.find((f) => f.path === 'files/etc/a.txt')!;
    expect(file.content).toBeInstanceOf(SourceContent);
    expect(contentSha256(file.content!)).toBe(sha256('checked\n'));
    host.write('a.txt', 'changed\n');
    expect(() => writeOutputDir(path.join(tmp, 'out'), out.files)).toThrow(OutputDirError);
    expect(() => writeOutputDir(path.join(tmp, 'out'), out.files)).toThrow(/cannot write files\/etc\/a\.txt: a\.txt changed after derivc checked it/);
    expect(fs.existsSync(path.join(tmp, 'out/files/etc/a.txt'))).toBe(false);
  });

  it('refuses what is missing, not a file, or outside the folder', () => {
    const host = new MemoryHost({ 'repo/a.txt': 'a', 'repo/dir/b.txt': 'b', 'elsewhere.txt': 'x' });
    expect(host.openFile('repo/missing', 'repo')).toEqual({ refused: 'missing' });
    expect(host.openFile('repo/dir', 'repo')).toEqual({ refused: 'not-a-file' });
    expect(host.openFile('elsewhere.txt', 'repo')).toEqual({ refused: 'outside', real: '/mem/elsewhere.txt' });
    expect(host.openFile('repo/a.txt', 'repo', { maxBytes: 0 })).toEqual({ refused: 'too-large', size: 1 });
  });

  it('a host without openFile (a git revision) is read by path; a file it cannot read is an error, not an empty file', () => {
    const memory = new MemoryHost({ 'derivative.yaml': MANIFEST, 'a.txt': 'by path\n' });
    const byPath: Host = {
      readFile: (p) => memory.readFile(p),
      realpath: (p) => memory.realpath(p),
      kind: (p) => memory.kind(p),
      readDir: (p) => memory.readDir(p),
    };
    const out = compiled(byPath);
    expect(contentSha256(out.value.files.find((f) => f.path === 'files/etc/a.txt')!.content!)).toBe(sha256('by path\n'));

    const failing: Host = { ...byPath, readFile: (p) => (p.endsWith('a.txt') ? undefined : memory.readFile(p)) };
    expect(compiled(failing).diagnostics.map((d) => [d.code, d.pointer, d.message])).toEqual([
      ['io/unreadable', '/files/0/source', '`a.txt` cannot be read: the host could not read it'],
    ]);
  });
});
