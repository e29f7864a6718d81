// The file side of `derivc init --from`: read the Dockerfile (a regular file of bounded size),
// and answer "is this COPY source a directory?" without leaving the Dockerfile's directory.

import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';

/** Real derivative Dockerfiles are a few KiB; anything this large is not one. */
export const MAX_DOCKERFILE_BYTES = 1024 * 1024;

export function readDockerfile(path: string): { text: string } | { problem: string } {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return { problem: `\`${path}\` does not exist` };
  }
  if (!stat.isFile()) return { problem: `\`${path}\` is not a file; name the Dockerfile itself` };
  if (stat.size > MAX_DOCKERFILE_BYTES) return { problem: `\`${path}\` is larger than ${MAX_DOCKERFILE_BYTES} bytes; it is not read` };
  const bytes = readFileSync(path);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { problem: `\`${path}\` is not UTF-8 text` };
  }
}

/** Whether `relative` (inside `context`) is a directory; undefined when missing or resolving outside it. */
export function directoryProbe(context: string): (relative: string) => boolean | undefined {
  const root = realpathSync(resolve(context));
  return (relative) => {
    const path = join(root, relative);
    try {
      lstatSync(path);
      const real = realpathSync(path);
      if (real !== root && !real.startsWith(root + sep)) return undefined;
      return statSync(real).isDirectory();
    } catch {
      return undefined;
    }
  };
}
