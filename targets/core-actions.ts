// The steps every target uses — host tools, files from the image, files derivc writes,
// checksums and the renames that publish — each with how it runs and how `derivc plan` shows it.

import { dirname, join } from 'node:path';
import { shellWord } from '../compiler/quote.js';
import { capturedFile, streamImageFilesystem } from './io/image-stream.js';
import type { ActionHandlers } from './target.js';

type CoreKind = 'exec' | 'extract' | 'mkdir' | 'write' | 'copy-tree' | 'checksum' | 'publish' | 'checksums' | 'publish-dir';

export const CORE_ACTIONS: Pick<ActionHandlers, CoreKind> = {
  exec: {
    describe: (a) => {
      const env = Object.entries(a.env ?? {}).map(([k, v]) => `${k}=${shellWord(v)}`);
      const command = [...env, a.tool, ...a.args.map(shellWord)].join(' ');
      return [a.stdin ? `docker export (created container of ${a.stdin.image}, Docker's init-layer files replaced by the image's) | ${command}` : command];
    },
    run: async (a, { io, at, captures }) => {
      const opts = { cwd: at('.'), ...(a.env ? { env: a.env } : {}) };
      if (!a.stdin) return io.exec(a.tool, a.args, opts);
      const capture = await streamImageFilesystem(io.engine, a.stdin.image, (tar) => io.exec(a.tool, a.args, { ...opts, stdin: tar }), {
        ...(a.stdin.capture ? { capture: a.stdin.capture } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
      });
      if (capture) captures.set(a.stdin.image, capture);
    },
  },
  extract: {
    describe: (a) => a.files.map((f) => `${f.from} (in ${a.image}, links followed) → ${f.to}`),
    run: async (a, { io, at, captures }) => {
      const capture = captures.get(a.image);
      const found = new Map(a.files.map((f) => [f.from, capture && capturedFile(capture, f.from)]));
      const missing = a.files.map((f) => f.from).filter((f) => found.get(f) === undefined);
      if (missing.length > 0) {
        const read = io.engine.readFiles
          ? await io.engine.readFiles(a.image, missing)
          : new Map(await Promise.all(missing.map(async (f) => [f, await io.engine.readFile(a.image, f)] as const)));
        for (const f of missing) found.set(f, read.get(f));
      }
      for (const f of a.files) {
        const content = found.get(f.from);
        if (content === undefined) throw new Error(`the image ${a.image} has no ${f.from} (or it does not lead to a regular file)`);
        await io.fs.mkdir(dirname(at(f.to)));
        await io.fs.writeFile(at(f.to), content);
      }
    },
  },
  mkdir: {
    describe: (a) => [`${a.path}/`],
    run: (a, { io, at }) => io.fs.mkdir(at(a.path)),
  },
  write: {
    describe: (a) => [
      `${a.path}:`,
      ...a.content
        .replace(/\n$/, '')
        .split('\n')
        .map((l) => `  ${l.replace(/\t/g, '    ')}`),
    ],
    run: async (a, { io, at, digest }) => {
      let content = a.content;
      for (const { placeholder, file } of a.sizes ?? []) content = content.split(placeholder).join(String((await digest(file)).bytes));
      await io.fs.mkdir(dirname(at(a.path)));
      await io.fs.writeFile(at(a.path), content);
    },
    writes: (a) => [a.path],
  },
  'copy-tree': {
    describe: (a) => [`${a.from}/ → ${a.to}/`],
    run: (a, { io, at }) => io.fs.copyTree(a.from, at(a.to)),
  },
  checksum: {
    describe: (a) => [`sha256 of ${a.file} → ${a.to}`],
    run: async (a, { io, at, sums }) => {
      const sum = await io.fs.sha256(at(a.file));
      sums.set(a.file, sum);
      await io.fs.writeFile(at(a.to), `${sum.sha256}  ${a.name}\n`);
    },
  },
  publish: {
    describe: (a) => a.files.map((f) => `${f.from} → ${f.to}`),
    run: async (a, { io, at, sums, artifacts }) => {
      // A sidecar (checksum) that stays while its file is replaced would describe other bytes.
      for (const f of a.files.slice(1)) await io.fs.remove(f.to);
      for (const f of a.files) {
        await io.fs.rename(at(f.from), f.to);
        const sum = sums.get(f.from);
        if (sum) artifacts.push({ path: f.to, ...sum });
      }
    },
  },
  checksums: {
    describe: (a) => [`sha256 of ${a.files.map((f) => f.file).join(', ')} → ${a.to}`],
    run: async (a, { io, at, sums }) => {
      let lines = '';
      for (const f of a.files) {
        const sum = await io.fs.sha256(at(f.file));
        sums.set(f.file, sum);
        lines += `${sum.sha256}  ${f.name}\n`;
      }
      await io.fs.writeFile(at(a.to), lines);
    },
  },
  'publish-dir': {
    describe: (a) => [`${a.from}/ → ${a.to}/ (replacing it)`],
    run: async (a, { io, at, sums, artifacts }) => {
      // rename() cannot replace a directory that holds files; and none may stay from an earlier run.
      await io.fs.remove(a.to);
      await io.fs.rename(at(a.from), a.to);
      const prefix = `${a.from}/`;
      for (const [file, sum] of sums) if (file.startsWith(prefix)) artifacts.push({ path: join(a.to, file.slice(prefix.length)), ...sum });
    },
  },
};
