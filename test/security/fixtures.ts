// Shared by the security tests: a throw-away "repository" on the real file system holding a
// manifest and the files it names, next to an outside folder with a secret that must never reach
// an output directory.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const SECRET = 'OUTSIDE-SECRET-never-in-the-output\n';

export interface Repo {
  /** The temp root: repo/, outside/ and out/ live under it. */
  root: string;
  /** The manifest's folder. */
  dir: string;
  manifest: string;
  /** The output directory derivc is asked to write. */
  out: string;
  /** A file outside the repository holding SECRET. */
  secret: string;
  remove(): void;
}

/** A repository whose manifest has `extra` appended (files:, overlay:), with `files` written under it. */
export function makeRepo(extra: string, files: Record<string, string | Buffer> = {}): Repo {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'derivc-security-'));
  const dir = path.join(root, 'repo');
  fs.mkdirSync(path.join(root, 'outside'), { recursive: true });
  const secret = path.join(root, 'outside', 'secret.txt');
  fs.writeFileSync(secret, SECRET);
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  const manifest = path.join(dir, 'derivative.yaml');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    manifest,
    [
      'apiVersion: derivc.dev/v1alpha1',
      'kind: Derivative',
      'metadata:',
      '  name: sec',
      '  version: 1.0.0',
      'base:',
      '  image: local/debian:bookworm',
      '  family: debian',
      extra,
      '',
    ].join('\n'),
  );
  return { root, dir, manifest, out: path.join(root, 'out'), secret, remove: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/** Replaces `file` with a symlink to `target`: the swap an attacker races against derivc. */
export function swapForSymlink(file: string, target: string): void {
  fs.rmSync(file, { recursive: true, force: true });
  fs.symlinkSync(target, file);
}

/** Every regular file under `dir` (temp files included) whose bytes contain SECRET. */
export function filesWithSecret(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (fs.lstatSync(full).isFile() && fs.readFileSync(full).includes(SECRET)) found.push(path.relative(dir, full));
  }
  return found;
}
