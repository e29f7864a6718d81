// The keys real derivatives need (issue 13), built through the real Docker Engine: the bare
// Debian example extended with one of each — build.env seen by a build step, os-release keys, a
// disabled repository, a full upgrade, another kernel package, a deleted file, a changed mode, a
// symlink, a directory, an overlay symlink into an image path, a download from a loopback HTTP
// server (right digest builds, wrong digest fails at its item) and a failing step reported at its
// line. Under DERIVC_E2E=1 a missing Engine fails this suite.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerEngine } from '../../targets/io/engine.js';
import { runCliAsync } from '../support/cli.js';
import { DEBIAN_BASE, ensureDebianBase } from './fixtures.js';
import { e2eEngine } from './require.js';

const engine = await e2eEngine();
const dir = mkdtempSync(join(tmpdir(), 'derivc-e2e-kinds-'));
const run = `${process.pid}-${Date.now()}`;
const tag = `derivc.local/e2e-kinds-${run}:1`;
// The base image with a repository of its own, which the manifest disables.
const base = `derivc.local/e2e-kinds-base-${run}:1`;
const PAYLOAD = 'derivc download payload\n';
const payloadDigest = createHash('sha256').update(PAYLOAD).digest('hex');

let server: Server;
let port = 0;

/** The line of the first manifest line containing `needle`, as the diagnostics print it. */
const lineOf = (file: string, needle: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(needle)) + 1;

function manifestText(opts: { digest?: string; failingStep?: boolean } = {}): string {
  return `apiVersion: derivc.dev/v1alpha1
kind: Derivative
metadata:
  name: e2e-kinds-${run}
  version: "1"
  osRelease:
    VARIANT_ID: "{{name}}"
    IMAGE_TAG: "{{version}}"
    DERIVC_FAMILY: "{{family}} on {{platform}}"
base:
  image: ${base}
  family: debian
packages:
  upgrade: true
  kernel: linux-image-cloud-amd64
  disableRepositories: [derivc-e2e-extra]
  install: [openssh-server]
files:
  - path: /etc/motd
    absent: true
  - path: /etc/issue
    mode: "0600"
  - path: /usr/local/bin/derivc-hello
    symlink: /bin/true
  - path: /var/lib/derivc-e2e/data
    directory: true
    mode: "0750"
  - path: /usr/local/share/derivc-e2e/payload.txt
    url: http://127.0.0.1:${port}/payload.txt
    sha256: "${opts.digest ?? payloadDigest}"
overlay: overlay
system:
  hostname: derivc-kinds
build:
  args:
    DERIVC_E2E_RUN: "${run}"
  env:
    DERIVC_E2E_ENV: seen by steps
  steps:
    - name: record the environment
      run: printf '%s\\n' "$DERIVC_E2E_ENV" > /etc/derivc-e2e-env
${
  opts.failingStep
    ? `    - name: a step that fails
      run: echo derivc-step-output; exit 3
`
    : ''
}    - name: exec form, last
      run: [touch, /etc/derivc-e2e-final]
      at: final
`;
}

describe.skipIf(!engine)('issue 13 keys through the real Engine', () => {
  const docker = () => engine as DockerEngine;
  const build = (file: string, out: string) => runCliAsync(['build', file, '-o', join(dir, out)], { docker });
  const shell = async (script: string) => (await execa('docker', ['run', '--rm', '--entrypoint', '/bin/sh', tag, '-c', script])).stdout;

  beforeAll(async () => {
    await ensureDebianBase(engine!);
    server = createServer((req, res) => {
      if (req.url === '/payload.txt') res.end(PAYLOAD);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    // The base carries an extra apt repository the manifest disables.
    const baseDir = join(dir, 'base');
    mkdirSync(baseDir);
    writeFileSync(
      join(baseDir, 'Dockerfile'),
      `FROM ${DEBIAN_BASE}\nRUN ["/bin/sh", "-c", "echo 'deb [trusted=yes] http://127.0.0.1:9/derivc-none bookworm main' > /etc/apt/sources.list.d/derivc-e2e-extra.list"]\n`,
    );
    await execa('docker', ['build', '-q', '-t', base, baseDir]);
    mkdirSync(join(dir, 'overlay', 'etc'), { recursive: true });
    symlinkSync('../usr/lib/os-release', join(dir, 'overlay', 'etc', 'derivc-release'));
  }, 900_000);

  afterAll(async () => {
    server?.close();
    await execa('docker', ['image', 'rm', '-f', tag, base], { reject: false });
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds the extended bare example', async () => {
    const manifest = join(dir, 'derivative.yaml');
    writeFileSync(manifest, manifestText());
    const r = await build(manifest, 'out');
    expect(r.stderr).toContain(`built ${tag}`);
    expect(r.code).toBe(0);
    const log = readFileSync(join(dir, 'out', 'build.log'), 'utf8');
    expect(log).toContain('Calculating upgrade'); // apt-get dist-upgrade ran
  }, 1_800_000);

  it('build.env is in the image config and seen by build steps', async () => {
    const env = JSON.parse((await execa('docker', ['image', 'inspect', '--format', '{{json .Config.Env}}', tag])).stdout) as string[];
    expect(env).toContain('DERIVC_E2E_ENV=seen by steps');
    expect(await shell('cat /etc/derivc-e2e-env; test -e /etc/derivc-e2e-final && echo final-ran')).toBe('seen by steps\nfinal-ran');
  }, 120_000);

  it('os-release carries the rendered keys and keeps the base ID', async () => {
    const osRelease = await shell('. /etc/os-release; printf "%s|%s|%s|%s\\n" "$ID" "$VARIANT_ID" "$IMAGE_TAG" "$DERIVC_FAMILY"');
    expect(osRelease).toBe(`debian|e2e-kinds-${run}|1|debian on linux/amd64`);
  }, 120_000);

  it('the base repository is disabled, the chosen kernel is the one kernel', async () => {
    expect(await shell('ls /etc/apt/sources.list.d/; ls /lib/modules')).toMatch(/^[0-9][^\n]*-cloud-amd64$/);
  }, 120_000);

  it('files: absent, changed mode, symlink, directory, download; overlay symlink', async () => {
    const out = await shell(
      [
        'test -e /etc/motd && echo motd-present || echo motd-absent',
        'stat -c %a /etc/issue',
        'readlink /usr/local/bin/derivc-hello',
        'stat -c "%F %a" /var/lib/derivc-e2e/data',
        'cat /usr/local/share/derivc-e2e/payload.txt',
        'readlink /etc/derivc-release',
      ].join('; '),
    );
    expect(out.split('\n')).toEqual(['motd-absent', '600', '/bin/true', 'directory 750', PAYLOAD.trim(), '../usr/lib/os-release']);
  }, 120_000);

  it('a wrong digest fails the build at the download item', async () => {
    const bad = join(dir, 'bad-digest.yaml');
    writeFileSync(bad, manifestText({ digest: 'ab'.repeat(32) }));
    const r = await build(bad, 'out-bad-digest');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/download-digest]');
    expect(r.stderr).toContain(payloadDigest); // the digest the server really sent, to paste if it is right
    expect(r.stderr).toMatch(new RegExp(`--> .*bad-digest\\.yaml:${lineOf(bad, 'ab'.repeat(32))}:`));
  }, 900_000);

  it('a failing step is reported at its line, with its output', async () => {
    const bad = join(dir, 'bad-step.yaml');
    writeFileSync(bad, manifestText({ failingStep: true }));
    const r = await build(bad, 'out-bad-step');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[build/step-failed]: build step `a step that fails` failed');
    expect(r.stderr).toContain('derivc-step-output');
    expect(r.stderr).toMatch(new RegExp(`--> .*bad-step\\.yaml:${lineOf(bad, '- name: a step that fails')}:`));
  }, 900_000);
});
