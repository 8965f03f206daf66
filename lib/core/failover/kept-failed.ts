/**
 * A region a rollback kept `failed` (lib/app/failover/rollback.ts): its failover took it out of the
 * quorum, rolled back (its target failed too, an operator aborted, ...) while a majority still could
 * not reach it, so the rollback left it out instead of making a dead region a quorum member again.
 * Its work has not been failed over: the next failover of it starts from `failed`. Pure.
 */
import { type AssessInput, assess } from '../health/quorum.ts';
import type { RegionStatus } from '../state/records.ts';
import { isActiveFailoverStatus } from './active.ts';
import type { FailoverRecord } from './types.ts';

/** What a failover's rollback writes as `updated_by`: its forward writes carry the failover id. */
export function rollbackMarker(failoverId: string): string {
  return `${failoverId}/rollback`;
}

/**
 * Whether a majority of the fresh views in `input` reaches `region` were it a quorum member with
 * `asStatus` (the quorum leaves draining and failed regions out, so it says nothing of them as they are).
 */
export function reachedByMajorityAsMember(
  input: AssessInput,
  region: string,
  asStatus: RegionStatus = 'healthy',
): boolean {
  const current = input.statuses.get(region);
  if (!current) return true;
  const statuses = new Map(input.statuses).set(region, { ...current, status: asStatus });
  return assess({ ...input, statuses }).reachable_by_majority.includes(region);
}

/**
 * The rolled-back failover that kept `region` failed, when that is why it is failed and nothing
 * runs for it now: the newest failover of it ended without completing and its rollback wrote the
 * status the replica holds. Undefined otherwise (failed by a completed failover, or one is active).
 */
export function keptFailedBy(
  status: { readonly status: RegionStatus; readonly updated_by: string },
  records: readonly FailoverRecord[],
): FailoverRecord | undefined {
  if (status.status !== 'failed') return undefined;
  const failovers = records.filter((r) => r.kind === 'failover');
  if (failovers.some((r) => isActiveFailoverStatus(r.status))) return undefined;
  const newest = [...failovers].sort((a, b) => Date.parse(b.initiated_at) - Date.parse(a.initiated_at))[0];
  if (!newest || newest.status === 'completed') return undefined;
  return status.updated_by === rollbackMarker(newest.failover_id) ? newest : undefined;
}
