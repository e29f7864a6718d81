// `derivc validate -`: the manifest read from standard input. It is named `<stdin>` in
// diagnostics and behaves as a manifest file in the current directory would: relative paths in
// it (overlay, oemDir, files[].source, base.derivative) resolve against the current directory,
// and its repository — the only place it may read from — is the git work tree holding the current
// directory, or the current directory itself (compiler/repository.ts).

import { join } from 'node:path';
import type { Host } from '../compiler/host.js';

export const STDIN_NAME = '<stdin>';

/** `host`, with `<stdin>` a regular file holding what `read` returns (read once, when first asked). */
export function withStdin(host: Host, read: () => Uint8Array): Host {
  let bytes: Uint8Array | undefined;
  const content = () => (bytes ??= read());
  const overrides: Partial<Host> = {
    readFile: (path) => (path === STDIN_NAME ? content() : host.readFile(path)),
    realpath: (path) => (path === STDIN_NAME ? join(host.realpath('.') ?? '.', STDIN_NAME) : host.realpath(path)),
    kind: (path) => (path === STDIN_NAME ? 'file' : host.kind(path)),
    mode: (path) => (path === STDIN_NAME ? 0o644 : host.mode?.(path)),
  };
  return new Proxy(host, {
    get(target, property) {
      if (property in overrides) return overrides[property as keyof Host];
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
