/**
 * The local stand-in for EventBridge Scheduler: runs each region's probe round and the witness's
 * round every `interval_seconds` of simulated time. Jobs are staggered over the interval (on AWS
 * the regions' schedules are not aligned either), a job never overlaps itself (a round that runs
 * late starts the next one at once), a job whose member is down is skipped (its compute is down),
 * and errors are logged and never stop the schedule.
 */

import type { Scheduler } from '../adapters/local/replication.ts';
import { messageOf } from '../core/errors.ts';

interface ScheduledJob {
  /** A region or witness id; the job is skipped while `isDown(member)`. */
  readonly member: string;
  /** What the log calls it, e.g. `probe round`. */
  readonly name: string;
  readonly run: () => Promise<unknown>;
}

interface RoundSchedulerOptions {
  readonly jobs: readonly ScheduledJob[];
  /** Simulated ms between two starts of the same job. */
  readonly intervalMs: number;
  readonly clock: Scheduler;
  readonly isDown?: (member: string) => boolean;
  readonly log?: (line: string) => void;
}

export interface JobStats {
  readonly member: string;
  readonly name: string;
  readonly runs: number;
  readonly skipped: number;
  readonly failures: number;
  /** ISO (simulated) start of the last run. */
  readonly last_run_at?: string;
  readonly last_error?: string;
}

export interface RoundScheduler {
  stats(): JobStats[];
  /** Cancels what is scheduled and waits for the runs in flight. */
  stop(): Promise<void>;
}

interface JobState {
  readonly job: ScheduledJob;
  runs: number;
  skipped: number;
  failures: number;
  lastRunAt: number | undefined;
  lastError: string | undefined;
  running: Promise<void> | undefined;
  cancel: (() => void) | undefined;
}

export function startRoundScheduler(options: RoundSchedulerOptions): RoundScheduler {
  const { clock, intervalMs } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`scheduler interval must be above 0 ms, got ${intervalMs}`);
  }
  const isDown = options.isDown ?? (() => false);
  const log = options.log ?? (() => undefined);
  let stopped = false;

  const states: JobState[] = options.jobs.map((job) => ({
    job,
    runs: 0,
    skipped: 0,
    failures: 0,
    lastRunAt: undefined,
    lastError: undefined,
    running: undefined,
    cancel: undefined,
  }));

  const schedule = (state: JobState, due: number) => {
    state.cancel = clock.setTimer(Math.max(0, due - clock.now()), () => fire(state, due));
  };

  const fire = (state: JobState, due: number) => {
    state.cancel = undefined;
    if (stopped) return;
    const next = () => {
      if (!stopped) schedule(state, Math.max(due + intervalMs, clock.now()));
    };
    if (isDown(state.job.member)) {
      state.skipped++;
      next();
      return;
    }
    state.runs++;
    state.lastRunAt = clock.now();
    state.running = (async () => {
      try {
        await state.job.run();
        state.lastError = undefined;
      } catch (error) {
        state.failures++;
        state.lastError = messageOf(error);
        log(`scheduler: ${state.job.name} of ${state.job.member} failed: ${state.lastError}`);
      } finally {
        state.running = undefined;
        next();
      }
    })();
  };

  const start = clock.now();
  states.forEach((state, i) => {
    schedule(state, start + (intervalMs * i) / Math.max(1, states.length));
  });

  return {
    stats: () =>
      states.map((s) => ({
        member: s.job.member,
        name: s.job.name,
        runs: s.runs,
        skipped: s.skipped,
        failures: s.failures,
        ...(s.lastRunAt === undefined ? {} : { last_run_at: new Date(s.lastRunAt).toISOString() }),
        ...(s.lastError === undefined ? {} : { last_error: s.lastError }),
      })),
    stop: async () => {
      stopped = true;
      for (const state of states) {
        state.cancel?.();
        state.cancel = undefined;
      }
      await Promise.all(states.map((s) => s.running));
    },
  };
}
