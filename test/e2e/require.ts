// Gates for the end-to-end tests: what they need from the host, or why they cannot run.
// Without DERIVC_E2E=1 (a developer's machine) a missing piece skips with a printed reason;
// under DERIVC_E2E=1 (CI) it throws, so the suite fails instead of passing by skipping.

import { debianPackageOf, findOnPath, probeFile } from '../../cli/host-tools.js';
import type { DockerEngine } from '../../targets/io/engine.js';
import { lazyEngine } from '../../targets/io/lazy-engine.js';

export function e2eRequired(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env['DERIVC_E2E'] === '1';
}

/** Under DERIVC_E2E=1 throws; otherwise prints why and returns undefined (the caller skips). */
function unavailable(reason: string): undefined {
  if (e2eRequired()) throw new Error(`${reason} (DERIVC_E2E=1: end-to-end tests must run, not skip)`);
  console.warn(`e2e skipped: ${reason} (set DERIVC_E2E=1 to make this a failure)`);
  return undefined;
}

/** The Docker Engine at DOCKER_HOST or the default socket, once it has answered: the client `derivc` itself uses. */
export async function e2eEngine(): Promise<DockerEngine | undefined> {
  const engine = lazyEngine(process.env);
  try {
    await engine.info();
    return engine;
  } catch (err) {
    return unavailable(`no Docker Engine: ${(err as Error).message}`);
  }
}

/**
 * The path of a host tool on PATH (or of a file given by absolute path, such as OVMF firmware),
 * or undefined, after the same rule, when it is missing.
 */
export async function requireTool(name: string): Promise<string | undefined> {
  const found = name.startsWith('/') ? ((await probeFile(name)) ? name : undefined) : await findOnPath(name);
  if (found !== undefined) return found;
  const pkg = debianPackageOf(name);
  return unavailable(`\`${name}\` is ${name.startsWith('/') ? 'missing' : 'not on PATH'}${pkg ? ` (apt-get install -y ${pkg})` : ''}`);
}
