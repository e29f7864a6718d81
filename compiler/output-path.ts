// The rules for a path inside the output directory (`derivc compile -o DIR`). Pure, so `derivc
// validate` can refuse at the manifest's line what the writer would refuse later.

/** Temp files live next to their target (so rename is atomic); generated names may not end so. */
export const OUTPUT_TEMP_SUFFIX = '.derivc-tmp';

/** Why `p` is not an acceptable output path (see GeneratedFile.path), or undefined when it is. */
export function outputPathProblem(p: unknown): string | undefined {
  if (typeof p !== 'string' || p === '') return 'empty path';
  if (p.startsWith('/')) return 'absolute path';
  if (p.includes('\\') || p.includes('\0')) return 'backslash or NUL in path';
  const segments = p.split('/');
  if (segments.includes('')) return 'empty path segment';
  if (segments.includes('..')) return '`..` segment';
  if (segments.includes('.')) return '`.` segment';
  if (p.endsWith(OUTPUT_TEMP_SUFFIX)) return `name ending in ${OUTPUT_TEMP_SUFFIX} (reserved for temp files)`;
  return undefined;
}
