// The real TargetIO: host tools through execa with argument arrays (never a shell), streams piped
// straight in, the file system through node:fs. Ctrl-C (the signal) kills the running tool.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { cp, mkdir, mkdtemp, open, rename, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import type { TargetFs, TargetIO } from '../target.js';
import type { DockerEngine } from './engine.js';
import { findOnPath, probeFile } from './host-lookup.js';

/** Lines of a failing tool's output kept for the error message. */
const TAIL_LINES = 15;
/** A tool that ignores SIGTERM after Ctrl-C is killed this much later. */
const KILL_DELAY_MS = 5000;

export interface TargetIOOptions {
  /** The environment tools inherit (a step's own variables are added on top). */
  env: Readonly<Record<string, string | undefined>>;
  signal?: AbortSignal;
  progress?(text: string): void;
}

function tail(text: string): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-TAIL_LINES).join('\n');
}

export const nodeTargetFs: TargetFs = {
  async makeTempDir(parent, prefix) {
    await mkdir(parent, { recursive: true });
    return mkdtemp(path.join(parent, prefix));
  },
  async mkdir(dir) {
    await mkdir(dir, { recursive: true });
  },
  async writeFile(file, content) {
    await writeFile(file, content);
  },
  async copyTree(from, to) {
    // The manifest's overlay was checked to stay inside its folder; links are copied as what they lead to.
    await cp(from, to, { recursive: true, dereference: true, force: true });
  },
  async read(file, offset, length) {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, offset);
      if (bytesRead !== length) throw new Error(`${file} ends before byte ${offset + length}`);
      return buffer;
    } finally {
      await handle.close();
    }
  },
  async patch(file, offset, bytes) {
    const handle = await open(file, 'r+');
    try {
      await handle.write(bytes, 0, bytes.length, offset);
    } finally {
      await handle.close();
    }
  },
  async sha256(file) {
    const hash = createHash('sha256');
    let bytes = 0;
    await pipeline(createReadStream(file), async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        bytes += chunk.length;
        hash.update(chunk);
      }
    });
    return { sha256: hash.digest('hex'), bytes };
  },
  rename,
  async remove(p) {
    await rm(p, { recursive: true, force: true });
  },
};

export function nodeTargetIO(engine: DockerEngine, options: TargetIOOptions): TargetIO {
  const { signal } = options;
  return {
    engine,
    fs: nodeTargetFs,
    ...(signal ? { signal } : {}),
    ...(options.progress ? { progress: options.progress } : {}),
    // An absolute path names a file (firmware, GRUB platform directory); a bare name a program.
    hasTool: async (tool) => (tool.startsWith('/') ? probeFile(tool) : (await findOnPath(tool, options.env)) !== undefined),

    async exec(tool, args, opts = {}) {
      const child = execa(tool, args, {
        cwd: opts.cwd,
        env: { ...options.env, ...opts.env },
        extendEnv: false,
        stdin: opts.stdin ? 'pipe' : 'ignore',
        all: true,
        reject: false,
        stripFinalNewline: false,
        ...(signal ? { cancelSignal: signal, forceKillAfterDelay: KILL_DELAY_MS } : {}),
      });
      // A failing input (the image export) is the cause to report, not the tool's complaint about a cut-off stream.
      let inputError: Error | undefined;
      if (opts.stdin) {
        const input = opts.stdin as NodeJS.ReadableStream & { destroy?(err?: Error): void };
        input.on('error', (err: Error) => {
          inputError ??= err;
          child.kill();
        });
        // The tool may exit before reading everything; that is its exit status's business.
        child.stdin!.on('error', () => undefined);
        input.pipe(child.stdin!);
      }
      const result = await child;
      if (signal?.aborted) {
        const err = new Error(`${tool} was stopped (cancelled)`, { cause: signal.reason });
        err.name = 'AbortError';
        throw err;
      }
      if (inputError) throw inputError;
      if ((result as { code?: string }).code === 'ENOENT') throw new Error(`\`${tool}\` is not installed (not found on PATH)`);
      if (result.failed) {
        const output = tail(String(result.all ?? ''));
        const why = result.exitCode !== undefined ? `exit status ${result.exitCode}` : (result.signal ?? result.shortMessage);
        throw new Error(`${tool} failed (${why})${output ? `:\n${output}` : ''}`);
      }
    },
  };
}
