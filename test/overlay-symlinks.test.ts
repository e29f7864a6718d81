// Symlinks in `overlay` and `oemDir` are copied as symlinks (MANIFEST.md, after `files`): their
// target may exist only in the image (`etc/os-release -> ../usr/lib/os-release`), so derivc never
// follows one — it records the link text as readlink gives it, lists it in derivc.json, writes a
// real symlink into `-o DIR` (never a file through it), and sends a tar symlink entry to the
// Engine. Hostile, absolute and dangling targets are data like any other; only link text no file
// system can hold is refused, at the manifest's line.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tar from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffOutputs } from '../cli/commands/diff.js';
import { GitHost } from '../cli/git-host.js';
import { compile } from '../compiler/compile.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import { MANIFEST_FILE, type GeneratedFile } from '../compiler/emit/types.js';
import type { Host } from '../compiler/host.js';
import { MAX_LINK_BYTES } from '../compiler/link-target.js';
import { parseListing } from '../compiler/output-listing.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { contextStream } from '../targets/io/build-context.js';
import { runCli } from './support/cli.js';
import { MemoryHost } from './support/memory-host.js';

const MANIFEST = [
  'apiVersion: derivc.dev/v1alpha1',
  'kind: Derivative',
  'metadata: {name: acme, version: "1.0"}',
  'base: {image: "registry.opensuse.org/opensuse/leap:15.5"}',
  'overlay: overlay',
  '',
].join('\n');

const WITH_OEM = MANIFEST.replace('overlay: overlay\n', 'toolkit: {source: luet}\nupgrade: {image: quay.io/acme/os}\noemDir: oem\n');

/** The overlay every test starts from: a file, and each kind of symlink the contract names. */
const LINKS: Record<string, string> = {
  'etc/os-release': '../usr/lib/os-release',
  'etc/localtime': '/usr/share/zoneinfo/UTC',
  'etc/dangling': 'nothing/here',
  'opt/current': 'v1',
  'etc/hostile': '../../../../etc/passwd',
};

function memoryRepo(links: Record<string, string | Uint8Array> = LINKS): MemoryHost {
  const host = new MemoryHost({
    'r/.git/HEAD': 'ref: refs/heads/main\n',
    'r/derivative.yaml': MANIFEST,
    'r/overlay/etc/motd': 'hello\n',
    'r/overlay/opt/v1/tool': '#!/bin/sh\n',
    // What a hostile link would lead to if followed: never read.
    '/etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
  });
  for (const [rel, target] of Object.entries(links)) host.symlink(`r/overlay/${rel}`, target);
  return host;
}

/** Validate and compile through `host`; every diagnostic either stage gives. */
function build(host: Host, manifest = 'r/derivative.yaml'): { files: GeneratedFile[]; buildId: string; diagnostics: Diagnostic[] } {
  const validated = new ValidationSession(host).validate(manifest);
  const v = validated.value.manifest;
  if (!v) return { files: [], buildId: '', diagnostics: validated.diagnostics };
  const compiled = compile(v, host, { version: '0.0.0-test' });
  return { files: compiled.value.files, buildId: compiled.value.buildId, diagnostics: [...validated.diagnostics, ...compiled.diagnostics] };
}

/** Records every path the compiler reads the content of (readFile, openFile). */
function spying(host: MemoryHost): { host: Host; read: string[] } {
  const read: string[] = [];
  const spy: Host = {
    readFile: (p) => (read.push(p), host.readFile(p)),
    realpath: (p) => host.realpath(p),
    kind: (p) => host.kind(p),
    readDir: (p) => host.readDir(p),
    readlink: (p) => host.readlink(p),
    openFile: (p, within, options) => (read.push(p), host.openFile(p, within, options)),
  };
  return { host: spy, read };
}

const links = (files: GeneratedFile[]) => Object.fromEntries(files.filter((f) => f.symlink !== undefined).map((f) => [f.path, f.symlink]));

describe('overlay symlinks, through the compiler (memory host)', () => {
  it('are copied as symlinks with their text as written: image paths, absolute, dangling, a folder, hostile', () => {
    const { files, diagnostics } = build(memoryRepo());
    expect(diagnostics).toEqual([]);
    expect(links(files)).toEqual(Object.fromEntries(Object.entries(LINKS).map(([rel, target]) => [`overlay/${rel}`, target])));
    // The link to a folder is not walked: the folder's file comes once, under its own name.
    expect(files.map((f) => f.path).filter((p) => p.startsWith('overlay/opt/'))).toEqual(['overlay/opt/current', 'overlay/opt/v1/tool']);
    expect(files.find((f) => f.path === 'overlay/etc/hostile')).toEqual({
      path: 'overlay/etc/hostile',
      symlink: '../../../../etc/passwd',
      origin: { file: 'derivative.yaml', pointer: '/overlay' },
    });
  });

  it('are never read through: only the overlay\u2019s regular files are opened', () => {
    const { host, read } = spying(memoryRepo());
    expect(build(host).diagnostics).toEqual([]);
    const overlayReads = read.filter((p) => p.includes('/overlay/')).map((p) => p.replace(/^.*\/overlay\//, ''));
    expect(overlayReads.sort()).toEqual(['etc/motd', 'opt/v1/tool']);
    expect(read.filter((p) => p.startsWith('/etc') || p.includes('zoneinfo'))).toEqual([]);
  });

  it('are listed in derivc.json with their target and the sha256 of its text', () => {
    const { files } = build(memoryRepo());
    const json = files.find((f) => f.path === MANIFEST_FILE)!.content as string;
    const listed = JSON.parse(json).files as Record<string, string>[];
    expect(listed.find((e) => e['path'] === 'overlay/etc/os-release')).toEqual({
      path: 'overlay/etc/os-release',
      sha256: createHash('sha256').update('../usr/lib/os-release').digest('hex'),
      symlink: '../usr/lib/os-release',
    });
    // What derivc.json says is what the next write trusts: it parses back as a symlink entry.
    expect(parseListing(json).listing!.files.find((f) => f.path === 'overlay/etc/os-release')).toMatchObject({ symlink: '../usr/lib/os-release' });
    expect(parseListing(json).listing!.ignored).toEqual([]);
  });

  it('are part of the build ID: another target, another build', () => {
    const a = build(memoryRepo());
    const b = build(memoryRepo({ ...LINKS, 'etc/os-release': '../usr/lib/os-release.d/acme' }));
    expect(a.buildId).not.toBe(b.buildId);
    expect(build(memoryRepo()).buildId).toBe(a.buildId);
  });

  it('alone make an overlay: the Dockerfile copies it', () => {
    const host = new MemoryHost({ 'r/derivative.yaml': MANIFEST });
    host.symlink('r/overlay/etc/os-release', '../usr/lib/os-release');
    const { files, diagnostics } = build(host);
    expect(diagnostics).toEqual([]);
    expect(files.find((f) => f.path === 'Dockerfile')!.content).toContain('COPY overlay/ /');
  });

  const bad: [string, string | Uint8Array, RegExp][] = [
    ['empty', '', /its target is empty/],
    ['with a NUL byte', 'a\0b', /contains a NUL byte/],
    ['too long', 'x'.repeat(MAX_LINK_BYTES + 1), new RegExp(`is ${MAX_LINK_BYTES + 1} bytes long; a symlink holds at most ${MAX_LINK_BYTES}`)],
    ['not UTF-8', new Uint8Array([0x2e, 0xff, 0x2e]), /is not valid UTF-8/],
  ];
  for (const [what, target, message] of bad) {
    it(`refuses a link text ${what}, at the overlay's line`, () => {
      const { diagnostics } = build(memoryRepo({ 'etc/bad': target }));
      expect(diagnostics).toHaveLength(1);
      expect(diagnostics[0]).toMatchObject({ code: 'path/invalid-symlink', severity: 'error', pointer: '/overlay', range: { start: { line: 5 } } });
      expect(diagnostics[0]!.message).toMatch(message);
      expect(diagnostics[0]!.message).toContain('`etc/bad` in `overlay`');
    });
  }

  it(`takes a link text of exactly ${MAX_LINK_BYTES} bytes`, () => {
    const long = `/${'x'.repeat(MAX_LINK_BYTES - 1)}`;
    const { files, diagnostics } = build(memoryRepo({ 'etc/long': long }));
    expect(diagnostics).toEqual([]);
    expect(links(files)['overlay/etc/long']).toBe(long);
  });

  it('count towards the folder\u2019s entry limit, and their names follow the build context\u2019s rules', () => {
    const { diagnostics } = build(memoryRepo({ 'etc/x.derivc-tmp': 'y' }));
    expect(diagnostics.map((d) => d.code)).toEqual(['path/unwritable']);
  });

  it('targets.iso.overlay still follows its links: one leading out of the manifest\u2019s folder is refused', () => {
    const host = memoryRepo({});
    host.write('r/derivative.yaml', `${MANIFEST}targets: {iso: {overlay: iso}}\n`);
    host.write('r/iso/boot/x', 'x');
    host.symlink('r/iso/boot/passwd', '../../../../etc/passwd');
    expect(build(host).diagnostics.map((d) => [d.code, d.pointer])).toEqual([['path/outside-manifest-dir', '/targets/iso/overlay']]);
  });
});

describe('oemDir symlinks (memory host)', () => {
  function oemRepo(extra: Record<string, string>): MemoryHost {
    const host = new MemoryHost({
      'r/.git/HEAD': 'ref: refs/heads/main\n',
      'r/derivative.yaml': WITH_OEM,
      'r/oem/10_ok.yaml': 'name: ok\nstages:\n  boot:\n    - commands: [true]\n',
    });
    for (const [rel, target] of Object.entries(extra)) host.symlink(`r/oem/${rel}`, target);
    return host;
  }

  it('are copied as symlinks and not validated as cloud-config: their target is in the image', () => {
    const { host, read } = spying(oemRepo({ '20_image.yaml': '/usr/share/acme/20.yaml', '30_same.yaml': '10_ok.yaml' }));
    const { files, diagnostics } = build(host);
    expect(diagnostics).toEqual([]);
    expect(links(files)).toEqual({ 'rootfs/system/oem/20_image.yaml': '/usr/share/acme/20.yaml', 'rootfs/system/oem/30_same.yaml': '10_ok.yaml' });
    expect(read.filter((p) => p.includes('/oem/')).map((p) => path.basename(p))).not.toContain('20_image.yaml');
    expect(read.filter((p) => p.includes('/oem/')).map((p) => path.basename(p))).not.toContain('30_same.yaml');
  });

  it('whose name is not .yaml are ignored by the toolkit: a warning, and not copied', () => {
    const { files, diagnostics } = build(oemRepo({ notes: '10_ok.yaml' }));
    expect(diagnostics.map((d) => [d.code, d.severity])).toEqual([['oemDir/ignored-file', 'warning']]);
    expect(files.some((f) => f.path.endsWith('/notes'))).toBe(false);
  });

  it('taking the name of a file derivc generates there is still a clash', () => {
    const { diagnostics } = build(oemRepo({ '02_upgrades.yaml': '/usr/share/acme/upgrades.yaml' }));
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual([['compile/oem-conflict', '/oemDir']]);
  });

  it('with a link text no file system holds are refused at oemDir', () => {
    const { diagnostics } = build(oemRepo({ '20_bad.yaml': '' }));
    expect(diagnostics.map((d) => [d.code, d.pointer])).toEqual([['path/invalid-symlink', '/oemDir']]);
  });
});

describe('derivc diff shows symlinks as git does (mode 120000, the target as content)', () => {
  const link = (p: string, target: string): GeneratedFile => ({ path: p, symlink: target });
  const file = (p: string, content: string): GeneratedFile => ({ path: p, content, mode: 0o644 });

  it('a changed target is a one-line change of the link text', () => {
    const [change] = diffOutputs([link('overlay/etc/os-release', '../usr/lib/os-release')], [link('overlay/etc/os-release', '../usr/lib/os-release.acme')]);
    expect(change!.change).toBe('modified');
    expect(change!.text).toContain('-../usr/lib/os-release\n');
    expect(change!.text).toContain('+../usr/lib/os-release.acme\n');
  });

  it('a file that becomes a symlink is a mode change and a content change', () => {
    const [change] = diffOutputs([file('overlay/etc/x', 'x\n')], [link('overlay/etc/x', '/usr/x')]);
    expect(change!.change).toBe('modified, mode 100644 → 120000');
    expect(change!.text).toMatch(/^mode 100644 → 120000 overlay\/etc\/x\n/);
  });

  it('an unchanged link is no change', () => {
    expect(diffOutputs([link('overlay/a', 'b')], [link('overlay/a', 'b')])).toEqual([]);
  });
});

describe('overlay symlinks, end to end on disk (node host, real symlinks)', () => {
  let tmp: string;
  let repo: string;
  let out: string;
  const sentinel = () => path.join(tmp, 'sentinel');
  const overlay = (rel: string) => path.join(repo, 'overlay', rel);
  const outPath = (rel: string) => path.join(out, rel);
  const setLink = (rel: string, target: string) => {
    fs.rmSync(overlay(rel), { force: true });
    fs.mkdirSync(path.dirname(overlay(rel)), { recursive: true });
    fs.symlinkSync(target, overlay(rel));
  };
  const compileTo = (...extra: string[]) => runCli(['compile', path.join(repo, 'derivative.yaml'), '-o', out, ...extra]);

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-links-'));
    repo = path.join(tmp, 'repo');
    out = path.join(tmp, 'out');
    fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'derivative.yaml'), MANIFEST);
    fs.mkdirSync(overlay('etc'), { recursive: true });
    fs.mkdirSync(overlay('opt/v1'), { recursive: true });
    fs.writeFileSync(overlay('etc/motd'), 'hello\n');
    fs.writeFileSync(overlay('opt/v1/tool'), '#!/bin/sh\n');
    // Outside the repository: what the hostile links name, from the overlay and from DIR alike.
    fs.writeFileSync(sentinel(), 'SENTINEL: never read, never written\n');
    for (const [rel, target] of Object.entries(LINKS)) setLink(rel, target);
    // From overlay/etc/ in the repository and from out/overlay/etc/ both: tmp/sentinel.
    setLink('etc/sentinel', '../../../sentinel');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const linkIn = (p: string) => (fs.lstatSync(p).isSymbolicLink() ? fs.readlinkSync(p) : `not a symlink: ${p}`);
  const sentinelIntact = () => expect(fs.readFileSync(sentinel(), 'utf8')).toBe('SENTINEL: never read, never written\n');

  it('compile -o writes real symlinks with the text as written, reads none of their targets', () => {
    const r = compileTo();
    expect(r.stderr).not.toMatch(/error|warning/);
    expect(r.code).toBe(0);
    for (const [rel, target] of Object.entries(LINKS)) expect(linkIn(outPath(`overlay/${rel}`))).toBe(target);
    expect(linkIn(outPath('overlay/etc/sentinel'))).toBe('../../../sentinel');
    expect(fs.lstatSync(outPath('overlay/opt/v1/tool')).isFile()).toBe(true);
    // Nothing of what a link names made it into the output.
    const regular = fs
      .readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), 'utf8'));
    expect(regular.length).toBeGreaterThan(3);
    expect(regular.filter((text) => text.includes('SENTINEL'))).toEqual([]);
    sentinelIntact();
  });

  it('--check: up to date after a compile; a changed target is a stale diff of the link text', () => {
    expect(compileTo().code).toBe(0);
    expect(compileTo('--check')).toMatchObject({ code: 0, stdout: '' });
    setLink('etc/os-release', '../usr/lib/os-release.acme');
    const check = compileTo('--check');
    expect(check.code).toBe(2);
    expect(check.stdout).toContain('-../usr/lib/os-release\n');
    expect(check.stdout).toContain('+../usr/lib/os-release.acme\n');
    expect(linkIn(outPath('overlay/etc/os-release'))).toBe('../usr/lib/os-release');
    expect(compileTo().code).toBe(0);
    expect(linkIn(outPath('overlay/etc/os-release'))).toBe('../usr/lib/os-release.acme');
  });

  it('a symlink replaced by a regular file in the overlay is replaced in DIR, never written through', () => {
    expect(compileTo().code).toBe(0);
    fs.rmSync(overlay('etc/sentinel'));
    fs.writeFileSync(overlay('etc/sentinel'), 'now a file\n');
    const check = compileTo('--check');
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/^mode 120000 → 100644 overlay\/etc\/sentinel$/m);
    sentinelIntact();
    expect(compileTo().code).toBe(0);
    expect(fs.lstatSync(outPath('overlay/etc/sentinel')).isFile()).toBe(true);
    expect(fs.readFileSync(outPath('overlay/etc/sentinel'), 'utf8')).toBe('now a file\n');
    sentinelIntact();
    // And back: the file derivc wrote becomes a symlink again.
    setLink('etc/sentinel', '../../../sentinel');
    expect(compileTo().code).toBe(0);
    expect(linkIn(outPath('overlay/etc/sentinel'))).toBe('../../../sentinel');
    sentinelIntact();
  });

  it('a symlink no longer in the overlay is removed from DIR as a link (what it names stays)', () => {
    expect(compileTo().code).toBe(0);
    fs.rmSync(overlay('etc/sentinel'));
    fs.rmSync(overlay('opt/current'));
    const r = compileTo();
    expect(r.code).toBe(0);
    expect(fs.existsSync(outPath('overlay/etc/sentinel'))).toBe(false);
    expect(() => fs.lstatSync(outPath('overlay/opt/current'))).toThrow(/ENOENT/);
    expect(fs.readFileSync(outPath('overlay/opt/v1/tool'), 'utf8')).toBe('#!/bin/sh\n');
    sentinelIntact();
  });

  it('a symlink derivc wrote and someone re-pointed in DIR: replaced when generated again, kept when not', () => {
    expect(compileTo().code).toBe(0);
    fs.rmSync(outPath('overlay/etc/os-release'));
    fs.symlinkSync('/etc/shadow', outPath('overlay/etc/os-release'));
    fs.rmSync(outPath('overlay/etc/sentinel'));
    fs.symlinkSync('/etc/shadow', outPath('overlay/etc/sentinel'));
    fs.rmSync(overlay('etc/sentinel'));
    const r = compileTo();
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('replaced out/overlay/etc/os-release'.replace('out', out));
    expect(linkIn(outPath('overlay/etc/os-release'))).toBe('../usr/lib/os-release');
    expect(r.stderr).toContain(`kept ${out}/overlay/etc/sentinel`);
    expect(linkIn(outPath('overlay/etc/sentinel'))).toBe('/etc/shadow');
  });

  it('a symlink derivc did not write where it writes one is refused, nothing written', () => {
    fs.mkdirSync(outPath('overlay/etc'), { recursive: true });
    fs.symlinkSync('/etc/passwd', outPath('overlay/etc/os-release'));
    const r = compileTo();
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('"overlay/etc/os-release": a symlink derivc did not write');
    expect(fs.existsSync(outPath(MANIFEST_FILE))).toBe(false);
    expect(linkIn(outPath('overlay/etc/os-release'))).toBe('/etc/passwd');
  });

  it('a link text that is not UTF-8 is refused at the overlay line', () => {
    fs.symlinkSync(Buffer.from([0x2e, 0xff]) as unknown as string, Buffer.from(overlay('etc/latin1')) as unknown as string);
    const r = runCli(['validate', path.join(repo, 'derivative.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('error[path/invalid-symlink]: `etc/latin1` in `overlay` is a symlink that cannot be copied: its target is not valid UTF-8');
  });

  it('the build context carries each symlink as a tar symlink entry, checked against DIR', async () => {
    expect(compileTo().code).toBe(0);
    const entries = await tarEntries(contextStream(out));
    expect(entries.get('overlay/etc/os-release')).toEqual({ type: 'symlink', linkname: '../usr/lib/os-release', mode: 0o777 });
    expect(entries.get('overlay/etc/hostile')).toEqual({ type: 'symlink', linkname: '../../../../etc/passwd', mode: 0o777 });
    expect(entries.get('overlay/opt/current')).toEqual({ type: 'symlink', linkname: 'v1', mode: 0o777 });
    expect(entries.get('overlay/etc/motd')).toMatchObject({ type: 'file' });
    expect([...entries.keys()].filter((k) => k.startsWith('overlay/opt/'))).toEqual(['overlay/opt/current', 'overlay/opt/v1', 'overlay/opt/v1/tool']);

    // Re-pointed after the compile: not the symlink derivc wrote, so nothing is sent.
    fs.rmSync(outPath('overlay/etc/os-release'));
    fs.symlinkSync('/etc/shadow', outPath('overlay/etc/os-release'));
    await expect(tarEntries(contextStream(out))).rejects.toThrow(/cannot add overlay\/etc\/os-release to the build context: not the symlink derivc wrote/);
    // Swapped for a regular file: refused too.
    fs.rmSync(outPath('overlay/etc/os-release'));
    fs.writeFileSync(outPath('overlay/etc/os-release'), 'ID=evil\n');
    await expect(tarEntries(contextStream(out))).rejects.toThrow(/not the symlink derivc wrote/);
  });

  it('derivc diff --base REV reads a committed symlink as a symlink', () => {
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo, stdio: 'pipe' });
    fs.rmSync(path.join(repo, '.git'), { recursive: true });
    git('init', '-q');
    git('add', '-A');
    git('commit', '-qm', 'base');
    expect(new TextDecoder().decode(GitHost.open(path.join(repo, 'derivative.yaml'), 'HEAD').readlink(overlay('etc/hostile')))).toBe('../../../../etc/passwd');
    setLink('etc/os-release', '../usr/lib/os-release.acme');
    const r = runCli(['diff', '--base', 'HEAD', path.join(repo, 'derivative.yaml')]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('--- a/overlay/etc/os-release\n+++ b/overlay/etc/os-release\n');
    expect(r.stdout).toContain('+../usr/lib/os-release.acme\n');
  });
});

/** The tar's entries by name: type, link text, permission bits. */
async function tarEntries(stream: NodeJS.ReadableStream): Promise<Map<string, { type: string; linkname?: string | null; mode: number }>> {
  const found = new Map<string, { type: string; linkname?: string | null; mode: number }>();
  const extract = tar.extract();
  extract.on('entry', (header, body, next) => {
    found.set(
      header.name,
      header.type === 'symlink'
        ? { type: header.type, linkname: header.linkname, mode: header.mode! & 0o7777 }
        : { type: header.type!, mode: header.mode! & 0o7777 },
    );
    body.on('end', next);
    body.resume();
  });
  await new Promise<void>((resolve, reject) => {
    stream.on('error', reject);
    extract.on('error', reject);
    extract.on('finish', resolve);
    stream.pipe(extract);
  });
  return found;
}
