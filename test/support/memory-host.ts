// An in-memory file system for the compiler's Host port: fast, and no temp files to clean.

import { dirname, normalize } from 'node:path';
import { SourceContent, type OpenedFile, type OpenRefusal } from '../../compiler/checked-file.js';
import { isWithin } from '../../compiler/repository.js';
import type { Host, PathKind } from '../../compiler/host.js';

/** As many symlinks as the kernel follows on one path before ELOOP. */
const MAX_HOPS = 40;

export class MemoryHost implements Host {
  private readonly files = new Map<string, Uint8Array>();
  /** Symlink loops: these paths, and every path under them, are `loop`. */
  private readonly loops = new Set<string>();
  /** Symlinks: path → link text (bytes, as readlink gives them). */
  private readonly links = new Map<string, Uint8Array>();

  constructor(files: Record<string, string | Uint8Array> = {}) {
    for (const [path, content] of Object.entries(files)) this.write(path, content);
  }

  write(path: string, content: string | Uint8Array): void {
    this.files.set(this.key(path), typeof content === 'string' ? new TextEncoder().encode(content) : content);
  }

  /** Makes `path` a symlink loop, as `ln -s x x` would. */
  loop(path: string): void {
    this.loops.add(this.key(path));
  }

  /** Makes `path` a symlink holding `target` (any bytes: a real file system would refuse some). */
  symlink(path: string, target: string | Uint8Array): void {
    this.links.set(this.key(path), typeof target === 'string' ? new TextEncoder().encode(target) : target);
  }

  readlink(path: string): Uint8Array | undefined {
    return this.links.get(this.key(path));
  }

  readFile(path: string): Uint8Array | undefined {
    const r = this.resolved(path);
    return r === 'loop' ? undefined : this.files.get(r);
  }

  realpath(path: string): string | undefined {
    const kind = this.kind(path);
    return kind === 'missing' || kind === 'loop' ? undefined : (this.resolved(path) as string);
  }

  kind(path: string): PathKind {
    const key = this.resolved(path);
    if (key === 'loop' || [...this.loops].some((l) => key === l || key.startsWith(l + '/'))) return 'loop';
    if (this.files.has(key)) return 'file';
    return [...this.files.keys(), ...this.links.keys()].some((f) => f.startsWith(key === '/' ? '/' : key + '/')) ? 'directory' : 'missing';
  }

  /** Like the real host: checked as opened, and the writer gets the bytes only while they are still the checked ones. */
  openFile(path: string, within: string, options: { maxBytes?: number } = {}): OpenedFile | OpenRefusal {
    const kind = this.kind(path);
    if (kind === 'missing') return { refused: 'missing' };
    if (kind !== 'file') return { refused: 'not-a-file' };
    const key = this.resolved(path) as string;
    if (!isWithin(this.key(within), key)) return { refused: 'outside', real: key };
    const bytes = this.files.get(key)!;
    if (options.maxBytes !== undefined && bytes.byteLength > options.maxBytes) return { refused: 'too-large', size: bytes.byteLength };
    const checked = SourceContent.of(path, bytes);
    const content = new SourceContent(path, checked.size, checked.sha256, () => {
      const now = this.files.get(key);
      if (!now || SourceContent.of(path, now).sha256 !== checked.sha256) throw new Error(`${path} changed after derivc checked it`);
      return [now];
    });
    return { content, mode: 0o644, ...(options.maxBytes !== undefined ? { bytes } : {}) };
  }

  readDir(path: string): string[] {
    const key = this.resolved(path);
    if (key === 'loop') return [];
    const names = new Set<string>();
    for (const f of [...this.files.keys(), ...this.loops, ...this.links.keys()]) {
      if (!f.startsWith(key + '/')) continue;
      names.add(f.slice(key.length + 1).split('/')[0]!);
    }
    return [...names].sort();
  }

  /** The key of `path` with every symlink on the way followed, or `loop` after too many. */
  private resolved(path: string): string | 'loop' {
    let parts = this.key(path).split('/').filter(Boolean);
    let hops = 0;
    restart: for (;;) {
      let done = '';
      for (let i = 0; i < parts.length; i++) {
        const here = `${done}/${parts[i]}`;
        const link = this.links.get(here);
        if (link !== undefined) {
          if (++hops > MAX_HOPS) return 'loop';
          const text = new TextDecoder().decode(link);
          parts = [...normalize(text.startsWith('/') ? text : `${done || '/'}/${text}`).split('/'), ...parts.slice(i + 1)].filter(Boolean);
          continue restart;
        }
        done = here;
      }
      return done || '/';
    }
  }

  /** Everything lives under /mem, so relative paths resolve like a working directory. */
  private key(path: string): string {
    const abs = normalize(path.startsWith('/') ? path : `/mem/${path}`);
    return abs.length > 1 && abs.endsWith('/') ? dirname(abs + 'x') : abs;
  }
}
