/**
 * The durable side of the local replication: the snapshot it writes of its queues, tombstones and
 * clocks, and how it rebuilds them after a restart from that snapshot and the log written after it.
 */
import type { Clock } from '../../ports.ts';
import type { JournalContents, JournalSnapshot } from './replication-journal.ts';
import {
  type Link,
  linkId,
  observe,
  pruneTombstones,
  type RegionReplica,
  type TableRouting,
} from './replication-state.ts';

/** What the replication holds that the journal keeps. */
export interface ReplicationState {
  readonly regions: ReadonlyMap<string, RegionReplica>;
  readonly links: ReadonlyMap<string, Link>;
  readonly routing: TableRouting;
}

type JournalRecord = JournalContents['records'][number];
type CaptureRecord = Extract<JournalRecord, { kind: 'capture' }>;
type DeliveryRecord = Extract<JournalRecord, { kind: 'delivery' }>;

/** The snapshot of the state now, tombstones nothing can still need left out. */
export function snapshotOf(state: ReplicationState, now: number): Omit<JournalSnapshot, 'version' | 'seq'> {
  pruneTombstones(state.regions.values(), state.links.values(), now);
  return {
    regions: Object.fromEntries(
      [...state.regions.values()].map((r) => [
        r.id,
        { last_stamp: r.lastStamp, tombstones: [...r.tombstones] },
      ]),
    ),
    links: [...state.links.values()]
      .filter((link) => link.queue.length > 0)
      .map((link) => ({ from: link.from, to: link.to, queue: link.queue })),
  };
}

/** Restores queued changes, tombstones and stamps from the snapshot, then replays the log after it. */
export function restore(state: ReplicationState, { snapshot, records }: JournalContents, clock: Clock): void {
  restoreSnapshot(state, snapshot);
  for (const record of records) {
    if (record.kind === 'capture') replayCapture(state, record);
    else replayDelivery(state, record);
  }
  settleClocks(state, clock.now());
}

/** Takes the clocks, tombstones and queues of the snapshot, if any. */
function restoreSnapshot(
  { regions, links, routing }: ReplicationState,
  snapshot: JournalSnapshot | undefined,
): void {
  for (const [id, state] of Object.entries(snapshot?.regions ?? {})) {
    const region = regions.get(id);
    if (!region) continue;
    region.lastStamp = Math.max(region.lastStamp, state.last_stamp);
    for (const [keyId, tombstone] of state.tombstones) region.tombstones.set(keyId, tombstone);
  }
  for (const savedLink of snapshot?.links ?? []) {
    const link = links.get(linkId(savedLink.from, savedLink.to));
    if (!link) continue;
    // A table's replica set may have changed since (a new placement): drop what no longer goes there.
    link.queue.push(...savedLink.queue.filter((change) => routing.replicatesTo(change.table, link.to)));
  }
}

/** A logged capture again: the origin's clock and tombstone, and the change queued on its links. */
function replayCapture({ regions, links, routing }: ReplicationState, record: CaptureRecord): void {
  const origin = regions.get(record.region);
  if (!origin) return;
  origin.lastStamp = Math.max(origin.lastStamp, record.time);
  if (record.image) origin.tombstones.delete(record.keyId);
  else origin.tombstones.set(record.keyId, { time: record.time, region: record.region });
  for (const [to, dueAt] of Object.entries(record.due)) {
    const link = links.get(linkId(record.region, to));
    if (!link || !routing.replicatesTo(record.table, to)) continue;
    const { kind: _kind, due: _due, ...change } = record;
    link.queue.push({ ...change, image: record.image, dueAt });
  }
}

/** A logged delivery again: the change leaves its queue and the target's clock and tombstone follow. */
function replayDelivery({ regions, links }: ReplicationState, record: DeliveryRecord): void {
  const link = links.get(linkId(record.from, record.to));
  const target = regions.get(record.to);
  if (!link || !target) return;
  // The delivered change is among the first (a batch); searched for, as the placement may have dropped some.
  const at = link.queue.findIndex(
    (c) => c.keyId === record.keyId && c.time === record.time && c.region === record.region,
  );
  if (at === -1) return;
  const [change] = link.queue.splice(at, 1);
  observe(target, record.time);
  if (record.outcome === 'delivered' && change) {
    if (change.image) target.tombstones.delete(change.keyId);
    else target.tombstones.set(change.keyId, { time: change.time, region: change.region });
  }
}

/** Clocks and due times after a restart, whatever the clock of the process before did. */
function settleClocks({ regions, links }: ReplicationState, now: number): void {
  // Time never runs backwards across a restart: every clock starts past every stamp ever given.
  const latest = Math.max(...[...regions.values()].map((r) => r.lastStamp));
  for (const region of regions.values()) region.lastStamp = latest;
  // A restarted simulated clock may run behind the old one: a queued change waits one lag at most.
  for (const link of links.values()) {
    link.queue = link.queue.map((c) => (c.dueAt > now + link.lagMs ? { ...c, dueAt: now + link.lagMs } : c));
  }
}
