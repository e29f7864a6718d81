// Finding host tools and files without running them: shared by the targets (before a plan runs),
// `derivc doctor`, `derivc test` and the e2e gates.

import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import * as path from 'node:path';

/** Whether a file exists and is readable (firmware images, GRUB platform directories). */
export async function probeFile(absolutePath: string): Promise<boolean> {
  return accessible(absolutePath, fsConstants.R_OK);
}

/** The path of a program on PATH (or the given path when it contains a `/`), if executable. */
export async function findOnPath(name: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<string | undefined> {
  if (name.includes('/')) return (await accessible(name, fsConstants.X_OK)) ? name : undefined;
  for (const dir of (env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    if (await accessible(candidate, fsConstants.X_OK)) return candidate;
  }
  return undefined;
}

async function accessible(file: string, mode: number): Promise<boolean> {
  try {
    await access(file, mode);
    return true;
  } catch {
    return false;
  }
}
