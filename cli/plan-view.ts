// The plan (`derivc plan`): one versioned JSON object saying what derivc would do, and the human
// view rendered from it alone — so the two can never disagree.

import type { BootArgsPlan } from '../compiler/emit/bootargs.js';
import { describeAction } from '../targets/actions.js';
import type { TargetPlan } from '../targets/target.js';
import { shown } from './format/style.js';

/** Version 1 of the plan JSON. Fields are added in later versions, never renamed or removed. */
export interface Plan {
  planVersion: 1;
  /** The manifest as named on the command line. */
  manifest: string;
  name: string;
  version: string;
  buildId: string;
  from: string;
  tags: string[];
  compile: { files: PlanFile[] };
  build: {
    steps: { comment: string; lines: string[] }[];
    /**
     * `buildkit` when the build needs BuildKit (secret mounts for repository credentials); `any`:
     * BuildKit where the Engine has it (package manager cache mounts), else the classic builder.
     */
    builder?: 'buildkit' | 'any';
    /** The repositories' credentials: where each password is read at build time (never its value). */
    secrets?: { id: string; repository: string; from: string }[];
  };
  /**
   * The bootargs file the image's GRUB reads last and what derivc does to it: writes it, replaces
   * the toolkit's (cOS era), appends its block to the toolkit's, or keeps it. Null when unknown.
   */
  bootArgs: BootArgsPlan | null;
  /** Media derivc would make: the targets the manifest enables (or `--target` names), each with its steps. */
  targets: PlanTarget[];
}

/** A target's plan. */
export type PlanTarget = TargetPlan;

export interface PlanFile {
  path: string;
  sha256: string;
  /** Octal, as in derivc.json: `"0644"`. */
  mode: string;
  bytes: number;
  /** A symlink (from `overlay` or `oemDir`): its link text; `sha256` and `bytes` are then the text's. */
  symlink?: string;
  /** The manifest part that produced the file; null for files derivc adds on its own (derivc.json). */
  origin: { file: string; pointer: string } | null;
}

/** The human view of a plan: a pure function of the JSON. */
export function renderPlan(plan: Plan): string {
  const out: string[] = [];
  out.push(`Plan for ${plan.manifest}: ${plan.name} ${plan.version}`);
  out.push(`  build ID  ${plan.buildId}`);
  out.push(`  from      ${plan.from}`);
  plan.tags.forEach((tag, i) => out.push(`  ${i === 0 ? 'tags' : '    '}      ${tag}`));

  const files = plan.compile.files;
  out.push('', `compile: ${count(files.length, 'file')}`);
  const bytesWidth = Math.max(0, ...files.map((f) => String(f.bytes).length));
  // A symlink shows its target (made printable: link text is the manifest author's, like a file's bytes).
  const name = (f: PlanFile) => (f.symlink !== undefined ? `${f.path} -> ${shown(f.symlink)}` : f.path);
  const pathWidth = Math.max(0, ...files.map((f) => name(f).length));
  for (const f of files) {
    const line = `  ${f.mode}  ${String(f.bytes).padStart(bytesWidth)}  ${name(f)}`;
    // The pointer says which part of the manifest to edit to change the file.
    const pointer = f.origin?.pointer ?? '';
    out.push(pointer ? `${line.padEnd(line.length - name(f).length + pathWidth)}  ← ${pointer}` : line);
  }

  const steps = plan.build.steps;
  out.push('', `build: ${count(steps.length, 'step')} after FROM ${plan.from}`);
  if (plan.build.builder === 'buildkit')
    out.push(`  with BuildKit: credentials of ${plan.build.secrets!.map((s) => `${s.repository} (from ${s.from})`).join(', ')} as secret mounts`);
  else if (plan.build.builder === 'any') out.push('  with BuildKit where the Engine has it (package manager cache), else the classic builder');
  steps.forEach((step, i) => {
    out.push(`  ${i + 1}. ${step.comment}`);
    for (const line of step.lines) for (const part of line.split('\n')) out.push(`       ${part}`);
  });

  if (plan.bootArgs) out.push('', `boot arguments: ${describeBootArgs(plan.bootArgs)}`);

  out.push(
    '',
    plan.targets.length === 0
      ? 'targets: none (the manifest enables none; `--target iso` plans one)'
      : `targets: ${count(plan.targets.length, 'medium', 'media')}`,
  );
  for (const t of plan.targets) {
    out.push(`  ${t.target} → ${t.outputs.join(', ')}`);
    out.push(`    host tools: ${t.tools.length === 0 ? 'none' : t.tools.map((x) => `${x.name} (${x.package})`).join(', ')}`);
    out.push(
      `    timestamps: ${t.sourceDateEpoch === null ? "SOURCE_DATE_EPOCH, by default the image's creation time" : `SOURCE_DATE_EPOCH=${t.sourceDateEpoch}`}`,
    );
    out.push(`    work dir:   ${t.workDir.parent}/${t.workDir.prefix}XXXXXX (removed at the end)`);
    t.steps.forEach((step, i) => {
      out.push(`    ${i + 1}. ${step.title}`);
      for (const line of describeAction(step.action)) out.push(`         ${line}`);
    });
  }
  return out.join('\n') + '\n';
}

/** One sentence a reviewer reads: which toolkit file derivc replaces, appends to or leaves alone. */
function describeBootArgs(b: BootArgsPlan): string {
  const toolkit = b.toolkit ?? 'the toolkit';
  switch (b.action) {
    case 'write':
      return `derivc writes ${b.file} complete (no toolkit ships one)`;
    case 'replace':
      return `derivc writes ${b.file} complete, replacing the one ${toolkit} ships`;
    case 'append':
      return `derivc appends the manifest's kernel arguments to ${b.file}, which ${toolkit} ships and its GRUB reads last; the toolkit's content stays`;
    case 'keep':
      return `${b.file} stays as ${toolkit} and the upstream derivatives left it (this manifest adds no kernel arguments)`;
  }
}

function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
