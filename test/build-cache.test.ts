// derivc build --cache-from REF… --cache-to REF: the request carries `cachefrom` and, for
// --cache-to, BuildKit's inline cache argument; the built image is then tagged REF and pushed
// (with the docker CLI's credentials, targets/io/registry-push.ts). Neither flag changes the
// compiled files or the build ID. The classic builder takes --cache-from (warning about images
// not on the Engine) and refuses --cache-to. REF is checked before anything runs; `{name}` in it
// gives each manifest of a fleet its own cache image.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_ID_LABEL } from '../compiler/emit/dockerfile.js';
import { cacheFor, checkCacheScope, parseCacheFlags } from '../cli/build/cache-refs.js';
import { authConfig, PushStreamParser, registryHost, splitRef } from '../targets/io/registry-push.js';
import type { BuildEvent } from '../targets/io/engine.js';
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
    expect(engine.cachePushes).toEqual([{ image: `sha256:${'1'.padStart(64, '0')}`, ref: `${REG}/cache/acme:pr` }]);
    expect(engine.log).toEqual(['start derivc.local/acme:1.0', 'end derivc.local/acme:1.0', `push ${REG}/cache/acme:pr`]);
    expect(r.stderr).toContain(`cache: pushed ${REG}/cache/acme:pr (sha256:dddddddddddd…)`);
    expect(readFileSync(join(dir, 'out', 'build.log'), 'utf8')).toContain('pr: digest: sha256:');
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
    expect(e1.cachePushes).toEqual([]);
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
    expect(engine.cachePushes.map((p) => p.ref)).toEqual([`${REG}/c:1`]);
  });

  it('pushes a tag-less --cache-to REF as latest, and says the push as a JSON line with --json', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    const r = await build(dir, engine, ['--json', '--cache-to', `${REG}/cache/acme`]);
    expect(r.code, r.stderr).toBe(0);
    expect(engine.cachePushes.map((p) => p.ref)).toEqual([`${REG}/cache/acme:latest`]);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toContainEqual({ kind: 'cache', ref: `${REG}/cache/acme:latest`, digest: `sha256:${'d'.repeat(64)}` });
  });

  it('a refused push fails the build (exit 1) with build/cache-push-failed, the image built', async () => {
    const dir = temp();
    const engine = new FakeEngine();
    engine.pushError = 'cannot push 127.0.0.1:5000/c:1: unauthorized: authentication required';
    const r = await build(dir, engine, ['--cache-to', `${REG}/c:1`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/cache-push-failed]');
    expect(r.stderr).toContain(`the image was built, but its cache could not be pushed to ${REG}/c:1: cannot push ${REG}/c:1: unauthorized`);
    expect(engine.builds).toHaveLength(1);
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
    expect(engine.cachePushes).toEqual([]);
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

  it('accepts what docker accepts: a host with a port, nested paths, a digest (--cache-from), {name}', () => {
    expect(
      parseCacheFlags(
        ['localhost:5000/a/b:tag', 'reg.example.com/x@sha256:' + 'a'.repeat(64), 'ubuntu', 'reg.example.com/cache/{name}'],
        'reg/{name}-cache:v_1.2',
      ),
    ).toEqual({
      from: ['localhost:5000/a/b:tag', 'reg.example.com/x@sha256:' + 'a'.repeat(64), 'ubuntu', 'reg.example.com/cache/{name}'],
      to: 'reg/{name}-cache:v_1.2',
    });
    expect(() => parseCacheFlags(undefined, 'reg.example.com/x:{name}')).not.toThrow();
  });

  it("{name} is each manifest's name; a --cache-to without it is the named manifest's only", () => {
    const flags = parseCacheFlags(['r.example.com/c/{name}:main', 'r.example.com/shared:1'], 'r.example.com/c/{name}:pr');
    expect(cacheFor(flags, 'edge', false)).toEqual({ from: ['r.example.com/c/edge:main', 'r.example.com/shared:1'], to: 'r.example.com/c/edge:pr' });
    const one = parseCacheFlags([], 'r.example.com/c:pr');
    expect(cacheFor(one, 'top', true).to).toBe('r.example.com/c:pr');
    expect(cacheFor(one, 'base', false).to).toBeUndefined();
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
    expect(engine.cachePushes.map((p) => p.ref).sort()).toEqual([`${REG}/cache/base:pr`, `${REG}/cache/edge:pr`, `${REG}/cache/solo:pr`]);
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
    expect(engine.cachePushes).toEqual([{ image: expect.stringMatching(/^sha256:0+2$/), ref: `${REG}/cache:pr` }]);
  });
});

describe('the push (targets/io/registry-push.ts)', () => {
  it("is reached through the CLI's lazily loaded Engine client", async () => {
    // Not a stub saying it cannot push: the real client, which finds no Engine at this socket.
    const lazy = lazyEngine({ DOCKER_HOST: 'unix:///nonexistent/derivc-test.sock' });
    await expect(lazy.tagAndPush!(`sha256:${'1'.repeat(64)}`, `${REG}/c:1`, () => {})).rejects.toThrow(
      'cannot reach the Docker Engine at unix:///nonexistent/derivc-test.sock',
    );
  });

  it('finds the registry of a reference as docker does, and the tag', () => {
    expect(registryHost('127.0.0.1:5000/a/b:1')).toBe('127.0.0.1:5000');
    expect(registryHost('reg.example.com/a')).toBe('reg.example.com');
    expect(registryHost('localhost/a')).toBe('localhost');
    expect(registryHost('acme/os:1')).toBe('docker.io');
    expect(registryHost('ubuntu')).toBe('docker.io');
    expect(splitRef('127.0.0.1:5000/a/b:pr')).toEqual({ repo: '127.0.0.1:5000/a/b', tag: 'pr' });
    expect(splitRef('127.0.0.1:5000/a/b')).toEqual({ repo: '127.0.0.1:5000/a/b', tag: 'latest' });
  });

  it('logs in as the docker config says: user and password, an identity token, or anonymous', () => {
    expect(authConfig('127.0.0.1:5000', { username: 'u', secret: 'p' })).toEqual({ username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' });
    expect(authConfig('docker.io', { username: '', secret: 'tok' })).toEqual({ identitytoken: 'tok', serveraddress: 'https://index.docker.io/v1/' });
    expect(authConfig('docker.io', undefined)).toEqual({});
  });

  it('reads the digest from the last line, and an error the Engine sends inside its 200 answer', () => {
    const events: BuildEvent[] = [];
    const ok = new PushStreamParser((e) => events.push(e));
    ok.push(
      '{"status":"The push refers to repository [127.0.0.1:5000/c]"}\n{"status":"Pushing","progressDetail":{},"progress":"[=>  ]","id":"abc"}\n{"status":"Pushed","id":"abc"}\n',
    );
    ok.push(
      `{"status":"pr: digest: sha256:${'e'.repeat(64)} size: 528"}\n{"progressDetail":{},"aux":{"Tag":"pr","Digest":"sha256:${'e'.repeat(64)}","Size":528}}`,
    );
    ok.end();
    expect(ok.error).toBeUndefined();
    expect(ok.digest).toBe(`sha256:${'e'.repeat(64)}`);
    expect(events.map((e) => (e.kind === 'output' ? e.text : e.kind))).toEqual([
      'The push refers to repository [127.0.0.1:5000/c]\n',
      'abc: Pushed\n',
      `pr: digest: sha256:${'e'.repeat(64)} size: 528\n`,
    ]);
    const refused = new PushStreamParser(() => {});
    refused.push(
      '{"status":"The push refers to repository [127.0.0.1:5000/c]"}\n{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}\n',
    );
    refused.end();
    expect(refused.error).toBe('unauthorized: authentication required');
  });
});
