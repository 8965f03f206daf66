/**
 * verify_target_capacity (preparation): the target is serving in this replica, answers
 * `/coordination/status` as serving, and reports the room a takeover needs.
 *
 * A target that gives no answer to the one probe (an HTTP error, a reset, a timeout) is retried
 * (TransientError, the workflow's Retry) before the failover rolls back; only an answer that says it
 * cannot take the work (not serving, no room) fails it at once. One 500 from a serving target in an
 * error burst rolled back a dead region's failover, and the retry rule then held the next one for a
 * whole cooldown since nothing it depends on had changed: the dead region kept its traffic for
 * minutes (principle 5; simulator seed 425978).
 */
import { MIN_TARGET_CAPACITY } from '../../../core/failover/target.ts';
import type { FailoverRecord } from '../../../core/failover/types.ts';
import type { ProbeObservation } from '../../../core/health/types.ts';
import { isServing } from '../../../core/state/records.ts';
import type { RegionStatuses } from '../../../ports.ts';
import { readStatuses } from '../../live-state.ts';
import { stepError } from '../shared.ts';
import type { Perform } from '../step-context.ts';
import { targetOf } from '../step-helpers.ts';

export const verifyTargetCapacity: Perform<RegionStatuses> = async ({ deps, record, timings }) => {
  const target = targetOf(record);
  const status = (await readStatuses(deps.topology, deps.state)).get(target);
  if (!status || !isServing(status.status)) {
    throw stepError('TargetRegionFailure', `${target} is ${status?.status ?? 'unknown'}, not serving`);
  }
  const seen = await deps.probe.probe(
    record.coordinator,
    target,
    '/coordination/status',
    timings.probe_timeout_ms,
  );
  if (!seen.ok) {
    // No answer is no verdict on the target: ask again, as for any transient error.
    throw stepError(
      'TransientError',
      `${target} does not answer /coordination/status: ${seen.error ?? 'error'}`,
    );
  }
  if (seen.reported_status !== undefined && !isServing(seen.reported_status)) {
    throw stepError('TargetRegionFailure', `${target} reports itself ${seen.reported_status}`);
  }
  refuseFullTarget(record, target, seen);
  return {
    outcome: 'succeeded',
    detail: `${target} answers in ${seen.latency_ms} ms${
      seen.available_capacity === undefined
        ? ''
        : ` with ${Math.round(seen.available_capacity * 100)}% capacity available`
    }`,
  };
};

/** Spread: no survivor had 50 % free when the target was chosen; it needs room, not half its pool. */
function refuseFullTarget(record: FailoverRecord, target: string, seen: ProbeObservation): void {
  const needed = record.mode === 'spread' ? Number.MIN_VALUE : MIN_TARGET_CAPACITY;
  if (seen.available_capacity !== undefined && seen.available_capacity < needed) {
    throw stepError(
      'TargetRegionFailure',
      record.mode === 'spread'
        ? `${target} reports no capacity left`
        : `${target} reports ${Math.round(seen.available_capacity * 100)}% capacity available, below ${
            MIN_TARGET_CAPACITY * 100
          }%`,
    );
  }
}
