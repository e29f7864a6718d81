// The targets layer as a specification: each target's options come from the manifest schema
// with its defaults applied in one place (the IR); `derivc validate`, compile, plan and build
// report a target option's mistake at the option's line before anything is built, and what
// only the built image tells (its size against the disk) at the option's line before any
// medium is made; plan-run interprets plans through the registered actions and imports no
// target; `--target raw,ova` makes the raw disk once.

import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCommand } from '../cli/commands/build.js';
import type { CliIO } from '../cli/io.js';
import { parseTargets } from '../cli/build/media.js';
import { targetsIR } from '../compiler/normalize/targets.js';
import { ACTIONS } from '../targets/actions.js';
import { TARGETS } from '../targets/registry.js';
import type { DockerEngine } from '../targets/io/engine.js';
import type { TargetFs, TargetIO } from '../targets/target.js';
import { runCli } from './support/cli.js';
import { FakeEngine } from './support/fake-engine.js';
import { MemoryHost } from './support/memory-host.js';

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';
const MiB = 2 ** 20;

describe('target options', () => {
  it("are the manifest schema's `targets.*` with its defaults, set in the IR", () => {
    const ir = targetsIR({}, '.');
    expect(ir.enabled).toEqual([]);
    expect(ir.iso).toEqual({ label: 'COS_LIVE', firmware: ['bios', 'uefi'], compression: 'zstd' });
    expect(ir.raw).toEqual({ format: 'raw', firmware: ['bios', 'uefi'], size: '8GiB', partitions: { oem: '64MiB', persistent: 'rest' } });
    expect(ir.ova).toEqual({ cpus: 2, memory: '2GiB', osType: 'otherLinux64Guest', firmware: 'bios', network: 'nat' });
    expect(ir.packer).toEqual({
      builders: ['qemu'],
      qemu: { cpus: 2, memory: '2GiB', headless: true, format: 'qcow2' },
      virtualboxIso: { cpus: 2, memory: '2GiB', headless: true, guestOsType: 'Linux_64' },
      vmwareIso: { cpus: 2, memory: '2GiB', headless: true, guestOsType: 'otherlinux-64' },
      amazonEbs: { region: 'us-east-1', instanceType: 't3.medium', volumeType: 'gp3' },
      googlecompute: { zone: 'us-central1-a', machineType: 'e2-standard-2' },
      azureArm: { location: 'eastus', vmSize: 'Standard_D2s_v3' },
    });
  });

  it("keep what the manifest states, and resolve the ISO overlay from the manifest's folder", () => {
    const ir = targetsIR(
      {
        iso: { label: 'ACME', overlay: 'extra' },
        raw: { partitions: { state: '2GiB' } },
        packer: { builders: ['amazon-ebs'], amazonEbs: { region: 'eu-central-1' } },
      },
      'site',
    );
    expect(ir.enabled).toEqual(['iso', 'raw', 'packer']);
    expect(ir.iso).toMatchObject({ label: 'ACME', firmware: ['bios', 'uefi'], overlay: 'site/extra' });
    expect(ir.raw.partitions).toEqual({ oem: '64MiB', state: '2GiB', persistent: 'rest' });
    expect(ir.packer.amazonEbs).toEqual({ region: 'eu-central-1', instanceType: 't3.medium', volumeType: 'gp3' });
  });

  it('leave no default to the targets: none of them names a default of its own', () => {
    const files = readdirSync('targets', { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('io/'));
    for (const f of files)
      expect(readFileSync(join('targets', f), 'utf8'), f).not.toMatch(/_DEFAULTS\b|DEFAULT_FIRMWARE|\?\? '(?:COS_LIVE|zstd|8GiB|2GiB|qcow2|bios|nat)'/);
  });

  it('have their schema from the manifest schema', () => {
    const schema = JSON.parse(readFileSync('schema/derivative.schema.json', 'utf8')) as { definitions: Record<string, unknown> };
    for (const [name, target] of Object.entries(TARGETS)) expect(target.optionsSchema).toEqual(schema.definitions[`${name}Target`]);
  });
});

describe('the target list of --target', () => {
  it('is parsed in one place, for plan and build alike: once each, in the order derivc makes them', () => {
    expect(parseTargets(undefined)).toBeUndefined();
    expect(parseTargets('ova, raw,ova')).toEqual(['raw', 'ova']);
    expect(() => parseTargets('raw,floppy')).toThrow('unknown --target `floppy`; use one of iso, raw, ova, packer, none');
    const source = readFileSync('cli/commands/plan.ts', 'utf8') + readFileSync('cli/commands/build.ts', 'utf8');
    expect(source.match(/split\(','\)/g)).toBeNull();
  });
});

describe('plan-run and the actions', () => {
  /** Runtime imports (not `import type`) of a file under targets/, resolved. */
  function imports(file: string): string[] {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(/^import (?!type )[^'"]*from '(\.[^']+)'/gm)].map((m) => join(file, '..', m[1]!).replace(/\.js$/, '.ts'));
  }

  it('plan-run imports no target, and nothing a target imports leads back to plan-run', () => {
    expect(imports('targets/plan-run.ts').filter((f) => /^targets\/(iso|raw|ova|packer)\//.test(f))).toEqual([]);
    const reached = new Set<string>();
    const walk = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const f of imports(file)) walk(f);
    };
    for (const t of ['iso', 'raw', 'ova', 'packer']) walk(`targets/${t}/index.ts`);
    expect([...reached].filter((f) => f === 'targets/plan-run.ts' || f === 'targets/actions.ts' || f === 'targets/registry.ts')).toEqual([]);
  });

  it('are registered by the targets that own them, next to plan-run’s own', () => {
    expect(Object.keys(TARGETS.iso.actions)).toEqual(['set-efi-serial']);
    expect(Object.keys(TARGETS.raw.actions)).toEqual(['install-bios-boot']);
    expect(Object.keys(TARGETS.ova.actions)).toEqual(['set-vmdk-cid', 'ovf-manifest']);
    expect(Object.keys(ACTIONS).sort()).toEqual([
      'checksum',
      'checksums',
      'copy-tree',
      'exec',
      'extract',
      'install-bios-boot',
      'mkdir',
      'ovf-manifest',
      'publish',
      'publish-dir',
      'set-efi-serial',
      'set-vmdk-cid',
      'write',
    ]);
  });
});

describe('target option mistakes, before anything is built', () => {
  const manifest = `${HEAD}targets:\n  raw:\n    size: 4GiB\n    partitions:\n      recovery: 2GiB\n      state: 3GiB\n`;
  const at = 'derivative.yaml:10:14';

  it.each([['validate'], ['compile', '-o', '/nonexistent/out'], ['plan']])('%s reports them at the option’s line', (...argv) => {
    const r = runCli([...argv, 'derivative.yaml'], { host: new MemoryHost({ 'derivative.yaml': manifest }) });
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('error[targets/raw-too-small]: partition state 3GiB does not fit the 4GiB disk');
    expect(out).toContain(`--> ${at}`);
  });

  it('build reports them before it builds the image', async () => {
    const r = await build(manifest, 'raw');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[targets/raw-too-small]: partition state 3GiB does not fit the 4GiB disk');
    expect(r.stderr).toContain(`--> ${at}`);
    expect(r.engine.builds).toEqual([]);
  });

  it('--target checks the options of a target the manifest does not enable, at plan time', () => {
    const arm = HEAD.replace('family: debian}', 'family: debian, platform: linux/arm64}');
    const host = new MemoryHost({ 'derivative.yaml': arm });
    expect(runCli(['validate'], { host }).code).toBe(0);
    const r = runCli(['plan', '--target', 'iso'], { host });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[targets/unsupported-firmware]: an arm64 ISO cannot boot with bios firmware');
  });
});

// ---------------------------------------------------------------------------------------------
// derivc build --target …, through a recording fake of the host tools

/** TargetIO in memory: the tools write what later steps read (a disk, GRUB's core.img, a VMDK, an ISO). */
class RecordingTools {
  readonly execs: { tool: string; args: readonly string[] }[] = [];
  readonly files = new Map<string, Buffer>();
  readonly engine: FakeEngine & Required<Pick<DockerEngine, 'exportContainer' | 'readEntries' | 'imageCreated'>>;

  constructor(engine: FakeEngine) {
    this.engine = Object.assign(engine, {
      imageCreated: async () => 1_700_000_000,
      exportContainer: async <T>(_image: string, consume: (tar: NodeJS.ReadableStream) => Promise<T>) =>
        consume((await import('node:stream')).Readable.from([Buffer.alloc(1024)])),
      readEntries: async (_image: string, paths: readonly string[]) => new Map(paths.map((p) => [p, undefined])),
    });
  }

  get io(): TargetIO {
    const files = this.files;
    const fs: TargetFs = {
      makeTempDir: async (parent, prefix) => `${parent}/${prefix}1`,
      mkdir: async () => undefined,
      writeFile: async (f, c) => void files.set(f, Buffer.from(c)),
      copyTree: async () => undefined,
      read: async (f, o, l) => (files.get(f) ?? Buffer.alloc(o + l)).subarray(o, o + l),
      patch: async (f, o, b) => void Buffer.from(b).copy(files.get(f)!, o),
      sha256: async (f) => ({ sha256: 'cd'.repeat(32), bytes: files.get(f)?.length ?? 0 }),
      rename: async (from, to) => void files.set(to, files.get(from) ?? Buffer.alloc(0)),
      remove: async () => undefined,
    };
    return {
      engine: this.engine,
      fs,
      hasTool: async () => true,
      exec: async (tool, args, opts) => {
        this.execs.push({ tool, args });
        if (opts?.stdin) for await (const _ of opts.stdin) void _;
        const cwd = opts?.cwd ?? '';
        if (tool === 'truncate') files.set(`${cwd}/disk.raw`, Buffer.alloc(3 * 2048 * 512));
        if (tool === 'dd' && args[0] === 'if=core.img') new DataView(files.get(`${cwd}/disk.raw`)!.buffer).setUint16(2048 * 512 + 512 - 4, 300, true);
        if (tool === 'qemu-img' && args.includes('vmdk')) {
          const vmdk = Buffer.alloc(1536);
          vmdk.writeUInt32LE(0x564d444b, 0);
          vmdk.writeBigUInt64LE(1n, 28);
          vmdk.writeBigUInt64LE(2n, 36);
          vmdk.write('CID=eb9d0c8a\n', 512, 'latin1');
          files.set(`${cwd}/${args.at(-1)}`, vmdk);
        }
      },
    };
  }
}

async function build(manifest: string, target: string | undefined, prepare?: (engine: FakeEngine) => void) {
  const engine = new FakeEngine();
  prepare?.(engine);
  const tools = new RecordingTools(engine);
  const out = { stdout: '', stderr: '' };
  const io: CliIO = {
    stdout: (t) => void (out.stdout += t),
    stderr: (t) => void (out.stderr += t),
    isTTY: false,
    env: {},
    host: new MemoryHost({ 'derivative.yaml': manifest }),
    docker: () => tools.engine,
  };
  const outDir = `/tmp/derivc-targets-unit-${process.pid}`;
  try {
    const code = await buildCommand({ files: ['derivative.yaml'], out: outDir, quiet: true, json: false, target }, io, { targetIO: () => tools.io });
    return { code, ...out, engine, execs: tools.execs, outDir };
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

describe('derivc build without --target', () => {
  const manifest = `${HEAD}targets: {raw: {}, ova: {}}\n`;

  it("makes the manifest's targets, the ones `derivc plan` plans", async () => {
    const r = await build(manifest, undefined);
    expect(r.code, r.stderr).toBe(0);
    expect(r.execs.filter((e) => e.tool === 'sgdisk')).toHaveLength(1);
    expect(r.execs.filter((e) => e.tool === 'qemu-img')).toHaveLength(1);
    const planned = JSON.parse(runCli(['plan', '--format', 'json'], { host: new MemoryHost({ 'derivative.yaml': manifest }) }).stdout);
    expect(planned.targets.map((t: { target: string }) => t.target)).toEqual(['raw', 'ova']);
  });

  it('makes none with --target none: the image only', async () => {
    const r = await build(manifest, 'none');
    expect(r.code, r.stderr).toBe(0);
    expect(r.engine.builds).toHaveLength(1);
    expect(r.execs).toEqual([]);
  });

  it('makes none for a manifest without targets', async () => {
    const r = await build(HEAD, undefined);
    expect(r.code, r.stderr).toBe(0);
    expect(r.execs).toEqual([]);
  });
});

describe('derivc build --target raw,ova', () => {
  const manifest = `${HEAD}targets: {raw: {}, ova: {}}\n`;

  it('makes the raw disk once, in either order given, and the OVA converts the disk the raw target published', async () => {
    for (const order of ['raw,ova', 'ova,raw']) {
      const r = await build(manifest, order);
      expect(r.code, r.stderr).toBe(0);
      expect(r.execs.filter((e) => e.tool === 'sqfstar')).toHaveLength(1);
      expect(r.execs.filter((e) => e.tool === 'sgdisk')).toHaveLength(1);
      expect(r.execs.find((e) => e.tool === 'qemu-img')!.args).toEqual([
        'convert',
        '-f',
        'raw',
        '-O',
        'vmdk',
        '-o',
        'subformat=streamOptimized',
        join(r.outDir, 'acme-1.0.raw'),
        'acme-1.0-disk1.vmdk',
      ]);
      expect(r.stderr).toMatch(/raw: .*acme-1\.0\.raw .*\n(?:.*\n)*ova: .*acme-1\.0\.ova/);
    }
  });

  it('makes the disk itself for the OVA alone', async () => {
    const r = await build(manifest, 'ova');
    expect(r.code, r.stderr).toBe(0);
    expect(r.execs.filter((e) => e.tool === 'sqfstar')).toHaveLength(1);
    expect(r.execs.find((e) => e.tool === 'qemu-img')!.args).toContain('disk.raw');
  });
});

describe('derivc build --target raw: partitions chosen from the built image', () => {
  it('sizes RECOVERY and STATE from the image so that `size: 4GiB` alone fits', async () => {
    const r = await build(`${HEAD}targets: {raw: {size: 4GiB}}\n`, 'raw', (e) => (e.imageBytes = 736 * 1000 * 1000));
    expect(r.code, r.stderr).toBe(0);
    expect(r.execs.find((e) => e.tool === 'sgdisk')!.args.filter((_, i, a) => a[i - 1] === '-n')).toEqual([
      '1:2048:+1M',
      '2:4096:+64M',
      '3:135168:+64M',
      '4:266240:+832M',
      '5:1970176:+1600M',
      '6:5246976:+1533M',
    ]);
  });

  it('reports an image the disk cannot hold at `size`, before any medium is made', async () => {
    const r = await build(`${HEAD}targets:\n  raw:\n    size: 4GiB\n`, 'raw', (e) => (e.imageBytes = 3 * 1024 * MiB));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[targets/raw-too-small]: the 4GiB disk cannot hold this image');
    expect(r.stderr).toContain('--> derivative.yaml:7:11');
    expect(r.execs).toEqual([]);
  });
});
