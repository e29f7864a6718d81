// The order of a fleet's builds: a task starts once its upstream succeeded, at most `jobs` at a
// time, in the order given (upstreams first). When one fails, everything built from it is
// skipped; without `keepGoing` no new task starts either, while the running ones finish (a build
// cut off halfway helps nobody). Ctrl-C starts nothing more.

export interface Task {
  key: string;
  /** The task this one is built from, when it is one of the tasks. */
  upstream: string | undefined;
  /** For messages: `skipped: upstream NAME failed`. */
  name: string;
}

export type Outcome = { status: 'ok'; code: number } | { status: 'failed'; code: number } | { status: 'skipped'; reason: string; code: number };

export interface ScheduleOptions {
  jobs: number;
  keepGoing: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * Runs `run` for each task without an outcome in `settled` (tasks that already failed or were
 * skipped, e.g. manifests that do not validate). `tasks` lists every upstream before its
 * downstreams. Returns an outcome for every task.
 */
export async function schedule<T extends Task>(
  tasks: readonly T[],
  settled: ReadonlyMap<string, Outcome>,
  opts: ScheduleOptions,
  run: (task: T) => Promise<{ ok: boolean; code: number }>,
): Promise<Map<string, Outcome>> {
  const outcome = new Map(settled);
  const byKey = new Map(tasks.map((t) => [t.key, t]));
  /** The failed task a skip goes back to, by key. */
  const cause = new Map<string, string>();
  let firstFailure: string | undefined = tasks.find((t) => outcome.get(t.key)?.status === 'failed')?.name;

  // Until nothing changes: tasks below a cycle are in no particular order.
  const skipDownstreams = () => {
    for (let changed = true; changed;) {
      changed = false;
      for (const t of tasks) {
        if (outcome.has(t.key) || t.upstream === undefined) continue;
        const up = outcome.get(t.upstream);
        if (up === undefined || up.status === 'ok') continue;
        const root = up.status === 'failed' ? byKey.get(t.upstream)!.name : (cause.get(t.upstream) ?? byKey.get(t.upstream)!.name);
        cause.set(t.key, root);
        outcome.set(t.key, { status: 'skipped', reason: `upstream ${root} failed`, code: up.code });
        changed = true;
      }
    }
  };
  skipDownstreams();

  const running = new Map<string, Promise<void>>();
  const stopped = () => (firstFailure !== undefined && !opts.keepGoing) || opts.signal?.aborted === true;
  const startable = (t: T) => !outcome.has(t.key) && !running.has(t.key) && (t.upstream === undefined || outcome.get(t.upstream)?.status === 'ok');
  const start = (t: T) => {
    const done = run(t).then(
      (r) => {
        outcome.set(t.key, r.ok ? { status: 'ok', code: r.code } : { status: 'failed', code: r.code });
        if (!r.ok) {
          firstFailure ??= t.name;
          skipDownstreams();
        }
      },
      (err: unknown) => {
        outcome.set(t.key, { status: 'failed', code: 4 });
        firstFailure ??= t.name;
        skipDownstreams();
        throw err;
      },
    );
    running.set(
      t.key,
      done.finally(() => running.delete(t.key)),
    );
  };

  const errors: unknown[] = [];
  for (;;) {
    if (!stopped()) {
      for (const t of tasks) {
        if (running.size >= opts.jobs) break;
        if (startable(t)) start(t);
      }
    }
    if (running.size === 0) break;
    await Promise.race([...running.values()]).catch((err: unknown) => errors.push(err));
  }
  const why = opts.signal?.aborted ? 'cancelled' : `not started: ${firstFailure ?? 'an earlier manifest'} failed`;
  for (const t of tasks) if (!outcome.has(t.key)) outcome.set(t.key, { status: 'skipped', reason: why, code: 1 });
  if (errors.length > 0) throw errors[0];
  return outcome;
}
