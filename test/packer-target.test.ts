// The packer target as a specification: `plan()` writes files only (pinned here), the published
// directory is byte for byte the golden tree under test/packer-golden/<case>/expected/ (every
// example with `targets.packer`, and the cases there), credentials are never values, and `run()`
// replaces `<outDir>/packer` whole, at the very end. The real Packer validates the same templates
// in test/e2e/packer.e2e.test.ts. Regenerate the trees after an intended change with
// UPDATE_GOLDEN=1, then review the diff.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { nodeHost } from '../cli/node-host.js';
import { DEFAULT_LABELS, type BuildFacts } from '../compiler/normalize/build.js';
import { toolkitEra } from '../compiler/toolkit-era.js';
import { normalize } from '../compiler/normalize/index.js';
import { targetsOf } from '../compiler/normalize/targets.js';
import { ValidationSession } from '../compiler/validate/index.js';
import { planPacker } from '../targets/packer/plan.js';
import { runTarget } from '../targets/actions.js';
import { validatePacker } from '../targets/packer/context.js';
import { CONFIG_DIR, installProvisioner } from '../targets/packer/builders/install.js';
import { Expr, printHcl } from '../targets/packer/hcl.js';
import { readHcl } from './support/hcl-read.js';
import type { TargetFs, TargetIO } from '../targets/target.js';
import { runCli, runCliAsync } from './support/cli.js';
import { FakeEngine } from './support/fake-engine.js';
import { MemoryHost } from './support/memory-host.js';
import { irOf, planOne } from './support/targets.js';
import { updating } from './support/update-mode.js';

const GOLDEN = 'test/packer-golden';
const update = updating('UPDATE_GOLDEN');
const CONTEXT = { image: 'derivc.local/acme:1.0', imageBytes: 700 * 2 ** 20, outDir: '/out', sourceDateEpoch: 1_700_000_000, earlier: [] };
const HASH = '$6$Lx5pW2dEy8iO$rUrkczyaifEGLhN/Q8gHD9mhkH2KKZt4kjKaP3A4e.hm68Vvk559ucdv/mk2eWqOTR6Xkn2b.BIEBuuDKn9Cl/';
const HEAD_NO_USER =
  'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: acme, version: "1.0"}\nbase: {image: "local/debian:bookworm", family: debian}\n';
const HEAD = `${HEAD_NO_USER}system: {users: [{name: root, passwordHash: "${HASH}"}]}\n`;

function validated(path: string, host = nodeHost) {
  const r = new ValidationSession(host).validate(path);
  expect(r.diagnostics).toEqual([]);
  const v = r.value.manifest!;
  return { v, build: normalize(v, host).value, targets: targetsOf(v) };
}

function inline(body: string) {
  return validated('derivative.yaml', new MemoryHost({ 'derivative.yaml': HEAD + body }));
}

/** TargetFs in memory, with real SHA-256s, logging every effect in order. */
class MemoryFs implements TargetFs {
  readonly files = new Map<string, Buffer>();
  readonly log: string[] = [];
  failWrite: string | undefined;

  async makeTempDir(parent: string, prefix: string) {
    this.log.push(`mkdtemp ${parent}/${prefix}`);
    return `${parent}/${prefix}000001`;
  }
  async mkdir(dir: string) {
    this.log.push(`mkdir ${dir}`);
  }
  async writeFile(file: string, content: Uint8Array | string) {
    if (this.failWrite && file.endsWith(this.failWrite)) throw new Error(`ENOSPC: no space left on device, write ${file}`);
    this.log.push(`write ${file}`);
    this.files.set(file, Buffer.from(content));
  }
  async copyTree() {
    throw new Error('not used');
  }
  async read() {
    return new Uint8Array();
  }
  async patch() {}
  async sha256(file: string) {
    const bytes = this.files.get(file)!;
    return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  }
  async rename(from: string, to: string) {
    this.log.push(`rename ${from} → ${to}`);
    for (const [f, b] of [...this.files]) {
      if (f !== from && !f.startsWith(`${from}/`)) continue;
      this.files.delete(f);
      this.files.set(to + f.slice(from.length), b);
    }
  }
  async remove(p: string) {
    this.log.push(`remove ${p}`);
    for (const f of [...this.files.keys()]) if (f === p || f.startsWith(`${p}/`)) this.files.delete(f);
  }

  io(): TargetIO {
    return {
      engine: new FakeEngine(),
      fs: this,
      exec: async (tool) => {
        throw new Error(`the packer target runs no tool (${tool})`);
      },
      hasTool: async () => true,
    };
  }

  /** The published tree under `dir`, by relative path. */
  tree(dir: string): Map<string, string> {
    return new Map(
      [...this.files]
        .filter(([f]) => f.startsWith(`${dir}/`))
        .map(([f, b]) => [f.slice(dir.length + 1), b.toString('utf8')] as const)
        .sort(([a], [b]) => (a < b ? -1 : 1)),
    );
  }
}

/** The published packer directory of a manifest, as written by run() through the registry. */
async function published(path: string, host = nodeHost): Promise<Map<string, string>> {
  const { build, targets } = validated(path, host);
  const fs = new MemoryFs();
  await runTarget(planOne('packer', build, targets, CONTEXT), fs.io());
  return fs.tree('/out/packer');
}

function goldenCases(): { name: string; manifest: string }[] {
  const examples = readdirSync('examples')
    .map((d) => ({ name: d, manifest: join('examples', d, 'derivative.yaml') }))
    .filter((c) => existsSync(c.manifest) && /^ {2}packer:/m.test(readFileSync(c.manifest, 'utf8')));
  const own = readdirSync(GOLDEN)
    .map((d) => ({ name: d, manifest: join(GOLDEN, d, 'derivative.yaml') }))
    .filter((c) => existsSync(c.manifest));
  return [...examples, ...own].sort((a, b) => (a.name < b.name ? -1 : 1));
}

function readTree(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(root, p).split('\\').join('/'), readFileSync(p, 'utf8'));
    }
  };
  if (existsSync(root)) walk(root);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `attr = value` pairs of every .pkr.hcl file in a tree (one per line, as the writer prints them). */
function attributes(tree: Map<string, string>): { file: string; name: string; value: string }[] {
  return [...tree]
    .filter(([f]) => f.endsWith('.pkr.hcl'))
    .flatMap(([file, text]) => [...text.matchAll(/^\s*([a-z0-9_]+)\s+= (.*)$/gm)].map((m) => ({ file, name: m[1]!, value: m[2]! })));
}

describe('packer plan()', () => {
  it('writes the templates, the variables and a README into packer/, checksums them, and publishes the directory whole', () => {
    const { build } = inline('targets: {packer: {builders: [qemu]}}\n');
    const { iso, raw, packer } = irOf({ packer: { builders: ['qemu'] } });
    const plan = planPacker(build, { packer, iso, raw }, CONTEXT);
    expect(plan.steps.map((s) => [s.title, s.action.kind, 'path' in s.action ? s.action.path : undefined])).toEqual([
      ['write the qemu template: a qcow2 disk for QEMU, from the raw disk', 'write', 'packer/qemu/qemu.pkr.hcl'],
      ['write the qemu variables (credentials without a value)', 'write', 'packer/qemu/variables.pkr.hcl'],
      ['write the qemu plugin requirements (Packer 1.7 and later)', 'write', 'packer/qemu/plugins.pkr.hcl'],
      ['write the README: how to run each build', 'write', 'packer/README.md'],
      ['checksum every file', 'checksums', undefined],
      ['rename the directory into place, replacing the one there', 'publish-dir', undefined],
    ]);
    expect(plan.steps[4]!.action).toEqual({
      kind: 'checksums',
      files: [
        { file: 'packer/README.md', name: 'README.md' },
        { file: 'packer/qemu/plugins.pkr.hcl', name: 'qemu/plugins.pkr.hcl' },
        { file: 'packer/qemu/qemu.pkr.hcl', name: 'qemu/qemu.pkr.hcl' },
        { file: 'packer/qemu/variables.pkr.hcl', name: 'qemu/variables.pkr.hcl' },
      ],
      to: 'packer/SHA256SUMS',
    });
    expect(plan.steps[5]!.action).toEqual({ kind: 'publish-dir', from: 'packer', to: '/out/packer' });
    expect(plan).toMatchObject({
      target: 'packer',
      tools: [],
      workDir: { parent: '/out', prefix: '.derivc-packer-' },
      outputs: [
        '/out/packer/README.md',
        '/out/packer/qemu/plugins.pkr.hcl',
        '/out/packer/qemu/qemu.pkr.hcl',
        '/out/packer/qemu/variables.pkr.hcl',
        '/out/packer/SHA256SUMS',
      ],
      sourceDateEpoch: 1_700_000_000,
    });
  });

  it('plans a local QEMU build for --target packer when the manifest names no builder', () => {
    const { build, targets } = inline('');
    expect(planOne('packer', build, targets, CONTEXT).outputs).toContain('/out/packer/qemu/qemu.pkr.hcl');
  });

  it('gives the same bytes for the same manifest, whatever the order of its builders', () => {
    const a = inline('targets: {packer: {builders: [qemu, azure-arm, amazon-ebs]}}\n');
    const b = inline('targets: {packer: {builders: [amazon-ebs, qemu, azure-arm]}}\n');
    expect(planOne('packer', b.build, b.targets, CONTEXT)).toEqual(planOne('packer', a.build, a.targets, CONTEXT));
  });

  it('refuses what the clouds and hypervisors would refuse, at the option, before anything runs', () => {
    const FACTS: BuildFacts = { name: 'acme', version: '1.0', arch: 'amd64' };
    const findings = (targets: Parameters<typeof irOf>[0], facts = FACTS) => {
      const { packer, iso, raw } = irOf(targets);
      return validatePacker({ packer, iso, raw }, facts).map((f) => [f.pointer, f.message]);
    };
    expect(findings({ packer: { builders: ['amazon-ebs'], amazonEbs: { volumeType: 'st1' } } })).toEqual([
      ['/targets/packer/amazonEbs/volumeType', 'an st1 volume cannot be a boot volume on EC2'],
    ]);
    expect(findings({ raw: { size: '16GiB' }, packer: { builders: ['googlecompute'], googlecompute: { diskSize: '10GiB' } } })).toEqual([
      ['/targets/packer/googlecompute/diskSize', '10 GiB is smaller than the disk the image is made from (acme-1.0.raw, 16 GiB)'],
    ]);
    expect(findings({ packer: { builders: ['amazon-ebs'], amazonEbs: { volumeSize: '4GiB' } } })).toEqual([
      ['/targets/packer/amazonEbs/volumeSize', '4 GiB is smaller than the disk the image is made from (acme-1.0.raw, 8 GiB)'],
    ]);
    expect(findings({ packer: { builders: ['azure-arm'], azureArm: { osDiskSizeGb: 4 } } })).toEqual([
      ['/targets/packer/azureArm/osDiskSizeGb', '4 GiB is smaller than the disk the image is made from (acme-1.0.raw, 8 GiB)'],
    ]);
    expect(findings({ iso: { firmware: ['uefi'] }, packer: { builders: ['virtualbox-iso'], virtualboxIso: { firmware: 'bios' } } })).toEqual([
      ['/targets/packer/virtualboxIso/firmware', 'virtualbox-iso boots with BIOS firmware, and the ISO is made for uefi only'],
    ]);
    expect(findings({ packer: { builders: ['qemu'] } }, { ...FACTS, arch: 'arm64' })).toEqual([
      ['/targets/packer', 'the packer target writes templates for amd64 images; this one is arm64'],
    ]);
    // Options of builders the manifest does not build are not checked.
    expect(
      findings({ packer: { builders: ['qemu'], amazonEbs: { volumeType: 'st1' }, virtualboxIso: { firmware: 'efi' } }, iso: { firmware: ['bios'] } }),
    ).toEqual([]);
  });
});

describe('packer templates (golden)', () => {
  const cases = goldenCases();

  it('cover the examples that enable the target and the cases under test/packer-golden', () => {
    expect(cases.map((c) => c.name)).toEqual(['debian-bare', 'defaults', 'elemental-v1', 'every-builder', 'kairos', 'opensuse-luet']);
  });

  for (const c of cases) {
    it(`${c.name}: the published directory is the expected tree`, async () => {
      const tree = await published(c.manifest);
      const expectedDir = join(GOLDEN, c.name, 'expected');
      if (update) {
        rmSync(expectedDir, { recursive: true, force: true });
        for (const [f, text] of tree) {
          mkdirSync(dirname(join(expectedDir, f)), { recursive: true });
          writeFileSync(join(expectedDir, f), text);
        }
      }
      const expected = readTree(expectedDir);
      expect([...tree.keys()]).toEqual([...expected.keys()]);
      for (const [f, text] of tree) expect(text, f).toBe(expected.get(f));
    });
  }

  it('SHA256SUMS lists every other file with its real digest', async () => {
    const tree = await published(join(GOLDEN, 'every-builder', 'derivative.yaml'));
    const lines = tree.get('SHA256SUMS')!.trimEnd().split('\n');
    expect(lines.map((l) => l.slice(66))).toEqual([...tree.keys()].filter((f) => f !== 'SHA256SUMS'));
    for (const l of lines)
      expect(l.slice(0, 64)).toBe(
        createHash('sha256')
          .update(tree.get(l.slice(66))!)
          .digest('hex'),
      );
  });
});

describe('credentials', () => {
  const CREDENTIALS = ['access_key', 'secret_key', 'account_file', 'client_id', 'client_secret', 'subscription_id', 'tenant_id', 'ssh_password', 'token'];

  it('are never values: each is a sensitive variable without a default, declared where it is used', async () => {
    for (const c of ['every-builder', 'defaults']) {
      const tree = await published(join(GOLDEN, c, 'derivative.yaml'));
      const attrs = attributes(tree);
      const credentials = attrs.filter((a) => CREDENTIALS.includes(a.name));
      expect(credentials.length).toBeGreaterThan(10);
      for (const a of credentials) expect(a.value, `${a.file}: ${a.name}`).toMatch(/^var\.[a-z0-9_]+$/);
      for (const dir of new Set([...tree.keys()].filter((f) => f.includes('/')).map((f) => f.split('/')[0]!))) {
        const vars = tree.get(`${dir}/variables.pkr.hcl`)!;
        const declared = [...vars.matchAll(/^variable "([a-z0-9_]+)" \{\n((?: .*\n)*?)\}/gm)].map((m) => ({ name: m[1]!, body: m[2]! }));
        // No credential and no site setting has a value in a file; only the disk the VM shows does.
        for (const d of declared.filter((x) => x.name !== 'install_device')) expect(d.body, d.name).not.toMatch(/^\s*default\s*=/m);
        const used = new Set(attrs.filter((a) => a.file.startsWith(`${dir}/`)).flatMap((a) => [...a.value.matchAll(/var\.([a-z0-9_]+)/g)].map((m) => m[1]!)));
        expect(declared.map((d) => d.name).sort(), dir).toEqual([...used].sort());
        for (const a of credentials.filter((x) => x.file.startsWith(`${dir}/`))) {
          expect(declared.find((d) => `var.${d.name}` === a.value)!.body, a.value).toMatch(/^\s*sensitive\s*= true$/m);
        }
      }
    }
  });

  it('never reach a template even when the manifest tries (refused by validation first)', () => {
    const host = new MemoryHost({ 'derivative.yaml': `${HEAD}targets: {packer: {builders: [amazon-ebs], amazonEbs: {secretKey: AKIAXXXX}}}\n` });
    const r = runCli(['plan', '--target', 'packer'], { host });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('targets/packer-credential');
    expect(r.stdout).toBe('');
  });
});

describe('packer run()', () => {
  it('publishes nothing before the end, then replaces the old directory whole (no stale template stays)', async () => {
    const { build, targets } = inline('targets: {packer: {builders: [qemu, amazon-ebs]}}\n');
    const fs = new MemoryFs();
    fs.files.set('/out/packer/azure-arm/azure-arm.pkr.hcl', Buffer.from('stale'));
    fs.files.set('/out/acme-1.0.iso', Buffer.from('the ISO stays'));
    const artifacts = await runTarget(planOne('packer', build, targets, CONTEXT), fs.io());
    const work = '/out/.derivc-packer-000001';
    const firstOut = fs.log.findIndex((l) => / \/out\/packer/.test(l));
    expect(fs.log.slice(firstOut)).toEqual(['remove /out/packer', `rename ${work}/packer → /out/packer`, `remove ${work}`]);
    expect(fs.log.slice(0, firstOut).every((l) => l.startsWith('mkdtemp') || l.includes(work))).toBe(true);
    expect([...fs.files.keys()].sort()).toEqual([
      '/out/acme-1.0.iso',
      '/out/packer/README.md',
      '/out/packer/SHA256SUMS',
      '/out/packer/amazon-ebs/amazon-ebs.pkr.hcl',
      '/out/packer/amazon-ebs/plugins.pkr.hcl',
      '/out/packer/amazon-ebs/variables.pkr.hcl',
      '/out/packer/qemu/plugins.pkr.hcl',
      '/out/packer/qemu/qemu.pkr.hcl',
      '/out/packer/qemu/variables.pkr.hcl',
    ]);
    expect(artifacts.map((a) => a.path)).toEqual([
      '/out/packer/README.md',
      '/out/packer/amazon-ebs/amazon-ebs.pkr.hcl',
      '/out/packer/amazon-ebs/plugins.pkr.hcl',
      '/out/packer/amazon-ebs/variables.pkr.hcl',
      '/out/packer/qemu/plugins.pkr.hcl',
      '/out/packer/qemu/qemu.pkr.hcl',
      '/out/packer/qemu/variables.pkr.hcl',
    ]);
    for (const a of artifacts)
      expect(a).toEqual({ path: a.path, sha256: createHash('sha256').update(fs.files.get(a.path)!).digest('hex'), bytes: fs.files.get(a.path)!.length });
  });

  it('leaves the old directory alone when a write fails', async () => {
    const { build, targets } = inline('targets: {packer: {builders: [qemu]}}\n');
    const fs = new MemoryFs();
    fs.files.set('/out/packer/qemu/qemu.pkr.hcl', Buffer.from('old'));
    fs.failWrite = 'README.md';
    await expect(runTarget(planOne('packer', build, targets, CONTEXT), fs.io())).rejects.toThrow(/ENOSPC/);
    expect([...fs.files]).toEqual([['/out/packer/qemu/qemu.pkr.hcl', Buffer.from('old')]]);
  });
});

describe('derivc plan / build --target packer', () => {
  it('plan shows every file and needs no host tool', () => {
    const host = new MemoryHost({ 'derivative.yaml': `${HEAD}targets: {packer: {builders: [googlecompute]}}\n` });
    const r = runCli(['plan'], { host });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  packer → .derivc/acme/packer/README.md, .derivc/acme/packer/googlecompute/googlecompute.pkr.hcl, ');
    expect(r.stdout).toContain('    host tools: none\n');
    expect(r.stdout).toContain(
      '         packer/googlecompute/googlecompute.pkr.hcl:\n           # derivc: Packer template of acme 1.0: a Compute Engine image, imported from the raw disk',
    );
    expect(r.stdout).toContain('         packer/ → .derivc/acme/packer/ (replacing it)\n');
  });

  it('build writes the directory next to the build context and prints each file', async () => {
    const out = mkdtempSync(join(tmpdir(), 'derivc-packer-unit-'));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'derivc-packer-manifest-'));
      writeFileSync(join(dir, 'derivative.yaml'), `${HEAD}targets: {packer: {builders: [qemu, azure-arm]}}\n`);
      mkdirSync(join(out, 'packer', 'vmware-iso'), { recursive: true });
      writeFileSync(join(out, 'packer', 'vmware-iso', 'vmware-iso.pkr.hcl'), 'stale');
      const engine = new FakeEngine();
      const r = await runCliAsync(['build', join(dir, 'derivative.yaml'), '-o', out, '--target', 'packer'], {
        docker: () => engine,
        env: { SOURCE_DATE_EPOCH: '1700000000' },
      });
      rmSync(dir, { recursive: true, force: true });
      expect(r.stderr).toContain(`packer: ${join(out, 'packer', 'qemu', 'qemu.pkr.hcl')} (`);
      expect(r.code).toBe(0);
      expect(readdirSync(join(out, 'packer')).sort()).toEqual(['README.md', 'SHA256SUMS', 'azure-arm', 'qemu']);
      expect(readdirSync(out).filter((f) => f.startsWith('.derivc-packer-'))).toEqual([]);
      expect(readFileSync(join(out, 'packer', 'qemu', 'qemu.pkr.hcl'), 'utf8')).toContain('iso_url          = "../../acme-1.0.raw"');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});

/** The strings of the `inline = [...]` list of a printed template, as HCL reads them. */
function inlineCommands(hcl: string): string[] {
  const line = hcl.split('\n').find((l) => /^\s*inline\s+= \[/.test(l));
  if (line === undefined) return [];
  return [...line.slice(line.indexOf('[')).matchAll(/"(?:[^"\\]|\\.)*"/g)].map((m) => readHcl(m[0]));
}

/** What the provisioner's `printf` writes (run by a real /bin/sh), parsed as YAML. */
async function writtenConfig(commands: readonly string[]): Promise<unknown> {
  const printf = commands.find((c) => c.startsWith('printf '))!;
  const target = ` > ${CONFIG_DIR}/config.yaml`;
  expect(printf.endsWith(target)).toBe(true);
  const r = await execa('sh', ['-c', printf.slice(0, -target.length)]);
  return parseYaml(r.stdout);
}

const LABELS = {
  oem: 'ACME_OEM',
  state: 'ACME_STATE',
  recovery: 'ACME_RECOVERY',
  persistent: 'ACME_PERSISTENT',
  active: 'ACME_ACTIVE',
  passive: 'ACME_PASSIVE',
  system: 'ACME_SYSTEM',
};

describe("the era's installer, run by the local builders from the live ISO", () => {
  const partitions = (l: typeof LABELS) => ({
    oem: { label: l.oem },
    recovery: { label: l.recovery },
    state: { label: l.state },
    persistent: { label: l.persistent },
  });
  const cases = [
    {
      era: 'cOS v0.8.14 (cos-installer: a wrapper of elemental install)',
      golden: 'every-builder',
      builder: 'qemu',
      labels: LABELS,
      install: 'cos-installer --config-dir /tmp/derivc-install "$DERIVC_INSTALL_DEVICE"',
      config: { install: { partitions: partitions(LABELS), system: { label: 'ACME_ACTIVE' }, 'recovery-system': { label: 'ACME_SYSTEM' } } },
    },
    {
      era: 'Elemental v1.1.8',
      golden: 'elemental-v1',
      builder: 'virtualbox-iso',
      labels: DEFAULT_LABELS,
      install: 'elemental --config-dir /tmp/derivc-install install "$DERIVC_INSTALL_DEVICE"',
      config: { install: { partitions: partitions(DEFAULT_LABELS), system: { label: 'COS_ACTIVE' }, 'recovery-system': { label: 'COS_SYSTEM' } } },
    },
    {
      era: 'Elemental v2.3.2 (no image labels but the recovery one)',
      golden: 'defaults',
      builder: 'vmware-iso',
      labels: DEFAULT_LABELS,
      install: 'elemental --config-dir /tmp/derivc-install install "$DERIVC_INSTALL_DEVICE"',
      config: { install: { partitions: partitions(DEFAULT_LABELS), 'recovery-system': { label: 'COS_SYSTEM' } } },
    },
    {
      era: 'Kairos v3.7.2 (manual-install: install is the pairing mode)',
      golden: 'kairos',
      builder: 'qemu',
      labels: DEFAULT_LABELS,
      install: 'kairos-agent manual-install --device "$DERIVC_INSTALL_DEVICE" /tmp/derivc-install/config.yaml',
      config: {
        install: { nousers: true, partitions: partitions(DEFAULT_LABELS), system: { label: 'COS_ACTIVE' }, 'recovery-system': { label: 'COS_SYSTEM' } },
      },
    },
  ];

  for (const c of cases) {
    it(`${c.era}: writes the labels of boot.labels into its configuration and installs onto install_device`, async () => {
      const tree = await published(join(GOLDEN, c.golden, 'derivative.yaml'));
      const template = tree.get(`${c.builder}/${c.builder}.pkr.hcl`)!;
      const commands = inlineCommands(template);
      expect(commands).toEqual(['mkdir -p /tmp/derivc-install', expect.stringMatching(/^printf /), c.install]);
      expect(await writtenConfig(commands)).toEqual(c.config);
      expect(template).toContain('environment_vars = ["DERIVC_INSTALL_DEVICE=${var.install_device}"]');
      // No power-off by the installer: Packer's own shutdown_command ends the build.
      expect(commands.join('\n')).not.toMatch(/--poweroff|--reboot/);
      expect(tree.get(`${c.builder}/variables.pkr.hcl`)).toMatch(/variable "install_device" \{\n(?: .*\n)*? {2}default {5}= "\/dev\/[sv]da"\n/);
    });
  }

  it('each builder names its disk as the live system sees it: virtio for qemu, SATA for VirtualBox and VMware', async () => {
    const vars = (golden: string, b: string) => tree(golden).then((t) => /default\s+= "([^"]+)"/.exec(t.get(`${b}/variables.pkr.hcl`)!)![1]);
    const tree = (golden: string) => published(join(GOLDEN, golden, 'derivative.yaml'));
    expect(await vars('defaults', 'qemu')).toBe('/dev/vda');
    expect(await vars('defaults', 'virtualbox-iso')).toBe('/dev/sda');
    expect(await vars('defaults', 'vmware-iso')).toBe('/dev/sda');
  });

  it('boots Elemental v2 with UEFI (its installer knows no other firmware), even from an ISO that boots both', async () => {
    const t = await published(join(GOLDEN, 'defaults', 'derivative.yaml'));
    expect(t.get('qemu/qemu.pkr.hcl')).toContain('qemuargs         = [["-bios", "/usr/share/ovmf/OVMF.fd"]]');
    expect(t.get('virtualbox-iso/virtualbox-iso.pkr.hcl')).toContain('"--firmware", "efi"');
    expect(t.get('vmware-iso/vmware-iso.pkr.hcl')).toMatch(/^ {2}vmx_data\s+= \{ "firmware" = "efi" \}$/m);
    // Elemental v1 installs for BIOS too: the VM keeps the ISO's BIOS boot.
    expect((await published(join(GOLDEN, 'elemental-v1', 'derivative.yaml'))).get('virtualbox-iso/virtualbox-iso.pkr.hcl')).not.toContain('--firmware');
  });

  it('quotes hostile labels for YAML, then the shell, then HCL: the installer reads exactly the labels', async () => {
    const hostile = {
      oem: `O'; touch /tmp/pwned #`,
      state: 'S"$(id)`id`\\',
      recovery: 'R${var.x}%{if}{{ .Name }}',
      persistent: 'P\nnext: line\ttab',
      active: 'A: b # c',
      passive: 'unused',
      system: "'\\'",
    };
    const block = installProvisioner('elemental', toolkitEra('elemental', 'v1.1.8'), hostile);
    expect(() => printHcl([], [block])).toThrow(/Go template/);
    const printable = { ...hostile, recovery: 'R${var.x}%{if}{ .Name }' };
    for (const [kind, era] of [
      ['elemental', toolkitEra('elemental', 'v1.1.8')],
      ['kairos-agent', toolkitEra('kairos', 'v3.7.2')],
    ] as const) {
      const hcl = printHcl([], [installProvisioner(kind, era, printable)]);
      const config = (await writtenConfig(inlineCommands(hcl))) as { install: { partitions: Record<string, { label: string }>; system: { label: string } } };
      expect(Object.fromEntries(Object.entries(config.install.partitions).map(([k, v]) => [k, v.label]))).toEqual({
        oem: printable.oem,
        recovery: printable.recovery,
        state: printable.state,
        persistent: printable.persistent,
      });
      expect(config.install.system.label).toBe(printable.active);
      // Nothing of a label became HCL syntax: the block, its three attributes, its end.
      expect(hcl.split('\n').filter((l) => l.trim() !== '')).toHaveLength(5);
    }
  });
});

describe('HCL templates derivc writes (Expr.template)', () => {
  it('quote every literal part and interpolate only the variables derivc names', () => {
    const printed = printHcl([], [{ type: 'x', labels: [], body: [['v', Expr.template(['a"${b}%{c}\\\n', Expr.variable('install_device'), '$'])]] }]);
    expect(printed).toBe('\n\nx {\n  v = "a\\"$${b}%%{c}\\\\\\n${var.install_device}$"\n}\n');
    expect(() => Expr.template(['{{ .Name }}'])).toThrow(/Go template/);
    expect(() => Expr.variable('a}${b')).toThrow(/not an HCL identifier/);
  });
});

describe('validate: a local builder that could not make a disk is refused before anything is built', () => {
  const FACTS: BuildFacts = {
    name: 'acme',
    version: '1.0',
    arch: 'amd64',
    runtimeToolkit: true,
    era: toolkitEra('elemental', 'v1.1.8'),
    passwordUsers: ['root'],
  };
  const findings = (targets: Parameters<typeof irOf>[0], facts: Partial<BuildFacts>) => {
    const { packer, iso, raw } = irOf(targets);
    return validatePacker({ packer, iso, raw }, { ...FACTS, ...facts }).map((f) => [f.code, f.pointer, f.message]);
  };

  it('without a user Packer can log in as', () => {
    expect(findings({ packer: { builders: ['qemu', 'amazon-ebs'] } }, { passwordUsers: [] })).toEqual([
      [
        'targets/packer-no-login',
        '/system/users',
        'packer logs in to the qemu VM over SSH with a password, and no user of this derivative has a `passwordHash`',
      ],
    ]);
    // The cloud builders boot no live system: nobody logs in.
    expect(findings({ packer: { builders: ['amazon-ebs', 'googlecompute'] } }, { passwordUsers: [] })).toEqual([]);
  });

  it('VirtualBox and VMware for a bare derivative: no installer, and no way to start from the raw disk', () => {
    expect(findings({ packer: { builders: ['qemu', 'virtualbox-iso', 'vmware-iso'] } }, { runtimeToolkit: false, era: undefined })).toEqual([
      [
        'targets/packer-no-installer',
        '/targets/packer/builders',
        "virtualbox-iso installs from the live ISO, and a bare derivative has no installer: the VM's disk would stay empty",
      ],
      [
        'targets/packer-no-installer',
        '/targets/packer/builders',
        "vmware-iso installs from the live ISO, and a bare derivative has no installer: the VM's disk would stay empty",
      ],
    ]);
  });

  it("a bare derivative's qemu VM smaller than the raw disk it starts from (Packer cannot shrink it)", () => {
    const bare = { runtimeToolkit: false, era: undefined };
    expect(findings({ raw: { size: '4GiB' }, packer: { builders: ['qemu'], qemu: { diskSize: '3GiB' } } }, bare)).toEqual([
      ['targets/invalid-option', '/targets/packer/qemu/diskSize', '3GiB is smaller than the raw disk the qemu VM of a bare derivative starts from (4GiB)'],
    ]);
    expect(findings({ raw: { size: '4GiB' }, packer: { builders: ['qemu'], qemu: { diskSize: '4096MiB' } } }, bare)).toEqual([]);
    // Installed from the ISO, the VM's disk only has to hold what the installer makes.
    expect(findings({ raw: { size: '4GiB' }, packer: { builders: ['qemu'], qemu: { diskSize: '3GiB' } } }, {})).toEqual([]);
  });

  it('Elemental v1.3 and v2 from a BIOS-only ISO, or in a BIOS VirtualBox VM', () => {
    const v2 = { era: toolkitEra('elemental', 'v2.3.2') };
    expect(findings({ iso: { firmware: ['bios'] }, packer: { builders: ['qemu'] } }, v2)).toEqual([
      ['targets/invalid-option', '/targets/iso/firmware', 'Elemental v2.3.2 installs for UEFI only, and the ISO the packer VM boots is made for bios only'],
    ]);
    expect(findings({ packer: { builders: ['virtualbox-iso'], virtualboxIso: { firmware: 'bios' } } }, v2)).toEqual([
      ['targets/invalid-option', '/targets/packer/virtualboxIso/firmware', 'Elemental v2.3.2 installs for UEFI only, and this VM boots with BIOS'],
    ]);
    // From the v1.3 layout on (v1.2.0 in derivc's table); v1.1 installs for BIOS too.
    expect(findings({ iso: { firmware: ['bios'] }, packer: { builders: ['qemu'] } }, { era: toolkitEra('elemental', 'v1.3.0') })).toEqual([
      ['targets/invalid-option', '/targets/iso/firmware', 'Elemental v1.3.0 installs for UEFI only, and the ISO the packer VM boots is made for bios only'],
    ]);
    expect(findings({ iso: { firmware: ['bios'] }, packer: { builders: ['qemu'] } }, {})).toEqual([]);
  });

  it('at the line of the manifest, through derivc validate (users of an upstream count)', () => {
    const host = new MemoryHost({
      'derivative.yaml': `${HEAD_NO_USER}targets: {packer: {builders: [qemu]}}\n`,
      'down.yaml':
        'apiVersion: derivc.dev/v1alpha1\nkind: Derivative\nmetadata: {name: down, version: "1.0"}\nbase: {derivative: up.yaml}\ntargets: {packer: {builders: [qemu]}}\n',
      'up.yaml': HEAD,
    });
    const r = runCli(['validate', 'derivative.yaml'], { host });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('error[targets/packer-no-login]');
    const down = runCli(['validate', 'down.yaml'], { host });
    expect(down.stdout + down.stderr).not.toContain('packer-no-login');
    expect(down.code).toBe(0);
  });
});
