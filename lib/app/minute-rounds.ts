/**
 * Rounds inside one scheduled invocation: EventBridge Scheduler fires at most once a minute (DESIGN),
 * so jobs that beat faster (the health probe every 30 s or 10 s, the replication monitor every 5 s)
 * run their rounds `intervalMs` apart within the invocation, and start none Lambda could not finish.
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
