// After a build, the image is checked against the derivative contract without running it: the
// kernel and initrd links resolve, /system/oem and bootargs.cfg exist, every persistent path
// exists, and the toolkit binary is there when a toolkit was installed.

import type { Diagnostic } from '../../compiler/diagnostics.js';
import { bootFileOf } from '../../compiler/emit/bootargs.js';
import type { Build } from '../../compiler/normalize/build.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import type { DockerEngine, PathStat } from '../../targets/io/engine.js';

interface Expectation {
  path: string;
  kind: 'file' | 'directory';
  why: string;
  pointer: string;
}

export function contractExpectations(build: Build): Expectation[] {
  const list: Expectation[] = [
    { path: '/boot/vmlinuz', kind: 'file', why: 'the kernel the boot loader starts', pointer: '/base' },
    { path: '/boot/initrd', kind: 'file', why: 'the initrd the boot loader loads', pointer: '/base' },
    // The file the image's toolkit era reads last (Elemental v2: /etc/elemental/bootargs.cfg).
    { path: bootFileOf(build.era?.boot).path, kind: 'file', why: 'the kernel command line GRUB sources from the image', pointer: '/boot' },
  ];
  // A bare derivative has nothing to run at boot: its settings were applied at build time.
  if (build.runtimeToolkit) list.push({ path: '/system/oem', kind: 'directory', why: 'the cloud-config the toolkit runs at boot', pointer: '' });
  for (const [i, p] of (build.layout?.persistentPaths ?? []).entries())
    list.push({ path: p, kind: 'directory', why: 'a persistent path (boot waits for it)', pointer: `/layout/persistentPaths/${i}` });
  // A downstream installs no toolkit (its IR says `none`): the upstream's image was checked.
  const t = build.toolkit;
  if (t.source === 'luet') list.push({ path: '/usr/bin/luet', kind: 'file', why: 'the luet toolkit binary', pointer: '/toolkit' });
  if (t.source === 'image' && t.mode === 'elemental') list.push({ path: t.binary, kind: 'file', why: 'the toolkit binary', pointer: '/toolkit/binary' });
  return list;
}

/**
 * Stats every expected path, links followed: the Engine resolves a link's whole chain itself
 * (PathStat.resolvedTarget), so a second call stats where the links lead. Each call creates and
 * removes one container, for all paths at once.
 */
async function resolveAll(engine: DockerEngine, image: string, paths: string[]): Promise<Map<string, PathStat | undefined>> {
  const stats = await engine.statPaths(image, paths);
  const targets = [...new Set([...stats.values()].flatMap((s) => (s?.kind === 'symlink' && s.resolvedTarget !== undefined ? [s.resolvedTarget] : [])))];
  const resolved = targets.length > 0 ? await engine.statPaths(image, targets) : new Map<string, PathStat | undefined>();
  return new Map(
    paths.map((p) => {
      const stat = stats.get(p);
      if (stat?.kind !== 'symlink') return [p, stat];
      const target = stat.resolvedTarget !== undefined ? resolved.get(stat.resolvedTarget) : undefined;
      // A link to a link was resolved already: one that still is a link leads nowhere.
      return [p, target?.kind === 'symlink' ? undefined : target];
    }),
  );
}

/** `build` is the IR the image was built from; `v` places the findings at the manifest's lines. */
export async function checkContract(engine: DockerEngine, image: string, v: ValidatedManifest, build: Build): Promise<Diagnostic[]> {
  const out: Diagnostic[] = [];
  const expected = contractExpectations(build);
  const stats = await resolveAll(
    engine,
    image,
    expected.map((e) => e.path),
  );
  for (const e of expected) {
    const stat = stats.get(e.path);
    if (stat && stat.kind === e.kind) continue;
    out.push({
      code: 'build/contract',
      severity: 'error',
      message: `the built image breaks the derivative contract: ${e.path} (${e.why}) ${stat ? `is a ${stat.kind}, not a ${e.kind}` : 'is missing or does not resolve'}`,
      file: v.path,
      pointer: e.pointer,
      range: v.source.locate(e.pointer),
      hint: e.path.startsWith('/boot')
        ? 'the image needs exactly one kernel under /lib/modules; check the boot glue packages and build.log'
        : 'see build.log in the output directory',
    });
  }
  return out;
}
