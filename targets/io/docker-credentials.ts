// Registry credentials the way the docker CLI finds them: the config file ($DOCKER_CONFIG or
// ~/.docker, config.json), a credential helper for the registry (`credHelpers`), else the default
// store (`credsStore`), else the `auths` entry itself. Docker Hub's entry is keyed
// `https://index.docker.io/v1/` whatever name the pull used. BuildKit asks for them over its
// session when it pulls; nothing is found → anonymous.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execa } from 'execa';
import type { RegistryCredentials } from './buildkit-session.js';

const DOCKER_HUB = 'https://index.docker.io/v1/';
const HUB_NAMES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);
const HELPER_TIMEOUT_MS = 30_000;

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `https://host:5000/v1/` or `host:5000` → `host:5000`, as the docker CLI compares registry names. */
function hostname(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').split('/', 1)[0] ?? '';
}

function readConfig(env: Readonly<Record<string, string | undefined>>): DockerConfig {
  const dir = env['DOCKER_CONFIG'] || path.join(env['HOME'] || os.homedir(), '.docker');
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  const parsed = JSON.parse(text) as unknown;
  return parsed !== null && typeof parsed === 'object' ? (parsed as DockerConfig) : {};
}

async function fromHelper(helper: string, server: string, env: Readonly<Record<string, string | undefined>>): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(helper)) throw new Error(`credential helper name ${JSON.stringify(helper)} is not one the docker CLI would run`);
  // Found on the PATH of the environment derivc was handed (the process's own, but for tests), as the docker CLI finds it on its own.
  const r = await execa(`docker-credential-${helper}`, ['get'], {
    input: server,
    reject: false,
    timeout: HELPER_TIMEOUT_MS,
    env: { ...env },
    extendEnv: false,
  });
  const stdout = String(r.stdout ?? '');
  if (r.exitCode !== 0) {
    if (/credentials not found/i.test(stdout)) return undefined;
    throw new Error(`docker-credential-${helper} get failed: ${String(r.stderr || stdout || r.message).trim()}`);
  }
  const answer = JSON.parse(stdout) as { Username?: string; Secret?: string };
  // An identity token comes back with the user name `<token>`: it goes as the secret alone.
  if (answer.Username === '<token>') return { username: '', secret: answer.Secret ?? '' };
  return { username: answer.Username ?? '', secret: answer.Secret ?? '' };
}

/** A lookup of credentials by registry host (`registry-1.docker.io`, `host:5000`); the config is read at the first lookup. */
export function dockerCredentials(env: Readonly<Record<string, string | undefined>>): (host: string) => Promise<RegistryCredentials | undefined> {
  let config: DockerConfig | undefined;
  return async (host) => {
    config ??= readConfig(env);
    const hub = HUB_NAMES.has(host);
    const server = hub ? DOCKER_HUB : host;
    const same = (key: string) => (hub ? HUB_NAMES.has(hostname(key)) || key === DOCKER_HUB : hostname(key) === host);
    const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => same(key))?.[1] ?? config.credsStore;
    if (helper) return fromHelper(helper, server, env);
    const entry = Object.entries(config.auths ?? {}).find(([key]) => same(key))?.[1];
    if (!entry) return undefined;
    if (entry.identitytoken) return { username: '', secret: entry.identitytoken };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
    }
    if (entry.username) return { username: entry.username, secret: entry.password ?? '' };
    return undefined;
  };
}
