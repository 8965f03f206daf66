/**
 * A region's status is a max register of per-writer slots (DESIGN principle 4): each region writes
 * its own slot, and every reader merges them with the same rule, so replicas that hold the same
 * slots read the same status, and replication order cannot lower an epoch. The rule:
 *   1. the highest epoch wins;
 *   2. on equal epochs, a write by another region (a failover decision) beats the region's own write
 *      (its probe fencing or unfencing itself);
 *   3. then the more severe status: shutdown > failed > draining > fenced > degraded > healthy (an
 *      operator's shutdown is kept over any automatic decision made from the same epoch);
 *   4. then the writer id, ascending (the legacy item, with no writer, first).
 * Used by the DynamoDB adapter and the simulator's store alike (one rule, never two copies).
 */
import type { RegionStatus, RegionStatusRecord } from './records.ts';

/** One writer's slot of a region's status as a replica holds it. */
export interface StatusSlot {
  /** The region the status is of. */
  readonly region: string;
  /** The slot's writer; undefined for the legacy item (sort key `<region_id>`, no writer). */
  readonly writer: string | undefined;
  readonly record: RegionStatusRecord;
}

/** Equal epochs: the more severe status wins (rule 3). */
const STATUS_PRECEDENCE: Readonly<Record<RegionStatus, number>> = {
  healthy: 0,
  degraded: 1,
  fenced: 2,
  draining: 3,
  failed: 4,
  shutdown: 5,
};

/** A slot from its sort key (`<region_id>#<writer>`, or the legacy `<region_id>`) and its record. */
export function statusSlot(sortKey: string, record: RegionStatusRecord): StatusSlot {
  const hash = sortKey.indexOf('#');
  return hash < 0
    ? { region: sortKey, writer: undefined, record }
    : { region: sortKey.slice(0, hash), writer: sortKey.slice(hash + 1), record };
}

/** Whether the region wrote this status of itself (its probe fencing or unfencing it). */
function writtenBySubject(slot: StatusSlot): boolean {
  if (slot.writer !== undefined) return slot.writer === slot.region;
  const probe = `health-probe@${slot.region}`;
  const by = String(slot.record.updated_by ?? '');
  return by === probe || (by.startsWith(probe) && !/^[a-z0-9-]/.test(by.slice(probe.length)));
}

/** Below zero when `a` wins over `b`. */
function compareStatusSlots(a: StatusSlot, b: StatusSlot): number {
  if (a.record.epoch !== b.record.epoch) return b.record.epoch - a.record.epoch;
  const own = Number(writtenBySubject(a)) - Number(writtenBySubject(b));
  if (own !== 0) return own;
  const severity = (slot: StatusSlot) => STATUS_PRECEDENCE[slot.record.status] ?? -1;
  if (severity(a) !== severity(b)) return severity(b) - severity(a);
  const [wa, wb] = [a.writer ?? '', b.writer ?? ''];
  return wa < wb ? -1 : wa > wb ? 1 : 0;
}

/** The winning slot of one region's status, or undefined when it has none. */
export function mergeStatusSlots(slots: readonly StatusSlot[]): StatusSlot | undefined {
  let best: StatusSlot | undefined;
  for (const slot of slots) if (best === undefined || compareStatusSlots(slot, best) < 0) best = slot;
  return best;
}
