import { Duration } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { keys } from '../adapters/aws/state-keys.ts';
import type { TableItemAction } from './state-table.ts';
import type { StateTableAccess } from './state-tables.ts';

/**
 * What the replication functions may do with the state table (lib/adapters/aws/dynamodb-replication.ts is
 * the code behind each action).
 *
 * - The replication API (`GET /v1/replication`, consistency checks, versioned documents): on its own
 *   replica it samples keys (Scan), reads copies (BatchGetItem, GetItem), lists marks and views
 *   (Query), records checks and document slots (PutItem), counts its writes (UpdateItem ADD) and
 *   repairs (PutItem, DeleteItem, both conditioned on the copy it read). On every other replica it
 *   reads the marks and the sampled copies and, with `reconcile: true`, repairs and counts there.
 * - The lag monitor: beats its own mark and counts (UpdateItem), stores its lag views (PutItem),
 *   reads marks, views and changed documents (Query, GetItem) here, and reads every other replica's
 *   marks (Query) to measure each pair.
 */
export const REPLICATION_ACCESS = {
  api: {
    own: ['GetItem', 'Query', 'Scan', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
    remote: ['GetItem', 'Query', 'BatchGetItem', 'PutItem', 'UpdateItem', 'DeleteItem'],
  },
  // The hourly consistency check (same function) samples its own replica (Scan) and reads every
  // replica's copies (BatchGetItem); it reports, it never repairs.
  monitor: {
    own: ['GetItem', 'Query', 'Scan', 'BatchGetItem', 'PutItem', 'UpdateItem'],
    remote: ['Query', 'BatchGetItem'],
  },
} as const satisfies Record<string, { own: readonly TableItemAction[]; remote: readonly TableItemAction[] }>;

/** The partition of the replication marks: the write counters every state writer increments. */
export const REPLICATION_PARTITION: string = keys.replicationMark('').pk;

/**
 * One monitor invocation: a single round (a beat, a read of every replica's marks, 3 s timeout each
 * when a region is unreachable, and the views; the minute driver waits between rounds), or the
 * hourly consistency check of 100 sampled keys.
 */
export const REPLICATION_MONITOR_TIMEOUT = Duration.seconds(30);

/**
 * Every write through the state port is followed by one UpdateItem ADD on the replica region's
 * mark (lib/app/replication/counting-state.ts). Writers that need no UpdateItem otherwise (router,
 * probe, witness) get it for the marks' partition only (`dynamodb:LeadingKeys`): on the state table
 * only, where the marks live (StateTables grants no LeadingKeys-confined action on the MRSC table).
 */
export function grantWriteCounter(grantee: iam.IGrantable, replica: StateTableAccess): void {
  replica.grantItemAccess(grantee, ['UpdateItem'], { leadingKeys: [REPLICATION_PARTITION] });
}
