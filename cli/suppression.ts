// The suppressions of one command run: `--ignore` codes (checked as usage), and the
// derivc.config.yaml found from the manifest's folder upward to its repository's root, read
// through the Host. Applying them is compiler/suppress/apply.ts, once, after every stage.

import { dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { CODES, isDiagnosticCode } from '../compiler/codes.js';
import type { Diagnostic } from '../compiler/diagnostics.js';
import type { Host } from '../compiler/host.js';
import { isWithin, repositoryRoot } from '../compiler/repository.js';
import { didYouMean } from '../compiler/suggest.js';
import { applySuppressions, type Suppressed } from '../compiler/suppress/apply.js';
import { CONFIG_FILE, parseConfig, type SuppressConfig } from '../compiler/suppress/config.js';
import { isSuppressible } from '../compiler/suppress/suppressible.js';
import { UsageError } from './exit-codes.js';

/** `--ignore a,b --ignore c`: each a suppressible code, or a usage error with a suggestion. */
export function ignoredCodes(values: readonly string[] | undefined): Set<string> {
  const codes = new Set<string>();
  for (const code of (values ?? []).flatMap((v) => v.split(',')).map((c) => c.trim())) {
    if (code === '') throw new UsageError('--ignore needs a diagnostic code: --ignore CODE');
    if (!isDiagnosticCode(code)) {
      const hint = didYouMean(code, Object.keys(CODES));
      throw new UsageError(`unknown diagnostic code \`${code}\` in --ignore${hint ? `; ${hint}` : ''} (\`derivc explain\` lists them all)`);
    }
    if (!isSuppressible(code)) throw new UsageError(`--ignore ${code}: \`${code}\` is an error, and errors cannot be suppressed (only warnings can)`);
    codes.add(code);
  }
  return codes;
}

/** derivc.config.yaml in the manifest's folder or the nearest one above it, up to the repository root. */
export function findConfig(host: Host, manifest: string): string | undefined {
  let dir = dirname(manifest);
  const root = repositoryRoot(host, dir);
  if (root === undefined) return undefined;
  for (let hops = 0; hops < 64; hops++) {
    const candidate = join(dir, CONFIG_FILE);
    if (host.kind(candidate) !== 'missing') return candidate;
    const real = host.realpath(dir);
    if (real === undefined || real === root || !isWithin(root, real) || dirname(real) === real) return undefined;
    dir = join(dir, '..');
  }
  return undefined;
}

export interface Suppressor {
  /** The diagnostics left (config mistakes added), and the sources with the config's text for code frames. */
  apply(
    diagnostics: readonly Diagnostic[],
    sources: ReadonlyMap<string, string>,
  ): { diagnostics: Diagnostic[]; sources: Map<string, string>; suppressed: Suppressed[] };
}

export function suppressor(host: Host, manifest: string, ignore: ReadonlySet<string>, cwd: string): Suppressor {
  const path = findConfig(host, manifest);
  const own: Diagnostic[] = [];
  let text: string | undefined;
  let config: SuppressConfig | undefined;
  if (path !== undefined) {
    const root = repositoryRoot(host, dirname(path));
    const real = host.realpath(path);
    const bytes = real !== undefined && root !== undefined && isWithin(root, real) ? host.readFile(path) : undefined;
    if (bytes === undefined) {
      own.push({
        code: real !== undefined && root !== undefined && !isWithin(root, real) ? 'io/outside-repository' : 'io/unreadable',
        severity: 'error',
        message: `\`${path}\` cannot be read as the derivc config of \`${manifest}\``,
        file: path,
        pointer: '',
        hint: 'make it a regular file in the repository, or remove it',
      });
    } else {
      const parsed = parseConfig(path, bytes);
      own.push(...parsed.diagnostics);
      text = parsed.value.source.text;
      config = parsed.value.config;
    }
  }
  const configDir = path === undefined ? undefined : resolve(cwd, dirname(path));
  const relativeToConfig = (file: string): string | undefined => {
    if (configDir === undefined) return undefined;
    const rel = relative(configDir, resolve(cwd, file));
    return rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel) ? undefined : rel.split(sep).join('/');
  };
  return {
    apply(diagnostics, sources) {
      const result = applySuppressions(diagnostics, sources, { ignore, config, relativeToConfig });
      const all = new Map(sources);
      if (path !== undefined && text !== undefined) all.set(path, text);
      return { diagnostics: [...own, ...result.diagnostics], sources: all, suppressed: result.suppressed };
    },
  };
}
