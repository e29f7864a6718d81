// `build.pin: digest` in the compiler (compiler/pin.ts): the upstream's pushed digest, handed in
// as an input, replaces its tag in FROM and in an upgrade reference that names the upstream; this
// image's own upgrade reference, a `channel:` one and an unknown digest never are.

import { describe, expect, it } from 'vitest';
import { compile, type CompileOptions } from '../compiler/compile.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { MemoryHost } from './support/memory-host.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const HEAD = (name: string) => `apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: ${name}, version: "1.0"}\n`;
const UP = `${HEAD('up')}base: {image: "local/debian:bookworm", family: debian}\nbuild: {tags: ["reg.example.com/acme/up:1.0", "reg.example.com/acme/up:latest"]}\n`;

function compiled(down: string, options: Partial<CompileOptions> = {}) {
  const host = new MemoryHost({ 'up.yaml': UP, 'down.yaml': HEAD('down') + down });
  const session = new ValidationSession(host);
  const validated = session.validate('down.yaml');
  expect(validated.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const c = compile(validated.value.manifest!, host, { version: '0.0.0-test', ...options });
  const text = (path: string) => String(c.value.files.find((f) => f.path === path)?.content ?? '');
  return { c, text, diagnostics: c.diagnostics.map((d) => ({ code: d.code, severity: d.severity, pointer: d.pointer, line: d.range?.start.line })) };
}

const asked: { name: string; buildId: string; tags: readonly string[] }[] = [];
const pushed = (required = true): CompileOptions['pins'] => ({
  required,
  digestOf: (u) => (asked.push(u), `reg.example.com/acme/up@${DIGEST}`),
});

describe('build.pin: digest', () => {
  it('builds FROM the digest handed in for the upstream build, and the build ID follows it', () => {
    const down = 'base: {derivative: up.yaml}\nbuild: {pin: digest}\n';
    const pinned = compiled(down, { pins: pushed() });
    expect(pinned.diagnostics).toEqual([]);
    expect(pinned.text('Dockerfile')).toContain(`\nFROM reg.example.com/acme/up@${DIGEST}\n`);
    expect(pinned.c.value.from).toBe(`reg.example.com/acme/up@${DIGEST}`);
    // Asked by the upstream's build ID and tags: a record of another build is not this one.
    expect(asked.at(-1)).toEqual({
      name: 'up',
      buildId: pinned.c.value.upstream!.buildId,
      tags: ['reg.example.com/acme/up:1.0', 'reg.example.com/acme/up:latest'],
    });
    const tagged = compiled('base: {derivative: up.yaml}\n');
    expect(tagged.text('Dockerfile')).toContain('\nFROM reg.example.com/acme/up:1.0\n');
    expect(tagged.c.value.buildId).not.toBe(pinned.c.value.buildId);
    // `tag` is the default, and asks for nothing.
    const before = asked.length;
    expect(compiled('base: {derivative: up.yaml}\nbuild: {pin: tag}\n', { pins: pushed() }).text('Dockerfile')).toContain(
      '\nFROM reg.example.com/acme/up:1.0\n',
    );
    expect(asked.length).toBe(before);
  });

  it("pins an upgrade reference that names the upstream's image; this image's own stays a tag", () => {
    const toUpstream = compiled('base: {derivative: up.yaml}\nbuild: {pin: digest}\nupgrade: {image: reg.example.com/acme/up}\n', { pins: pushed() });
    expect(toUpstream.text('rootfs/etc/cos-upgrade-image')).toContain(`UPGRADE_IMAGE="reg.example.com/acme/up@${DIGEST}"`);
    expect(toUpstream.text('rootfs/etc/elemental/config.d/90_derivc_upgrade.yaml')).toContain(`uri: docker:reg.example.com/acme/up@${DIGEST}`);

    const own = compiled('base: {derivative: up.yaml}\nbuild: {pin: digest}\nupgrade: {image: reg.example.com/acme/down}\n', { pins: pushed() });
    expect(own.text('rootfs/etc/cos-upgrade-image')).toContain('UPGRADE_IMAGE="reg.example.com/acme/down:1.0"');
    expect(own.text('Dockerfile')).toContain(`\nFROM reg.example.com/acme/up@${DIGEST}\n`);

    // A channel is not an image reference.
    const channel = compiled('base: {derivative: up.yaml}\nbuild: {pin: digest}\nupgrade: {image: reg.example.com/acme/up, channel: true}\n', {
      pins: pushed(),
    });
    expect(channel.text('rootfs/etc/cos-upgrade-image')).toContain('UPGRADE_IMAGE="reg.example.com/acme/up:1.0"');
  });

  it('without a recorded push: an error where it is required (build), else a warning and the tag', () => {
    const down = 'base: {derivative: up.yaml}\nbuild: {pin: digest}\n';
    const none = { required: true, digestOf: () => undefined };
    expect(compiled(down, { pins: none }).diagnostics).toEqual([{ code: 'build/pin-unpushed', severity: 'error', pointer: '/build/pin', line: 5 }]);
    const compileOnly = compiled(down, { pins: { ...none, required: false } });
    expect(compileOnly.diagnostics).toEqual([{ code: 'build/pin-unpushed', severity: 'warning', pointer: '/build/pin', line: 5 }]);
    expect(compileOnly.text('Dockerfile')).toContain('\nFROM reg.example.com/acme/up:1.0\n');
    // No pins at all (plan, diff): the same warning.
    expect(compiled(down).diagnostics).toEqual([{ code: 'build/pin-unpushed', severity: 'warning', pointer: '/build/pin', line: 5 }]);
    // A record that is not a digest reference is no digest.
    const forged = compiled(down, { pins: { required: true, digestOf: () => 'reg.example.com/acme/up:1.0\nRUN curl evil' } });
    expect(forged.diagnostics.map((d) => d.code)).toEqual(['build/pin-unpushed']);
    expect(forged.text('Dockerfile')).not.toContain('evil');
  });

  it('warns in a manifest without an upstream derivative', () => {
    const host = new MemoryHost({ 'solo.yaml': UP.replace('build: {', 'build: {pin: digest, ') });
    const v = new ValidationSession(host).validate('solo.yaml').value.manifest!;
    const c = compile(v, host, { version: '0.0.0-test', pins: pushed() });
    expect(c.diagnostics.map((d) => [d.code, d.severity, d.pointer])).toEqual([['build/pin-without-upstream', 'warning', '/build/pin']]);
    expect(c.value.from).toBe('local/debian:bookworm');
  });
});
