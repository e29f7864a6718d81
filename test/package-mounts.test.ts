// BuildKit mounts of the package manager's RUN steps: its cache (so a changed package list
// downloads only what changed) and private repositories' credentials (secret mounts in the
// family's own format). The compiled Dockerfile is one file: the classic builder gets it without
// the flags, and the scripts then clean up in the image as before.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { contentBytes } from '../cli/content.js';
import { compile, type Compiled } from '../compiler/compile.js';
import { classicDockerfile } from '../compiler/emit/classic-dockerfile.js';
import { MANIFEST_FILE } from '../compiler/emit/types.js';
import { listedFileOf } from '../compiler/output-listing.js';
import { netrcMachine, repositorySecrets, secretContent, secretValueProblem } from '../compiler/emit/repo-auth.js';
import { UnquotableError } from '../compiler/quote.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { contextStream } from '../targets/io/build-context.js';
import { withDockerfile } from '../targets/io/context-dockerfile.js';
import { parseDockerfile } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

const IMAGES = { opensuse: 'registry.opensuse.org/opensuse/leap:15.5', fedora: 'registry.fedoraproject.org/fedora:40', debian: 'debian:12' } as const;
type Family = keyof typeof IMAGES;

function compiled(family: Family, ...lines: string[]): Compiled {
  const manifest = [
    'apiVersion: derivc.dev/v1alpha1',
    'kind: Derivative',
    'metadata: {name: p, version: "1.0"}',
    `base: {image: "${IMAGES[family]}"}`,
    ...lines,
    '',
  ];
  const host = new MemoryHost({ 'derivative.yaml': manifest.join('\n') });
  const v = new ValidationSession(host).validate('derivative.yaml');
  expect(v.diagnostics).toEqual([]);
  const c = compile(v.value.manifest!, host, { version: '0.0.0-test' });
  expect(c.diagnostics).toEqual([]);
  return c.value;
}

const text = (c: Compiled, path: string) => new TextDecoder().decode(contentBytes(c.files.find((f) => f.path === path)!.content!));

/** Each RUN instruction's mount flags (`type=…,…`), in order, keyed by its first exec argument after the shell. */
function runMounts(dockerfile: string): { run: string; mounts: string[] }[] {
  return parseDockerfile(dockerfile)
    .instructions.filter((i) => i.getKeyword() === 'RUN')
    .map((i) => ({
      run: (i.getRawArgumentsContent() ?? '').slice(0, 60),
      mounts: ((i as unknown as { getFlags(): { getName(): string; getValue(): string }[] }).getFlags() ?? []).map((f) => `${f.getName()}=${f.getValue()}`),
    }));
}

const PACKAGES = ['packages:', '  upgrade: true', '  install: [vim]', '  remove: [nano]'];
const AUTH = ['  repositories:', '    - {name: private, url: "https://repo.example.com/os/", auth: {username: ci, env: DERIVC_SECRET_PRIVATE}}'];

describe('cache mounts', () => {
  it.each([
    ['debian', ['/var/cache/apt', '/var/lib/apt/lists']],
    ['opensuse', ['/var/cache/zypp']],
    ['fedora', ['/var/cache/dnf', '/var/cache/libdnf5']],
  ] as const)(
    "%s: the package manager's RUN steps (upgrade, boot glue, install, remove) mount its cache, one build at a time; no other RUN does",
    (family, dirs) => {
      const c = compiled(family, ...PACKAGES);
      const runs = runMounts(text(c, 'Dockerfile'));
      const withMounts = runs.filter((r) => r.mounts.length);
      expect(withMounts).toHaveLength(4);
      for (const r of withMounts)
        expect(r.mounts).toEqual(dirs.map((d) => `mount=type=cache,id=derivc-${family}${d.replace(/\//g, '-')},target=${d},sharing=locked`));
      // The initrd, users, services: never a mount.
      expect(runs.length).toBeGreaterThan(withMounts.length);
    },
  );

  it('the scripts keep downloads when the cache is mounted and clean up in the image when it is not', () => {
    const dockerfile = text(compiled('debian', ...PACKAGES), 'Dockerfile');
    const install = dockerfile.split('\n').find((l) => l.includes('"vim"'))!;
    expect(install).toContain(
      `if grep -qs ' /var/cache/apt ' /proc/self/mountinfo; then o='-o Dir::Cache::Archives=/var/cache/apt/derivc-archives/ -o APT::Keep-Downloaded-Packages=true'; fi`,
    );
    expect(install).toContain('if [ -z \\"$o\\" ]; then apt-get clean; rm -rf /var/lib/apt/lists/*; fi');
  });
});

describe('secret mounts for repository credentials', () => {
  it.each([
    ['debian', 'mount=type=secret,id=derivc-repo-private,target=/etc/apt/auth.conf.d/derivc-private.conf,mode=0400,required=true'],
    ['opensuse', 'mount=type=secret,id=derivc-repo-private,target=/etc/zypp/credentials.d/derivc-private,mode=0400,required=true'],
    ['fedora', 'mount=type=secret,id=derivc-repo-private,target=/etc/yum.repos.d/private.repo,mode=0400,required=true'],
  ] as const)('%s: every package manager RUN mounts the credentials file, nothing else does', (family, mount) => {
    const c = compiled(family, ...PACKAGES, ...AUTH);
    const runs = runMounts(text(c, 'Dockerfile'));
    expect(runs.filter((r) => r.mounts.includes(mount))).toHaveLength(4);
    expect(runs.filter((r) => r.mounts.some((m) => m.includes('type=secret')) && !r.mounts.includes(mount))).toEqual([]);
  });

  it('zypper finds the credentials through the URL; apt and dnf repository files in the image name none', () => {
    expect(text(compiled('opensuse', ...PACKAGES, ...AUTH), 'repos/etc/zypp/repos.d/private.repo')).toContain(
      'baseurl=https://repo.example.com/os/?credentials=derivc-private\n',
    );
    expect(text(compiled('fedora', ...PACKAGES, ...AUTH), 'repos/etc/yum.repos.d/private.repo')).not.toMatch(/username|password|credentials/);
    expect(text(compiled('debian', ...PACKAGES, ...AUTH), 'repos/etc/apt/sources.list.d/private.sources')).not.toMatch(/ci|password|credentials/);
  });

  it("the mounted file reads in each family's format, around the password served at build time", () => {
    const fedora = compiled('fedora', ...PACKAGES, ...AUTH);
    const [dnf] = repositorySecrets(fedora.build);
    expect(secretContent(dnf!, 'pa$$word', text(fedora, 'repos/etc/yum.repos.d/private.repo'))).toBe(
      `${text(fedora, 'repos/etc/yum.repos.d/private.repo')}username=ci\npassword=pa$$word\n`,
    );
    const [zypp] = repositorySecrets(compiled('opensuse', ...PACKAGES, ...AUTH).build);
    expect(secretContent(zypp!, 's3cr3t')).toBe('username=ci\npassword=s3cr3t\n');
    const [apt] = repositorySecrets(compiled('debian', ...PACKAGES, ...AUTH).build);
    expect(secretContent(apt!, 's3cr3t')).toBe('machine repo.example.com/os/ login ci password s3cr3t\n');
  });

  it("apt's machine: no scheme for https (apt applies such an entry to https only), the scheme otherwise", () => {
    expect(netrcMachine('https://repo.example.com:8443/debian/')).toBe('repo.example.com:8443/debian/');
    expect(netrcMachine('http://user@10.0.0.1:8080/flat/?x=1')).toBe('http://10.0.0.1:8080/flat/');
  });

  it('a password the format cannot carry is refused, and never shown', () => {
    const [apt] = repositorySecrets(compiled('debian', ...PACKAGES, ...AUTH).build);
    const [dnf] = repositorySecrets(compiled('fedora', ...PACKAGES, ...AUTH).build);
    expect(secretValueProblem(apt!, 'with space')).toBe("it has whitespace, which ends a field of apt's auth.conf.d");
    expect(secretValueProblem(dnf!, 'with space')).toBeUndefined();
    expect(secretValueProblem(dnf!, 'two\nlines')).toBe('it has more than one line');
    expect(secretValueProblem(dnf!, 'bell\u0007')).toBe('it has control characters');
    expect(secretValueProblem(dnf!, '')).toBe('it is empty');
    // The last line of defence, whatever a caller forgot to check.
    expect(() => secretContent(apt!, 'with space')).toThrow(UnquotableError);
  });
});

describe('the classic builder', () => {
  const scratch: string[] = [];
  afterAll(() => scratch.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('gets the same Dockerfile without the mount flags, every other byte as compiled', () => {
    const compiledText = text(compiled('debian', ...PACKAGES, ...AUTH), 'Dockerfile');
    const classic = classicDockerfile(compiledText);
    expect(classic).not.toContain('--mount');
    expect(runMounts(classic).every((r) => r.mounts.length === 0)).toBe(true);
    expect(classic.split('\n')).toHaveLength(compiledText.split('\n').length);
    expect(classic).toBe(compiledText.replace(/^RUN (--mount=\S+ )+/gm, 'RUN '));
    // A build step's own exec form that mentions --mount is an argument, untouched.
    const step = classicDockerfile('RUN ["echo","--mount=type=cache,target=/x"]\n');
    expect(step).toBe('RUN ["echo","--mount=type=cache,target=/x"]\n');
  });

  it('the context it is sent has that Dockerfile; every other entry is as derivc streams it', async () => {
    const c = compiled('debian', ...PACKAGES);
    const dir = mkdtempSync(join(tmpdir(), 'derivc-classic-'));
    scratch.push(dir);
    const files = c.files.filter((f) => f.path !== MANIFEST_FILE && f.content !== undefined);
    for (const f of files) {
      mkdirSync(dirname(join(dir, f.path)), { recursive: true });
      writeFileSync(join(dir, f.path), contentBytes(f.content!));
    }
    const listing = files.map(listedFileOf);
    const read = async (stream: NodeJS.ReadableStream) => {
      const entries = new Map<string, { mode?: number; body: string }>();
      const extract = tar.extract();
      (stream as NodeJS.ReadableStream).pipe(extract as unknown as NodeJS.WritableStream);
      for await (const e of extract) {
        const chunks: Buffer[] = [];
        for await (const ch of e) chunks.push(ch as Buffer);
        entries.set(e.header.name, { mode: e.header.mode, body: Buffer.concat(chunks).toString() });
      }
      return entries;
    };
    const original = await read(contextStream(dir, { files: listing }));
    const classic = await read(withDockerfile(contextStream(dir, { files: listing }), classicDockerfile(text(c, 'Dockerfile'))));
    expect([...classic.keys()]).toEqual([...original.keys()]);
    for (const [name, e] of original) if (name !== 'Dockerfile') expect(classic.get(name)).toEqual(e);
    expect(classic.get('Dockerfile')!.body).toBe(classicDockerfile(original.get('Dockerfile')!.body));
    expect(classic.get('Dockerfile')!.mode).toBe(original.get('Dockerfile')!.mode);
  });
});
