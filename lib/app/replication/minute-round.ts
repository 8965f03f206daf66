/**
 * One of the lag monitor's rounds inside a minute, as runReplicationMinute would run it, in its own
 * invocation: on AWS the region's minute driver waits between the rounds (lib/app/minute-rounds.ts).
 */
import { type MinuteDriverPosition, type MinuteRoundReport, runDrivenRound } from '../minute-rounds.ts';
import type { ReplicationDeps } from './deps.ts';
import {
  type ReplicationRoundOptions,
  type ReplicationRoundReport,
  replicationMinuteOf,
  runReplicationRound,
} from './monitor.ts';

export { REPLICATION_ROUND_NEEDS_MS } from './monitor.ts';

interface ReplicationMinuteRoundOptions extends ReplicationRoundOptions, MinuteDriverPosition {}

export function runReplicationMinuteRound(
  deps: Omit<ReplicationDeps, 'state'>,
  options: ReplicationMinuteRoundOptions,
): Promise<MinuteRoundReport<ReplicationRoundReport>> {
  return runDrivenRound({ ...replicationMinuteOf(options), clock: deps.clock }, options, () =>
    runReplicationRound(deps, options),
  );
}
