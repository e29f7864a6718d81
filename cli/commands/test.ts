// derivc test [FILE] [-o DIR] [--media iso|raw] [--firmware bios|uefi] [--parallel]: boot each
// medium under each firmware in QEMU and check the serial console against the manifest's
// `tests.boot`. Media missing from DIR are built first, as `derivc build --target … -o DIR` does.
// Reports go to DIR/test/: per run console.log and result.json, and junit.xml.

import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isFailing, sortDiagnostics, type Diagnostic } from '../../compiler/diagnostics.js';
import { bootTestOf, targetsOf, type Firmware, type TargetsIR } from '../../compiler/normalize/targets.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import { isoFileName, rawFileName } from '../../targets/media-names.js';
import { consoleTail, runDir, runName, writeJunit, writeRunResult, type BootRun } from '../../targets/io/boot-report.js';
import { bootAndCheck, DEFAULT_CPUS, DEFAULT_QEMU, type BootResult, type ConsoleCheck, type Media, type QemuHost } from '../../targets/io/qemu.js';
import { choices } from '../choices.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { formatDiagnostics } from '../format/index.js';
import { debianPackageOf, findOnPath, probeFile } from '../host-tools.js';
import { wantsColor, type CliIO } from '../io.js';
import { recordInputs } from '../input-paths.js';
import { openOutputDir } from '../output-dir.js';
import { validationSession } from '../validation.js';
import { VERSION } from '../version.js';
import { manifestPaths } from './validate.js';
import { shown } from '../format/style.js';

export interface TestArgs {
  files: string[];
  out: string | undefined;
  /** Comma-separated; default: the manifest's tests.boot.media. */
  media: string | undefined;
  /** Comma-separated; default: the manifest's tests.boot.firmware. */
  firmware: string | undefined;
  /** Boot all runs at once instead of as many as the cores allow. */
  parallel: boolean;
  /** `--builder`, for media built first. */
  builder?: string | undefined;
}

const MEDIA: readonly Media[] = ['iso', 'raw'];
const FIRMWARE: readonly Firmware[] = ['bios', 'uefi'];

function parseList<T extends string>(option: string, value: string | undefined, allowed: readonly T[]): T[] | undefined {
  if (value === undefined) return undefined;
  return choices(`--${option}`, value, allowed);
}

/** Where `derivc build --target MEDIA -o outDir` puts the medium. */
export function mediumPath(name: string, version: string, targets: TargetsIR, media: Media, outDir: string): string {
  if (media === 'iso') return join(outDir, isoFileName({ name, version }, targets.iso));
  return join(outDir, rawFileName({ name, version }, targets.raw));
}

/** How many QEMUs run at once: each emulates two CPUs, so one per two host cores. */
export function defaultConcurrency(cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / DEFAULT_CPUS));
}

export async function testCommand(args: TestArgs, io: CliIO): Promise<number> {
  if (args.files.length > 1) throw new UsageError('`test` takes one manifest');
  const mediaOpt = parseList('media', args.media, MEDIA);
  const firmwareOpt = parseList('firmware', args.firmware, FIRMWARE);

  const [path] = manifestPaths(args.files, io);
  // Read once, here, for building missing media too: through build's recording host (cli/input-paths.ts).
  const recording = recordInputs(io.host, () => path);
  const session = validationSession(recording.host);
  const validated = session.validate(path!);
  if (validated.diagnostics.length) {
    io.stderr(
      formatDiagnostics(
        'pretty',
        { diagnostics: sortDiagnostics(validated.diagnostics), sources: session.sources },
        { color: wantsColor(io), toolVersion: VERSION },
      ),
    );
  }
  const v = validated.value.manifest;
  if (!v || validated.diagnostics.some((d) => isFailing(d, false))) return EXIT.failed;
  const { name, version } = v.manifest.metadata;
  const boot = bootTestOf(v);
  const targets = targetsOf(v);
  const media = mediaOpt ?? boot.media;
  const firmware = firmwareOpt ?? boot.firmware;
  const check: ConsoleCheck = { expect: boot.expect, forbid: boot.forbid, timeoutMs: boot.timeoutMs };
  const { buildCommand: build, defaultOutDir } = await import('./build.js');
  const outDir = args.out ?? defaultOutDir(name);

  const host = await hostTools(firmware, v, io);
  if ('code' in host) {
    io.stderr(formatDiagnostics('pretty', { diagnostics: [host], sources: session.sources }, { color: wantsColor(io), toolVersion: VERSION }));
    return EXIT.failed;
  }

  const paths = new Map(media.map((m) => [m, mediumPath(name, version, targets, m, outDir)] as const));
  const missing = media.filter((m) => !existsSync(paths.get(m)!));
  if (missing.length) {
    // Missing media are made the way `derivc build --target … -o DIR` makes them (the image too,
    // when it is not up to date); media already there are booted as they are.
    io.stderr(
      `no ${missing.map((m) => shown(paths.get(m)!)).join(', ')}: building with \`derivc build ${shown(path!)} --target ${missing.join(',')} -o ${shown(outDir)}\`\n`,
    );
    const built = await build({ files: [path!], out: outDir, quiet: false, json: false, target: missing.join(','), builder: args.builder }, io, {
      validated: { recording, session },
    });
    if (built !== EXIT.ok) return built;
    for (const m of missing) {
      if (!existsSync(paths.get(m)!)) throw new Error(`derivc build --target ${m} succeeded but made no ${paths.get(m)}`);
    }
  }

  // The boots read media from DIR and write test/ into it: DIR stays locked meanwhile, so that a
  // concurrent compile cannot replace it under them and drop a result (cli/output-dir.ts).
  const note = (line: string) => io.stderr(`derivc: ${shown(line)}\n`);
  const out = await openOutputDir(outDir, { command: 'test', note }, { ...(io.signal ? { signal: io.signal } : {}), onWait: note });
  try {
    const plans = media.flatMap((m) => firmware.map((f) => ({ media: m, firmware: f, path: paths.get(m)! })));
    const runs: BootRun[] = [];
    const concurrency = args.parallel ? plans.length : defaultConcurrency();
    let next = 0;
    const worker = async () => {
      while (next < plans.length && !io.signal?.aborted) {
        const plan = plans[next++]!;
        const dir = runDir(outDir, plan);
        mkdirSync(dir, { recursive: true });
        io.stderr(
          `booting ${shown(plan.path)} under ${plan.firmware} (${runName(plan)}): waiting for ${check.expect.map((e) => `\`${e}\``).join(', ')} within ${Math.round(check.timeoutMs / 1000)} s\n`,
        );
        const result = await bootOne(plan, check, host, join(dir, 'console.log'), io.signal);
        const run: BootRun = { ...plan, check, result };
        runs.push(run);
        writeRunResult(outDir, run);
        report(run, dir, io);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, plans.length) }, worker));

    // Runs finish in any order when parallel; the report lists them in plan order.
    runs.sort((a, b) => plans.findIndex((p) => runName(p) === runName(a)) - plans.findIndex((p) => runName(p) === runName(b)));
    const junit = writeJunit(outDir, name, runs);
    const failed = runs.filter((r) => r.result.status !== 'passed').length;
    const skipped = plans.length - runs.length;
    io.stderr(
      `${runs.length - failed} passed, ${failed} failed${skipped ? `, ${skipped} not run (cancelled)` : ''}; reports in ${shown(join(outDir, 'test'))} (${shown(junit)})\n`,
    );
    return failed || skipped ? EXIT.failed : EXIT.ok;
  } finally {
    out.close();
  }
}

async function bootOne(
  plan: { media: Media; firmware: Firmware; path: string },
  check: ConsoleCheck,
  host: QemuHost,
  consoleFile: string,
  signal: AbortSignal | undefined,
): Promise<BootResult> {
  try {
    return await bootAndCheck({ ...plan, check, consoleFile, host, ...(signal ? { signal } : {}) });
  } catch (err) {
    // Setting up the run failed (the variable store could not be copied, the log not written).
    return { status: 'failed', reason: 'error', message: (err as Error).message, matched: [], durationMs: 0, consoleTail: '', qemuOutput: '', command: [] };
  }
}

function report(run: BootRun, dir: string, io: CliIO): void {
  const r = run.result;
  if (r.status === 'passed') {
    const times = r.matched.map((m) => `\`${m.text}\` ${(m.atMs / 1000).toFixed(1)} s`).join(', ');
    io.stderr(`PASS ${runName(run)}: ${times}\n`);
    return;
  }
  const lines = [`FAIL ${runName(run)}: ${r.message}`];
  if (r.qemuOutput.trim()) lines.push(`  QEMU: ${r.qemuOutput.trim().split('\n').join('\n  QEMU: ')}`);
  const tail = consoleTail(r.consoleTail);
  if (tail.length) lines.push(`  console tail (last ${tail.length} lines; full log ${join(dir, 'console.log')}):`, ...tail.map((l) => `  | ${l}`));
  io.stderr(lines.join('\n') + '\n');
}

/** QEMU (and OVMF for UEFI) from the host, or a `test/tool-missing` diagnostic naming the packages to install. */
async function hostTools(firmware: readonly Firmware[], validated: ValidatedManifest, io: CliIO): Promise<QemuHost | Diagnostic> {
  const missing: string[] = [];
  const binary = await findOnPath(DEFAULT_QEMU.binary, io.env);
  if (!binary) missing.push(DEFAULT_QEMU.binary);
  if (firmware.includes('uefi')) {
    for (const file of [DEFAULT_QEMU.ovmfCode, DEFAULT_QEMU.ovmfVars]) if (!(await probeFile(file))) missing.push(file);
  }
  if (missing.length === 0) return { ...DEFAULT_QEMU, binary: binary! };
  const packages = [...new Set(missing.map((m) => debianPackageOf(m)).filter(Boolean))];
  const pointer = validated.manifest.tests?.boot !== undefined ? '/tests/boot' : '';
  return {
    code: 'test/tool-missing',
    severity: 'error',
    message: `\`derivc test\` needs ${missing.map((m) => `\`${m}\`${debianPackageOf(m) ? ` (Debian package ${debianPackageOf(m)})` : ''}`).join(', ')}, not found on this host`,
    file: validated.path,
    pointer,
    range: validated.source.locate(pointer, 'key'),
    hint: `install them as root: \`apt-get install -y ${packages.join(' ')}\`${firmware.includes('uefi') ? '; `--firmware bios` needs no OVMF' : ''}; \`derivc doctor\` checks every tool`,
  };
}
