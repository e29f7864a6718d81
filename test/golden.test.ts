// Golden build contexts: every example and every case under test/golden/<case>/derivative.yaml
// compiles, byte for byte, to the committed tree test/golden/<name>/expected/ — the same file set,
// nothing more, nothing less. The trees are meant to be read in review like real files.
// Regenerate after an intended change with UPDATE_GOLDEN=1, then review the diff.
//
// Also here: determinism (twice, and from key-reordered manifests, gives the same bytes and build
// ID) and what the build ID depends on (referenced file contents: yes; comments, key order: no).

import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CompileOutput } from '../compiler/emit/types.js';
import type { ValidatedManifest } from '../compiler/validate/index.js';
import { updating } from './support/update-mode.js';
import { bytes, compiled, GOLDEN_DIR, goldenCases, hostWith, reorderKeys, TEST_VERSION, validated } from './golden/harness.js';

const cases = goldenCases();
const update = updating('UPDATE_GOLDEN');

function listTree(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      // lstat: a symlink in the tree is an entry of its own (an overlay symlink), never followed.
      if (lstatSync(p).isDirectory()) walk(p);
      else out.push(relative(root, p).split('\\').join('/'));
    }
  };
  walk(root);
  return out.sort();
}

function writeTree(root: string, output: CompileOutput): void {
  rmSync(root, { recursive: true, force: true });
  for (const f of output.files) {
    const p = join(root, f.path);
    mkdirSync(dirname(p), { recursive: true });
    // A symlink is committed as a symlink (git keeps its text), so the tree reads as the image will.
    if (f.symlink !== undefined) {
      symlinkSync(f.symlink, p);
      continue;
    }
    writeFileSync(p, bytes(f.content));
    // Only the executable bit, as git keeps it; derivc.json records the exact modes.
    chmodSync(p, f.mode & 0o111 ? 0o755 : 0o644);
  }
}

/** Everything that makes two outputs the same build context: paths, bytes, modes, build ID, tags. */
function fingerprint(o: CompileOutput) {
  return {
    buildId: o.buildId,
    tags: o.tags,
    from: o.from,
    files: o.files.map((f) =>
      f.symlink !== undefined
        ? { path: f.path, symlink: f.symlink }
        : { path: f.path, mode: f.mode, content: Buffer.from(bytes(f.content)).toString('latin1') },
    ),
  };
}

describe('golden build contexts', () => {
  it('cover every example and the cases the examples leave out', () => {
    const names = cases.map((c) => c.name);
    for (const example of readdirSync('examples', { withFileTypes: true }).filter(
      (d) => d.isDirectory() && existsSync(join('examples', d.name, 'derivative.yaml')),
    ))
      expect(names).toContain(example.name);
    expect(names.length).toBeGreaterThanOrEqual(15);
    // An own case must not share a name with an example: both would write test/golden/<name>/expected.
    expect(new Set(names).size).toBe(names.length);
  });

  it('leave no expected tree without a case (a removed case takes its tree with it)', () => {
    const dirs = readdirSync(GOLDEN_DIR, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    const known = new Set(cases.map((c) => c.name));
    expect(dirs.filter((d) => !known.has(d))).toEqual([]);
  });

  for (const c of cases) {
    it(c.name, () => {
      const output = compiled(c.manifest);
      if (update) writeTree(c.expected, output);
      expect(existsSync(c.expected), `missing ${c.expected}: run with UPDATE_GOLDEN=1 and review it`).toBe(true);
      expect(output.files.map((f) => f.path).sort()).toEqual(listTree(c.expected));
      for (const f of output.files) {
        if (f.symlink !== undefined) {
          const at = join(c.expected, f.path);
          expect(lstatSync(at).isSymbolicLink() ? readlinkSync(at) : 'not a symlink', f.path).toBe(f.symlink);
          continue;
        }
        const expected = readFileSync(join(c.expected, f.path));
        // Compared as text first for a readable diff, then as bytes (binary overlay files too).
        expect(Buffer.from(bytes(f.content)).toString('utf8'), f.path).toBe(expected.toString('utf8'));
        expect(Buffer.compare(Buffer.from(bytes(f.content)), expected), f.path).toBe(0);
      }
    });
  }
});

describe('determinism', () => {
  for (const c of cases) {
    describe(c.name, () => {
      const source = readFileSync(c.manifest, 'utf8');
      const baseline = compiled(c.manifest);

      it('compiles twice to identical bytes', () => {
        expect(fingerprint(compiled(c.manifest))).toEqual(fingerprint(baseline));
      });

      for (const order of ['reverse', { seed: 1 }, { seed: 20240501 }] as const) {
        const label = order === 'reverse' ? 'reversed' : `shuffled (seed ${order.seed})`;
        it(`compiles from a copy with every mapping's keys ${label} to identical bytes and build ID`, () => {
          const reordered = reorderKeys(source, order);
          expect(reordered).not.toBe(source);
          const host = hostWith({ [c.manifest]: reordered });
          // YAML 1.1 octal permissions under `stages` mean the same after the round trip.
          const before = validated(c.manifest).manifest;
          const after = validated(c.manifest, host).manifest;
          expect(after).toEqual(before);
          expect(fingerprint(compiled(c.manifest, host))).toEqual(fingerprint(baseline));
        });
      }
    });
  }

  it('the reordering keeps a YAML 1.1 octal `permissions` under stages as written (0640 = 416)', () => {
    const path = join(GOLDEN_DIR, 'fedora-rpm-repos-selinux', 'derivative.yaml');
    const reordered = reorderKeys(readFileSync(path, 'utf8'), 'reverse');
    expect(reordered).toMatch(/permissions: 0640$/m);
    const stages = validated(path, hostWith({ [path]: reordered })).manifest.stages as Record<string, { files?: { permissions: number }[] }[]>;
    expect(stages['initramfs']![0]!.files![0]!.permissions).toBe(0o640);
  });
});

/** Every file a manifest (and its upstreams) reads besides itself: `files[].source`, overlay, oemDir. */
function referencedFiles(v: ValidatedManifest): string[] {
  const out: string[] = [];
  for (const f of v.manifest.files ?? []) if (f.source !== undefined) out.push(join(v.dir, f.source));
  // The overlay's regular files as the walk found them: its symlinks are copied, never read.
  out.push(...v.overlayFiles.map((f) => f.path));
  out.push(...v.oemFiles.map((f) => f.path));
  return v.upstream ? [...out, ...referencedFiles(v.upstream)] : out;
}

describe('build ID', () => {
  const withFiles = cases.filter((c) => referencedFiles(validated(c.manifest)).length > 0);

  it('is tested on cases with source files, overlays, oemDir files and upstreams with them', () => {
    expect(withFiles.map((c) => c.name)).toEqual(expect.arrayContaining(['opensuse-luet', 'acme-downstream', 'elemental-overlay-owners']));
  });

  for (const c of withFiles) {
    it(`${c.name}: changes with the content of each referenced file, and only then`, () => {
      const baseline = compiled(c.manifest);
      for (const path of referencedFiles(validated(c.manifest))) {
        const original = readFileSync(path);
        // Same bytes, freshly read: nothing changed, so the same ID.
        expect(compiled(c.manifest, hostWith({ [path]: Buffer.from(original) })).buildId, path).toBe(baseline.buildId);
        // One more line (a comment, so oemDir files stay valid cloud-config): a new ID.
        const changed = compiled(c.manifest, hostWith({ [path]: Buffer.concat([original, Buffer.from('# changed\n')]) }));
        expect(changed.buildId, path).not.toBe(baseline.buildId);
        expect(changed.buildId).toMatch(/^sha256:[0-9a-f]{64}$/);
      }
    });
  }

  it('changes when an overlay file becomes executable (the mode is part of the image)', () => {
    const c = cases.find((x) => x.name === 'elemental-overlay-owners')!;
    const conf = join(dirname(c.manifest), 'overlay/etc/hello.d/hello.conf');
    expect(compiled(c.manifest, hostWith({}, { [conf]: 0o755 })).buildId).not.toBe(compiled(c.manifest).buildId);
  });

  it('does not change with comments in the manifest', () => {
    for (const c of cases) {
      const source = readFileSync(c.manifest, 'utf8');
      const host = hostWith({ [c.manifest]: `# a comment on top\n\n${source}` });
      expect(compiled(c.manifest, host).buildId, c.name).toBe(compiled(c.manifest).buildId);
    }
  });

  it('changes with a manifest value and with the derivc version', () => {
    const c = cases.find((x) => x.name === 'opensuse-luet')!;
    const baseline = compiled(c.manifest).buildId;
    const source = readFileSync(c.manifest, 'utf8');
    expect(compiled(c.manifest, hostWith({ [c.manifest]: source.replace('vm.swappiness: 10', 'vm.swappiness: 11') })).buildId).not.toBe(baseline);
    expect(compiled(c.manifest, undefined, `${TEST_VERSION}.1`).buildId).not.toBe(baseline);
  });

  it("of a downstream changes with its upstream's build ID", () => {
    const up = 'examples/opensuse-luet/derivative.yaml';
    const down = 'examples/acme-downstream/derivative.yaml';
    const source = readFileSync(up, 'utf8');
    const host = hostWith({ [up]: source.replace('kernel.panic: 10', 'kernel.panic: 20') });
    expect(compiled(down, host).buildId).not.toBe(compiled(down).buildId);
  });
});
