// An in-memory file system for the compiler's Host port: fast, and no temp files to clean.

import { dirname, normalize } from 'node:path';
import { SourceContent, type OpenedFile, type OpenRefusal } from '../../compiler/checked-file.js';
import { isWithin } from '../../compiler/repository.js';
import type { Host, PathKind } from '../../compiler/host.js';

export class MemoryHost implements Host {
  private readonly files = new Map<string, Uint8Array>();
  /** Symlink loops: these paths, and every path under them, are `loop`. */
  private readonly loops = new Set<string>();

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

  readFile(path: string): Uint8Array | undefined {
    return this.files.get(this.key(path));
  }

  realpath(path: string): string | undefined {
    const kind = this.kind(path);
    return kind === 'missing' || kind === 'loop' ? undefined : this.key(path);
  }

  kind(path: string): PathKind {
    const key = this.key(path);
    if ([...this.loops].some((l) => key === l || key.startsWith(l + '/'))) return 'loop';
    if (this.files.has(key)) return 'file';
    return [...this.files.keys()].some((f) => f.startsWith(key === '/' ? '/' : key + '/')) ? 'directory' : 'missing';
  }

  /** Like the real host: checked as opened, and the writer gets the bytes only while they are still the checked ones. */
  openFile(path: string, within: string, options: { maxBytes?: number } = {}): OpenedFile | OpenRefusal {
    const kind = this.kind(path);
    if (kind === 'missing') return { refused: 'missing' };
    if (kind !== 'file') return { refused: 'not-a-file' };
    const key = this.key(path);
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
    const key = this.key(path);
    const names = new Set<string>();
    for (const f of [...this.files.keys(), ...this.loops]) {
      if (!f.startsWith(key + '/')) continue;
      names.add(f.slice(key.length + 1).split('/')[0]!);
    }
    return [...names].sort();
  }

  /** Everything lives under /mem, so relative paths resolve like a working directory. */
  private key(path: string): string {
    const abs = normalize(path.startsWith('/') ? path : `/mem/${path}`);
    return abs.length > 1 && abs.endsWith('/') ? dirname(abs + 'x') : abs;
  }
}
