// derivc build against streams BuildKit really sent (test/buildkit-streams/, recorded from the
// Engine here): a fake Engine replays them through the same decoder the real adapter uses, so the
// live/CI/JSON displays, build.log and the failure mapping are checked on BuildKit's own words.

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BuildKitStreamParser } from '../targets/io/buildkit-status.js';
import type { BuildEvent, BuildRequest } from '../targets/io/engine.js';
import { FakeEngine } from './support/fake-engine.js';
import { runCliAsync } from './support/cli.js';

const STREAMS = 'test/buildkit-streams';
const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A fake Engine whose builds answer with a recorded BuildKit stream, decoded against the Dockerfile derivc sends. */
class ReplayEngine extends FakeEngine {
  constructor(private readonly recording: string) {
    super();
  }
  override async build(request: BuildRequest, onEvent: (e: BuildEvent) => void, signal?: AbortSignal): Promise<{ imageId: string }> {
    this.script = [];
    await super.build(request, () => {}, signal);
    expect(request.builder).toBe('buildkit');
    const parser = new BuildKitStreamParser(onEvent, request.dockerfile!);
    // In uneven pieces, as a socket delivers them.
    const bytes = readFileSync(join(STREAMS, this.recording));
    for (let i = 0; i < bytes.length; i += 997) parser.push(bytes.subarray(i, i + 997));
    parser.end();
    if (parser.error) throw new Error(parser.error.message);
    return { imageId: parser.imageId! };
  }
}

function manifest(edit: (text: string) => string = (t) => t): string {
  const dir = mkdtempSync(join(tmpdir(), 'derivc-recorded-'));
  scratch.push(dir);
  cpSync(join(STREAMS, 'derivative.yaml'), join(dir, 'derivative.yaml'));
  writeFileSync(join(dir, 'derivative.yaml'), edit(readFileSync(join(dir, 'derivative.yaml'), 'utf8')));
  return join(dir, 'derivative.yaml');
}

describe('recorded BuildKit streams', () => {
  it('a cached build: each step once, in order, numbered as derivc numbers them, cache hits marked', async () => {
    const path = manifest();
    const engine = new ReplayEngine('cached-build.jsonl');
    const r = await runCliAsync(['build', path, '-o', join(path, '..', 'out'), '--target', 'none', '--json'], { docker: () => engine });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as BuildEvent & { time?: string });
    const steps = events.filter((e) => e.kind === 'step');
    const dockerfile = readFileSync(join(path, '..', 'out', 'Dockerfile'), 'utf8');
    const instructions = dockerfile.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    // Every instruction BuildKit runs (FROM, RUN, COPY), none twice; ENV and LABEL make no vertex.
    expect(steps.map((s) => s.kind === 'step' && s.index)).toEqual(instructions.flatMap((l, i) => (/^(FROM|RUN|COPY) /.test(l) ? [i + 1] : [])));
    for (const s of steps) if (s.kind === 'step') expect(s.instruction).toBe(instructions[s.index - 1]);
    // Each one cached but the FROM (a source: BuildKit loads it, as the classic builder does).
    const cachedAfter = events.flatMap((e, i) => (e.kind === 'cached' ? [events[i - 1]] : []));
    expect(cachedAfter.map((e) => e?.kind === 'step' && e.index)).toEqual(steps.slice(1).map((s) => s.kind === 'step' && s.index));
    expect(events.at(-1)).toMatchObject({ kind: 'result', built: true, image: 'sha256:ab4c1b84d10e0344c05ecea726e51c199a431a47828c3d4b0d7ab75c64d11d7b' });
  });

  it('the live display names derivc steps, as with the classic builder', async () => {
    const path = manifest();
    const engine = new ReplayEngine('cached-build.jsonl');
    const r = await runCliAsync(['build', path, '-o', join(path, '..', 'out'), '--target', 'none'], { docker: () => engine });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/\[2\/11\] boot glue: kernel, dracut, GRUB, systemd, squashfs \(debian\)\n.*\[2\/11\] cached\n/);
    expect(r.stderr).toContain('[3/11] packages\n');
  });

  it('a package that does not exist: reported at its line in the manifest, with apt’s words; build.log has them line by line', async () => {
    const path = manifest((t) => t.replace(/^(\s+)- openssh-server\b.*$/m, '$1- openssh-server\n$1- nosuchpkg'));
    const engine = new ReplayEngine('package-not-found.jsonl');
    const r = await runCliAsync(['build', path, '-o', join(path, '..', 'out'), '--target', 'none'], { docker: () => engine });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/package-not-found]: package `nosuchpkg` does not exist in the repositories the image uses');
    const line =
      readFileSync(path, 'utf8')
        .split('\n')
        .findIndex((l) => l.endsWith('- nosuchpkg')) + 1;
    expect(r.stderr).toMatch(new RegExp(`--> .*derivative\\.yaml:${line}:7`));
    const log = readFileSync(join(path, '..', 'out', 'build.log'), 'utf8').split('\n');
    expect(log).toContain('E: Unable to locate package nosuchpkg');
    expect(log).toContain('Reading package lists...');
    expect(log.filter((l) => l.startsWith('Step '))).toEqual([
      expect.stringMatching(/^Step 1\/11 : FROM local\/debian:bookworm$/),
      expect.stringMatching(/^Step 2\/11 : RUN --mount=type=cache,.*"derivc","linux-image-amd64"/),
      expect.stringMatching(/^Step 3\/11 : RUN --mount=type=cache,.*"derivc","openssh-server","nosuchpkg"\]$/),
    ]);
  });
});
