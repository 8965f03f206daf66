/**
 * Holds that match the handoff records. Every reservation is counted by a hold
 * (ResourcesPort: one per reservation, released at most once per replica, a release that lost to
 * another by last writer wins given back by its writer). The paths that end a handoff release its
 * hold as they end it, each in its own replica, from the record as that replica holds it; across a
 * partition two of them may disagree about the record (the target settles the task while the
 * failover on the majority side redirects it), and last writer wins then keeps one record, whose
 * holds are not the ones the losing path released or kept.
 *
 * So each region reconciles the holds it made, each round, with the records its replica holds once
 * they have settled: a hold the record still names while the task is open is held (a release is
 * restored, and its writer gives it back); any other hold is released (the record ended, moved the
 * task under another hold, or is gone: erased, expired, or never written by a route that died).
 * Releases this region made that no longer stand are given back (in every round, serving or not:
 * `giveBackReleases`). A hold released for longer than HOLD_RETENTION_MS is forgotten once no other
 * region journals a release of it it has yet to give back.
 */
import { type HoldRef, isSameHold } from '../../core/resources/pool.ts';
import { isOpenHandoff } from '../../core/state/records.ts';
import type { Handoffs, Hold } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import type { ReservedHandoff } from './accounting.ts';

/**
 * A hold changed more recently than this is left alone: its route may still be writing the record,
 * and the record the change came from may still be on its way here (longer than any route takes).
 */
export const HOLD_SETTLE_MS = 60_000;

/**
 * How long a released hold is kept, so a record that replication reopens (a concurrent write from
 * the other side of a partition healed meanwhile) finds it to restore.
 */
const HOLD_RETENTION_MS = 60 * 60_000;

interface HoldsReport {
  /** Holds released because their records no longer hold them. */
  readonly released: readonly string[];
  /** Released holds restored because their records hold them after all. */
  readonly restored: readonly string[];
  /** This region's releases given back (another release of the hold stands, or none should). */
  readonly given_back: readonly string[];
  /** Released holds forgotten after their retention. */
  readonly forgotten: number;
}

export async function reconcileHolds(deps: WithState<RegionalDeps, Handoffs>): Promise<HoldsReport> {
  const { resources } = deps;
  if (!resources) return { released: [], restored: [], given_back: [], forgotten: 0 };
  const now = deps.clock.now();
  const writers = deps.topology.regions.map((r) => r.region_id);
  const released: string[] = [];
  const restored: string[] = [];
  let forgotten = 0;
  const settled = (await resources.listHolds(deps.regionId)).filter(
    (hold) => now - hold.changed_at >= HOLD_SETTLE_MS,
  );
  const records = await recordsOf(
    deps,
    settled.map((hold) => hold.reservation.hold.handoff_id),
  );
  for (const hold of settled) {
    const ref = hold.reservation.hold;
    const record = records.get(ref.handoff_id);
    if (record === 'unknown') continue;
    const held =
      record !== undefined && isOpenHandoff(record.status) && isSameHold(record.reservation?.hold, ref);
    if (held) {
      if (hold.released_by !== undefined && (await resources.restoreHold(ref, hold.released_by))) {
        restored.push(ref.id);
      }
    } else if (hold.released_by === undefined) {
      if (await resources.release(hold.reservation, tokensUsed(record, hold))) released.push(ref.id);
    } else if (now - hold.changed_at >= HOLD_RETENTION_MS && (await resources.forgetHold(ref, writers))) {
      forgotten += 1;
    }
  }
  // After the restores: a release of this region's own that one of them undid is given back now.
  const givenBack = await resources.settleReleases();
  return { released, restored, given_back: givenBack.map((h: HoldRef) => h.id), forgotten };
}

/**
 * The tasks' records as this region's replica holds them; for those it has none of, as any other
 * replica this region reaches does (a route's record may be only in its owner's replica yet), one
 * batch read per replica. `unknown` for a record a replica could not be read for: nothing is decided
 * on a record that may exist there. Absent from the map: no replica holds it.
 */
async function recordsOf(
  deps: WithState<RegionalDeps, Handoffs>,
  handoffIds: readonly string[],
): Promise<Map<string, ReservedHandoff | 'unknown'>> {
  const records = new Map<string, ReservedHandoff | 'unknown'>();
  if (handoffIds.length === 0) return records;
  let missing = [...new Set(handoffIds)];
  const { replica: replicaOf } = deps;
  const others = deps.topology.regions.map((r) => r.region_id).filter((id) => id !== deps.regionId);
  const replicas = [deps.state, ...(replicaOf ? others.map((id) => replicaOf(id)) : [])];
  for (const replica of replicas) {
    if (missing.length === 0) break;
    try {
      const found = await replica.getHandoffs(missing);
      for (const [id, record] of found) records.set(id, record);
      missing = missing.filter((id) => !found.has(id));
    } catch {
      for (const id of missing) records.set(id, 'unknown');
      break;
    }
  }
  return records;
}

/**
 * The tokens a release charges to the hold's hour: what the task used when its record settled it
 * under this hold, else none (the estimate goes back).
 */
function tokensUsed(record: ReservedHandoff | undefined, hold: Hold): number {
  const reserved = hold.reservation.tokens;
  const settlement = record?.settlement;
  if (settlement && isSameHold(record.reservation?.hold, hold.reservation.hold)) {
    return -settlement.released.tokens;
  }
  return -reserved;
}

/**
 * Gives back this region's releases that no longer stand, for a probe round that does not reconcile
 * (its region does not serve): a fact of its own replica (another release of the hold is newer, or
 * the hold was restored), safe to act on however far behind the replica is. Never throws.
 */
export async function giveBackReleases(
  deps: Omit<RegionalDeps, 'state'>,
): Promise<{ readonly error?: string }> {
  try {
    await deps.resources?.settleReleases();
    return {};
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
