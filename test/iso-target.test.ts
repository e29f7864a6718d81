// The ISO target as a specification: `plan()` is pure data (pinned inline), `run()` carries it
// out through a recording fake of TargetIO — the exact tool arguments, what the tools are fed,
// and that nothing reaches the output directory before the very end, or at all on failure. The
// real Engine and tools are exercised by test/e2e/iso.e2e.test.ts.

import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as tar from 'tar-stream';
import { buildCommand } from '../cli/commands/build.js';
import { debianPackageOf } from '../cli/host-tools.js';
import type { CliIO } from '../cli/io.js';
import type { Build } from '../compiler/normalize/build.js';
import { normalize } from '../compiler/normalize/index.js';
import { targetsOf } from '../compiler/normalize/targets.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { bootCatalogSector, efiImageSector, fatSerialOffset } from '../targets/iso/efi-serial.js';
import { grubCfg, serialTerminal } from '../targets/iso/grub-cfg.js';
import { DOCKER_INIT_FILES, imageFilesystem, packEntries, resolveCaptured, TarEntryFilter, type Capture } from '../targets/iso/image-tar.js';
import { isoVolumeDate, planIso, validateIso } from '../targets/iso/plan.js';
import { runTarget } from '../targets/actions.js';
import type { ImageEntry } from '../targets/io/engine.js';
import type { TargetFs, TargetIO, TargetPlan } from '../targets/target.js';
import { FakeEngine } from './support/fake-engine.js';
import { MemoryHost } from './support/memory-host.js';
import { optionsOf, planOne } from './support/targets.js';

const HEAD =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';

function validated(body = '', files: Record<string, string> = {}) {
  const host = new MemoryHost({ 'derivative.yaml': HEAD + body, ...files });
  const r = new ValidationSession(host).validate('derivative.yaml');
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const v = r.value.manifest!;
  return { v, build: normalize(v, host).value, targets: targetsOf(v) };
}

const EPOCH = 1_700_000_000; // 2023-11-14T22:13:20Z
const CONTEXT = { image: 'derivc.local/acme:1.0', imageBytes: 700 * 2 ** 20, outDir: '/out', sourceDateEpoch: EPOCH, earlier: [] };
const ISO = optionsOf('iso');
const ENV = { SOURCE_DATE_EPOCH: '1700000000', TZ: 'UTC', LC_ALL: 'C' };

describe('iso plan()', () => {
  it('is the cOS live layout, step by step, with every argument pinned', () => {
    const { build } = validated();
    const plan = planIso(build, ISO, CONTEXT);
    expect(plan).toEqual({
      target: 'iso',
      tools: [
        { name: 'sqfstar', package: 'squashfs-tools' },
        { name: 'grub-mkrescue', package: 'grub-common' },
        { name: 'xorriso', package: 'xorriso' },
        { name: 'mformat', package: 'mtools' },
        { name: 'mcopy', package: 'mtools' },
        { name: '/usr/lib/grub/i386-pc', package: 'grub-pc-bin' },
        { name: '/usr/lib/grub/x86_64-efi', package: 'grub-efi-amd64-bin' },
      ],
      workDir: { parent: '/out', prefix: '.derivc-iso-' },
      steps: [
        { title: 'make the ISO tree', action: { kind: 'mkdir', path: 'iso' } },
        {
          title: "stream the image's filesystem into squashfs (docker export → sqfstar, nothing extracted to disk)",
          action: {
            kind: 'exec',
            tool: 'sqfstar',
            args: ['-comp', 'zstd', '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', 'iso/rootfs.squashfs'],
            env: ENV,
            stdin: { from: 'image-filesystem', image: 'derivc.local/acme:1.0', capture: '/boot/' },
          },
        },
        {
          title: 'take the kernel and initrd from the image, following the /boot links',
          action: {
            kind: 'extract',
            image: 'derivc.local/acme:1.0',
            files: [
              { from: '/boot/vmlinuz', to: 'iso/boot/vmlinuz' },
              { from: '/boot/initrd', to: 'iso/boot/initrd' },
            ],
          },
        },
        { title: 'write the GRUB menu', action: { kind: 'write', path: 'iso/boot/grub/grub.cfg', content: grubCfg(build, 'COS_LIVE') } },
        {
          title: 'make the hybrid ISO (BIOS + UEFI; CD and USB)',
          action: {
            kind: 'exec',
            tool: 'grub-mkrescue',
            args: [
              '-o',
              'acme-1.0.iso',
              'iso',
              '--',
              '-volid',
              'COS_LIVE',
              '-volume_date',
              'uuid',
              '2023111422132000',
              '-volume_date',
              'all_file_dates',
              '=1700000000',
            ],
            env: ENV,
          },
        },
        { title: "set the EFI boot image's volume serial from SOURCE_DATE_EPOCH", action: { kind: 'set-efi-serial', iso: 'acme-1.0.iso', serial: EPOCH } },
        { title: 'checksum', action: { kind: 'checksum', file: 'acme-1.0.iso', to: 'acme-1.0.iso.sha256', name: 'acme-1.0.iso' } },
        {
          title: 'rename into place',
          action: {
            kind: 'publish',
            files: [
              { from: 'acme-1.0.iso', to: '/out/acme-1.0.iso' },
              { from: 'acme-1.0.iso.sha256', to: '/out/acme-1.0.iso.sha256' },
            ],
          },
        },
      ],
      outputs: ['/out/acme-1.0.iso', '/out/acme-1.0.iso.sha256'],
      sourceDateEpoch: EPOCH,
    });
  });

  it('writes a GRUB menu on the serial line with the live command line, each argument quoted', () => {
    const { build } = validated('boot: {cmdline: [quiet, "systemd.unit=multi-user.target"], console: [tty0, "ttyS1,115200n8"]}\n');
    expect(grubCfg(build, 'ACME_LIVE')).toBe(
      [
        '# derivc: live boot menu of acme 1.0 (generated; edit the manifest instead)',
        'set timeout=3',
        'set timeout_style=menu',
        'set default=0',
        'serial --unit=1 --speed=115200',
        'terminal_input console serial',
        'terminal_output console serial',
        '',
        'menuentry "acme" {',
        '\tinsmod all_video',
        '\tlinux /boot/vmlinuz "root=live:CDLABEL=ACME_LIVE" "rd.live.dir=/" "rd.live.squashimg=rootfs.squashfs" "rd.live.overlay.overlayfs=1" "console=tty0" "console=ttyS1,115200n8" "quiet" "systemd.unit=multi-user.target"',
        '\tinitrd /boot/initrd',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('adds rd.cos.disable when a toolkit would run at boot, and titles the entry with grubEntryName', () => {
    const { build } = validated('toolkit: {source: base, flavor: elemental, version: v2.3.2}\nboot: {grubEntryName: "Acme OS (live)"}\n');
    const cfg = grubCfg(build, 'COS_LIVE');
    expect(cfg).toContain('menuentry "Acme OS (live)" {');
    expect(cfg).toMatch(/"console=ttyS0" "rd\.cos\.disable"\n/);
  });

  it('never lets a value end the GRUB string or expand a variable', () => {
    const { build } = validated();
    const hostile: Build = { ...build, boot: { ...build.boot, grubEntryName: 'a"b$c\\d', cmdline: ['x=$root'] } };
    const cfg = grubCfg(hostile, 'COS_LIVE');
    expect(cfg).toContain('menuentry "a\\"b\\$c\\\\d" {');
    expect(cfg).toContain('"x=\\$root"');
    expect(() => grubCfg({ ...build, boot: { ...build.boot, cmdline: ['two words'] } }, 'COS_LIVE')).toThrow(/one token/);
  });

  it('speaks to the first ttyS console at its speed (9600 when unstated, as the kernel)', () => {
    expect(serialTerminal(['tty1', 'ttyS0'])).toEqual({ unit: 0, speed: 9600 });
    expect(serialTerminal(['ttyS2,115200n8', 'ttyS0'])).toEqual({ unit: 2, speed: 115200 });
    expect(serialTerminal(['tty1', 'hvc0'])).toBeUndefined();
  });

  it('honours targets.iso: label, firmware, compression, name, overlay', () => {
    const { build, targets } = validated('targets: {iso: {label: ACME, firmware: [bios], compression: xz, name: acme-live, overlay: extra}}\n', {
      'extra/README.txt': 'hi',
    });
    const plan = planOne('iso', build, targets, CONTEXT);
    const actions = plan.steps.map((s) => s.action);
    expect(actions.find((a) => a.kind === 'exec' && a.tool === 'sqfstar')).toMatchObject({
      args: ['-comp', 'xz', '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', 'iso/rootfs.squashfs'],
    });
    expect(actions).toContainEqual({ kind: 'copy-tree', from: 'extra', to: 'iso' });
    // BIOS alone: grub-mkrescue is limited to the i386-pc platform; no EFI image, so no mtools and no serial to fix.
    expect(actions.find((a) => a.kind === 'exec' && a.tool === 'grub-mkrescue')).toMatchObject({
      args: [
        '-o',
        'acme-live.iso',
        '--directory',
        '/usr/lib/grub/i386-pc',
        'iso',
        '--',
        '-volid',
        'ACME',
        '-volume_date',
        'uuid',
        '2023111422132000',
        '-volume_date',
        'all_file_dates',
        '=1700000000',
      ],
    });
    expect(actions.some((a) => a.kind === 'set-efi-serial')).toBe(false);
    expect(plan.tools.map((t) => t.name)).toEqual(['sqfstar', 'grub-mkrescue', 'xorriso', '/usr/lib/grub/i386-pc']);
    expect(plan.outputs).toEqual(['/out/acme-live.iso', '/out/acme-live.iso.sha256']);
    expect((actions.find((a) => a.kind === 'write') as { content: string }).content).toContain('CDLABEL=ACME"');

    const uefi = planIso(build, optionsOf('iso', { firmware: ['uefi'] }), CONTEXT);
    expect(uefi.steps.find((s) => s.action.kind === 'exec' && s.action.tool === 'grub-mkrescue')!.action).toMatchObject({
      args: expect.arrayContaining(['--directory', '/usr/lib/grub/x86_64-efi']),
    });
    expect(uefi.tools.map((t) => t.name)).toContain('mformat');
  });

  it('names every host tool with the package doctor names', () => {
    const { build } = validated();
    for (const t of planIso(build, ISO, CONTEXT).tools) expect([t.name, debianPackageOf(t.name)]).toEqual([t.name, t.package]);
  });

  it('shows placeholders when SOURCE_DATE_EPOCH is not known yet, and such a plan refuses to run', async () => {
    const { build } = validated();
    const plan = planIso(build, ISO, { ...CONTEXT, sourceDateEpoch: undefined });
    expect(plan.sourceDateEpoch).toBeNull();
    expect(JSON.stringify(plan)).toContain('<SOURCE_DATE_EPOCH as YYYYMMDDhhmmss00>');
    await expect(runTarget(plan, new RecordingIO().io)).rejects.toThrow(/without SOURCE_DATE_EPOCH/);
  });

  it('refuses BIOS for an arm64 image, at targets.iso.firmware', () => {
    const { build } = validated();
    expect(validateIso(ISO, { ...build, arch: 'arm64' })).toEqual([
      {
        code: 'targets/unsupported-firmware',
        pointer: '/targets/iso/firmware',
        message: 'an arm64 ISO cannot boot with bios firmware (GRUB has no bios platform for arm64)',
        hint: 'use `firmware: [uefi]`',
      },
    ]);
    expect(validateIso(ISO, build)).toEqual([]);
    expect(planIso({ ...build, arch: 'arm64' }, optionsOf('iso', { firmware: ['uefi'] }), CONTEXT).tools.map((t) => t.name)).toContain(
      '/usr/lib/grub/arm64-efi',
    );
  });

  it('formats ISO volume dates in UTC', () => {
    expect(isoVolumeDate(0)).toBe('1970010100000000');
    expect(isoVolumeDate(EPOCH)).toBe('2023111422132000');
  });
});

// ---------------------------------------------------------------------------------------------
// Tar streams for the fakes

interface TarItem {
  name: string;
  type?: tar.Header['type'];
  content?: string;
  linkname?: string;
  mode?: number;
}

async function tarOf(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const i of items) {
    const header = {
      name: i.name,
      type: i.type ?? 'file',
      mode: i.mode ?? (i.type === 'directory' ? 0o755 : 0o644),
      mtime: new Date(1_600_000_000_000),
      uid: 0,
      gid: 0,
      ...(i.linkname ? { linkname: i.linkname } : {}),
    };
    pack.entry(header, i.content ?? '');
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

async function listTar(bytes: Buffer): Promise<{ name: string; type: string; content: string; linkname?: string; mode: number; devmajor?: number }[]> {
  const extract = tar.extract();
  Readable.from([bytes]).pipe(extract);
  const out: { name: string; type: string; content: string; linkname?: string; mode: number; devmajor?: number }[] = [];
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const c of entry) chunks.push(c as Buffer);
    const h = entry.header;
    out.push({
      name: h.name,
      type: h.type ?? '',
      content: Buffer.concat(chunks).toString(),
      mode: h.mode ?? 0,
      ...(h.linkname ? { linkname: h.linkname } : {}),
      ...(h.devmajor ? { devmajor: h.devmajor } : {}),
    });
  }
  return out;
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** A container export: the image's files plus Docker's init-layer stubs. */
const EXPORT: TarItem[] = [
  { name: '.dockerenv', mode: 0o755 },
  { name: 'boot/', type: 'directory' },
  { name: 'boot/initrd', type: 'symlink', linkname: 'initrd.img-6.1' },
  { name: 'boot/initrd.img-6.1', content: 'INITRD' },
  { name: 'boot/vmlinuz', type: 'symlink', linkname: 'vmlinuz-6.1' },
  { name: 'boot/vmlinuz-6.1', content: 'KERNEL' },
  { name: 'dev/', type: 'directory' },
  { name: 'dev/console', mode: 0o755 },
  { name: 'etc/', type: 'directory' },
  { name: 'etc/hostname', mode: 0o755 },
  { name: 'etc/hosts', mode: 0o755 },
  { name: 'etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
  { name: 'etc/resolv.conf', mode: 0o755 },
];

/** What the image's layers hold at the init-layer paths. */
const IMAGE_ENTRIES = new Map<string, ImageEntry | undefined>([
  ['/etc/hostname', { type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, content: new TextEncoder().encode('acme\n') }],
  ['/etc/resolv.conf', { type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 0, linkname: '../run/systemd/resolve/stub-resolv.conf' }],
  ['/dev/console', { type: 'character-device', mode: 0o600, uid: 0, gid: 5, mtime: 0, devmajor: 5, devminor: 1 }],
]);

/** FakeEngine plus what the ISO target asks of an Engine, recorded. */
class MediaEngine extends FakeEngine {
  exportTar: Buffer = Buffer.alloc(0);
  readonly calls: string[] = [];
  containersLeft = 0;

  async imageCreated(): Promise<number> {
    return EPOCH;
  }

  async exportContainer<T>(image: string, consume: (tar: NodeJS.ReadableStream) => Promise<T>): Promise<T> {
    this.calls.push(`export ${image}`);
    this.containersLeft++;
    try {
      return await consume(Readable.from([this.exportTar]));
    } finally {
      this.containersLeft--;
    }
  }

  async readEntries(image: string, paths: readonly string[]): Promise<Map<string, ImageEntry | undefined>> {
    this.calls.push(`entries ${image} ${paths.join(' ')}`);
    return new Map(paths.map((p) => [p, IMAGE_ENTRIES.get(p)]));
  }

  async readFiles(image: string, paths: readonly string[]): Promise<Map<string, Uint8Array | undefined>> {
    this.calls.push(`files ${image} ${paths.join(' ')}`);
    return new Map(paths.map((p) => [p, new TextEncoder().encode(`layers:${p}`)]));
  }
}

/** An ISO image just big enough for El Torito: boot record at 17, catalog at 20, EFI FAT image at 30. */
function syntheticIso(): Buffer {
  const iso = Buffer.alloc(40 * 2048);
  const br = 17 * 2048;
  iso[br] = 0;
  iso.write('CD001', br + 1, 'latin1');
  iso[br + 6] = 1;
  iso.write('EL TORITO SPECIFICATION', br + 7, 'latin1');
  iso.writeUInt32LE(20, br + 0x47);
  const cat = 20 * 2048;
  iso[cat] = 0x01; // validation entry, platform 0 (x86 BIOS)
  iso[cat + 0x1e] = 0x55;
  iso[cat + 0x1f] = 0xaa;
  iso[cat + 32] = 0x88; // default entry: the BIOS image
  iso.writeUInt32LE(25, cat + 32 + 8);
  iso[cat + 64] = 0x91; // last section header: EFI, one entry
  iso[cat + 65] = 0xef;
  iso.writeUInt16LE(1, cat + 66);
  iso[cat + 96] = 0x88;
  iso.writeUInt32LE(30, cat + 96 + 8);
  const fat = 30 * 2048;
  iso[fat + 0x26] = 0x29;
  iso.writeUInt32LE(0xdeadbeef, fat + 0x27);
  iso.write('FAT12   ', fat + 0x36, 'latin1');
  iso[fat + 510] = 0x55;
  iso[fat + 511] = 0xaa;
  return iso;
}

interface ExecCall {
  tool: string;
  args: readonly string[];
  env: Record<string, string> | undefined;
  cwd: string | undefined;
  stdin?: Buffer;
}

/** TargetIO over an in-memory file system, logging every effect in order. */
class RecordingIO {
  readonly log: string[] = [];
  readonly files = new Map<string, Buffer>();
  readonly execs: ExecCall[] = [];
  readonly engine = new MediaEngine();
  missing = new Set<string>();
  /** A tool that fails (exit status 1), as a real one would. */
  failing: string | undefined;
  readonly abort = new AbortController();
  /** Aborts while this tool runs (Ctrl-C). */
  abortDuring: string | undefined;

  readonly fs: TargetFs = {
    makeTempDir: async (parent, prefix) => {
      this.log.push(`mkdtemp ${parent}/${prefix}`);
      return `${parent}/${prefix}000001`;
    },
    mkdir: async (dir) => void this.log.push(`mkdir ${dir}`),
    writeFile: async (file, content) => {
      this.log.push(`write ${file}`);
      this.files.set(file, Buffer.from(content));
    },
    copyTree: async (from, to) => void this.log.push(`copy ${from} → ${to}`),
    read: async (file, offset, length) => this.files.get(file)!.subarray(offset, offset + length),
    patch: async (file, offset, bytes) => {
      this.log.push(`patch ${file} @${offset}`);
      Buffer.from(bytes).copy(this.files.get(file)!, offset);
    },
    sha256: async (file) => {
      this.log.push(`sha256 ${file}`);
      return { sha256: 'ab'.repeat(32), bytes: this.files.get(file)!.length };
    },
    rename: async (from, to) => {
      this.log.push(`rename ${from} → ${to}`);
      this.files.set(to, this.files.get(from)!);
      this.files.delete(from);
    },
    remove: async (p) => {
      this.log.push(`remove ${p}`);
      for (const f of [...this.files.keys()]) if (f === p || f.startsWith(`${p}/`)) this.files.delete(f);
    },
  };

  get io(): TargetIO {
    return {
      engine: this.engine,
      fs: this.fs,
      signal: this.abort.signal,
      hasTool: async (tool) => !this.missing.has(tool),
      exec: async (tool, args, opts = {}) => {
        const call: ExecCall = { tool, args, env: opts.env, cwd: opts.cwd };
        this.execs.push(call);
        this.log.push(`exec ${tool}`);
        if (opts.stdin) call.stdin = await readAll(opts.stdin);
        if (this.abortDuring === tool) {
          this.abort.abort();
          throw new Error(`${tool} was stopped`);
        }
        if (this.failing === tool) throw new Error(`${tool} failed (exit status 1)`);
        if (tool === 'sqfstar') this.files.set(`${opts.cwd}/${args.at(-1)}`, Buffer.from('SQUASHFS'));
        if (tool === 'grub-mkrescue') this.files.set(`${opts.cwd}/${args[1]}`, syntheticIso());
      },
    };
  }
}

const WORK = '/out/.derivc-iso-000001';

async function isoPlan(body = ''): Promise<{ plan: TargetPlan; rec: RecordingIO }> {
  const { build } = validated(body);
  const rec = new RecordingIO();
  rec.engine.exportTar = await tarOf(EXPORT);
  return { plan: planIso(build, ISO, CONTEXT), rec };
}

describe('iso run()', () => {
  it('runs the tools with exactly the planned arguments, in the work directory', async () => {
    const { plan, rec } = await isoPlan();
    const artifacts = await runTarget(plan, rec.io);
    expect(rec.execs.map(({ tool, args, env, cwd }) => ({ tool, args, env, cwd }))).toEqual([
      {
        tool: 'sqfstar',
        args: ['-comp', 'zstd', '-no-progress', '-root-mode', '755', '-root-uid', '0', '-root-gid', '0', 'iso/rootfs.squashfs'],
        env: ENV,
        cwd: WORK,
      },
      {
        tool: 'grub-mkrescue',
        args: [
          '-o',
          'acme-1.0.iso',
          'iso',
          '--',
          '-volid',
          'COS_LIVE',
          '-volume_date',
          'uuid',
          '2023111422132000',
          '-volume_date',
          'all_file_dates',
          '=1700000000',
        ],
        env: ENV,
        cwd: WORK,
      },
    ]);
    expect(artifacts).toEqual([{ path: '/out/acme-1.0.iso', sha256: 'ab'.repeat(32), bytes: 40 * 2048 }]);
    expect(rec.files.get('/out/acme-1.0.iso.sha256')?.toString()).toBe(`${'ab'.repeat(32)}  acme-1.0.iso\n`);
  });

  it("feeds sqfstar the image's filesystem: Docker's init-layer stubs replaced by the image's own entries", async () => {
    const { plan, rec } = await isoPlan();
    await runTarget(plan, rec.io);
    const entries = await listTar(rec.execs[0]!.stdin!);
    expect(entries.map((e) => e.name)).toEqual([
      'boot/',
      'boot/initrd',
      'boot/initrd.img-6.1',
      'boot/vmlinuz',
      'boot/vmlinuz-6.1',
      'dev/',
      'etc/',
      'etc/passwd',
      // appended, in path order; /.dockerenv and /etc/hosts are not in the image, so they are gone
      'dev/console',
      'etc/hostname',
      'etc/resolv.conf',
    ]);
    expect(entries.find((e) => e.name === 'etc/hostname')).toMatchObject({ type: 'file', content: 'acme\n', mode: 0o644 });
    expect(entries.find((e) => e.name === 'etc/resolv.conf')).toMatchObject({ type: 'symlink', linkname: '../run/systemd/resolve/stub-resolv.conf' });
    expect(entries.find((e) => e.name === 'dev/console')).toMatchObject({ type: 'character-device', mode: 0o600, devmajor: 5 });
    expect(rec.engine.calls).toEqual([`entries derivc.local/acme:1.0 ${DOCKER_INIT_FILES.join(' ')}`, 'export derivc.local/acme:1.0']);
    expect(rec.engine.containersLeft).toBe(0);
  });

  it('takes the kernel and initrd from the export as it streams past, following the /boot links', async () => {
    const { plan, rec } = await isoPlan();
    await runTarget(plan, rec.io);
    // No second pass over the image: the links resolved inside what was captured.
    expect(rec.engine.calls.some((c) => c.startsWith('files'))).toBe(false);
    expect(rec.log).toContain(`write ${WORK}/iso/boot/vmlinuz`);
    expect(rec.log).toContain(`write ${WORK}/iso/boot/initrd`);
  });

  it("reads from the image's layers what the stream did not carry (a link out of /boot)", async () => {
    const { plan, rec } = await isoPlan();
    rec.engine.exportTar = await tarOf(EXPORT.map((e) => (e.name === 'boot/vmlinuz' ? { ...e, linkname: '/usr/lib/modules/6.1/vmlinuz' } : e)));
    const written: Record<string, string> = {};
    const write = rec.fs.writeFile;
    rec.fs.writeFile = async (file, content) => {
      written[file] = Buffer.from(content).toString();
      return write(file, content);
    };
    await runTarget(plan, rec.io);
    expect(rec.engine.calls).toContain('files derivc.local/acme:1.0 /boot/vmlinuz');
    expect(written[`${WORK}/iso/boot/vmlinuz`]).toBe('layers:/boot/vmlinuz');
    expect(written[`${WORK}/iso/boot/initrd`]).toBe('INITRD');
  });

  it("sets the EFI image's FAT serial from SOURCE_DATE_EPOCH", async () => {
    const { plan, rec } = await isoPlan();
    await runTarget(plan, rec.io);
    expect(rec.files.get('/out/acme-1.0.iso')!.readUInt32LE(30 * 2048 + 0x27)).toBe(EPOCH);
  });

  it('renames the ISO into place only at the end, the checksum after it, and removes the work directory', async () => {
    const { plan, rec } = await isoPlan();
    await runTarget(plan, rec.io);
    const tail = rec.log.slice(rec.log.indexOf(`sha256 ${WORK}/acme-1.0.iso`));
    expect(tail).toEqual([
      `sha256 ${WORK}/acme-1.0.iso`,
      `write ${WORK}/acme-1.0.iso.sha256`,
      'remove /out/acme-1.0.iso.sha256',
      `rename ${WORK}/acme-1.0.iso → /out/acme-1.0.iso`,
      `rename ${WORK}/acme-1.0.iso.sha256 → /out/acme-1.0.iso.sha256`,
      `remove ${WORK}`,
    ]);
    expect(rec.log.filter((l) => l.includes('→ /out/'))).toHaveLength(2);
    expect(rec.log[0]).toBe('mkdtemp /out/.derivc-iso-');
  });

  it.each(['sqfstar', 'grub-mkrescue'])('leaves nothing at the output path when %s fails', async (tool) => {
    const { plan, rec } = await isoPlan();
    rec.failing = tool;
    await expect(runTarget(plan, rec.io)).rejects.toThrow(`${tool} failed`);
    expect(rec.log.some((l) => l.startsWith('rename'))).toBe(false);
    expect(rec.log.at(-1)).toBe(`remove ${WORK}`);
    expect([...rec.files.keys()].filter((f) => f.startsWith('/out/') && !f.startsWith(WORK))).toEqual([]);
    expect(rec.engine.containersLeft).toBe(0);
  });

  it('stops on Ctrl-C: a cancellation, nothing published, the work directory removed', async () => {
    const { plan, rec } = await isoPlan();
    rec.abortDuring = 'sqfstar';
    await expect(runTarget(plan, rec.io)).rejects.toMatchObject({ name: 'AbortError' });
    expect(rec.execs.map((e) => e.tool)).toEqual(['sqfstar']);
    expect(rec.log.some((l) => l.startsWith('rename'))).toBe(false);
    expect(rec.log.at(-1)).toBe(`remove ${WORK}`);
  });

  it('says which file the image lacks', async () => {
    const { plan, rec } = await isoPlan();
    rec.engine.exportTar = await tarOf(EXPORT.filter((e) => !e.name.startsWith('boot/initrd')));
    rec.engine.readFiles = async (_image, paths) => new Map(paths.map((p) => [p, undefined]));
    await expect(runTarget(plan, rec.io)).rejects.toThrow('the image derivc.local/acme:1.0 has no /boot/initrd');
  });
});

// ---------------------------------------------------------------------------------------------

describe('the export filter', () => {
  /** An archive's entries as tar-stream writes them, without the end-of-archive blocks. */
  async function entriesOf(items: { header: tar.Header | (Partial<tar.Header> & { name: string }); content?: Buffer }[]): Promise<Buffer> {
    const pack = tar.pack();
    for (const i of items) pack.entry({ mode: 0o644, uid: 0, gid: 0, mtime: new Date(1000), ...i.header }, i.content ?? Buffer.alloc(0));
    pack.finalize();
    return (await readAll(pack)).subarray(0, -1024);
  }

  /** A record block whose typeflag tar-stream's pack cannot write (PAX `x`, GNU `L`), with its data. */
  async function record(typeflag: 'x' | 'L', data: Buffer): Promise<Buffer> {
    const block = await entriesOf([{ header: { name: typeflag === 'L' ? '././@LongLink' : 'PaxHeaders/x', type: 'file' }, content: data }]);
    block[156] = typeflag.charCodeAt(0);
    block.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += block[i]!;
    block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    return block;
  }

  const file = (name: string, content: string | Buffer, mode = 0o644) => ({ header: { name, type: 'file' as const, mode }, content: Buffer.from(content) });
  const hostname: ImageEntry = { type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 3, content: Buffer.from('x\n') };

  it('passes kept entries through byte for byte, binary PAX records included, and appends at the end', async () => {
    // A file capability as Docker exports it: an xattr whose value is not UTF-8.
    const capability = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x00, 0x80]);
    const body = Buffer.concat([Buffer.from(' SCHILY.xattr.security.capability='), capability, Buffer.from('\n')]);
    const paxData = Buffer.concat([Buffer.from(String(body.length + 2)), body]);
    expect(paxData.length).toBe(Number(paxData.subarray(0, 2).toString()));
    const kept = [
      await entriesOf([{ header: { name: 'usr/', type: 'directory', mode: 0o755 } }]),
      Buffer.concat([await record('x', paxData), await entriesOf([file('usr/bin/ping', Buffer.alloc(1000, 7), 0o755)])]),
    ];
    const dropped = await entriesOf([file('.dockerenv', '')]);
    const input = Buffer.concat([dropped, ...kept, Buffer.alloc(1024), Buffer.alloc(9216)]);
    // Tiny chunks: headers and data split anywhere.
    const chunks = [];
    for (let i = 0; i < input.length; i += 97) chunks.push(input.subarray(i, i + 97));
    const filter = new TarEntryFilter(new Set(['/.dockerenv']), async () => [['/etc/hostname', hostname]]);
    const out = await readAll(Readable.from(chunks).pipe(filter));
    expect(out.equals(Buffer.concat([...kept, await packEntries([['/etc/hostname', hostname]])]))).toBe(true);
    expect(out.includes(Buffer.concat([Buffer.from('capability='), capability]))).toBe(true);
    expect(filter.droppedPaths).toEqual(['/.dockerenv']);
    expect((await listTar(out)).map((e) => e.name)).toEqual(['usr/', 'usr/bin/ping', 'etc/hostname']);
  });

  it('drops an entry named through a ustar prefix, a PAX path or a GNU long name, with its records', async () => {
    const viaPrefix = `${'p'.repeat(120)}/.dockerenv`; // tar-stream splits it into the ustar prefix and name
    const viaPax = `${'d'.repeat(160)}/.dockerenv`; // too long for the prefix: a PAX path
    const viaGnu = `${'g'.repeat(200)}/.dockerenv`;
    const pax = await entriesOf([file(viaPax, 'gone')]);
    expect(pax[156]).toBe('x'.charCodeAt(0));
    const gnu = Buffer.concat([await record('L', Buffer.from(`${viaGnu}\0`)), await entriesOf([file('truncated-name', 'gone too')])]);
    const keep = await entriesOf([file('etc/passwd', 'kept')]);
    const filter = new TarEntryFilter(new Set([viaPrefix, viaPax, viaGnu].map((p) => `/${p}`)), async () => []);
    const out = await readAll(Readable.from([Buffer.concat([await entriesOf([file(viaPrefix, 'gone')]), pax, keep, gnu, Buffer.alloc(1024)])]).pipe(filter));
    expect(out.equals(Buffer.concat([keep, Buffer.alloc(1024)]))).toBe(true);
    expect(filter.droppedPaths).toEqual([viaPrefix, viaPax, viaGnu].map((p) => `/${p}`));
  });

  it('fails on an export cut short, inside an entry or between two, and on an empty one', async () => {
    const whole = await entriesOf([file('etc/passwd', Buffer.alloc(2000)), file('etc/group', 'g')]);
    const through = (bytes: Buffer) => readAll(imageFilesystem(Readable.from(bytes.length ? [bytes] : []), async () => new Map()));
    await expect(through(whole.subarray(0, 1500))).rejects.toThrow('the exported filesystem ended in the middle of an entry (cut short?)');
    await expect(through(whole)).rejects.toThrow('the exported filesystem ended without its end-of-archive blocks (cut short?)');
    await expect(through(Buffer.alloc(0))).rejects.toThrow('the exported filesystem is empty');
    expect((await listTar(await through(Buffer.concat([whole, Buffer.alloc(1024)])))).map((e) => e.name)).toEqual(['etc/passwd', 'etc/group']);
  });

  it('refuses what is not a tar: a header with a wrong checksum, a record whose size is not a number', async () => {
    const archive = Buffer.concat([await entriesOf([file('etc/passwd', 'p')]), Buffer.alloc(1024)]);
    const damaged = Buffer.from(archive);
    damaged[0] = 'X'.charCodeAt(0);
    await expect(readAll(imageFilesystem(Readable.from([damaged]), async () => new Map()))).rejects.toThrow(
      'the exported filesystem is not a tar, or a damaged one',
    );
    const nan = await record('L', Buffer.from('name\0'));
    nan.write('9x9x9x9x9x9\0', 124, 'latin1');
    nan.fill(0x20, 148, 156);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += nan[i]!;
    nan.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
    await expect(readAll(imageFilesystem(Readable.from([Buffer.concat([nan, archive])]), async () => new Map()))).rejects.toThrow(
      'the exported filesystem is not a tar, or a damaged one',
    );
  });

  it('captures the files and links under /boot/ as they stream past, and gives up past its limit', async () => {
    const input = Buffer.concat([
      await entriesOf([
        { header: { name: 'boot/', type: 'directory', mode: 0o755 } },
        file('boot/vmlinuz-6.1', 'KERNEL'),
        { header: { name: 'boot/vmlinuz', type: 'symlink', linkname: 'vmlinuz-6.1' } },
        { header: { name: 'boot/initrd', type: 'link', linkname: 'boot/vmlinuz-6.1' } },
        file('etc/motd', 'not captured'),
      ]),
      Buffer.alloc(1024),
    ]);
    const capture: Capture = { under: '/boot/', limit: 100, entries: new Map() };
    await readAll(imageFilesystem(Readable.from([input]), async () => new Map(), capture));
    expect(capture.entries).toEqual(
      new Map([
        ['/boot/vmlinuz-6.1', { type: 'file', content: Buffer.from('KERNEL') }],
        ['/boot/vmlinuz', { type: 'symlink', linkname: 'vmlinuz-6.1' }],
        ['/boot/initrd', { type: 'link', target: '/boot/vmlinuz-6.1' }],
      ]),
    );
    expect(Buffer.from(resolveCaptured(capture, '/boot/initrd')!).toString()).toBe('KERNEL');
    const small: Capture = { under: '/boot/', limit: 5, entries: new Map() };
    await readAll(imageFilesystem(Readable.from([input]), async () => new Map(), small));
    expect(small.overflow).toBe(true);
    expect(resolveCaptured(small, '/boot/vmlinuz')).toBeUndefined();
  });

  it('writes the appended entries with tar-stream as the image has them: types, owners, times, a zero mode, ids too large for octal', async () => {
    const packed = await packEntries([
      ['/etc/hostname', { type: 'file', mode: 0o644, uid: 0, gid: 0, uname: 'root', gname: 'root', mtime: 1_700_000_000, content: Buffer.from('acme\n') }],
      ['/etc/shadow-', { type: 'contiguous-file', mode: 0, uid: 3_000_000, gid: 3_000_001, mtime: 1, content: Buffer.from('s') }],
      ['/etc/resolv.conf', { type: 'symlink', mode: 0o777, uid: 0, gid: 0, mtime: 2, linkname: `../run/${'x/'.repeat(60)}stub-resolv.conf` }],
      ['/dev/console', { type: 'character-device', mode: 0o600, uid: 0, gid: 5, mtime: 0, devmajor: 5, devminor: 1, uname: 'u'.repeat(40) }],
      ['/etc', { type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: 0 }],
    ]);
    expect(packed.subarray(-1024).equals(Buffer.alloc(1024))).toBe(true);
    const extract = tar.extract();
    Readable.from([packed]).pipe(extract);
    const headers: (tar.Header & { content: string })[] = [];
    for await (const entry of extract) {
      headers.push({ ...entry.header, content: (await readAll(entry)).toString() });
    }
    // What sqfstar reads: ids from the PAX record where there is one (tar-stream's six octal digits clamp larger ones).
    const effective = ({ name, type, mode, uid, gid, mtime, linkname, uname, gname, devmajor, devminor, content, pax }: (typeof headers)[number]) => {
      const records = pax as Record<string, string> | null;
      return {
        name,
        type,
        mode,
        uid: Number(records?.['uid'] ?? uid),
        gid: Number(records?.['gid'] ?? gid),
        mtime: mtime.getTime() / 1000,
        linkname,
        uname,
        gname,
        devmajor,
        devminor,
        content,
        pax,
      };
    };
    expect(headers.map(effective)).toEqual([
      {
        name: 'etc/hostname',
        type: 'file',
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: 1_700_000_000,
        linkname: null,
        uname: 'root',
        gname: 'root',
        devmajor: 0,
        devminor: 0,
        content: 'acme\n',
        pax: null,
      },
      {
        name: 'etc/shadow-',
        type: 'file',
        mode: 0,
        uid: 3_000_000,
        gid: 3_000_001,
        mtime: 1,
        linkname: null,
        uname: '',
        gname: '',
        devmajor: 0,
        devminor: 0,
        content: 's',
        pax: { path: 'etc/shadow-', uid: '3000000', gid: '3000001' },
      },
      {
        name: `etc/resolv.conf`,
        type: 'symlink',
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: 2,
        linkname: `../run/${'x/'.repeat(60)}stub-resolv.conf`,
        uname: '',
        gname: '',
        devmajor: 0,
        devminor: 0,
        content: '',
        pax: { path: 'etc/resolv.conf', linkpath: `../run/${'x/'.repeat(60)}stub-resolv.conf` },
      },
      {
        name: 'dev/console',
        type: 'character-device',
        mode: 0o600,
        uid: 0,
        gid: 5,
        mtime: 0,
        linkname: null,
        uname: '',
        gname: '',
        devmajor: 5,
        devminor: 1,
        content: '',
        pax: null,
      },
      {
        name: 'etc/',
        type: 'directory',
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
        linkname: null,
        uname: '',
        gname: '',
        devmajor: 0,
        devminor: 0,
        content: '',
        pax: null,
      },
    ]);
    await expect(packEntries([['/run/sock', { type: 'socket', mode: 0o755, uid: 0, gid: 0, mtime: 0 }]])).rejects.toThrow(
      'cannot write a tar entry of type socket (/run/sock)',
    );
  });

  it('resolves captured links, relative and absolute, and gives up outside the capture', () => {
    const capture: Capture = {
      under: '/boot/',
      limit: 100,
      entries: new Map([
        ['/boot/vmlinuz', { type: 'symlink', linkname: 'vmlinuz-6.1' }],
        ['/boot/vmlinuz-6.1', { type: 'file', content: Buffer.from('K') }],
        ['/boot/initrd', { type: 'symlink', linkname: '/boot/../boot/./initrd.img' }],
        ['/boot/initrd.img', { type: 'link', target: '/boot/initrd-6.1' }],
        ['/boot/initrd-6.1', { type: 'file', content: Buffer.from('I') }],
        ['/boot/loop', { type: 'symlink', linkname: 'loop' }],
        ['/boot/out', { type: 'symlink', linkname: '../usr/lib/modules/6.1/vmlinuz' }],
      ]),
    };
    expect(Buffer.from(resolveCaptured(capture, '/boot/vmlinuz')!).toString()).toBe('K');
    expect(Buffer.from(resolveCaptured(capture, '/boot/initrd')!).toString()).toBe('I');
    expect(resolveCaptured(capture, '/boot/loop')).toBeUndefined();
    expect(resolveCaptured(capture, '/boot/out')).toBeUndefined();
    expect(resolveCaptured({ ...capture, overflow: true }, '/boot/vmlinuz')).toBeUndefined();
  });
});

describe('the EFI serial', () => {
  it('is found through the El Torito catalog (BIOS + EFI, and EFI alone) in a FAT12 or FAT32 boot sector', () => {
    const iso = syntheticIso();
    expect(bootCatalogSector(iso.subarray(17 * 2048, 18 * 2048))).toBe(20);
    expect(efiImageSector(iso.subarray(20 * 2048, 21 * 2048))).toBe(30);
    const efiOnly = Buffer.from(iso.subarray(20 * 2048, 21 * 2048));
    efiOnly[1] = 0xef;
    efiOnly.writeUInt32LE(31, 32 + 8);
    expect(efiImageSector(efiOnly)).toBe(31);
    expect(fatSerialOffset(iso.subarray(30 * 2048, 30 * 2048 + 512))).toBe(0x27);
    const fat32 = Buffer.alloc(512);
    fat32[0x42] = 0x29;
    fat32.write('FAT32   ', 0x52, 'latin1');
    fat32[510] = 0x55;
    fat32[511] = 0xaa;
    expect(fatSerialOffset(fat32)).toBe(0x43);
  });

  it('refuses what is not there', () => {
    expect(() => bootCatalogSector(Buffer.alloc(2048))).toThrow(/no El Torito boot record/);
    const biosOnly = syntheticIso().subarray(20 * 2048, 21 * 2048);
    biosOnly[64] = 0;
    expect(() => efiImageSector(biosOnly)).toThrow(/no EFI boot image/);
    expect(() => fatSerialOffset(Buffer.alloc(512))).toThrow(/FAT boot sector/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('derivc build --target iso', () => {
  function cli(host: MemoryHost, env: Record<string, string> = {}): CliIO & { out: { stdout: string; stderr: string } } {
    const out = { stdout: '', stderr: '' };
    return { out, stdout: (t) => void (out.stdout += t), stderr: (t) => void (out.stderr += t), isTTY: false, env, host };
  }

  async function build(argv: { target: string; env?: Record<string, string>; body?: string; prepare?: (rec: RecordingIO) => void }) {
    const host = new MemoryHost({ 'derivative.yaml': HEAD + (argv.body ?? '') });
    const rec = new RecordingIO();
    rec.engine.exportTar = await tarOf(EXPORT);
    argv.prepare?.(rec);
    const io = { ...cli(host, argv.env), docker: () => rec.engine };
    const out = io.out;
    const outDir = `/tmp/derivc-iso-unit-${process.pid}`;
    const code = await buildCommand({ files: ['derivative.yaml'], out: outDir, quiet: false, json: false, target: argv.target }, io, {
      targetIO: (_engine, _cli, progress) => ({ ...rec.io, ...(progress ? { progress } : {}) }),
    }).finally(() => {
      // writeOutputDir wrote the build context for real.
      return import('node:fs').then((fs) => fs.rmSync(outDir, { recursive: true, force: true }));
    });
    return { code, ...out, rec, outDir };
  }

  it('builds the image, then the ISO into the output directory, and prints the artifact', async () => {
    const r = await build({ target: 'iso' });
    expect(r.stderr).toContain('iso: stream the image');
    expect(r.stderr).toContain(`iso: ${r.outDir}/acme-1.0.iso (81920 bytes, sha256 abababababababab…)\n`);
    expect(r.code).toBe(0);
    // SOURCE_DATE_EPOCH defaults to the image's creation time.
    expect(r.rec.execs[0]!.env).toMatchObject({ SOURCE_DATE_EPOCH: String(EPOCH) });
  });

  it('takes SOURCE_DATE_EPOCH from the environment, and refuses one that is not a number', async () => {
    const r = await build({ target: 'iso', env: { SOURCE_DATE_EPOCH: '1234' } });
    expect(r.rec.execs[0]!.env).toMatchObject({ SOURCE_DATE_EPOCH: '1234' });
    await expect(build({ target: 'iso', env: { SOURCE_DATE_EPOCH: 'yesterday' } })).rejects.toThrow(/SOURCE_DATE_EPOCH=yesterday is not a number/);
  });

  it('names the Debian package of each missing tool before anything runs', async () => {
    const r = await build({ target: 'iso', prepare: (rec) => (rec.missing = new Set(['xorriso', '/usr/lib/grub/i386-pc'])) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets/tool-missing');
    expect(r.stderr).toContain('`xorriso` (Debian package xorriso), `/usr/lib/grub/i386-pc` (Debian package grub-pc-bin)');
    expect(r.stderr).toContain('apt-get install -y xorriso grub-pc-bin');
    expect(r.rec.execs).toEqual([]);
  });

  it('reports a failing step at the manifest, with nothing written', async () => {
    const r = await build({ target: 'iso', body: 'targets: {iso: {}}\n', prepare: (rec) => (rec.failing = 'grub-mkrescue') });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets/failed');
    expect(r.stderr).toContain('the iso medium could not be made: grub-mkrescue failed (exit status 1)');
    expect(r.stderr).toMatch(/derivative\.yaml:5:\d+/);
  });

  it('refuses an unknown --target as a usage error', async () => {
    await expect(build({ target: 'floppy' })).rejects.toThrow('unknown --target `floppy`; use one of iso, raw, ova, packer, none');
  });
});
