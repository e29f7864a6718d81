// Shared, expensive e2e fixtures, made once per machine and reused. No registry can be reached
// here, so the Debian base image is made the way an air-gapped user would: mmdebstrap into a tar,
// then `docker import`. Test files run in parallel processes; a lock directory keeps them from
// building it twice.

import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import * as tar from 'tar-stream';
import { debianPackageOf } from '../../cli/host-tools.js';
import type { DockerEngine } from '../../targets/io/engine.js';

export const DEBIAN_BASE = 'local/debian:bookworm';

/** Runs one program to completion (no shell); rejects with its output when it fails. */
export type Runner = (file: string, args: readonly string[]) => Promise<void>;

export interface FixtureOptions {
  /** Tests replace the real programs. */
  run?: Runner;
  /** Where the lock lives (default: one per machine, in the temp directory). */
  lockDir?: string;
  /** How long to wait for another process's build before giving up. */
  lockTimeoutMs?: number;
}

// mmdebstrap takes ~15 s with a warm package cache; the margin is for a slow one.
const BUILD_TIMEOUT_MS = 10 * 60_000;
const LOCK_POLL_MS = 200;
/** A lock directory without an owner file this old was left by a process that died in between. */
const ORPHAN_LOCK_MS = 30_000;

const runProgram: Runner = async (file, args) => {
  try {
    await execa(file, args, { timeout: BUILD_TIMEOUT_MS, stdin: 'ignore' });
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') {
      const pkg = debianPackageOf(file) ?? (file === 'docker' ? 'docker.io' : undefined);
      throw new Error(`\`${file}\` is not installed${pkg ? ` (apt-get install -y ${pkg})` : ''}: it makes the e2e base image ${DEBIAN_BASE}`, { cause: err });
    }
    throw err;
  }
};

/** `local/debian:bookworm` (a minbase Debian 12), made on first use and reused after. */
export async function ensureDebianBase(engine: DockerEngine, options: FixtureOptions = {}): Promise<string> {
  if (await engine.imageLabels(DEBIAN_BASE)) return DEBIAN_BASE;
  const run = options.run ?? runProgram;
  const lockDir = options.lockDir ?? path.join(os.tmpdir(), 'derivc-e2e-debian-base.lock');
  await withLock(lockDir, options.lockTimeoutMs ?? BUILD_TIMEOUT_MS + 60_000, async () => {
    // Another process may have made it while this one waited for the lock.
    if (await engine.imageLabels(DEBIAN_BASE)) return;
    const work = await mkdtemp(path.join(os.tmpdir(), 'derivc-base-'));
    try {
      const tarball = path.join(work, 'base.tar');
      // No mirror argument: mmdebstrap uses the host's own apt sources, whatever mirror they name.
      await run('mmdebstrap', ['--variant=minbase', 'bookworm', tarball]);
      await run('docker', ['import', tarball, DEBIAN_BASE]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
  if (!(await engine.imageLabels(DEBIAN_BASE))) throw new Error(`${DEBIAN_BASE} is still missing after docker import`);
  return DEBIAN_BASE;
}

/** Runs `fn` holding a machine-wide lock: `mkdir` is atomic, and the owner's pid lets a dead owner's lock be taken over. */
async function withLock(lockDir: string, timeoutMs: number, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(lockDir);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await isAbandoned(lockDir)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline)
      throw new Error(
        `gave up after ${Math.round(timeoutMs / 1000)} s waiting for ${lockDir} (another test process is making ${DEBIAN_BASE}; remove the directory if none is)`,
      );
    await sleep(LOCK_POLL_MS);
  }
  try {
    await writeFile(path.join(lockDir, 'owner'), String(process.pid));
    await fn();
  } finally {
    await rm(lockDir, { recursive: true, force: true });
  }
}

async function isAbandoned(lockDir: string): Promise<boolean> {
  const owner = Number((await readFile(path.join(lockDir, 'owner'), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(owner) || owner <= 0) {
    // No owner yet: just created (wait), or its creator died before writing it (take over).
    try {
      return Date.now() - (await stat(lockDir)).mtimeMs > ORPHAN_LOCK_MS;
    } catch {
      return false; // released meanwhile: the next mkdir decides
    }
  }
  try {
    process.kill(owner, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** A one-file image, as a tar for `docker import`: nothing is built or pulled. */
export async function tinyRootfs(text: string): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: 'hello.txt', mode: 0o644, mtime: new Date(0) }, text);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
