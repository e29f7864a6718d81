// `derivc build --push`: every tag of the built image pushed through the Engine API, with the
// credentials the docker CLI would send for that registry (targets/io/docker-credentials.ts:
// config `auths`, `credHelpers`, `credsStore`). Tags that name no registry are refused before
// anything is built; a refused login, an unreachable registry or another failure is a diagnostic
// at the tag. Credentials go to the Engine in its X-Registry-Auth header and nowhere else: no
// message, log line or record holds them (messages are passed through a redactor anyway, in case
// an Engine or helper echoes one).

import type { Diagnostic } from '../../compiler/diagnostics.js';
import { defaultTagsOf } from '../../compiler/image-tags.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';
import type { RegistryCredentials } from '../../targets/io/buildkit-session.js';
import { EngineUnreachableError, PushError, type DockerEngine, type PushEvent, type RegistryAuth } from '../../targets/io/engine.js';
import { redactor } from './secrets.js';

/** derivc's placeholder registry: the default tag when neither `build.tags` nor `upgrade.image` is set. */
export const PLACEHOLDER_REGISTRY = 'derivc.local';
const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const HUB_SERVER = 'https://index.docker.io/v1/';

/** The registry host a reference names: its first component when that is a host (`.`, `:` or `localhost`), as the docker CLI reads it. */
export function registryOf(ref: string): string | undefined {
  const slash = ref.indexOf('/');
  if (slash < 0) return undefined;
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : undefined;
}

/** Where the manifest states the tag (its default tag: where the default comes from). */
function tagPointer(v: ValidatedManifest, index: number): string {
  if (v.manifest.build?.tags) return `/build/tags/${index}`;
  return v.manifest.upgrade?.image !== undefined ? '/upgrade/image' : '/metadata/name';
}

function at(v: ValidatedManifest, index: number): Pick<Diagnostic, 'file' | 'pointer' | 'range'> {
  const pointer = tagPointer(v, index);
  return { file: v.path, pointer, range: v.source.locate(pointer) };
}

/** Before anything is built: every tag `--push` would push names a registry. */
export function pushPreflight(v: ValidatedManifest): Diagnostic[] {
  return defaultTagsOf(v.manifest).flatMap((tag, i): Diagnostic[] => {
    const host = registryOf(tag);
    if (host !== undefined && host !== PLACEHOLDER_REGISTRY) return [];
    const why =
      host === PLACEHOLDER_REGISTRY
        ? `\`${PLACEHOLDER_REGISTRY}\` is derivc's placeholder for an image that is not pushed (the default tag when neither \`build.tags\` nor \`upgrade.image\` is set)`
        : 'its first component is no registry host, and derivc does not send images to Docker Hub unasked';
    return [
      {
        code: 'build/push-no-registry',
        severity: 'error',
        message: `\`--push\` cannot push \`${tag}\`: ${why}`,
        ...at(v, i),
        hint: 'name the registry in `build.tags` (for Docker Hub: `docker.io/ORG/NAME:TAG`)',
      },
    ];
  });
}

/** The credentials as the Engine takes them; an identity token comes back from the lookup with an empty user name. */
export function engineAuth(host: string, c: RegistryCredentials): RegistryAuth {
  const serveraddress = HUB_NAMES.has(host) ? HUB_SERVER : host;
  return c.username === '' ? { serveraddress, identitytoken: c.secret } : { serveraddress, username: c.username, password: c.secret };
}

export interface PushOptions {
  engine: DockerEngine;
  /** Credentials by registry host (dockerCredentials of the run's environment). */
  credentials: (host: string) => Promise<RegistryCredentials | undefined>;
  /** Before each tag's push, and each line of its progress. */
  onStart?: (tag: string, host: string) => void;
  onEvent?: (tag: string, event: PushEvent) => void;
  signal?: AbortSignal;
}

export type PushOutcome = { pushed: { tag: string; digest: string }[] } | { diagnostics: Diagnostic[] } | { cancelled: true };

/** Why one push failed, as a diagnostic says it (the caller knows where). */
export type PushFailure = Pick<Diagnostic, 'code' | 'message' | 'hint'>;

export type RefPushOutcome = { digest: string } | { failure: PushFailure } | { cancelled: true };

/**
 * Pushes one reference the Engine has, with the credentials the docker CLI would send for its
 * registry: `--push` for each tag, `--cache-to` for the cache image. Credentials are masked in
 * every message and progress line.
 */
export async function pushRef(ref: string, o: PushOptions): Promise<RefPushOutcome> {
  if (!o.engine.push) throw new Error('this Docker Engine client cannot push');
  const host = registryOf(ref);
  const fail = (code: Diagnostic['code'], message: string, hint: string): RefPushOutcome => ({ failure: { code, message, hint } });
  if (host === undefined)
    return fail(
      'build/push-no-registry',
      `cannot push \`${ref}\`: its first component is no registry host`,
      'name the registry (for Docker Hub: `docker.io/ORG/NAME:TAG`)',
    );
  let creds: RegistryCredentials | undefined;
  try {
    creds = await o.credentials(host);
  } catch (err) {
    // A config file that is not JSON: the parser's message quotes the file, which holds credentials.
    const why = err instanceof SyntaxError ? 'the docker config file (DOCKER_CONFIG or ~/.docker/config.json) is not JSON' : (err as Error).message;
    return fail(
      'build/push-credentials',
      `cannot read the credentials for ${host}: ${why}`,
      'check `docker login ' + host + '` works with the same DOCKER_CONFIG and PATH',
    );
  }
  const hide = redactor(creds ? [creds.secret, Buffer.from(`${creds.username}:${creds.secret}`).toString('base64')] : []);
  o.onStart?.(ref, host);
  try {
    return await o.engine.push(ref, creds && engineAuth(host, creds), (e) => o.onEvent?.(ref, { ...e, status: hide(e.status) }), o.signal);
  } catch (err) {
    if (o.signal?.aborted) return { cancelled: true };
    if (err instanceof EngineUnreachableError) return fail('build/push-failed', hide(err.message), 'check the Docker Engine, then push again');
    if (!(err instanceof PushError)) throw err;
    const said = hide(err.message);
    if (err.reason === 'unauthorized') {
      const sent = creds
        ? `derivc sent the credentials the docker config has for ${host}${creds.username ? ' (a user name and password)' : ' (an identity token)'}`
        : `no credentials for ${host} were found in the docker config (DOCKER_CONFIG or ~/.docker/config.json), so none were sent`;
      return fail(
        'build/push-unauthorized',
        `the registry ${host} refused the push of \`${ref}\`: ${said}; ${sent}`,
        `log in with \`docker login ${host}\` (same DOCKER_CONFIG), or check the account may push to this repository`,
      );
    }
    if (err.reason === 'unreachable')
      return fail(
        'build/push-unreachable',
        `the Docker Engine cannot reach the registry ${host} to push \`${ref}\`: ${said}`,
        `check \`docker push ${ref}\` works on this Engine`,
      );
    return fail(
      'build/push-failed',
      `the push of \`${ref}\` to ${host} failed: ${said}`,
      'the image is built and tagged: `derivc build --push` again pushes it without rebuilding',
    );
  }
}

/** Pushes `tags` (those of `v`, in order); stops at the first failure, reported at the tag. */
export async function pushTags(v: ValidatedManifest, tags: readonly string[], o: PushOptions): Promise<PushOutcome> {
  const pushed: { tag: string; digest: string }[] = [];
  for (const [i, tag] of tags.entries()) {
    // Refused before building; here only if a caller skipped that.
    if (registryOf(tag) === undefined) return { diagnostics: pushPreflight(v) };
    const r = await pushRef(tag, o);
    if ('cancelled' in r) return r;
    if ('failure' in r) return { diagnostics: [{ ...r.failure, severity: 'error', ...at(v, i) }] };
    pushed.push({ tag, digest: r.digest });
  }
  return { pushed };
}

/** `host/repo:tag` → `host/repo@sha256:…` (the tag is after the last colon that follows the last slash). */
export function digestReference(tag: string, digest: string): string {
  const colon = tag.lastIndexOf(':');
  const repo = colon > tag.lastIndexOf('/') ? tag.slice(0, colon) : tag;
  return `${repo.split('@', 1)[0]}@${digest}`;
}
