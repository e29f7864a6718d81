// derivc doctor [--format pretty|json]: what derivc needs on this host, what is there (with
// versions), and the apt-get line that installs the rest. Only the Docker Engine decides the exit
// code — `build` needs it; the media tools are warnings because only their targets need them.
// For the engine it also says how it was chosen (DOCKER_HOST, a docker context, the default
// socket) and which builder derivc would use on it.

import { chooseEngine, describeSource, type EngineChoice, type EngineSource } from '../../targets/io/docker-context.js';
import type { BuilderSupport, EngineInfo } from '../../targets/io/engine.js';
import { defaultBuilder, requestedBuilder } from '../build/builder.js';
import { choice } from '../choices.js';
import { EXIT, UsageError } from '../exit-codes.js';
import { createStyle, printableText } from '../format/style.js';
import { HOST_REQUIREMENTS, hostProbe, type HostProbe, type NeededFor } from '../host-tools.js';
import { wantsColor, type CliIO } from '../io.js';
import { DOCTOR_FORMATS } from '../usage.js';

export { DOCTOR_FORMATS };

/** The Debian package of the Docker Engine (its Depends bring containerd and runc). */
const ENGINE_PACKAGE = 'docker.io';

/** The builder derivc would use, or why the engine could not say. */
export type BuilderReport = BuilderSupport | { builder: null; version: null; reason: string };

export type EngineReport =
  | ({ found: true; endpoint: string; chosenBy: EngineSource } & EngineInfo & { builder: BuilderReport })
  | { found: false; endpoint: string | null; chosenBy: EngineSource; error: string; hint: string };

export interface ToolReport {
  name: string;
  package: string;
  neededFor: NeededFor;
  found: boolean;
  version: string | null;
}

export interface DoctorReport {
  doctorVersion: 1;
  engine: EngineReport;
  tools: ToolReport[];
}

export async function doctorCommand(args: { files: string[]; format: string }, io: CliIO, probe: HostProbe = hostProbe): Promise<number> {
  choice('--format', args.format, DOCTOR_FORMATS);
  if (args.files.length) throw new UsageError('`doctor` takes no arguments');
  const [engine, tools] = await Promise.all([checkEngine(io), checkTools(probe)]);
  const report: DoctorReport = { doctorVersion: 1, engine, tools };
  io.stdout(args.format === 'json' ? JSON.stringify(report, null, 2) + '\n' : renderDoctor(report, wantsColor(io)));
  return engine.found ? EXIT.ok : EXIT.failed;
}

async function checkEngine(io: CliIO): Promise<EngineReport> {
  // The same choice the engine client makes from the same environment (docker-context.ts).
  const choice = chooseEngine(io.env);
  const chosenBy = choice.source;
  if (!io.docker)
    return { found: false, endpoint: null, chosenBy, error: 'this derivc was started without a Docker Engine client', hint: startHint('', choice) };
  let endpoint: string | null = null;
  try {
    const engine = io.docker();
    endpoint = engine.endpoint;
    const info = await engine.info();
    const offered = await checkBuilder(engine.builderVersion?.bind(engine));
    // The builder `derivc build` would use here: DOCKER_BUILDKIT first, as build reads it (cli/build/builder.ts).
    const requested = requestedBuilder(undefined, io.env);
    const chosen = defaultBuilder(requested, info, offered.builder ? offered : undefined);
    // An engine that would not say: build falls back to its API version; both facts are shown.
    const reason = offered.builder || requested !== 'auto' ? chosen.reason : `${offered.reason}; ${chosen.reason}`;
    const builder: BuilderReport = chosen.builder
      ? { builder: chosen.builder, version: chosen.builder === 'buildkit' ? '2' : '1', reason }
      : { builder: null, version: null, reason };
    return { found: true, endpoint, chosenBy, version: info.version, apiVersion: info.apiVersion, os: info.os, arch: info.arch, builder };
  } catch (err) {
    const error = (err as Error).message ?? String(err);
    return { found: false, endpoint, chosenBy, error, hint: startHint(error, choice) };
  }
}

async function checkBuilder(builderVersion: (() => Promise<BuilderSupport>) | undefined): Promise<BuilderReport> {
  if (!builderVersion) return { builder: null, version: null, reason: 'this derivc cannot ask the engine which builder it offers' };
  try {
    return await builderVersion();
  } catch (err) {
    return { builder: null, version: null, reason: `the engine did not say which builder it offers: ${(err as Error).message}` };
  }
}

/** How to get an engine answering, for the cause at hand. */
function startHint(error: string, { source: chosenBy, problem }: EngineChoice): string {
  if (chosenBy.kind === 'default' && problem !== undefined) {
    return 'fix the docker config (or point DOCKER_CONFIG elsewhere), or set DOCKER_HOST or DOCKER_CONTEXT: the config is read only for its currentContext';
  }
  if (chosenBy.kind === 'context') {
    const unset = chosenBy.setBy === 'DOCKER_CONTEXT' ? 'unset DOCKER_CONTEXT' : '`docker context use default`';
    return `the engine is the docker context's: check it with \`docker context inspect ${chosenBy.name}\`, list the others with \`docker context ls\`, or ${unset} for the default socket`;
  }
  if (/permission denied|EACCES|EPERM/i.test(error)) {
    return 'the socket is there but not yours: add your user to the docker group (`usermod -aG docker $USER`, then log in again) or run as root';
  }
  return `install and start it: \`apt-get install -y ${ENGINE_PACKAGE}\`, then \`systemctl start docker\` (without systemd: \`dockerd &\`); or set DOCKER_HOST to a running engine (unix:///path/to/docker.sock or tcp://host:2375)`;
}

async function checkTools(probe: HostProbe): Promise<ToolReport[]> {
  return Promise.all(
    HOST_REQUIREMENTS.map(async (r): Promise<ToolReport> => {
      const status = r.name.startsWith('/') ? { found: await probe.file(r.name) } : await probe.tool(r.name, r.versionArgs ?? ['--version']);
      return { name: r.name, package: r.package, neededFor: r.neededFor, found: status.found, version: ('version' in status && status.version) || null };
    }),
  );
}

/** Every package to install, in table order, once each; the engine's first. */
export function missingPackages(report: DoctorReport): string[] {
  const packages = report.engine.found ? [] : [ENGINE_PACKAGE];
  for (const tool of report.tools) if (!tool.found) packages.push(tool.package);
  return [...new Set(packages)];
}

export function renderDoctor(report: DoctorReport, color: boolean): string {
  const style = createStyle(color);
  const out: string[] = [];
  const { engine } = report;

  out.push(style.bold('Docker Engine') + ' (needed by build)');
  if (engine.found) {
    out.push(
      `  found    ${printableText(engine.version)} (API ${printableText(engine.apiVersion)}, ${printableText(`${engine.os}/${engine.arch}`)}) at ${printableText(engine.endpoint)}`,
    );
    out.push(`  from     ${printableText(describeSource(engine.chosenBy))}`);
    const { builder } = engine;
    const name = builder.builder === 'buildkit' ? 'BuildKit' : builder.builder === 'classic' ? 'classic' : 'unknown';
    out.push(`  builder  ${name} (${printableText(builder.reason)})`);
  } else {
    out.push(`  ${style.severity('error', 'missing')}  ${printableText(engine.error)}`);
    out.push(`           ${printableText(engine.hint)}`);
    out.push(`  from     ${printableText(describeSource(engine.chosenBy))}`);
  }

  out.push('', style.bold('Host tools') + ' (needed only by what the first column names)');
  const rows = [
    ['for', 'tool', 'package', 'status'],
    ...report.tools.map((t) => [t.neededFor, t.name, t.package, t.found ? printableText(t.version ?? 'found') : 'missing']),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  rows.forEach((row, index) => {
    const status = index > 0 && row[3] === 'missing' ? style.severity('warning', 'missing') : row[3]!;
    out.push(`  ${row[0]!.padEnd(widths[0]!)}  ${row[1]!.padEnd(widths[1]!)}  ${row[2]!.padEnd(widths[2]!)}  ${status}`);
  });

  out.push('');
  if (!engine.found)
    out.push(
      `${style.severity('error', 'error')}: no Docker Engine answers${engine.endpoint ? ` at ${printableText(engine.endpoint)}` : ''}: derivc build cannot run.`,
    );
  const missingTools = report.tools.filter((t) => !t.found);
  if (missingTools.length) {
    const uses = [...new Set(missingTools.flatMap((t) => t.neededFor.split(', ')))].join(', ');
    const count = missingTools.length === 1 ? '1 host tool' : `${missingTools.length} host tools`;
    out.push(`${style.severity('warning', 'warning')}: ${count} missing, needed only by: ${uses}.`);
  }
  const packages = missingPackages(report);
  if (packages.length) out.push('To install everything missing (as root):', `  apt-get install -y ${packages.join(' ')}`);
  else out.push('Everything derivc can use is here.');
  return out.join('\n') + '\n';
}
