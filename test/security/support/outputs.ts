// Everything derivc writes for one manifest, in memory: validate → compile → every target's plan
// (the files a plan writes: GRUB menus, the OVF descriptor, Packer templates). The injection sweep
// feeds it hostile manifests and hands each output to the reader of its language.

import { stringify } from 'yaml';
import { compile } from '../../../compiler/compile.js';
import { hasErrors, type Diagnostic } from '../../../compiler/diagnostics.js';
import type { FileContent } from '../../../compiler/emit/types.js';
import { ValidationSession } from '../../../compiler/validate/index.js';
import { planTargets, TARGET_NAMES } from '../../../targets/registry.js';
import { MemoryHost } from '../../support/memory-host.js';
import { SUPPORT_FILES } from './variants.js';

export interface Outputs {
  /** Validation, compile and target-plan diagnostics (a refused value ends here). */
  diagnostics: Diagnostic[];
  /** Every source text derivc read, by display path (what formatters print frames from). */
  sources: ReadonlyMap<string, string>;
  /** Output path → content: the build context, then `<target>:<path>` for each file a target plan writes. */
  files: Map<string, FileContent>;
  /** The exec arguments every target plan would run. */
  execArgs: string[][];
}

export const REPO = 'repo';

/** The files of a repository holding `manifest` as REPO/`name` (with the support files it names). */
export function repoFiles(manifest: Record<string, unknown>, name = 'derivative.yaml', extra: Record<string, string> = {}): Record<string, string> {
  const files: Record<string, string> = { [`${REPO}/.git/HEAD`]: 'ref: refs/heads/main\n' };
  for (const [p, c] of Object.entries(SUPPORT_FILES)) files[`${REPO}/${p}`] = c;
  for (const [p, c] of Object.entries(extra)) files[`${REPO}/${p}`] = c;
  files[`${REPO}/${name}`] = manifestYaml(manifest);
  return files;
}

/** A manifest as YAML; yip's modes as YAML 1.1 octal numbers (`0644`), not the decimal JSON holds. */
export function manifestYaml(manifest: Record<string, unknown>): string {
  return stringify(manifest, { lineWidth: 0 }).replace(/^(\s*permissions: )(\d+)$/gm, (_, key: string, n: string) => `${key}0${Number(n).toString(8)}`);
}

export function outputsOf(files: Record<string, string>, manifestPath: string): Outputs {
  const host = new MemoryHost(files);
  const session = new ValidationSession(host);
  const validated = session.validate(manifestPath);
  const out: Outputs = { diagnostics: [...validated.diagnostics], sources: session.sources, files: new Map(), execArgs: [] };
  const v = validated.value.manifest;
  if (!v) return out;
  const compiled = compile(v, host, { version: '0.0.0-test' });
  out.diagnostics.push(...compiled.diagnostics);
  if (hasErrors(compiled.diagnostics)) return out;
  for (const f of compiled.value.files) out.files.set(f.path, f.content ?? `symlink to ${f.symlink}`);
  for (const name of TARGET_NAMES) {
    const { plans, findings } = planTargets([name], compiled.value.build, compiled.value.targets, {
      image: compiled.value.tags[0]!,
      imageBytes: 700 * 2 ** 20,
      outDir: `.derivc/${compiled.value.name}`,
      sourceDateEpoch: 1700000000,
    });
    for (const f of findings) out.diagnostics.push({ code: f.code, severity: 'error', message: f.message, file: v.path, pointer: f.pointer });
    for (const step of plans[0]?.steps ?? []) {
      const action = step.action as { kind: string; path?: string; content?: string; args?: string[] };
      if (action.kind === 'write') out.files.set(`${name}:${action.path}`, action.content!);
      if (action.kind === 'exec') out.execArgs.push(action.args ?? []);
    }
  }
  return out;
}
