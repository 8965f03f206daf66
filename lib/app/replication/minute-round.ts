/**
 * One of the lag monitor's rounds inside a minute, as runReplicationMinute would run it, in its own
 * invocation: on AWS the region's minute driver waits between the rounds (lib/app/minute-rounds.ts).
 */
import { DEFAULT_BEAT_INTERVAL_MS } from '../../core/replication/lag.ts';
import { type MinuteCursor, type MinuteRoundReport, runMinuteRound } from '../minute-rounds.ts';
import type { ReplicationDeps } from './deps.ts';
import { type ReplicationRoundOptions, type ReplicationRoundReport, runReplicationRound } from './monitor.ts';

/** A round's beat, reads and view writes, with room to spare (runReplicationMinute's margin). */
export const REPLICATION_ROUND_NEEDS_MS = 5_000;

export interface ReplicationMinuteRoundOptions extends ReplicationRoundOptions {
  /** Where the minute stands (absent: its first round). */
  readonly cursor?: MinuteCursor | undefined;
  /** When the minute's driver started (ms since the epoch). */
  readonly startedAt: number;
  /** How long the driver gives the minute: no round starts that would not end within it. */
  readonly budgetMs: number;
}

export function runReplicationMinuteRound(
  deps: Omit<ReplicationDeps, 'state'>,
  options: ReplicationMinuteRoundOptions,
): Promise<MinuteRoundReport<ReplicationRoundReport>> {
  const intervalMs = options.intervalMs ?? DEFAULT_BEAT_INTERVAL_MS;
  return runMinuteRound(
    {
      planned: Math.max(1, Math.floor(60_000 / intervalMs)),
      intervalMs,
      clock: deps.clock,
      deadline: options.startedAt + options.budgetMs,
      roundNeeds: { ms: REPLICATION_ROUND_NEEDS_MS, said: `${REPLICATION_ROUND_NEEDS_MS} ms` },
    },
    options.cursor,
    () => runReplicationRound(deps, options),
  );
}
