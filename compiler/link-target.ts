// The text of a symlink derivc copies from `overlay` or `oemDir` into the image. It is data, never
// followed: it may be absolute, climb with `..` or point at nothing here (its target may exist only
// in the image, like `etc/os-release -> ../usr/lib/os-release`). What it must be is a link the
// kernel, tar and Docker can carry: not empty, at most PATH_MAX - 1 bytes, no NUL, valid UTF-8 (the
// listing in derivc.json and the tar header carry it as text).

/** Linux's PATH_MAX (4096) counts the terminating NUL: readlink never gives more than this. */
export const MAX_LINK_BYTES = 4095;

/** Why `text` (as readlink gives it) cannot be copied as a symlink, or undefined when it can. */
export function linkTargetProblem(text: string | Uint8Array): string | undefined {
  let bytes: Uint8Array;
  if (typeof text === 'string') {
    bytes = new TextEncoder().encode(text);
    // A lone surrogate does not survive the round trip through UTF-8.
    if (new TextDecoder().decode(bytes) !== text) return 'is not valid UTF-8';
  } else bytes = text;
  if (bytes.byteLength === 0) return 'is empty';
  if (bytes.byteLength > MAX_LINK_BYTES) return `is ${bytes.byteLength} bytes long; a symlink holds at most ${MAX_LINK_BYTES}`;
  if (bytes.includes(0)) return 'contains a NUL byte';
  if (typeof text !== 'string') {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      return 'is not valid UTF-8';
    }
  }
  return undefined;
}

/** The link text as a string, when linkTargetProblem found none. */
export function linkTargetText(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
}
