/**
 * When an automatic failover of a region may start again after earlier ones ended without a
 * change (rolled back, cancelled, failed). Without this rule a failover that cannot succeed is
 * started again every epoch (each rollback bumps the epoch, so each attempt has a new id), and each
 * raises its incident again. Pure: the caller passes the records, the time and the conditions.
 *
 * - A failover that ended without a change is not retried while the conditions it depended on (which
 *   regions serve, and each survivor's free capacity in tenths) are the same as when it started,
 *   until a backoff passes: the policy's cooldown, doubled for each such failover in a row.
 * - When the conditions changed (capacity freed, a region recovered or lost), it may start at once.
 * - A failover that ended on a TransientError (a step's retries ran out on errors that say nothing
 *   about the regions: a target giving no answer, throttling) backs off from the detection window
 *   instead of the cooldown: it is not known to be unable to succeed, and a dead region's traffic must
 *   be served (principle 5), so the next attempt comes once the detectors could have seen anything
 *   new. The doubling still bounds how often it starts.
 * - After a completed failover (or none), only the policy's cooldown applies.
 */
import { availableCapacity, type RegionLiveState } from '../routing.ts';
import { isServing, type RegionStatusRecord } from '../state/records.ts';
import type { FailoverRecord } from './types.ts';

const UNSUCCESSFUL: ReadonlySet<FailoverRecord['status']> = new Set(['rolled_back', 'cancelled', 'failed']);

/** The workflow's error for a step whose retries ran out on errors that judge no region. */
const TRANSIENT = 'TransientError';

/** At most 2^6 = 64 cooldowns (about 11 hours with the spec's 600 s): an outage must not be forgotten. */
const MAX_DOUBLINGS = 6;

/**
 * What a failover of `failedRegion` depends on, as one comparable string: the serving survivors and
 * their free capacity (scarcest resource) in tenths.
 */
export function failoverConditions(
  failedRegion: string,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  live: ReadonlyMap<string, RegionLiveState>,
): string {
  return [...statuses.values()]
    .filter((s) => s.region_id !== failedRegion && isServing(s.status))
    .map((s) => {
      const state = live.get(s.region_id);
      const tenths = state ? Math.floor(availableCapacity(state.allocation, state.usage) * 10) : -1;
      return `${s.region_id}:${tenths}`;
    })
    .sort()
    .join(',');
}

export interface RetryInput {
  /** The region's failover records, any order. */
  readonly records: readonly FailoverRecord[];
  /** The id the next attempt would have (a record with it is this attempt, not an earlier one). */
  readonly nextId: string;
  readonly now: number;
  readonly cooldownSeconds: number;
  /** The backoff's base after a failover that ended on a TransientError: the detection window. */
  readonly transientSeconds: number;
  /** failoverConditions now. */
  readonly conditions: string;
}

export type RetryDecision = { readonly start: true } | { readonly start: false; readonly reason: string };

export function mayStartFailover(input: RetryInput): RetryDecision {
  const { now, cooldownSeconds, conditions } = input;
  const earlier = input.records
    .filter((r) => r.kind === 'failover' && r.failover_id !== input.nextId)
    .sort((a, b) => Date.parse(b.initiated_at) - Date.parse(a.initiated_at));
  let unsuccessful = 0;
  for (const record of earlier) {
    if (!UNSUCCESSFUL.has(record.status)) break;
    unsuccessful += 1;
  }
  const last = earlier[0];
  if (!last) return { start: true };
  if (unsuccessful === 0) {
    const since = now - Date.parse(last.initiated_at);
    return since < cooldownSeconds * 1000
      ? {
          start: false,
          reason: `cooldown: ${last.failover_id} initiated at ${last.initiated_at} (cooldown ${cooldownSeconds} s)`,
        }
      : { start: true };
  }
  if (last.conditions !== undefined && last.conditions !== conditions) return { start: true };
  const base = last.error?.name === TRANSIENT ? input.transientSeconds : cooldownSeconds;
  const backoffSeconds = base * 2 ** Math.min(unsuccessful - 1, MAX_DOUBLINGS);
  const endedAt = Date.parse(last.completed_at ?? last.updated_at);
  const waited = (now - endedAt) / 1000;
  if (waited >= backoffSeconds) return { start: true };
  return {
    start: false,
    reason:
      `backoff: ${unsuccessful} failover(s) in a row ended without a change (last ${last.failover_id}, ` +
      `${last.status}${last.error ? `: ${last.error.name}` : ''}); nothing it depends on changed; ` +
      `next attempt ${Math.ceil(backoffSeconds - waited)} s from now, or as soon as capacity or a region changes`,
  };
}
