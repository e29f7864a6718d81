// Which of the Engine's builders builds, and what a build request carries for it. BuildKit (the
// default wherever the Engine has it) gets the Dockerfile as compiled — cache mounts for the
// package manager, secret mounts for repository credentials — and the secrets' contents for its
// session. The classic builder gets the same Dockerfile without the `--mount` flags (the package
// scripts then clean up in the image themselves); a manifest with credentials cannot be built
// with it, which is said before anything is built. The compiled Dockerfile on disk and its
// sha256 in derivc.json stay as compiled either way.

import type { Diagnostic } from '../../compiler/diagnostics.js';
import { classicDockerfile } from '../../compiler/emit/classic-dockerfile.js';
import { repositorySecrets, secretContent, secretValueProblem } from '../../compiler/emit/repo-auth.js';
import type { Compiled } from '../../compiler/compile.js';
import type { Host } from '../../compiler/host.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import { withDockerfile } from '../../targets/io/context-dockerfile.js';
import type { BuildEvent, BuilderKind, BuilderSupport, BuildRequest, EngineInfo } from '../../targets/io/engine.js';
import { contentBytes } from '../content.js';
import { UsageError } from '../exit-codes.js';
import { BUILDER_CHOICES } from '../usage.js';
import { readSecret, redactor, secretDiagnostic } from './secrets.js';

export type BuilderChoice = (typeof BUILDER_CHOICES)[number];

/** BuildKit through the API: build version 2 and /session, since API 1.39 (Docker 18.09), on Linux engines. */
const BUILDKIT_API = [1, 39];

export function engineHasBuildKit(info: EngineInfo): boolean {
  const [major = 0, minor = 0] = info.apiVersion.split('.').map(Number);
  return info.os === 'linux' && (major > BUILDKIT_API[0]! || (major === BUILDKIT_API[0] && minor >= BUILDKIT_API[1]!));
}

/** `--builder`, else DOCKER_BUILDKIT (`0` classic, `1` BuildKit, as the docker CLI reads it), else auto. */
export function requestedBuilder(flag: string | undefined, env: Readonly<Record<string, string | undefined>>): BuilderChoice {
  if (flag !== undefined) {
    if (!(BUILDER_CHOICES as readonly string[]).includes(flag)) throw new UsageError(`--builder takes ${BUILDER_CHOICES.join(', ')}, not \`${flag}\``);
    return flag as BuilderChoice;
  }
  const env0 = (env['DOCKER_BUILDKIT'] ?? '').trim().toLowerCase();
  if (env0 === '0' || env0 === 'false') return 'classic';
  if (env0 === '1' || env0 === 'true') return 'buildkit';
  return 'auto';
}

/**
 * The builder a run uses, in words (doctor shows it): `--builder`/DOCKER_BUILDKIT when set, else
 * what the Engine states in /_ping (`offered`, the docker CLI's rule: targets/io/dockerode-engine.ts),
 * else BuildKit wherever the Engine has it. Undefined `builder`: BuildKit was asked for and is not there.
 */
export function defaultBuilder(
  requested: BuilderChoice,
  info: EngineInfo,
  offered: BuilderSupport | undefined,
  flag = 'DOCKER_BUILDKIT',
): { builder: BuilderKind; reason: string } | { builder: undefined; reason: string } {
  const has = engineHasBuildKit(info);
  if (requested === 'classic') return { builder: 'classic', reason: `${flag} asks for the classic builder` };
  if (requested === 'buildkit')
    return has
      ? { builder: 'buildkit', reason: `${flag} asks for BuildKit` }
      : { builder: undefined, reason: `${flag} asks for BuildKit, and this Engine has none (it needs API 1.39 or later on Linux)` };
  if (offered) return { builder: offered.builder === 'buildkit' && has ? 'buildkit' : 'classic', reason: offered.reason };
  return has
    ? { builder: 'buildkit', reason: `API ${info.apiVersion} on ${info.os} has BuildKit` }
    : { builder: 'classic', reason: 'the Engine has no BuildKit' };
}

/** The builder for this Engine, or why the one asked for cannot be had. */
export function chooseBuilder(
  requested: BuilderChoice,
  info: EngineInfo,
  offered: BuilderSupport | undefined,
  endpoint: string,
  manifest: ValidatedManifest,
): { kind: BuilderKind } | { diagnostic: Diagnostic } {
  const chosen = defaultBuilder(requested, info, offered);
  if (chosen.builder) return { kind: chosen.builder };
  return {
    diagnostic: {
      code: 'build/buildkit-unavailable',
      severity: 'error',
      message: `BuildKit was asked for, but the Docker Engine at ${endpoint} (${info.version}, API ${info.apiVersion}, ${info.os}) has none: it needs API 1.39 or later on Linux`,
      file: manifest.path,
      pointer: '',
      hint: 'use `--builder auto` or `--builder classic`, or point DOCKER_HOST at a newer Engine',
    },
  };
}

/** Every manifest of the chain, upstreams first. */
function chain(v: ValidatedManifest): ValidatedManifest[] {
  return [...(v.upstream ? chain(v.upstream) : []), v];
}

interface AuthAt {
  repository: string;
  pointer: string;
  auth: { username: string; env?: string; file?: string };
}

function authsOf(v: ValidatedManifest): AuthAt[] {
  const repos = (v.manifest.packages?.repositories ?? []) as unknown as { name?: string; auth?: AuthAt['auth'] }[];
  return repos.flatMap((r, i) => (r.auth ? [{ repository: r.name ?? String(i), pointer: `/packages/repositories/${i}/auth`, auth: r.auth }] : []));
}

/**
 * Before anything is built: the chain's credentials need BuildKit, and each must be readable.
 * (The values are read again, with their families' formats checked, when each manifest builds.)
 */
export function builderPreflight(v: ValidatedManifest, kind: BuilderKind, env: Readonly<Record<string, string | undefined>>, host: Host): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const m of chain(v)) {
    for (const a of authsOf(m)) {
      if (kind === 'classic') {
        out.push({
          code: 'build/buildkit-required',
          severity: 'error',
          message: `repository \`${a.repository}\` has credentials, which reach the package manager only through BuildKit secret mounts, and the build uses the classic builder`,
          file: m.path,
          pointer: a.pointer,
          range: m.source.locate(a.pointer, 'key'),
          hint: 'drop `--builder classic` (and DOCKER_BUILDKIT=0), or build on an Engine with BuildKit',
        });
        continue;
      }
      const source = a.auth.env !== undefined ? { env: a.auth.env } : { file: a.auth.file ?? '' };
      const read = readSecret({ username: a.auth.username, source, pointer: a.pointer }, m, env, host);
      if ('problem' in read) out.push(secretDiagnostic(m, a.repository, read));
    }
  }
  return out;
}

/** What a build request adds for its builder, how the context is sent, and what hides the passwords. */
export interface PreparedBuild {
  request: Pick<BuildRequest, 'builder' | 'dockerfile' | 'secrets'>;
  /** The context stream as the builder takes it (the classic builder's Dockerfile without `--mount`). */
  context(stream: NodeJS.ReadableStream): NodeJS.ReadableStream;
  redact(event: BuildEvent): BuildEvent;
  redactText(text: string): string;
}

/** The request for one compiled manifest; diagnostics when a password cannot be read or used. */
export function prepareBuild(
  v: ValidatedManifest,
  compiled: Compiled,
  kind: BuilderKind,
  env: Readonly<Record<string, string | undefined>>,
  host: Host,
): PreparedBuild | { diagnostics: Diagnostic[] } {
  const file = compiled.files.find((f) => f.path === 'Dockerfile');
  const dockerfile = file?.content !== undefined ? contentBytes(file.content).toString('utf8') : '';
  const secrets = new Map<string, Uint8Array>();
  const values: string[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const s of kind === 'buildkit' ? repositorySecrets(compiled.build) : []) {
    const read = readSecret(s.auth, v, env, host);
    if ('problem' in read) {
      diagnostics.push(secretDiagnostic(v, s.repository, read));
      continue;
    }
    const problem = secretValueProblem(s, read.value);
    if (problem) {
      const pointer = `${s.auth.pointer}/${'env' in s.auth.source ? 'env' : 'file'}`;
      diagnostics.push({
        code: 'build/secret-invalid',
        severity: 'error',
        message: `the password of repository \`${s.repository}\` cannot be handed to the package manager: ${problem}`,
        file: v.path,
        pointer,
        range: v.source.locate(pointer),
        hint: 'a password is one line without control characters (for apt: without whitespace either)',
      });
      continue;
    }
    values.push(read.value);
    const repoFile = compiled.files.find((f) => f.path === `repos${s.target}`);
    const repoText = repoFile?.content !== undefined ? contentBytes(repoFile.content).toString('utf8') : '';
    secrets.set(s.id, Buffer.from(secretContent(s, read.value, repoText)));
  }
  if (diagnostics.length) return { diagnostics };
  const hide = redactor(values);
  const classic = classicDockerfile(dockerfile);
  return {
    request: kind === 'buildkit' ? { builder: kind, dockerfile, secrets } : { builder: kind },
    context: (stream) => (kind === 'classic' && classic !== dockerfile ? withDockerfile(stream, classic) : stream),
    redact: (e) =>
      e.kind === 'output'
        ? { ...e, text: hide(e.text) }
        : e.kind === 'error'
          ? { ...e, message: hide(e.message) }
          : e.kind === 'step'
            ? { ...e, instruction: hide(e.instruction) }
            : e,
    redactText: hide,
  };
}
