// Repository passwords (`packages.repositories[].auth`), read when a build starts. The manifest
// arrives in a pull request, so what it may name is narrow: an environment variable whose name
// starts with DERIVC_SECRET_ (the schema's pattern: CI exports such variables for derivc on
// purpose, never GITHUB_TOKEN or a cloud key), or a file relative to the manifest that is a
// regular file reached without a symlink, inside the repository, outside .git (a checkout may keep
// a token in .git/config) and not tracked by git (a committed password is no secret, and the
// file would be any file of the repository). Values are never shown: diagnostics name where the
// password should be, and every event of the build has them replaced (redact).

import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Diagnostic } from '../../compiler/diagnostics.js';
import type { RepositoryAuthIR } from '../../compiler/normalize/build.js';
import { isWithin, repositoryRoot } from '../../compiler/repository.js';
import type { Host } from '../../compiler/host.js';
import type { ValidatedManifest } from '../../compiler/validate/index.js';

export const MAX_SECRET_BYTES = 64 * 1024;

export type SecretRead = { value: string } | { problem: string; pointer: string };

/** The password `auth` names, or why it cannot be used (pointing at `env` or `file`). */
export function readSecret(auth: RepositoryAuthIR, v: ValidatedManifest, env: Readonly<Record<string, string | undefined>>, host: Host): SecretRead {
  if ('env' in auth.source) {
    const name = auth.source.env;
    const value = env[name];
    if (value === undefined || value === '')
      return { problem: `the environment variable ${name} is ${value === undefined ? 'not set' : 'empty'}`, pointer: `${auth.pointer}/env` };
    return { value };
  }
  const pointer = `${auth.pointer}/file`;
  const file = auth.source.file;
  let base: string;
  try {
    base = realpathSync(dirname(resolve(v.path)));
  } catch (err) {
    return { problem: `the manifest's directory cannot be resolved: ${(err as Error).message}`, pointer };
  }
  const target = resolve(base, file);
  const root = repositoryRoot(host, base) ?? base;
  if (!isWithin(root, target)) return { problem: `\`${file}\` is outside the repository (${root})`, pointer };
  if (relative(root, target).split(sep).includes('.git')) return { problem: `\`${file}\` is inside .git`, pointer };
  let real: string;
  try {
    real = realpathSync(target);
  } catch {
    return { problem: `\`${file}\` does not exist (next to the manifest: ${target})`, pointer };
  }
  if (real !== target) return { problem: `\`${file}\` is reached through a symlink`, pointer };
  const tracked = gitTracks(root, relative(root, target));
  if (tracked !== false) return { problem: tracked === true ? `\`${file}\` is tracked by git: a committed password is no secret` : tracked, pointer };
  let fd: number | undefined;
  try {
    fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    if (!st.isFile()) return { problem: `\`${file}\` is not a regular file`, pointer };
    if (st.size > MAX_SECRET_BYTES) return { problem: `\`${file}\` is larger than ${MAX_SECRET_BYTES / 1024} KiB`, pointer };
    const bytes = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, bytes, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    // A file's final newline is how editors and `echo` end it, not part of the password.
    return {
      value: bytes
        .subarray(0, got)
        .toString('utf8')
        .replace(/\r?\n$/, ''),
    };
  } catch (err) {
    return { problem: `\`${file}\` cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, pointer };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Whether git tracks `rel` in the work tree at `root`; a string says why it cannot tell. Not a git work tree: false. */
function gitTracks(root: string, rel: string): boolean | string {
  try {
    execFileSync('git', ['-C', root, 'rev-parse', '--is-inside-work-tree'], { stdio: 'ignore' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return hasGitDir(root) ? 'git is not installed, so derivc cannot check the file is not tracked' : false;
    return false; // not a work tree
  }
  try {
    execFileSync('git', ['-C', root, 'ls-files', '--error-unmatch', '--', rel], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function hasGitDir(root: string): boolean {
  try {
    realpathSync(resolve(root, '.git'));
    return true;
  } catch {
    return false;
  }
}

/** A diagnostic for a password that cannot be read, at its `env` or `file`. */
export function secretDiagnostic(v: ValidatedManifest, repository: string, read: { problem: string; pointer: string }): Diagnostic {
  return {
    code: 'build/secret-unavailable',
    severity: 'error',
    message: `the password of repository \`${repository}\` cannot be read: ${read.problem}`,
    file: v.path,
    pointer: read.pointer,
    range: v.source.locate(read.pointer),
    hint: read.pointer.endsWith('/env')
      ? 'export it for derivc (in CI: a secret of the job, given only to builds of reviewed changes)'
      : 'keep the file next to the manifest, untracked (list it in .gitignore), and not a symlink',
  };
}

/** Replaces every password (4 characters or more: shorter ones would garble the log) in a text. */
export function redactor(values: readonly string[]): (text: string) => string {
  const secrets = [...new Set(values.filter((v) => v.length >= 4))].sort((a, b) => b.length - a.length);
  if (!secrets.length) return (text) => text;
  return (text) => secrets.reduce((t, s) => t.split(s).join('***'), text);
}
