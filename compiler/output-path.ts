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

/**
 * derivc's namespace in DIR: the only names compile ever generates (compiler/emit/index.ts). It
 * bounds what derivc may replace or remove — a forged derivc.json cannot reach anything else —
 * and which unlisted files `--check` reports. Everything else in DIR (build.log, media, test/
 * results, the user's own files) is never touched.
 */
export const OUTPUT_TOP_FILES: readonly string[] = ['Dockerfile', 'derivc.json'];
export const OUTPUT_TOP_DIRS: readonly string[] = ['boot', 'files', 'luet', 'overlay', 'packages', 'repos', 'rootfs'];

/** Whether `p` (an acceptable output path) is inside derivc's namespace. */
export function inOutputNamespace(p: string): boolean {
  const slash = p.indexOf('/');
  return slash === -1 ? OUTPUT_TOP_FILES.includes(p) : OUTPUT_TOP_DIRS.includes(p.slice(0, slash));
}
