/**
 * What DynamoDB charges for a write: one write request unit per started kilobyte of the item
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html:
 * an item's size is its attribute names plus values; a standard write of an item up to 1 KB is one
 * unit, each further KB another). An update is charged on the larger of the item before and after.
 */

/**
 * The items the jobs and routed tasks write, by what they hold (the state table's layout,
 * lib/adapters/aws/state-keys.ts). The price book sizes each; test/unit/cost-item-sizes.test.ts
 * measures those the idle jobs and a route write and fails when an assumed size disagrees.
 */
export const ITEM_KINDS = [
  /** A region's view of a peer: its counters and the window of the last calls (HEALTH). */
  'probe_view',
  /** A witness's view of a region, written into every region's replica. */
  'witness_view',
  'heartbeat',
  /** An observer's view of every region in one minute (the ring of 1,440 slots). */
  'availability_sample',
  /** An observer's availability rolled up from its samples, rewritten with each sample. */
  'availability_ledger',
  /** A region's replication heartbeat and write counter (an UpdateItem ADD per counted write). */
  'replication_mark',
  /** One ordered pair of the latency matrix with its window of samples. */
  'latency_entry',
  'handoff',
  /** A region's journal entry of a handoff claim. */
  'claim',
  /** A reservation's hold, under the region that reserved it. */
  'hold',
  /** What a region's open reservations hold of one pool (the reservation's counter). */
  'held_counter',
  'resource_pool',
  /** The records written seldom (failover records and steps, audit and ops reports, rebalances, checks, MCP records). */
  'record',
] as const;

export type ItemKind = (typeof ITEM_KINDS)[number];

/** Write request units for one write of an item of `bytes` (at least one). */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 1024));
}
