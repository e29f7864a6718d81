// What a semantic rule sees, and the one helper that turns a finding into a positioned diagnostic.

import type { Diagnostic, Severity } from '../diagnostics.js';
import { describeCode, type DiagnosticCode } from '../codes.js';
import type { Family } from '../family.js';
import type { Host } from '../host.js';
import type { BuildFacts } from '../normalize/build.js';
import type { Obj } from '../data.js';
import type { SourceFile } from '../source-file.js';
import type { ToolkitEra } from '../toolkit-era.js';

/** What a downstream manifest inherits from its upstream, once that one validated. */
export interface UpstreamFacts {
  path: string;
  family: Family | undefined;
  /** The upstream (or one of its upstreams) installs or carries the cOS toolkit. */
  hasToolkit: boolean;
  /** The toolkit era of the image: a downstream derivative inherits it. */
  era?: ToolkitEra;
  /** `boot.cmdline` of the whole upstream chain, furthest first: a downstream carries it on. */
  kernelArgs: string[];
  /** `boot.console` as the nearest manifest of the chain states it. */
  console?: string[];
  /** `base.platform` as the nearest manifest of the chain states it. */
  platform?: string;
  /** Users with a `passwordHash` in the whole chain (the packer target logs in as one). */
  passwordUsers: string[];
}

export interface RuleContext {
  source: SourceFile;
  manifest: Obj;
  host: Host;
  /** The manifest's directory as a display path (`.` for the working directory). */
  dir: string;
  /** Set for a downstream derivative whose upstream could be read. */
  upstream?: UpstreamFacts;
}

export type Rule = (ctx: RuleContext) => Diagnostic[];

/**
 * A check the caller adds to the validator's own rules (the CLI adds the targets' option
 * checks, which the compiler does not import): it runs on every manifest after the rules, with
 * the facts of its Build and the diagnostics found in it so far.
 */
export type ManifestCheck = (ctx: RuleContext, facts: BuildFacts, found: readonly Diagnostic[]) => Diagnostic[];

export interface Finding {
  severity?: Severity;
  hint?: string;
  /** Point at the key instead of the value (unknown or misplaced keys). */
  at?: 'key' | 'value';
}

export function finding(ctx: Pick<RuleContext, 'source'>, code: DiagnosticCode, pointer: string, message: string, opts: Finding = {}): Diagnostic {
  return {
    code,
    severity: opts.severity ?? 'error',
    message,
    file: ctx.source.path,
    pointer,
    range: ctx.source.locate(pointer, opts.at ?? 'value'),
    hint: opts.hint ?? describeCode(code)?.hint,
  };
}
