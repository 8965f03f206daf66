/**
 * One of the lag monitor's rounds inside a minute, as runReplicationMinute would run it, in its own
 * invocation: on AWS the region's minute driver waits between the rounds (lib/app/minute-rounds.ts).
 */
import { DEFAULT_BEAT_INTERVAL_MS } from '../../core/replication/lag.ts';
import { type MinuteDriverPosition, type MinuteRoundReport, runDrivenRound } from '../minute-rounds.ts';
import type { ReplicationDeps } from './deps.ts';
import { type ReplicationRoundOptions, type ReplicationRoundReport, runReplicationRound } from './monitor.ts';

/** A round's beat, reads and view writes, with room to spare (runReplicationMinute's margin). */
export const REPLICATION_ROUND_NEEDS_MS = 5_000;

export interface ReplicationMinuteRoundOptions extends ReplicationRoundOptions, MinuteDriverPosition {}

export function runReplicationMinuteRound(
  deps: Omit<ReplicationDeps, 'state'>,
  options: ReplicationMinuteRoundOptions,
): Promise<MinuteRoundReport<ReplicationRoundReport>> {
  const intervalMs = options.intervalMs ?? DEFAULT_BEAT_INTERVAL_MS;
  return runDrivenRound(
    {
      planned: Math.max(1, Math.floor(60_000 / intervalMs)),
      intervalMs,
      clock: deps.clock,
      roundNeeds: { ms: REPLICATION_ROUND_NEEDS_MS, said: `${REPLICATION_ROUND_NEEDS_MS} ms` },
    },
    options,
    () => runReplicationRound(deps, options),
  );
}
