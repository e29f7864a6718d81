// `derivc doctor` reports the Docker Engine — how it was chosen and which builder derivc would use
// on it — and the host tools with their Debian packages; only the engine decides the exit code.
// The e2e gates and the shared base-image fixture live alongside.

import { mkdtemp, readdir, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { doctorCommand } from '../cli/commands/doctor.js';
import { findOnPath, HOST_REQUIREMENTS, probeTool, versionIn, type HostProbe, type ToolStatus } from '../cli/host-tools.js';
import type { CliIO } from '../cli/io.js';
import { nodeHost } from '../cli/node-host.js';
import { contextDigest } from '../targets/io/docker-context.js';
import { builderFromPing } from '../targets/io/dockerode-engine.js';
import { EngineUnreachableError, type DockerEngine } from '../targets/io/engine.js';
import { DEBIAN_BASE, ensureDebianBase } from './e2e/fixtures.js';
import { e2eEngine } from './e2e/require.js';
import { runCliAsync } from './support/cli.js';
import { FakeEngine } from './support/fake-engine.js';

/** Every tool found at version 1.0 and every file present, except the names in `missing`. */
function fakeProbe(missing: readonly string[] = []): HostProbe & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async tool(name, args): Promise<ToolStatus> {
      calls.push(`tool ${name} ${args.join(' ')}`);
      return missing.includes(name) ? { found: false } : { found: true, version: '1.0' };
    },
    async file(p) {
      calls.push(`file ${p}`);
      return !missing.includes(p);
    },
  };
}

/** No docker config: the user's own (~/.docker) must not decide what these tests see. */
const NO_DOCKER_CONFIG = { DOCKER_CONFIG: path.join(os.tmpdir(), 'derivc-no-docker-config') };

async function doctor(opts: { engine?: FakeEngine; missing?: string[]; format?: string; env?: Record<string, string> } = {}) {
  const out = { stdout: '', stderr: '' };
  const engine = opts.engine ?? new FakeEngine();
  const io: CliIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    isTTY: false,
    env: opts.env ?? NO_DOCKER_CONFIG,
    host: nodeHost,
    docker: () => engine,
  };
  const code = await doctorCommand({ files: [], format: opts.format ?? 'pretty' }, io, fakeProbe(opts.missing));
  return { code, ...out };
}

function downEngine(cause = 'no socket there (ENOENT); is dockerd running?'): FakeEngine {
  const engine = new FakeEngine();
  engine.info = async () => {
    throw new EngineUnreachableError(engine.endpoint, cause);
  };
  return engine;
}

const aptLine = (stdout: string) =>
  stdout
    .split('\n')
    .find((l) => l.trimStart().startsWith('apt-get install'))
    ?.trim();

describe('derivc doctor', () => {
  it('exits 0 with everything there, listing the engine and each tool with its version', async () => {
    const r = await doctor();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('found    20.10.24 (API 1.41, linux/amd64) at unix:///fake/docker.sock');
    expect(r.stdout).toContain('\n  from     the default socket (no DOCKER_HOST, no docker context)\n');
    expect(r.stdout).toContain('\n  builder  BuildKit (the engine asks for it: Builder-Version 2)\n');
    for (const req of HOST_REQUIREMENTS)
      expect(r.stdout).toMatch(new RegExp(`${req.neededFor}\\s+${req.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+${req.package}\\s+(1\\.0|found)\\n`));
    expect(r.stdout).toContain('Everything derivc can use is here.');
    expect(aptLine(r.stdout)).toBeUndefined();
    expect(r.stderr).toBe('');
  });

  it('exits 1 when no engine answers, naming the endpoint, the cause and how to start one', async () => {
    const r = await doctor({ engine: downEngine() });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('cannot reach the Docker Engine at unix:///fake/docker.sock: no socket there (ENOENT); is dockerd running?');
    expect(r.stdout).toContain('`apt-get install -y docker.io`, then `systemctl start docker` (without systemd: `dockerd &`)');
    expect(r.stdout).toContain('DOCKER_HOST');
    expect(r.stdout).toMatch(/^error: no Docker Engine answers at unix:\/\/\/fake\/docker\.sock: derivc build cannot run\.$/m);
    expect(aptLine(r.stdout)).toBe('apt-get install -y docker.io');
  });

  it('says to join the docker group when the socket refuses this user', async () => {
    const r = await doctor({ engine: downEngine('permission denied (EACCES); is your user in the docker group?') });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('usermod -aG docker $USER');
  });

  it('lists a missing tool with its package as a warning (exit 0) and in one apt-get line, each package once', async () => {
    const r = await doctor({ missing: ['xorriso', 'mformat', 'mcopy', '/usr/share/OVMF/OVMF_VARS_4M.fd', '/usr/lib/grub/x86_64-efi'] });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ {2}iso\s+xorriso\s+xorriso\s+missing$/m);
    expect(r.stdout).toMatch(/^ {2}test\s+\/usr\/share\/OVMF\/OVMF_VARS_4M\.fd\s+ovmf\s+missing$/m);
    expect(r.stdout).toContain('warning: 5 host tools missing, needed only by: iso, raw, test.');
    expect(aptLine(r.stdout)).toBe('apt-get install -y xorriso grub-efi-amd64-bin mtools ovmf');
  });

  it('asks each program for its version and looks for firmware and GRUB platforms as files', async () => {
    const probe = fakeProbe();
    const io = { stdout: () => {}, stderr: () => {}, isTTY: false, env: NO_DOCKER_CONFIG, host: nodeHost, docker: () => new FakeEngine() };
    await doctorCommand({ files: [], format: 'json' }, io, probe);
    expect(probe.calls).toEqual(
      expect.arrayContaining([
        'tool xorriso -version',
        'tool mkfs.ext4 -V',
        'tool packer version',
        'tool qemu-system-x86_64 --version',
        'file /usr/share/OVMF/OVMF_CODE_4M.fd',
        'file /usr/lib/grub/i386-pc',
      ]),
    );
    expect(probe.calls.filter((c) => c.startsWith('file '))).toHaveLength(5);
  });

  it('prints one JSON object of a pinned shape', async () => {
    const r = await doctor({ format: 'json', missing: ['packer'] });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['doctorVersion', 'engine', 'tools']);
    expect(report.doctorVersion).toBe(1);
    expect(report.engine).toEqual({
      found: true,
      endpoint: 'unix:///fake/docker.sock',
      chosenBy: { kind: 'default' },
      version: '20.10.24',
      apiVersion: '1.41',
      os: 'linux',
      arch: 'amd64',
      builder: { builder: 'buildkit', version: '2', reason: 'the engine asks for it: Builder-Version 2' },
    });
    expect(report.tools).toHaveLength(HOST_REQUIREMENTS.length);
    expect(report.tools[0]).toEqual({ name: 'xorriso', package: 'xorriso', neededFor: 'iso', found: true, version: '1.0' });
    expect(report.tools.find((t: { name: string }) => t.name === 'packer')).toEqual({
      name: 'packer',
      package: 'packer',
      neededFor: 'packer',
      found: false,
      version: null,
    });
    expect(report.tools.find((t: { name: string }) => t.name === '/usr/share/OVMF/OVMF_CODE_4M.fd')).toEqual({
      name: '/usr/share/OVMF/OVMF_CODE_4M.fd',
      package: 'ovmf',
      neededFor: 'test',
      found: true,
      version: null,
    });
  });

  it('reports an unreachable engine in JSON with its endpoint, error and hint', async () => {
    const r = await doctor({ format: 'json', engine: downEngine() });
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).engine).toEqual({
      found: false,
      endpoint: 'unix:///fake/docker.sock',
      chosenBy: { kind: 'default' },
      error: 'cannot reach the Docker Engine at unix:///fake/docker.sock: no socket there (ENOENT); is dockerd running?',
      hint: expect.stringContaining('apt-get install -y docker.io'),
    });
  });

  it('is wired into the CLI with the real probe, and refuses arguments and unknown formats', async () => {
    const r = await runCliAsync(['doctor', '--format', 'json'], { docker: () => new FakeEngine() });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).tools.map((t: { name: string }) => t.name)).toEqual(HOST_REQUIREMENTS.map((t) => t.name));
    expect((await runCliAsync(['doctor', 'x'])).code).toBe(3);
    expect((await runCliAsync(['doctor', '--format', 'sarif'])).code).toBe(3);
    expect((await runCliAsync(['doctor', '--strict'])).code).toBe(3);
    expect((await runCliAsync(['--help'])).stdout).toContain('derivc doctor [--format pretty|json]');
  });
});

describe('derivc doctor: which engine and which builder', () => {
  let config: string;
  beforeEach(async () => void (config = await mkdtemp(path.join(os.tmpdir(), 'derivc-doctor-config-'))));
  afterEach(async () => rm(config, { recursive: true, force: true }));

  /** A docker context as the docker CLI stores it, made current in config.json. */
  async function currentContext(name: string, host: string) {
    const meta = path.join(config, 'contexts', 'meta', contextDigest(name));
    await mkdir(meta, { recursive: true });
    await writeFile(path.join(meta, 'meta.json'), JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
    await writeFile(path.join(config, 'config.json'), JSON.stringify({ currentContext: name }));
  }

  it('says DOCKER_HOST chose the engine when it is set, even with a current context', async () => {
    await currentContext('remote', 'ssh://ci@build.example');
    const r = await doctor({ format: 'json', env: { DOCKER_CONFIG: config, DOCKER_HOST: 'tcp://10.0.0.5:2375' } });
    expect(JSON.parse(r.stdout).engine.chosenBy).toEqual({ kind: 'DOCKER_HOST' });
    expect((await doctor({ env: { DOCKER_HOST: 'tcp://10.0.0.5:2375' } })).stdout).toContain('\n  from     DOCKER_HOST\n');
  });

  it('names the docker context and where it was set', async () => {
    await currentContext('remote', 'ssh://ci@build.example');
    const configFile = path.join(config, 'config.json');
    const json = JSON.parse((await doctor({ format: 'json', env: { DOCKER_CONFIG: config } })).stdout);
    expect(json.engine.chosenBy).toEqual({ kind: 'context', name: 'remote', setBy: 'config', configFile });
    expect((await doctor({ env: { DOCKER_CONFIG: config } })).stdout).toContain(`\n  from     docker context "remote" (currentContext in ${configFile})\n`);
    expect((await doctor({ env: { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'remote' } })).stdout).toContain(
      '\n  from     docker context "remote" (DOCKER_CONTEXT)\n',
    );
  });

  it('a docker context that does not exist: exit 1, its name, and how to look at the contexts', async () => {
    const engine = downEngine('the context does not exist: there is no …/meta.json');
    const r = await doctor({ engine, env: { DOCKER_CONFIG: config, DOCKER_CONTEXT: 'gone' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('\n  from     docker context "gone" (DOCKER_CONTEXT)\n');
    expect(r.stdout).toContain(
      'check it with `docker context inspect gone`, list the others with `docker context ls`, or unset DOCKER_CONTEXT for the default socket',
    );
  });

  it('a docker config that cannot be read: says to fix it or to name the engine otherwise', async () => {
    await writeFile(path.join(config, 'config.json'), '{');
    const r = await doctor({ engine: downEngine('the docker config … cannot be read'), env: { DOCKER_CONFIG: config } });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('fix the docker config (or point DOCKER_CONFIG elsewhere), or set DOCKER_HOST or DOCKER_CONTEXT');
  });

  it('reports the classic builder with its reason, and for an engine that would not say, what build falls back to', async () => {
    const engine = new FakeEngine();
    engine.builder = builderFromPing({ apiVersion: '1.38', osType: 'linux' });
    expect((await doctor({ engine })).stdout).toContain('\n  builder  classic (API 1.38 is older than 1.39, the first with BuildKit)\n');
    engine.builderVersion = async () => {
      throw new Error('socket hang up');
    };
    const r = await doctor({ engine, format: 'json' });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).engine.builder).toEqual({
      builder: 'buildkit',
      version: '2',
      reason: 'the engine did not say which builder it offers: socket hang up; API 1.41 on linux has BuildKit',
    });
  });

  it('reports the builder DOCKER_BUILDKIT asks for, as build uses it', async () => {
    const engine = new FakeEngine();
    engine.builder = builderFromPing({ apiVersion: '1.41', osType: 'linux', builderVersion: '2' });
    const classic = await doctor({ engine, format: 'json', env: { DOCKER_BUILDKIT: '0' } });
    expect(JSON.parse(classic.stdout).engine.builder).toEqual({ builder: 'classic', version: '1', reason: 'DOCKER_BUILDKIT asks for the classic builder' });
    engine.apiVersion = '1.38';
    engine.builder = builderFromPing({ apiVersion: '1.38', osType: 'linux' });
    const missing = await doctor({ engine, format: 'json', env: { DOCKER_BUILDKIT: '1' } });
    expect(JSON.parse(missing.stdout).engine.builder).toEqual({
      builder: null,
      version: null,
      reason: 'DOCKER_BUILDKIT asks for BuildKit, and this Engine has none (it needs API 1.39 or later on Linux)',
    });
  });
});

describe("the builder an engine offers, from its /_ping (the docker CLI's rule)", () => {
  it('is what Builder-Version says when the engine says it', () => {
    expect(builderFromPing({ apiVersion: '1.41', osType: 'linux', builderVersion: '2' })).toEqual({
      builder: 'buildkit',
      version: '2',
      reason: 'the engine asks for it: Builder-Version 2',
    });
    expect(builderFromPing({ apiVersion: '1.47', osType: 'linux', builderVersion: '1' })).toMatchObject({ builder: 'classic', version: '1' });
  });

  it('is BuildKit on a Linux engine from API 1.39 on (20.10 states nothing), classic before and on Windows', () => {
    expect(builderFromPing({ apiVersion: '1.41', osType: 'linux' })).toEqual({
      builder: 'buildkit',
      version: '2',
      reason: 'the engine states no Builder-Version; API 1.41 on linux has BuildKit',
    });
    expect(builderFromPing({ apiVersion: '1.39', osType: 'linux' }).builder).toBe('buildkit');
    expect(builderFromPing({ apiVersion: '1.100', osType: 'linux' }).builder).toBe('buildkit'); // by number, not as text
    expect(builderFromPing({ apiVersion: '1.38', osType: 'linux' }).builder).toBe('classic');
    expect(builderFromPing({ apiVersion: '1.41', osType: 'windows' })).toMatchObject({
      builder: 'classic',
      reason: 'BuildKit does not build on a Windows engine',
    });
    expect(builderFromPing({})).toMatchObject({ builder: 'classic', reason: 'the engine states neither its builder nor its API version' });
  });
});

describe('host tool probe', () => {
  it('runs a real program and reads its version', async () => {
    expect(await probeTool('node', ['--version'])).toEqual({ found: true, version: process.versions.node });
  });

  it('reports a program that cannot be run as missing', async () => {
    expect(await probeTool('derivc-no-such-tool', ['--version'])).toEqual({ found: false });
  });

  it('reads version numbers as tools print them', () => {
    expect(versionIn('mke2fs 1.47.0 (5-Feb-2023)\n\tUsing EXT2FS Library version 1.47.0')).toBe('1.47.0');
    expect(versionIn('grub-mkrescue (GRUB) 2.06-13+deb12u1')).toBe('2.06-13+deb12u1');
    expect(versionIn('QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u16)')).toBe('7.2.19');
    expect(versionIn('xorriso 1.5.4 : RockRidge filesystem manipulator, libburnia project.')).toBe('1.5.4');
    expect(versionIn('Packer v1.6.6')).toBe('1.6.6');
    expect(versionIn('mkfs.fat 4.2 (2021-01-31)')).toBe('4.2');
    expect(versionIn('usage: tool [options]')).toBeUndefined();
  });

  it('finds programs on PATH without running them', async () => {
    expect(await findOnPath('sh')).toMatch(/\/sh$/);
    expect(await findOnPath('derivc-no-such-tool')).toBeUndefined();
  });
});

describe('e2e base image fixture', () => {
  let tmp: string;
  beforeEach(async () => void (tmp = await mkdtemp(path.join(os.tmpdir(), 'derivc-fixture-test-'))));
  afterEach(async () => rm(tmp, { recursive: true, force: true }));

  /** A runner that records calls; `docker import` makes the image appear in the fake engine. */
  function recorder(engine: FakeEngine, calls: string[][], delayMs = 0) {
    return async (file: string, args: readonly string[]) => {
      calls.push([file, ...args]);
      await new Promise((r) => setTimeout(r, delayMs));
      if (file === 'mmdebstrap') await writeFile(args[2]!, 'tar');
      if (file === 'docker') engine.images.set(args[2]!, {});
    };
  }

  it('reuses the image when the engine has it, running nothing', async () => {
    const engine = new FakeEngine();
    engine.images.set(DEBIAN_BASE, {});
    const calls: string[][] = [];
    expect(await ensureDebianBase(engine, { run: recorder(engine, calls), lockDir: path.join(tmp, 'lock') })).toBe(DEBIAN_BASE);
    expect(calls).toEqual([]);
  });

  it('otherwise makes it with mmdebstrap and docker import, then removes the tarball and the lock', async () => {
    const engine = new FakeEngine();
    const calls: string[][] = [];
    const lockDir = path.join(tmp, 'lock');
    expect(await ensureDebianBase(engine, { run: recorder(engine, calls), lockDir })).toBe(DEBIAN_BASE);
    const tarball = calls[0]![3]!;
    expect(calls).toEqual([
      ['mmdebstrap', '--variant=minbase', 'bookworm', tarball],
      ['docker', 'import', tarball, DEBIAN_BASE],
    ]);
    expect(path.basename(tarball)).toBe('base.tar');
    await expect(stat(path.dirname(tarball))).rejects.toThrow(/ENOENT/);
    expect(await readdir(tmp)).toEqual([]);
  });

  it('builds once when several callers ask at the same time', async () => {
    const engine = new FakeEngine();
    const calls: string[][] = [];
    const opts = { run: recorder(engine, calls, 300), lockDir: path.join(tmp, 'lock') };
    expect(await Promise.all([ensureDebianBase(engine, opts), ensureDebianBase(engine, opts), ensureDebianBase(engine, opts)])).toEqual([
      DEBIAN_BASE,
      DEBIAN_BASE,
      DEBIAN_BASE,
    ]);
    expect(calls.map((c) => c[0])).toEqual(['mmdebstrap', 'docker']);
  });

  it('takes over a lock whose owner is gone, and waits for one whose owner lives', async () => {
    const engine = new FakeEngine();
    const calls: string[][] = [];
    const lockDir = path.join(tmp, 'lock');
    await mkdir(lockDir);
    await writeFile(path.join(lockDir, 'owner'), '2147483646'); // above any pid_max: no such process
    await ensureDebianBase(engine, { run: recorder(engine, calls), lockDir });
    expect(calls).toHaveLength(2);

    engine.images.clear();
    await mkdir(lockDir);
    await writeFile(path.join(lockDir, 'owner'), String(process.pid));
    await expect(ensureDebianBase(engine, { run: recorder(engine, calls), lockDir, lockTimeoutMs: 500 })).rejects.toThrow(
      /gave up after .* waiting for .*lock/,
    );
    expect(calls).toHaveLength(2);
  });

  // On a fresh machine the first call makes the image (the e2e suite needs it anyway); the
  // second must find it on the real engine and run nothing.
  it('makes local/debian:bookworm on the real engine at most once, then reuses it', { timeout: 12 * 60_000 }, async (ctx) => {
    const engine: DockerEngine | undefined = await e2eEngine();
    if (!engine) return ctx.skip();
    expect(await ensureDebianBase(engine)).toBe(DEBIAN_BASE);
    const started = Date.now();
    const refuse = async () => {
      throw new Error('must not build: the image exists');
    };
    expect(await ensureDebianBase(engine, { run: refuse, lockDir: path.join(tmp, 'lock') })).toBe(DEBIAN_BASE);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
