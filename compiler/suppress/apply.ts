// Suppressions, applied once to the diagnostics of a whole run (every stage done), so pretty,
// json, github and sarif output all see the same result. Precedence, most specific first:
//   1. `# derivc-ignore CODE: reason` on the line before (that line of that file),
//   2. derivc.config.yaml `overrides` whose `files` match the diagnostic's file (the last one wins),
//   3. derivc.config.yaml `rules`,
//   4. `--ignore CODE` on the command line (codes the config does not set).
// A setting is `off` (dropped), `warning` or `error` (raised). An error derivc reports is never
// dropped nor lowered, whatever asks for it (compiler/suppress/suppressible.ts says why).

import { CODES, isDiagnosticCode, type DiagnosticCode } from '../codes.js';
import type { Diagnostic } from '../diagnostics.js';
import { didYouMean } from '../suggest.js';
import type { RuleSetting, SuppressConfig } from './config.js';
import { inlineSuppressions, type InlineSuppression } from './inline.js';
import { isSuppressible } from './suppressible.js';

export interface SuppressPolicy {
  /** `--ignore` codes, already checked to be suppressible. */
  ignore: ReadonlySet<string>;
  config?: SuppressConfig | undefined;
  /** A diagnostic's file relative to the config's folder (`/` separators); undefined outside it. */
  relativeToConfig?: (file: string) => string | undefined;
}

export interface Suppressed {
  diagnostic: Diagnostic;
  /** `inline` (a comment in the file, with its reason) or `config`/`ignore` (outside the file). */
  by: 'inline' | 'config' | 'ignore';
  justification?: string;
}

export interface SuppressionResult {
  diagnostics: Diagnostic[];
  suppressed: Suppressed[];
}

interface InlineUse {
  comment: InlineSuppression;
  file: string;
  code: DiagnosticCode;
  used: boolean;
}

export function applySuppressions(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string>, policy: SuppressPolicy): SuppressionResult {
  const meta: Diagnostic[] = [];
  // file → target line → the codes suppressed there.
  const inline = new Map<string, Map<number, InlineUse[]>>();
  for (const [file, text] of sources) {
    if (!text.includes('derivc-ignore')) continue;
    for (const comment of inlineSuppressions(text)) {
      const at = (code: DiagnosticCode, message: string, hint: string): Diagnostic => ({
        code,
        severity: 'warning',
        message,
        file,
        pointer: '',
        range: { start: { line: comment.line, column: comment.column }, end: { line: comment.line, column: comment.endColumn } },
        hint,
      });
      const shown = `\`# derivc-ignore${comment.codes.length ? ` ${comment.codes.join(', ')}` : ''}\``;
      if (comment.codes.length === 0) meta.push(at('suppress/unknown-code', `${shown} names no code`, 'write `# derivc-ignore CODE: reason`'));
      else if (comment.reason === undefined)
        meta.push(at('suppress/no-reason', `${shown} gives no reason`, 'write `# derivc-ignore CODE: why this is fine here`'));
      for (const code of comment.codes) {
        if (!isDiagnosticCode(code)) {
          const hint = didYouMean(code, Object.keys(CODES));
          meta.push(
            at(
              'suppress/unknown-code',
              `${shown} names \`${code}\`, which is not a diagnostic code`,
              `${hint ? `${hint} ` : ''}(\`derivc explain\` lists the codes)`,
            ),
          );
        } else if (!isSuppressible(code)) {
          meta.push(
            at('suppress/not-suppressible', `${shown} names \`${code}\`, an error; errors cannot be suppressed`, 'fix what it reports and remove the comment'),
          );
        } else {
          const byLine = inline.get(file) ?? new Map<number, InlineUse[]>();
          inline.set(file, byLine);
          byLine.set(comment.target, [...(byLine.get(comment.target) ?? []), { comment, file, code, used: false }]);
        }
      }
    }
  }

  const kept: Diagnostic[] = [];
  const suppressed: Suppressed[] = [];
  const settle = (d: Diagnostic, allowInline: boolean): void => {
    if (d.severity === 'error' || !isSuppressible(d.code)) return void kept.push(d);
    if (allowInline && d.range) {
      const use = inline
        .get(d.file)
        ?.get(d.range.start.line)
        ?.find((u) => u.code === d.code);
      if (use) {
        use.used = true;
        suppressed.push({ diagnostic: d, by: 'inline', ...(use.comment.reason ? { justification: use.comment.reason } : {}) });
        return;
      }
    }
    const setting = configured(d, policy);
    if (setting === undefined) return void kept.push(d);
    if (setting.value === 'off') return void suppressed.push({ diagnostic: d, by: setting.by });
    kept.push(setting.value === d.severity ? d : { ...d, severity: setting.value });
  };
  for (const d of diagnostics) settle(d, true);
  // Stages after an error did not run: a suppression may be waiting for a warning they would report.
  if (!kept.some((d) => d.severity === 'error')) {
    for (const uses of inline.values())
      for (const list of uses.values())
        for (const u of list) {
          if (u.used) continue;
          meta.push({
            code: 'suppress/unused',
            severity: 'warning',
            message: `\`# derivc-ignore ${u.code}\` suppresses nothing: line ${u.comment.target} has no \`${u.code}\` warning`,
            file: u.file,
            pointer: '',
            range: { start: { line: u.comment.line, column: u.comment.column }, end: { line: u.comment.line, column: u.comment.endColumn } },
            hint: 'remove the comment, or move it to the line before the warning',
          });
        }
  }
  for (const d of meta) settle(d, false);
  return { diagnostics: kept, suppressed };
}

function configured(d: Diagnostic, policy: SuppressPolicy): { value: RuleSetting; by: 'config' | 'ignore' } | undefined {
  const config = policy.config;
  if (config) {
    const relative = config.overrides.length ? policy.relativeToConfig?.(d.file) : undefined;
    if (relative !== undefined) {
      for (let i = config.overrides.length - 1; i >= 0; i--) {
        const o = config.overrides[i]!;
        const value = o.rules[d.code];
        if (value !== undefined && o.files.some((g) => g.test(relative))) return { value, by: 'config' };
      }
    }
    const value = config.rules[d.code];
    if (value !== undefined) return { value, by: 'config' };
  }
  return policy.ignore.has(d.code) ? { value: 'off', by: 'ignore' } : undefined;
}
