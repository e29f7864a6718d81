// Which Docker Engine derivc talks to, decided exactly as the docker CLI decides it: DOCKER_HOST
// when set; else the context DOCKER_CONTEXT names; else `currentContext` in the docker config
// ($DOCKER_CONFIG/config.json, default ~/.docker/config.json); else — or for the context named
// `default` — the default socket. A named context is read from the CLI's own store: its address in
// contexts/meta/<sha256 of the name>/meta.json, its TLS files in contexts/tls/<same>/docker/.
// Pure: the environment and a file reader come in, so the rules are tested on a temp directory.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** The context the docker CLI means by "no context": DOCKER_HOST or the default socket. */
const DEFAULT_CONTEXT = 'default';

export interface ContextFiles {
  /** A file's bytes; undefined when there is no such file; throws when it is there but cannot be read. */
  readFile(file: string): Uint8Array | undefined;
  /** The user's home directory, when HOME is not set. */
  homeDir(): string;
}

export const nodeContextFiles: ContextFiles = {
  readFile(file) {
    try {
      return fs.readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw err;
    }
  },
  homeDir: () => os.homedir(),
};

/** How the engine was chosen, for doctor and for messages. */
export type EngineSource =
  | { kind: 'DOCKER_HOST' }
  | { kind: 'context'; name: string; setBy: 'DOCKER_CONTEXT' }
  | { kind: 'context'; name: string; setBy: 'config'; configFile: string }
  | { kind: 'default' };

/** A context's TLS material, as the docker CLI uses it: TLS when any file is there or verification is skipped. */
export interface ContextTls {
  ca?: Uint8Array;
  cert?: Uint8Array;
  key?: Uint8Array;
  skipVerify: boolean;
}

export interface EngineChoice {
  source: EngineSource;
  /** The address as DOCKER_HOST would say it (empty when `problem` says why there is none). */
  host: string;
  /** Only for a named context: its TLS files and SkipTLSVerify (DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are for DOCKER_HOST). */
  tls?: ContextTls;
  /** Why no engine can be named: a context that does not exist or cannot be read, an unreadable docker config. */
  problem?: string;
}

/** The docker CLI's config directory: DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(env: Readonly<Record<string, string | undefined>>, files: ContextFiles): string {
  return env['DOCKER_CONFIG'] || path.join(env['HOME'] || files.homeDir(), '.docker');
}

/** Where the engine is and how that was decided (the docker CLI's order; `--context`/`-H` have no derivc equivalent). */
export function chooseEngine(env: Readonly<Record<string, string | undefined>>, files: ContextFiles = nodeContextFiles): EngineChoice {
  const host = (env['DOCKER_HOST'] ?? '').trim();
  if (host !== '') return { source: { kind: 'DOCKER_HOST' }, host };
  const configDir = dockerConfigDir(env, files);
  const fromEnv = env['DOCKER_CONTEXT'] ?? '';
  let source: EngineSource;
  if (fromEnv !== '') {
    source = { kind: 'context', name: fromEnv, setBy: 'DOCKER_CONTEXT' };
  } else {
    const configFile = path.join(configDir, 'config.json');
    const current = currentContext(configFile, files);
    if (typeof current !== 'string') return { source: { kind: 'default' }, host: '', problem: current.problem };
    source = current === '' ? { kind: 'default' } : { kind: 'context', name: current, setBy: 'config', configFile };
  }
  if (source.kind !== 'context' || source.name === DEFAULT_CONTEXT) return { source: { kind: 'default' }, host: DEFAULT_DOCKER_HOST };
  return readContext(source, configDir, files);
}

/** `currentContext` of the docker config ('' when it has none or there is no config); a problem when the file is unreadable or malformed. */
function currentContext(configFile: string, files: ContextFiles): string | { problem: string } {
  let config: unknown;
  try {
    const bytes = files.readFile(configFile);
    if (bytes === undefined) return '';
    config = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return { problem: `the docker config ${configFile} cannot be read (derivc looks for its currentContext there): ${(err as Error).message}` };
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return { problem: `the docker config ${configFile} is not a JSON object` };
  const current = (config as { currentContext?: unknown }).currentContext;
  if (current === undefined) return '';
  if (typeof current !== 'string') return { problem: `currentContext in the docker config ${configFile} is not a string` };
  return current;
}

/** The docker CLI's store directory for a context: the SHA-256 of its name, so no name reaches a path. */
export function contextDigest(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

function readContext(source: EngineSource & { kind: 'context' }, configDir: string, files: ContextFiles): EngineChoice {
  // Messages name the context through the endpoint (choiceEndpoint): the problem says only what is wrong.
  const broken = (problem: string): EngineChoice => ({ source, host: '', problem: `the context ${problem}` });
  const digest = contextDigest(source.name);
  const metaFile = path.join(configDir, 'contexts', 'meta', digest, 'meta.json');
  let meta: unknown;
  try {
    const bytes = files.readFile(metaFile);
    if (bytes === undefined) return broken(`does not exist: there is no ${metaFile} (\`docker context ls\` lists the contexts)`);
    meta = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (err) {
    return broken(`cannot be read: ${metaFile}: ${(err as Error).message}`);
  }
  const docker = (meta as { Endpoints?: { docker?: unknown } } | null)?.Endpoints?.docker;
  if (docker === null || typeof docker !== 'object') return broken(`has no docker endpoint in ${metaFile}`);
  const { Host: host = '', SkipTLSVerify: skipVerify = false } = docker as { Host?: unknown; SkipTLSVerify?: unknown };
  if (typeof host !== 'string') return broken(`has a docker endpoint whose Host is not a string in ${metaFile}`);
  if (typeof skipVerify !== 'boolean') return broken(`has a docker endpoint whose SkipTLSVerify is not a boolean in ${metaFile}`);

  const tlsDir = path.join(configDir, 'contexts', 'tls', digest, 'docker');
  const tls: ContextTls = { skipVerify };
  try {
    for (const part of ['ca', 'cert', 'key'] as const) {
      const bytes = files.readFile(path.join(tlsDir, `${part}.pem`));
      if (bytes !== undefined) tls[part] = bytes;
    }
  } catch (err) {
    return broken(`has TLS files that cannot be read in ${tlsDir}: ${(err as Error).message}`);
  }
  if ((tls.cert === undefined) !== (tls.key === undefined))
    return broken(`has ${tls.cert ? 'cert.pem but no key.pem' : 'key.pem but no cert.pem'} in ${tlsDir}`);
  // An empty Host is the docker CLI's default host, as for the default context.
  return { source, host: host.trim() || DEFAULT_DOCKER_HOST, tls };
}

function setByText(source: EngineSource & { kind: 'context' }): string {
  return source.setBy === 'DOCKER_CONTEXT' ? 'DOCKER_CONTEXT' : `currentContext in ${source.configFile}`;
}

/** How the engine was chosen, in words: "DOCKER_HOST", "docker context "ci" (DOCKER_CONTEXT)", … */
export function describeSource(source: EngineSource): string {
  switch (source.kind) {
    case 'DOCKER_HOST':
      return 'DOCKER_HOST';
    case 'context':
      return `docker context "${source.name}" (${setByText(source)})`;
    case 'default':
      return 'the default socket (no DOCKER_HOST, no docker context)';
  }
}

/** What messages call the engine: its address, or the context that names none. */
export function choiceEndpoint(choice: EngineChoice): string {
  if (choice.host !== '') return choice.host;
  return choice.source.kind === 'context' ? describeSource(choice.source) : 'the current docker context';
}
