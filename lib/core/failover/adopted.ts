/**
 * A region's copy of a decision about it (lib/app/round-actions.ts `adopt`): a fenced region that
 * reaches a majority again, or a serving one a peer reports taken out, writes in its own replica the
 * newer status a peer's replica holds of it, because the decision's writer may be down for long and
 * its slot then never arrives. The copy is no decision of the region's own. Pure.
 */
import type { RegionStatusRecord } from '../state/records.ts';
import type { FailoverRecord } from './types.ts';

/** What a region writes as `updated_by` when it adopts a peer's decision about itself. */
export function adoptionMarker(regionId: string): string {
  return `reconcile@${regionId}`;
}

/**
 * Whether `status` is the running failover `record`'s own decision: written by it, or its failed
 * region's copy of it. The copy may sit one epoch above the decision (the region fenced itself at
 * the epoch the failover drained it from, on the other side of a cut) and then wins the merge
 * wherever the decision's next write has not arrived; were it another writer's change, the
 * failover's rollback would leave its region draining for good (nothing fails back a draining
 * region) and a resumed verify_failure would refuse to go on. While a failover runs, the only
 * decision that takes its failed region out (draining, failed) is its own: one failover runs per
 * region, and none starts from a region already out.
 */
export function isDecisionOf(record: FailoverRecord, status: RegionStatusRecord): boolean {
  if (status.updated_by === record.failover_id) return true;
  return (
    status.region_id === record.failed_region &&
    status.updated_by === adoptionMarker(record.failed_region) &&
    (status.status === 'draining' || status.status === 'failed')
  );
}
