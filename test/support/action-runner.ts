// Runs a composite action's `run:` steps as the GitHub runner does: bash with `-eo pipefail`, the
// step's `env:` evaluated, GITHUB_OUTPUT/GITHUB_STEP_SUMMARY as files, `if:` conditions and step
// outputs. Only the expression forms action.yml uses are understood; anything else throws, so the
// action cannot drift into syntax this runner would misread. `uses:` steps are recorded, not run.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ActionStep {
  name: string;
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, string>;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
  'working-directory'?: string;
}

export interface ActionFile {
  inputs: Record<string, { description: string; default?: string }>;
  outputs?: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

export interface StepResult {
  step: ActionStep;
  outcome: 'success' | 'failure' | 'skipped';
  /** `with:` evaluated (uses: steps). */
  with?: Record<string, string>;
  stdout: string;
  stderr: string;
  status?: number | null;
}

export interface RunOptions {
  workspace: string;
  actionPath: string;
  temp: string;
  inputs: Record<string, string>;
  /** `github.event.pull_request.base.sha`. */
  pullRequestBase?: string;
  /** Steps whose `run:` is not executed (the install step: the test uses the built dist/). */
  skip?: readonly string[];
}

type Context = { inputs: Record<string, string>; steps: Record<string, { outcome: string; outputs: Record<string, string> }>; github: unknown };

function lookup(context: Context, expr: string): string {
  if (!/^[a-z]+(\.[a-z][a-z0-9_-]*)+$/i.test(expr)) throw new Error(`expression not understood: ${expr}`);
  let value: unknown = context;
  for (const key of expr.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value === undefined || value === null ? '' : String(value);
}

/** `a ${{ inputs.x }} b`: every `${{ }}` replaced by its value. */
function interpolate(text: string, context: Context): string {
  return text.replace(/\$\{\{\s*(.*?)\s*\}\}/g, (_, expr: string) => lookup(context, expr));
}

/** `!cancelled() && steps.x.outcome == 'success' && inputs.y != ''`: the only `if:` grammar used. */
function condition(text: string, context: Context): boolean {
  const expr = text.replace(/^\$\{\{\s*(.*?)\s*\}\}$/s, '$1');
  return expr.split('&&').every((term) => {
    const t = term.trim();
    if (t === '!cancelled()') return true;
    const m = /^([a-z][\w.-]*) (==|!=) '([^']*)'$/i.exec(t);
    if (!m) throw new Error(`condition not understood: ${t}`);
    return (lookup(context, m[1]!) === m[3]) === (m[2] === '==');
  });
}

/** `key=value` lines (the runner also takes `key<<EOF` blocks; action.yml writes none). */
function readOutputs(file: string): Record<string, string> {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  return Object.fromEntries(
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const at = line.indexOf('=');
        if (at < 0) throw new Error(`GITHUB_OUTPUT line not understood: ${line}`);
        return [line.slice(0, at), line.slice(at + 1)];
      }),
  );
}

export function runAction(action: ActionFile, opts: RunOptions): { results: StepResult[]; summary: string; outputs: Record<string, string> } {
  const summary = path.join(opts.temp, 'step-summary.md');
  fs.writeFileSync(summary, '');
  const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, opts.inputs[k] ?? v.default ?? '']));
  const github = { action_path: opts.actionPath, workspace: opts.workspace, event: { pull_request: { base: { sha: opts.pullRequestBase ?? '' } } } };
  const context: Context = { inputs: {}, steps: {}, github };
  // Input defaults may be expressions themselves (`base`).
  context.inputs = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, interpolate(v, context)]));
  const results: StepResult[] = [];
  action.runs.steps.forEach((step, n) => {
    const record = (r: Omit<StepResult, 'step'>, outputs: Record<string, string> = {}) => {
      results.push({ step, ...r });
      if (step.id) context.steps[step.id] = { outcome: r.outcome, outputs };
    };
    // No `if:` is `success()`: no step before failed.
    const failed = results.some((r) => r.outcome === 'failure');
    const wanted = step.if !== undefined ? condition(step.if, context) : !failed;
    if (!wanted) return record({ outcome: 'skipped', stdout: '', stderr: '' });
    if (step.uses)
      return record({
        outcome: 'success',
        with: Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, interpolate(v, context)])),
        stdout: '',
        stderr: '',
      });
    if (step.shell !== 'bash' || step.run === undefined) throw new Error(`step ${step.name}: only bash run steps are understood`);
    if (opts.skip?.includes(step.id ?? '')) return record({ outcome: 'success', stdout: '', stderr: '' });
    const script = path.join(opts.temp, `step-${n}.sh`);
    fs.writeFileSync(script, step.run);
    const output = path.join(opts.temp, `step-${n}.output`);
    fs.writeFileSync(output, '');
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, interpolate(v, context)]));
    const r = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: step['working-directory'] ? interpolate(step['working-directory'], context) : opts.workspace,
      encoding: 'utf8',
      env: {
        PATH: process.env['PATH']!,
        HOME: opts.temp,
        CI: 'true',
        GITHUB_ACTIONS: 'true',
        GITHUB_WORKSPACE: opts.workspace,
        GITHUB_ACTION_PATH: opts.actionPath,
        GITHUB_OUTPUT: output,
        GITHUB_STEP_SUMMARY: summary,
        RUNNER_TEMP: opts.temp,
        ...env,
      },
    });
    record({ outcome: r.status === 0 ? 'success' : 'failure', stdout: r.stdout, stderr: r.stderr, status: r.status }, readOutputs(output));
  });
  const outputs = Object.fromEntries(Object.entries(action.outputs ?? {}).map(([k, v]) => [k, interpolate(v.value, context)]));
  return { results, summary: fs.readFileSync(summary, 'utf8'), outputs };
}
