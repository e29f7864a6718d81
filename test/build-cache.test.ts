// derivc build --cache-from REF… --cache-to REF: the request carries `cachefrom` and, for
// --cache-to, BuildKit's inline cache argument; the built image is then tagged REF and pushed
// the way --push pushes a tag (cli/build/push.ts: the docker CLI's credentials, the same
// failures). Neither flag changes the
// compiled files or the build ID. The classic builder takes --cache-from (warning about images
// not on the Engine) and refuses --cache-to. REF is checked before anything runs; `{name}` in it
// gives each manifest of a fleet its own cache image.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_ID_LABEL } from '../compiler/emit/dockerfile.js';
import { cacheFor, checkCacheScope, parseCacheFlags } from '../cli/build/cache-refs.js';
import { PushError } from '../targets/io/engine.js';
import { lazyEngine } from '../targets/io/lazy-engine.js';
import { FakeEngine } from './support/fake-engine.js';
import { runCliAsync } from './support/cli.js';

const scratch: string[] = [];
afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'derivc-cache-'));
  scratch.push(d);
  return d;
}

const MANIFEST =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\n' +
  'base: {image: "local/debian:bookworm", family: debian}\nsystem: {hostname: acme}\npackages: {install: [curl]}\n';
const REG = '127.0.0.1:5000';

function manifest(dir: string): string {
  writeFileSync(join(dir, 'derivative.yaml'), MANIFEST);
  return join(dir, 'derivative.yaml');
}

const build = (dir: string, engine: FakeEngine, args: string[], env: Record<string, string> = {}) =>
  runCliAsync(['build', manifest(dir), '-o', join(dir, 'out'), '--target', 'none', ...args], { docker: () => engine, env });

describe('--cache-from and --cache-to with BuildKit', () => {
  it('hand BuildKit the cache images and the inline-cache argument, then push the image as the --cache-to REF', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, [
      '--cache-from',
      `${REG}/cache/acme:main`,
      '--cache-from',
      `${REG}/cache/acme:pr`,
      '--cache-to',
      `${REG}/cache/acme:pr`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const [b] = engine.builds;
    expect(b!.builder).toBe('buildkit');
    expect(b!.cacheFrom).toEqual([`${REG}/cache/acme:main`, `${REG}/cache/acme:pr`]);
    expect(b!.buildArgs['BUILDKIT_INLINE_CACHE']).toBe('1');
    // The image just built, as the REF: after the build, so a failed build pushes nothing.
    expect(engine.tagged).toEqual([{ image: `sha256:${'1'.padStart(64, '0')}`, ref: `${REG}/cache/acme:pr` }]);
    expect(engine.log).toEqual(['start derivc.local/acme:1.0', 'end derivc.local/acme:1.0', `tag ${REG}/cache/acme:pr`, `push ${REG}/cache/acme:pr`]);
    expect(r.stderr).toMatch(/cache: pushed 127\.0\.0\.1:5000\/cache\/acme:pr \(sha256:[0-9a-f]{12}…\)/);
    // The push's progress goes to the build log.
    expect(readFileSync(join(dir, 'out', 'build.log'), 'utf8')).toContain('0123456789ab: Pushed\n');
  });

  it('change neither the compiled files nor the build ID', async () => {
    const plain = temp();
    const cached = temp();
    const e1 = new FakeEngine();
    const e2 = new FakeEngine();
    expect((await build(plain, e1, [])).code).toBe(0);
    expect((await build(cached, e2, ['--cache-from', `${REG}/c:1`, '--cache-to', `${REG}/c:1`])).code).toBe(0);
    for (const file of ['Dockerfile', 'derivc.json'])
      expect(readFileSync(join(cached, 'out', file), 'utf8')).toBe(readFileSync(join(plain, 'out', file), 'utf8'));
    expect(e2.builds[0]!.context.equals(e1.builds[0]!.context)).toBe(true);
    expect(e2.images.get('derivc.local/acme:1.0')![BUILD_ID_LABEL]).toBe(e1.images.get('derivc.local/acme:1.0')![BUILD_ID_LABEL]);
    // Without the flags: no cache in the request, nothing pushed.
    expect(e1.builds[0]!.cacheFrom).toBeUndefined();
    expect(e1.builds[0]!.buildArgs).not.toHaveProperty('BUILDKIT_INLINE_CACHE');
    expect(e1.tagged).toEqual([]);
    expect(e1.pushes).toEqual([]);
  });

  it('--cache-to builds an up-to-date image again (every step cached) so that what is pushed carries the cache; --cache-from alone leaves it alone', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    expect((await build(dir, engine, [])).code).toBe(0);
    const again = await build(dir, engine, ['--cache-from', `${REG}/c:1`]);
    expect(again.stderr).toContain('up to date: derivc.local/acme:1.0');
    expect(engine.builds).toHaveLength(1);
    const pushed = await build(dir, engine, ['--cache-to', `${REG}/c:1`]);
    expect(pushed.code, pushed.stderr).toBe(0);
    expect(engine.builds).toHaveLength(2);
    expect(engine.builds[1]!.buildArgs['BUILDKIT_INLINE_CACHE']).toBe('1');
    expect(engine.pushes.map((p) => p.ref)).toEqual([`${REG}/c:1`]);
  });

  it('pushes a tag-less --cache-to REF as latest, and says the push as a JSON line with --json', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, ['--json', '--cache-to', `${REG}/cache/acme`]);
    expect(r.code, r.stderr).toBe(0);
    expect(engine.pushes.map((p) => p.ref)).toEqual([`${REG}/cache/acme:latest`]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual({ kind: 'cache', ref: `${REG}/cache/acme:latest`, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
  });

  it('notes (build/cache-from-unused) a BuildKit build in which no step after FROM came from a cache', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.script = [
      { kind: 'step', index: 1, total: 3, instruction: 'FROM local/debian:bookworm' },
      { kind: 'cached' },
      { kind: 'step', index: 2, total: 3, instruction: 'COPY /etc /etc' },
      { kind: 'step', index: 3, total: 3, instruction: 'RUN true' },
    ];
    const r = await build(dir, engine, ['--cache-from', `${REG}/cache/acme:main`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `info[build/cache-from-unused]: no step of this build came from --cache-from ${REG}/cache/acme:main: that image does not exist yet, was built from other inputs, or the Engine's BuildKit could not read it`,
    );
    expect(r.stderr).toContain('derivc explain build/cache-from-unused');
  });

  it('counts a cached event against the step it names: a FROM marked cached late is no reused step', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    // Multi-stage: the luet stage's FROM resolves late, after the main stage's COPY started.
    engine.script = [
      { kind: 'step', index: 1, total: 3, instruction: 'FROM quay.io/luet/base AS luet' },
      { kind: 'step', index: 2, total: 3, instruction: 'FROM local/debian:bookworm' },
      { kind: 'step', index: 3, total: 3, instruction: 'COPY /etc /etc' },
      { kind: 'cached', index: 1 },
    ];
    const r = await build(dir, engine, ['--cache-from', `${REG}/cache/acme:main`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('info[build/cache-from-unused]');
  });

  it('says nothing when a step came from the cache, or without --cache-from', async () => {
    const engine = new FakeEngine();
    engine.script = [
      { kind: 'step', index: 1, total: 2, instruction: 'FROM local/debian:bookworm' },
      { kind: 'step', index: 2, total: 2, instruction: 'RUN true' },
      { kind: 'cached' },
    ];
    const used = await build(temp(), engine, ['--cache-from', `${REG}/cache/acme:main`]);
    expect(used.code, used.stderr).toBe(0);
    expect(used.stderr).not.toContain('cache-from-unused');
    engine.script = [
      { kind: 'step', index: 1, total: 2, instruction: 'FROM local/debian:bookworm' },
      { kind: 'step', index: 2, total: 2, instruction: 'RUN true' },
    ];
    const without = await build(temp(), engine, []);
    expect(without.code, without.stderr).toBe(0);
    expect(without.stderr).not.toContain('cache-from-unused');
  });

  it('pushes with the credentials the docker config has for the registry, as --push does', async () => {
    const dir = temp();
    const config = join(dir, 'docker-config');
    mkdirSync(config);
    writeFileSync(join(config, 'config.json'), JSON.stringify({ auths: { [REG]: { auth: Buffer.from('ci:s3cret-pass').toString('base64') } } }));
    const engine = new FakeEngine();
    const r = await build(dir, engine, ['--cache-to', `${REG}/c:1`], { DOCKER_CONFIG: config });
    expect(r.code, r.stderr).toBe(0);
    expect(engine.pushes).toEqual([{ ref: `${REG}/c:1`, auth: { serveraddress: REG, username: 'ci', password: 's3cret-pass' } }]);
    expect(r.stderr + readFileSync(join(dir, 'out', 'build.log'), 'utf8')).not.toContain('s3cret-pass');
  });

  it('a refused push fails the build (exit 1) with the code --push uses, the image built', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.pushFailures.set(`${REG}/c:1`, new PushError('unauthorized', 'unauthorized: authentication required'));
    const r = await build(dir, engine, ['--cache-to', `${REG}/c:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error[build/push-unauthorized]: the image was built, but its cache could not be pushed: the registry ${REG} refused the push of \`${REG}/c:1\`: unauthorized: authentication required; no credentials for ${REG} were found in the docker config`,
    );
    expect(r.stderr).toContain(`docker login ${REG}`);
    expect(engine.builds).toHaveLength(1);
  });

  it('an Engine refusing the tag is build/cache-push-failed, and nothing is pushed', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.tagFailures.set(`${REG}/c:1`, 'Error response from daemon: no space left on device');
    const r = await build(dir, engine, ['--cache-to', `${REG}/c:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'error[build/cache-push-failed]: the image was built, but its cache could not be pushed: Error response from daemon: no space left on device',
    );
    expect(engine.pushes).toEqual([]);
  });

  it('cancelled while the cache is pushed: said so, no step blamed, not a success', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const controller = new AbortController();
    engine.onPush = () => controller.abort();
    const r = await runCliAsync(['build', manifest(dir), '-o', join(dir, 'out'), '--target', 'none', '--cache-to', `${REG}/c:1`], {
      docker: () => engine,
      signal: controller.signal,
    });
    expect(r.stderr).toContain('build cancelled while the cache was pushed');
    // A step's failure would print its log's path.
    expect(r.stderr).not.toContain('full log:');
    expect(r.code).not.toBe(0);
  });

  it('an unreachable registry is build/push-unreachable', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.pushFailures.set(`${REG}/c:1`, new PushError('unreachable', `Get "https://${REG}/v2/": dial tcp ${REG}: connect: connection refused`));
    const r = await build(dir, engine, ['--cache-to', `${REG}/c:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error[build/push-unreachable]: the image was built, but its cache could not be pushed: the Docker Engine cannot reach the registry ${REG}`,
    );
  });
});

describe('--cache-from and --cache-to with the classic builder', () => {
  it('--cache-from goes to the classic builder, with a warning for each image not on the Engine', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.images.set(`${REG}/c:here`, {});
    const r = await build(dir, engine, ['--builder', 'classic', '--cache-from', `${REG}/c:here`, '--cache-from', `${REG}/c:away`]);
    expect(r.code, r.stderr).toBe(0);
    expect(engine.builds[0]!.builder).toBe('classic');
    expect(engine.builds[0]!.cacheFrom).toEqual([`${REG}/c:here`, `${REG}/c:away`]);
    expect(r.stderr).toContain(
      `warning[build/cache-from-not-local]: the classic builder reuses layers only of images on the Engine, and ${REG}/c:away is not there: it gives this build no cache`,
    );
    expect(r.stderr).not.toContain(`${REG}/c:here is not there`);
  });

  it('--cache-to is refused before anything is built: the classic builder writes no inline cache', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, ['--cache-to', `${REG}/c:1`], { DOCKER_BUILDKIT: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[build/cache-to-needs-buildkit]: --cache-to ${REG}/c:1 exports BuildKit's inline cache`);
    expect(engine.builds).toEqual([]);
    expect(engine.pushes).toEqual([]);
  });
});

describe('REF', () => {
  it.each([
    ['--cache-from', 'Bad Ref'],
    ['--cache-from', 'reg.example.com/x:1;touch /tmp/pwned'],
    ['--cache-from', 'reg.example.com/UPPER:1'],
    ['--cache-from', 'reg.example.com/x:$(id)'],
    ['--cache-from', 'reg.example.com/x\n:1'],
    ['--cache-to', 'reg.example.com/x@sha256:' + 'a'.repeat(64)],
    ['--cache-to', ''],
    ['--cache-to', 'reg.example.com/{nome}:1'],
    ['--cache-to', `reg.example.com/x:${'t'.repeat(100)}{name}`],
  ])('%s %j is a usage error that reaches nothing', async (flag, ref) => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, [flag, ref]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`derivc: ${flag} takes an image reference`);
    expect(r.stderr).toContain(`(${JSON.stringify(ref)} given)`);
    expect(engine.builds).toEqual([]);
  });

  it('--cache-to derivc.local/… is a usage error: the placeholder registry is never pushed to', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, ['--cache-to', 'derivc.local/cache:1']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("derivc: --cache-to derivc.local/cache:1 names `derivc.local`, derivc's placeholder for images that are not pushed");
    expect(engine.builds).toEqual([]);
  });

  it.each(['acme/cache:pr', 'cache', '{name}/cache:1'])('--cache-to %j names no registry: a usage error, nothing sent to Docker Hub unasked', async (ref) => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, ['--cache-to', ref]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`derivc: --cache-to ${ref} names no registry`);
    expect(r.stderr).toContain('docker.io/ORG/NAME:TAG');
    expect(engine.builds).toEqual([]);
    expect(engine.pushes).toEqual([]);
  });

  it('accepts what docker accepts: a host with a port, nested paths, a digest (--cache-from), {name}', () => {
    expect(
      parseCacheFlags(
        ['localhost:5000/a/b:tag', 'reg.example.com/x@sha256:' + 'a'.repeat(64), 'ubuntu', 'reg.example.com/cache/{name}'],
        'localhost:5000/{name}-cache:v_1.2',
      ),
    ).toEqual({
      from: ['localhost:5000/a/b:tag', 'reg.example.com/x@sha256:' + 'a'.repeat(64), 'ubuntu', 'reg.example.com/cache/{name}'],
      to: 'localhost:5000/{name}-cache:v_1.2',
    });
    expect(() => parseCacheFlags(undefined, 'reg.example.com/x:{name}')).not.toThrow();
  });

  it("{name} is each manifest's name; a --cache-to without it is the named manifest's only", () => {
    const flags = parseCacheFlags(['r.example.com/c/{name}:main', 'r.example.com/shared:1'], 'r.example.com/c/{name}:pr');
    expect(cacheFor(flags, 'edge', false)).toEqual({
      from: ['r.example.com/c/edge:main', 'r.example.com/shared:1'],
      to: 'r.example.com/c/edge:pr',
      noteUnused: true,
    });
    const one = parseCacheFlags([], 'r.example.com/c:pr');
    expect(cacheFor(one, 'top', true).to).toBe('r.example.com/c:pr');
    expect(cacheFor(one, 'base', false).to).toBeUndefined();
    // An upstream handed a shared --cache-from REF was not built into it: no note when it reuses nothing.
    expect(cacheFor(parseCacheFlags(['r.example.com/shared:1'], undefined), 'base', false).noteUnused).toBe(false);
    expect(cacheFor(parseCacheFlags(['r.example.com/shared:1'], undefined), 'top', true).noteUnused).toBe(true);
    expect(() => checkCacheScope(one, 1)).not.toThrow();
    expect(() => checkCacheScope(one, 2)).toThrow(/--cache-to r\.example\.com\/c:pr names one image, and this build has 2 manifests/);
    expect(() => checkCacheScope(flags, 2)).not.toThrow();
  });
});

describe('fleets', () => {
  function fleetRoot(): string {
    const root = temp();
    mkdirSync(join(root, '.git'));
    const write = (name: string, body: string) => {
      mkdirSync(join(root, name), { recursive: true });
      writeFileSync(
        join(root, name, 'derivative.yaml'),
        `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n${body}system: {hostname: ${name}}\n`,
      );
    };
    write('base', 'base: {image: "local/debian:bookworm", family: debian}\n');
    write('edge', 'base: {derivative: ../base/derivative.yaml}\n');
    write('solo', 'base: {image: "local/debian:bookworm", family: debian}\n');
    return root;
  }
  /** Run in `root`: an upstream no PATH names is built in .derivc/NAME, inside it. */
  const fleetBuild = async (root: string, engine: FakeEngine, paths: string[], args: string[]) => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      return await runCliAsync(['build', ...paths.map((p) => join(p, 'derivative.yaml')), '-o', 'out', '--target', 'none', ...args], {
        docker: () => engine,
        cwd: root,
      });
    } finally {
      process.chdir(cwd);
    }
  };

  it('several manifests and a --cache-to without {name}: a usage error, nothing built', async () => {
    const root = fleetRoot();
    const engine = new FakeEngine();
    const r = await fleetBuild(root, engine, ['solo', 'edge'], ['--cache-to', `${REG}/cache:pr`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`--cache-to ${REG}/cache:pr names one image, and this build has 2 manifests`);
    expect(r.stderr).toContain('put {name} in REF');
    expect(engine.builds).toEqual([]);
  });

  it('with {name}: each manifest, upstreams included, reads and writes its own cache image', async () => {
    const root = fleetRoot();
    const engine = new FakeEngine();
    const r = await fleetBuild(root, engine, ['solo', 'edge'], ['--cache-from', `${REG}/cache/{name}:main`, '--cache-to', `${REG}/cache/{name}:pr`]);
    expect(r.code, r.stderr).toBe(0);
    const byTag = new Map(engine.builds.map((b) => [b.tags[0], b.cacheFrom]));
    expect(Object.fromEntries(byTag)).toEqual({
      'derivc.local/base:1.0': [`${REG}/cache/base:main`],
      'derivc.local/edge:1.0': [`${REG}/cache/edge:main`],
      'derivc.local/solo:1.0': [`${REG}/cache/solo:main`],
    });
    expect(engine.pushes.map((p) => p.ref).sort()).toEqual([`${REG}/cache/base:pr`, `${REG}/cache/edge:pr`, `${REG}/cache/solo:pr`]);
  });

  it("one manifest with an upstream: a --cache-to without {name} is that manifest's; --cache-from serves both", async () => {
    const root = fleetRoot();
    const engine = new FakeEngine();
    const r = await fleetBuild(root, engine, ['edge'], ['--cache-from', `${REG}/cache:main`, '--cache-to', `${REG}/cache:pr`]);
    expect(r.code, r.stderr).toBe(0);
    expect(engine.builds.map((b) => [b.tags[0], b.cacheFrom, b.buildArgs['BUILDKIT_INLINE_CACHE']])).toEqual([
      ['derivc.local/base:1.0', [`${REG}/cache:main`], undefined],
      ['derivc.local/edge:1.0', [`${REG}/cache:main`], '1'],
    ]);
    expect(engine.tagged).toEqual([{ image: expect.stringMatching(/^sha256:0+2$/), ref: `${REG}/cache:pr` }]);
    expect(engine.pushes.map((p) => p.ref)).toEqual([`${REG}/cache:pr`]);
  });
});

describe('the tag before the push', () => {
  it("is reached through the CLI's lazily loaded Engine client", async () => {
    // Not a stub saying it cannot tag: the real client, which finds no Engine at this socket.
    const lazy = lazyEngine({ DOCKER_HOST: 'unix:///nonexistent/derivc-test.sock' });
    await expect(lazy.tag!(`sha256:${'1'.repeat(64)}`, `${REG}/c:1`)).rejects.toThrow('cannot reach the Docker Engine at unix:///nonexistent/derivc-test.sock');
  });
});
