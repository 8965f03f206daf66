/**
 * Rounds inside a minute: EventBridge Scheduler fires at most once a minute (DESIGN),
 * so jobs that beat faster (the health probe every 30 s or 10 s, the replication monitor every 15 s)
 * run their rounds `intervalMs` apart within the minute, and start none that could not finish: all in
 * one invocation (runMinuteRounds: an operator's run, tests), or one round per invocation
 * (runMinuteRound: the minute driver on AWS waits between them, so no Lambda waits).
 */
import { messageOf } from '../core/errors.ts';
import type { Clock } from '../ports.ts';

export interface MinuteReport<R> {
  readonly planned: number;
  /** Each round's report, or why it failed (a failed round does not stop the next). */
  readonly rounds: readonly (R | { readonly error: string })[];
  /** Why fewer rounds than planned ran. */
  readonly stopped_early?: string;
}

export interface MinuteRoundsOptions {
  readonly planned: number;
  /** Rounds start this far apart. */
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** Lambda's remaining time: rounds that would not finish are not started. */
  readonly remainingMs?: (() => number) | undefined;
  /** What a round needs beyond its wait, in ms and as said in `stopped_early`. */
  readonly roundNeeds: { readonly ms: number; readonly said: string };
}

export async function runMinuteRounds<R>(
  options: MinuteRoundsOptions,
  round: () => Promise<R>,
): Promise<MinuteReport<R>> {
  const { planned, intervalMs, clock } = options;
  const rounds: (R | { error: string })[] = [];
  let lastError: unknown;
  let stoppedEarly: string | undefined;
  let lastStart = clock.now();
  for (let i = 0; i < planned; i++) {
    if (i > 0) {
      const wait = Math.max(0, intervalMs - (clock.now() - lastStart));
      const remaining = options.remainingMs?.();
      if (remaining !== undefined && remaining < wait + options.roundNeeds.ms) {
        stoppedEarly = `${remaining} ms left, round ${i + 1} needs ${wait} ms wait + ${options.roundNeeds.said}`;
        break;
      }
      if (wait > 0) await options.sleep(wait);
    }
    lastStart = clock.now();
    try {
      rounds.push(await round());
    } catch (error) {
      lastError = error;
      rounds.push({ error: messageOf(error) });
    }
  }
  // Every round failing (state unreachable, say) is an invocation error, visible in Lambda's metrics.
  if (lastError !== undefined && rounds.every((r) => typeof r === 'object' && r !== null && 'error' in r)) {
    throw lastError;
  }
  return { planned, rounds, ...(stoppedEarly === undefined ? {} : { stopped_early: stoppedEarly }) };
}

/**
 * Where a minute's rounds stand between two invocations. On AWS each round is its own invocation
 * (no Lambda duration spent waiting): the region's minute driver, an Express state machine started
 * by the schedule, hands the cursor back with the next invocation and waits until `next_at` itself.
 */
export interface MinuteCursor {
  /** Rounds started this minute. */
  readonly started: number;
  /** Rounds that failed (every one failing fails the minute, as a whole-minute invocation did). */
  readonly failed?: number;
}

/** What the driver needs to carry on: the cursor, and whether and when the next round starts. */
export interface MinuteStep {
  readonly cursor: MinuteCursor;
  /** Another round follows this minute. */
  readonly more: boolean;
  /** ISO time the next round starts (now when there is none: the driver's Wait needs a time). */
  readonly next_at: string;
}

export interface MinuteRoundOptions {
  readonly planned: number;
  /** Rounds start this far apart. */
  readonly intervalMs: number;
  readonly clock: Clock;
  /** When the driver gives up on this minute (its start plus its budget): no round starts that would not end before. */
  readonly deadline: number;
  /** What a round needs, in ms and as said in `stopped_early`. */
  readonly roundNeeds: { readonly ms: number; readonly said: string };
}

/** One round of a minute: its report, the next step, and why the minute stops early, if it does. */
export interface MinuteRoundReport<R> extends MinuteReport<R> {
  readonly step: MinuteStep;
}

/**
 * Runs the round the cursor points at and decides the next the way runMinuteRounds does between two
 * of its rounds: an interval after this one started (at once when it overran), and only when it
 * fits before the deadline. After the minute's last round, throws that round's error when every
 * round of the minute failed.
 */
export async function runMinuteRound<R>(
  options: MinuteRoundOptions,
  cursor: MinuteCursor | undefined,
  round: () => Promise<R>,
): Promise<MinuteRoundReport<R>> {
  const { planned, intervalMs, clock } = options;
  const started = (cursor?.started ?? 0) + 1;
  const lastStart = clock.now();
  let result: R | { error: string };
  let failed = cursor?.failed ?? 0;
  let thrown: unknown;
  try {
    result = await round();
  } catch (error) {
    thrown = error;
    failed += 1;
    result = { error: messageOf(error) };
  }
  const now = clock.now();
  let stoppedEarly: string | undefined;
  let more = started < planned;
  // On a whole second: Step Functions' Wait truncates a timestamp to the second, which would start
  // the next round up to a second early.
  const nextStart = Math.ceil(Math.max(now, lastStart + intervalMs) / 1000) * 1000;
  if (more) {
    const wait = nextStart - now;
    const remaining = options.deadline - now;
    if (remaining < wait + options.roundNeeds.ms) {
      stoppedEarly = `${remaining} ms left, round ${started + 1} needs ${wait} ms wait + ${options.roundNeeds.said}`;
      more = false;
    }
  }
  // Every round failing (state unreachable, say) is an invocation error, visible in the metrics;
  // the minute's last round failed then too, so its error is the one thrown.
  if (!more && failed === started) throw thrown;
  const next: MinuteCursor = {
    started,
    ...(failed > 0 ? { failed } : {}),
  };
  return {
    planned,
    rounds: [result],
    ...(stoppedEarly === undefined ? {} : { stopped_early: stoppedEarly }),
    step: { cursor: next, more, next_at: new Date(more ? nextStart : now).toISOString() },
  };
}

/** Where the region's minute driver stands when it hands a job one of the minute's rounds. */
export interface MinuteDriverPosition {
  /** Where the minute stands (absent: its first round). */
  readonly cursor?: MinuteCursor | undefined;
  /** When the minute's driver started (ms since the epoch). */
  readonly startedAt: number;
  /** How long the driver gives the minute: no round starts that would not end within it. */
  readonly budgetMs: number;
}

/** runMinuteRound for the round the driver's `position` points at, the minute ending with its budget. */
export function runDrivenRound<R>(
  minute: Omit<MinuteRoundOptions, 'deadline'>,
  position: MinuteDriverPosition,
  round: () => Promise<R>,
): Promise<MinuteRoundReport<R>> {
  return runMinuteRound(
    { ...minute, deadline: position.startedAt + position.budgetMs },
    position.cursor,
    round,
  );
}
