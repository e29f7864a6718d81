// Build progress a person can follow: on a terminal one live line per step (done steps stay,
// with their time), in CI plain timestamped lines, with --json one JSON object per event, with
// --quiet nothing. The Engine's full output always goes to the build log.

import type { BuildEvent } from '../../targets/io/engine.js';
import type { CliIO } from '../io.js';
import type { InstructionOrigin } from './steps.js';

export type ProgressMode = 'tty' | 'plain' | 'json' | 'quiet';

const TAIL_LINES = 40;

export class BuildProgress {
  private step: { index: number; total: number; title: string; started: number; cached: boolean } | undefined;
  private readonly recent: string[] = [];
  private partial = '';

  constructor(
    private readonly io: CliIO,
    private readonly mode: ProgressMode,
    private readonly origins: readonly InstructionOrigin[],
    private readonly log: (text: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The last lines the Engine printed: shown when a step fails. */
  tail(): string[] {
    return this.partial ? [...this.recent, this.partial] : [...this.recent];
  }

  event(e: BuildEvent): void {
    if (this.mode === 'json') this.io.stdout(JSON.stringify({ time: new Date(this.now()).toISOString(), ...e }) + '\n');
    switch (e.kind) {
      case 'step': {
        this.finishStep();
        const title = this.origins[e.index - 1]?.title ?? e.instruction;
        this.step = { index: e.index, total: e.total, title, started: this.now(), cached: false };
        this.recent.length = 0;
        this.log(`Step ${e.index}/${e.total} : ${e.instruction}\n`);
        if (this.mode === 'plain') this.io.stderr(`${this.stamp()} [${e.index}/${e.total}] ${title}\n`);
        if (this.mode === 'tty') this.io.stderr(`\r\u001b[2K[${e.index}/${e.total}] ${title} …`);
        return;
      }
      case 'cached':
        // BuildKit may mark an earlier step cached later (a FROM whose image resolved): not the current one.
        if (this.step && (e.index === undefined || e.index === this.step.index)) this.step.cached = true;
        this.log(' ---> Using cache\n');
        return;
      case 'output': {
        this.log(e.text);
        const lines = (this.partial + e.text).split('\n');
        this.partial = lines.pop() ?? '';
        for (const l of lines) if (l.trim()) this.recent.push(l.replace(/\r/g, ''));
        if (this.recent.length > TAIL_LINES) this.recent.splice(0, this.recent.length - TAIL_LINES);
        return;
      }
      case 'error':
        this.log(`ERROR: ${e.message}\n`);
        if (this.mode === 'tty') this.io.stderr('\n');
        this.step = undefined;
        return;
    }
  }

  /** Closes the last step's line; call once the build is over. */
  done(): void {
    this.finishStep();
  }

  private finishStep(): void {
    const s = this.step;
    if (!s) return;
    const seconds = ((this.now() - s.started) / 1000).toFixed(1);
    const what = s.cached ? 'cached' : `${seconds}s`;
    if (this.mode === 'tty') this.io.stderr(`\r\u001b[2K✓ [${s.index}/${s.total}] ${s.title} (${what})\n`);
    if (this.mode === 'plain' && s.cached) this.io.stderr(`${this.stamp()} [${s.index}/${s.total}] cached\n`);
    this.step = undefined;
  }

  private stamp(): string {
    return new Date(this.now()).toISOString().slice(11, 19);
  }
}
