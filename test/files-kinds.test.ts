// `files` items of every kind and `metadata.osRelease`: the exact Dockerfile steps each produces
// and where they go, the static scripts those steps run (executed here with /bin/sh on a scratch
// directory), Handlebars templates rendered strictly at compile time, os-release quoting read
// back by a shell, and diagnostics at the item's line.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFailure } from '../cli/build/failure.js';
import { contentBytes } from '../cli/content.js';
import { compile } from '../compiler/compile.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import { DOWNLOAD_CHECK } from '../compiler/emit/files-steps.js';
import { OS_RELEASE_SH } from '../compiler/emit/scripts/os-release.js';
import type { CompileOutput } from '../compiler/emit/types.js';
import { normalize } from '../compiler/normalize/index.js';
import { renderTemplate } from '../compiler/template.js';
import { menuTitle } from '../targets/iso/grub-cfg.js';
import { ValidationSession, type ValidatedManifest } from '../compiler/validate/index.js';
import { TEST_VERSION } from './golden/harness.js';
import { sourceWithSh } from './golden/read-back.js';
import { MemoryHost } from './support/memory-host.js';

const HEAD = {
  apiVersion: 'derivc.dev/v1alpha1',
  kind: 'Derivative',
  metadata: { name: 'acme-os', version: '1.2.0' },
  base: { image: 'registry.opensuse.org/opensuse/leap:15.5' },
};
const SHA = 'a'.repeat(64);

function validate(m: Record<string, unknown>, text = stringify(m)): { v?: ValidatedManifest; diagnostics: Diagnostic[]; host: MemoryHost } {
  const host = new MemoryHost({ '/mem/derivative.yaml': text, '/mem/files/tool.sh': '#!/bin/sh\n' });
  const r = new ValidationSession(host).validate('/mem/derivative.yaml');
  return { ...(r.value.manifest ? { v: r.value.manifest } : {}), diagnostics: r.diagnostics, host };
}

function compiled(m: Record<string, unknown>, text?: string): CompileOutput {
  const { v, diagnostics, host } = validate(m, text);
  expect(diagnostics).toEqual([]);
  const r = compile(v!, host, { version: TEST_VERSION });
  expect(r.diagnostics).toEqual([]);
  return r.value;
}

function file(o: CompileOutput, path: string): string {
  const f = o.files.find((x) => x.path === path);
  if (!f || f.content === undefined) throw new Error(`no regular file ${path} in ${o.files.map((x) => x.path).join(', ')}`);
  return contentBytes(f.content).toString('utf8');
}

function step(o: CompileOutput, pointer: string) {
  const found = o.steps.filter((s) => s.pointer === pointer);
  expect(found, pointer).toHaveLength(1);
  return found[0]!;
}

/** The argument vector of a `RUN [...]` / `ADD [...]` line, as Docker reads its JSON. */
function exec(line: string): string[] {
  const m = /^(?:RUN|ADD) (\[.*\])$/.exec(line);
  if (!m) throw new Error(`not an exec-form line: ${line}`);
  return JSON.parse(m[1]!) as string[];
}

const scratch = mkdtempSync(join(tmpdir(), 'derivc-files-kinds-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function sh(script: string, args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', script, 'derivc', ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  return { status: r.status, stderr: r.stderr };
}

describe('files items: one Dockerfile step each, in cache order', () => {
  const m = {
    ...HEAD,
    overlay: 'overlay',
    files: [
      { path: '/etc/motd', content: 'hello\n' },
      { path: '/usr/local/bin/tool', url: 'https://downloads.example.com/tool?v=1&os=linux', sha256: SHA, mode: '0755' },
      { path: '/var/lib/acme', directory: true, owner: '1000:1000' },
      { path: '/etc/localtime', symlink: '../usr/share/zoneinfo/Europe/Berlin', owner: '0:10' },
      { path: '/usr/share/doc', absent: true },
      { path: '/etc/shadow', mode: '0600' },
      { path: '/var/log/acme.log', owner: '1000:1000' },
    ],
  };
  const host = () => {
    const h = new MemoryHost({ '/mem/derivative.yaml': stringify(m), '/mem/overlay/etc/issue': 'acme\n' });
    const v = new ValidationSession(h).validate('/mem/derivative.yaml');
    expect(v.diagnostics).toEqual([]);
    return compile(v.value.manifest!, h, { version: TEST_VERSION }).value;
  };
  const o = host();

  it('copies only content and source from the build context', () => {
    expect(o.files.filter((f) => f.path.startsWith('files/')).map((f) => f.path)).toEqual(['files/etc/motd']);
    expect(o.steps.find((s) => s.comment === 'files')!.lines).toEqual(['COPY files/ /']);
  });

  it('downloads with ADD into derivc’s folder, then checks the digest and moves the file into place', () => {
    const s = step(o, '/files/1');
    expect(s.lines).toHaveLength(2);
    expect(exec(s.lines[0]!)).toEqual(['https://downloads.example.com/tool?v=1&os=linux', '/usr/lib/derivc/downloads/1']);
    expect(exec(s.lines[1]!)).toEqual(['/bin/sh', '-c', DOWNLOAD_CHECK, 'derivc', '/usr/lib/derivc/downloads/1', SHA, '/usr/local/bin/tool', '0755']);
  });

  it('creates a directory with its parents and mode 0755 by default', () => {
    const [argv] = step(o, '/files/2').lines.map(exec);
    expect(argv!.slice(3)).toEqual(['derivc', '/var/lib/acme', '0755']);
    expect(argv![2]).toBe('set -eu; mkdir -p "$1"; chmod "$2" "$1"');
  });

  it('writes a symlink target as given, never following it', () => {
    const [argv] = step(o, '/files/3').lines.map(exec);
    expect(argv!.slice(3)).toEqual(['derivc', '/etc/localtime', '../usr/share/zoneinfo/Europe/Berlin']);
    expect(argv![2]).toContain('ln -sfnT -- "$2" "$1"');
  });

  it('changes the mode of a path the image has, after checking it is there; owner-only items check too', () => {
    expect(step(o, '/files/5').lines.map(exec)[0]!.slice(3)).toEqual(['derivc', '/etc/shadow', '0600']);
    expect(step(o, '/files/6').lines.map(exec)[0]!.slice(3)).toEqual(['derivc', '/var/log/acme.log']);
  });

  it('removes absent paths with rm -rf in exec form', () => {
    expect(step(o, '/files/4').lines).toEqual(['RUN ["rm","-rf","--","/usr/share/doc"]']);
  });

  it('chowns after users exist, a symlink itself (-h) and never its target', () => {
    const owners = o.steps.find((s) => s.comment === 'file owners')!;
    expect(owners.lines).toEqual(['RUN ["chown","1000:1000","/var/lib/acme","/var/log/acme.log"]', 'RUN ["chown","-h","0:10","/etc/localtime"]']);
  });

  it('orders: files COPY, then downloads/directories/symlinks/modes in manifest order, overlay, removals, initrd', () => {
    const order = o.steps.map((s) => s.pointer);
    const at = (p: string) => order.indexOf(p);
    const initrd = o.steps.findIndex((s) => s.comment.startsWith('initrd'));
    expect(at('/files')).toBeLessThan(at('/files/1'));
    const items = ['/files/1', '/files/2', '/files/3', '/files/5', '/files/6'].map(at);
    expect(items).toEqual([...items].sort((a, b) => a - b));
    expect(at('/files/6')).toBeLessThan(at('/overlay'));
    expect(at('/overlay')).toBeLessThan(at('/files/4'));
    expect(at('/files/4')).toBeLessThan(initrd);
    expect(o.steps.findIndex((s) => s.comment === 'file owners')).toBeGreaterThan(initrd);
  });

  it('lists what it writes in derivc.json (no entry for what only a RUN step makes)', () => {
    const listing = JSON.parse(file(o, 'derivc.json')) as { files: { path: string }[] };
    expect(listing.files.map((f) => f.path).filter((p) => p.startsWith('files/'))).toEqual(['files/etc/motd']);
  });
});

describe('the static scripts, run with /bin/sh', () => {
  it('a download with the right digest lands at its path with its mode', () => {
    const dir = join(scratch, 'download-ok');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'dl'), 'payload');
    const digest = createHash('sha256').update('payload').digest('hex');
    const target = join(dir, 'opt', 'bin', 'tool');
    expect(sh(DOWNLOAD_CHECK, [join(dir, 'dl'), digest, target, '0750']).status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('payload');
    expect(statSync(target).mode & 0o7777).toBe(0o750);
  });

  it('a download with another digest fails, says both digests, and is reported at the item’s sha256 with the digest it has', () => {
    const dir = join(scratch, 'download-bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'dl'), 'tampered');
    const got = createHash('sha256').update('tampered').digest('hex');
    const r = sh(DOWNLOAD_CHECK, [join(dir, 'dl'), SHA, '/usr/local/bin/tool', '0755']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`derivc: sha256 mismatch for /usr/local/bin/tool: expected ${SHA}, got ${got}`);

    const m = {
      ...HEAD,
      files: [
        { path: '/etc/motd', content: 'x' },
        { path: '/usr/local/bin/tool', url: 'https://example.com/tool', sha256: SHA },
      ],
    };
    const { v } = validate(m);
    const d = buildFailure(v!, { instruction: 'RUN […]', title: 'files[1]', pointer: '/files/1' }, 'exit code 1', r.stderr.trim().split('\n'));
    expect(d.code).toBe('build/download-digest');
    expect(d.pointer).toBe('/files/1/sha256');
    expect(d.range?.start.line).toBe(
      stringify(m)
        .split('\n')
        .findIndex((l) => l.includes('sha256:')) + 1,
    );
    expect(d.hint).toContain(`sha256: ${got}`);
  });

  it('a mode change of a missing path fails and is reported at the item’s path', () => {
    const m = { ...HEAD, files: [{ path: '/etc/not-there', mode: '0600' }] };
    const { v } = validate(m);
    const argv = exec(step(compiled(m), '/files/0').lines[0]!);
    const r = sh(argv[2]!, [join(scratch, 'not-there'), '0600']);
    expect(r.status).toBe(1);
    const d = buildFailure(v!, { instruction: 'RUN […]', title: 'files[0]', pointer: '/files/0' }, 'exit code 1', r.stderr.trim().split('\n'));
    expect(d.code).toBe('build/path-missing');
    expect(d.pointer).toBe('/files/0/path');
  });

  it('a symlink replaces a file or link, points where it is told, and is refused over a directory', () => {
    const m = { ...HEAD, files: [{ path: '/etc/localtime', symlink: 'x' }] };
    const script = exec(step(compiled(m), '/files/0').lines[0]!)[2]!;
    const link = join(scratch, 'links', 'sub', 'localtime');
    expect(sh(script, [link, '../zoneinfo/$HOME `x`']).status).toBe(0);
    expect(readlinkSync(link)).toBe('../zoneinfo/$HOME `x`');
    expect(sh(script, [link, '/usr/share/zoneinfo/UTC']).status).toBe(0);
    expect(readlinkSync(link)).toBe('/usr/share/zoneinfo/UTC');
    mkdirSync(join(scratch, 'links', 'dir'));
    expect(sh(script, [join(scratch, 'links', 'dir'), '/x']).status).not.toBe(0);
    expect(lstatSync(join(scratch, 'links', 'dir')).isDirectory()).toBe(true);
  });

  it('os-release.sh sets keys through the /etc/os-release symlink, keeps the others (ID too) and the link', () => {
    const dir = join(scratch, 'os-release');
    mkdirSync(join(dir, 'etc'), { recursive: true });
    mkdirSync(join(dir, 'usr', 'lib'), { recursive: true });
    writeFileSync(join(dir, 'usr/lib/os-release'), 'NAME="openSUSE Leap"\nID="opensuse-leap"\nPRETTY_NAME="old"\n');
    symlinkSync('../usr/lib/os-release', join(dir, 'etc/os-release'));
    const m = { ...HEAD, metadata: { ...HEAD.metadata, osRelease: { PRETTY_NAME: 'Acme "OS" $HOME `date` \\o/', IMAGE_TAG: '{{version}}' } } };
    const s = step(compiled(m), '/metadata/osRelease');
    const argv = exec(s.lines[0]!);
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '/usr/lib/derivc/os-release.sh']);
    expect(argv.slice(2)).toEqual(['IMAGE_TAG="1.2.0"', 'PRETTY_NAME="Acme \\"OS\\" \\$HOME \\`date\\` \\\\o/"']);
    const script = OS_RELEASE_SH.replace('readlink -f /etc/os-release', `readlink -f ${join(dir, 'etc/os-release')}`);
    expect(script).not.toBe(OS_RELEASE_SH);
    expect(sh(script, argv.slice(2)).status).toBe(0);
    expect(lstatSync(join(dir, 'etc/os-release')).isSymbolicLink()).toBe(true);
    const text = readFileSync(join(dir, 'usr/lib/os-release'), 'utf8');
    expect(sourceWithSh(text, ['NAME', 'ID', 'PRETTY_NAME', 'IMAGE_TAG'])).toEqual({
      NAME: 'openSUSE Leap',
      ID: 'opensuse-leap',
      PRETTY_NAME: 'Acme "OS" $HOME `date` \\o/',
      IMAGE_TAG: '1.2.0',
    });
    expect(text.match(/^PRETTY_NAME=/gm)).toHaveLength(1);
  });
});

describe('metadata.osRelease', () => {
  it('renders every documented variable at compile time', () => {
    const m = {
      ...HEAD,
      metadata: {
        ...HEAD.metadata,
        description: 'Acme OS',
        vendor: 'Acme',
        url: 'https://acme.example.com',
        osRelease: {
          A: '{{name}} {{version}} {{description}} {{vendor}} {{url}}',
          B: '{{family}} {{platform}} {{image}} {{upgradeImage}}',
          C: '{{toolkit.flavor}} {{toolkit.version}} {{args.BUILD_ID}}',
        },
      },
      toolkit: { source: 'luet' },
      upgrade: { image: 'registry.example.com/acme/os' },
      build: { args: { BUILD_ID: '77' } },
    };
    const argv = exec(step(compiled(m), '/metadata/osRelease').lines[0]!);
    expect(argv.slice(2, 4)).toEqual([
      'A="acme-os 1.2.0 Acme OS Acme https://acme.example.com"',
      'B="opensuse linux/amd64 registry.example.com/acme/os:1.2.0 registry.example.com/acme/os:1.2.0"',
    ]);
    // luet: the cOS era, at the release derivc assumes for it.
    expect(argv[4]).toMatch(/^C="cos v\d+\.\d+\.\d+ 77"$/);
    expect(argv).toHaveLength(5);
  });

  it('gives the same bytes whatever the order of its keys', () => {
    const a = { ...HEAD, metadata: { ...HEAD.metadata, osRelease: { PRETTY_NAME: 'Acme', IMAGE_TAG: '{{version}}', VARIANT_ID: 'edge' } } };
    const b = { ...HEAD, metadata: { osRelease: { VARIANT_ID: 'edge', IMAGE_TAG: '{{version}}', PRETTY_NAME: 'Acme' }, version: '1.2.0', name: 'acme-os' } };
    const [x, y] = [compiled(a), compiled(b)];
    expect(y.buildId).toBe(x.buildId);
    expect(file(y, 'Dockerfile')).toBe(file(x, 'Dockerfile'));
  });

  it('joins boot.grubEntryName in the same step (one layer); alone it keeps its own step', () => {
    const both = compiled({ ...HEAD, metadata: { ...HEAD.metadata, osRelease: { VARIANT: 'edge' } }, boot: { grubEntryName: 'Acme OS' } });
    expect(both.steps.filter((s) => s.lines.some((l) => l.includes('os-release.sh')))).toHaveLength(1);
    expect(exec(step(both, '/metadata/osRelease').lines[0]!).slice(2)).toEqual(['GRUB_ENTRY_NAME="Acme OS"', 'VARIANT="edge"']);
    const alone = compiled({ ...HEAD, boot: { grubEntryName: 'Acme OS' } });
    expect(step(alone, '/boot/grubEntryName').lines).toEqual(['RUN ["/bin/sh","/usr/lib/derivc/os-release.sh","GRUB_ENTRY_NAME=\\"Acme OS\\""]']);
  });

  it('names the media menu entry with GRUB_ENTRY_NAME from osRelease as from boot.grubEntryName', () => {
    const { v, host } = validate({ ...HEAD, metadata: { ...HEAD.metadata, osRelease: { GRUB_ENTRY_NAME: 'Acme {{version}}' } } });
    expect(menuTitle(normalize(v!, host).value)).toBe('Acme 1.2.0');
  });

  it('refuses GRUB_ENTRY_NAME set both ways, and a rendered GRUB_ENTRY_NAME that is no menu title', () => {
    const twice = validate({ ...HEAD, metadata: { ...HEAD.metadata, osRelease: { GRUB_ENTRY_NAME: 'A' } }, boot: { grubEntryName: 'B' } });
    expect(twice.diagnostics.map((d) => d.code)).toEqual(['metadata/os-release-conflict']);
    const bad = validate({ ...HEAD, metadata: { ...HEAD.metadata, osRelease: { GRUB_ENTRY_NAME: '$(reboot)' } } });
    expect(bad.diagnostics.map((d) => d.code)).toEqual(['boot/invalid-entry-name']);
  });

  it('refuses a newline (os-release is one assignment per line) and any other control character', () => {
    for (const value of ['a\nB=1', 'a\rb', 'a\u0000b', 'a\u001bb']) {
      const r = validate({ ...HEAD, metadata: { ...HEAD.metadata, osRelease: { PRETTY_NAME: value } } });
      expect(r.diagnostics.map((d) => d.code)).toEqual(['metadata/invalid-os-release-value']);
    }
  });

  it('reports an unknown variable at the value’s line, with the variables it knows', () => {
    const text = stringify({ ...HEAD, metadata: { ...HEAD.metadata, osRelease: { PRETTY_NAME: 'ok', IMAGE_TAG: 'v{{verison}}' } } });
    const { diagnostics } = validate({}, text);
    expect(diagnostics).toHaveLength(1);
    const d = diagnostics[0]!;
    expect(d.code).toBe('template/unknown-variable');
    expect(d.pointer).toBe('/metadata/osRelease/IMAGE_TAG');
    expect(d.range!.start.line).toBe(text.split('\n').findIndex((l) => l.includes('IMAGE_TAG:')) + 1);
    expect(d.hint).toMatch(/^did you mean `version`\? known variables: `name`, `version`/);
  });
});

describe('templates', () => {
  const context = {
    name: 'acme-os',
    version: '1.0.0',
    platform: 'linux/amd64',
    image: 'x:1',
    toolkit: { flavor: 'kairos', version: 'v3.7.2' },
    args: { ID: '9' },
  };

  it('render without HTML escaping', () => {
    expect(renderTemplate('<{{name}}> & "{{args.ID}}" \\{{literal}}', context)).toEqual({ ok: true, text: '<acme-os> & "9" {{literal}}' });
  });

  it('name the whole unknown path, and a group used as a value', () => {
    expect(renderTemplate('{{toolkit.versoin}}', context)).toMatchObject({
      ok: false,
      code: 'template/unknown-variable',
      message: 'unknown template variable `toolkit.versoin`',
    });
    expect(renderTemplate('{{args.IDX}}', context)).toMatchObject({
      ok: false,
      code: 'template/unknown-variable',
      hint: 'did you mean `args.ID`? `build.args` has `ID`',
    });
    expect(renderTemplate('{{toolkit}}', context)).toMatchObject({ ok: false, code: 'template/unknown-variable' });
  });

  it('refuse a variable the manifest does not set, unless printed under #if', () => {
    expect(renderTemplate('{{description}}', context)).toMatchObject({ ok: false, code: 'template/unknown-variable' });
    expect(renderTemplate('{{#if description}}{{description}}{{else}}none{{/if}}', context)).toEqual({ ok: true, text: 'none' });
    expect(renderTemplate('{{#unless vendor}}-{{else}}{{vendor}}{{/unless}}', context)).toEqual({ ok: true, text: '-' });
  });

  it('are strict inside blocks too, and have no partials, unknown helpers or logging', () => {
    expect(renderTemplate('{{#with toolkit}}{{flavr}}{{/with}}', context)).toMatchObject({ ok: false });
    expect(renderTemplate('{{> header}}', context)).toMatchObject({ ok: false, code: 'template/invalid' });
    expect(renderTemplate('{{shout name}}', context)).toMatchObject({ ok: false });
    expect(renderTemplate('{{log name}}', context)).toMatchObject({ ok: false });
    expect(renderTemplate('{{name', context)).toMatchObject({ ok: false, code: 'template/invalid' });
  });

  it('render files[].content with template: true at compile time; without it, the text stays as written', () => {
    const o = compiled({
      ...HEAD,
      build: { args: { BUILD_ID: '42' } },
      files: [
        { path: '/etc/acme/build', content: '{{name}} {{version}} {{args.BUILD_ID}}\n', template: true },
        { path: '/etc/acme/raw', content: '{{name}}\n' },
      ],
    });
    expect(file(o, 'files/etc/acme/build')).toBe('acme-os 1.2.0 42\n');
    expect(file(o, 'files/etc/acme/raw')).toBe('{{name}}\n');
  });

  it('see the image and upgrade image normalize builds', () => {
    const m = {
      ...HEAD,
      upgrade: { image: 'registry.example.com/acme/os' },
      metadata: { ...HEAD.metadata, version: '1.0.0+b7', osRelease: { I: '{{image}}', U: '{{upgradeImage}}' } },
    };
    const { v, host } = validate(m);
    const build = normalize(v!, host).value;
    expect(build.osRelease).toEqual([
      ['I', build.tags[0]],
      ['U', build.upgrade!.image],
    ]);
    expect(build.tags[0]).toBe('registry.example.com/acme/os:1.0.0_b7');
  });
});

describe('files diagnostics', () => {
  it('name the kinds an item sets twice, at the second', () => {
    const { diagnostics } = validate({ ...HEAD, files: [{ path: '/a', url: 'https://x.example/a', sha256: SHA, symlink: '/b' }] });
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'files/exactly-one-kind', pointer: '/files/0/symlink' });
    expect(diagnostics[0]!.message).toBe(
      '`files[0]` sets `url` and `symlink`; exactly one of `content`, `source`, `url`, `symlink`, `directory` or `absent` is allowed',
    );
  });

  it('accept mode or owner alone, and refuse a path alone', () => {
    expect(validate({ ...HEAD, files: [{ path: '/a', owner: '1:1' }] }).diagnostics).toEqual([]);
    expect(validate({ ...HEAD, files: [{ path: '/a' }] }).diagnostics.map((d) => d.code)).toEqual(['files/exactly-one-kind']);
  });

  it('refuse keys of another kind, a download without digest, and a second item for one path', () => {
    const codes = (files: unknown[]) => validate({ ...HEAD, files }).diagnostics.map((d) => `${d.code} ${d.pointer}`);
    expect(codes([{ path: '/a', symlink: '/b', template: true }])).toEqual(['files/invalid-combination /files/0/template']);
    expect(codes([{ path: '/a', content: 'x', sha256: SHA }])).toEqual(['files/invalid-combination /files/0/sha256']);
    expect(codes([{ path: '/a', url: 'https://x.example/a' }])).toEqual(['files/missing-sha256 /files/0/url']);
    expect(codes([{ path: '/a', absent: true, owner: '1:1' }])).toEqual(['files/invalid-combination /files/0/owner']);
    expect(codes([{ path: '/a', url: 'https://x.example/$HOME', sha256: SHA }])).toEqual(['files/invalid-url /files/0/url']);
    expect(codes([{ path: '/a', directory: false }])).toEqual(['schema/invalid-value /files/0/directory']);
    expect(
      codes([
        { path: '/a', directory: true },
        { path: '/a', absent: true },
      ]),
    ).toEqual(['files/duplicate-path /files/1/path']);
    expect(
      codes([
        { path: '/a', absent: true },
        { path: '/a/b', content: 'x' },
      ]),
    ).toEqual(['files/path-conflict /files/1/path']);
    expect(
      codes([
        { path: '/a', directory: true },
        { path: '/a/b', content: 'x' },
      ]),
    ).toEqual([]);
  });
});
