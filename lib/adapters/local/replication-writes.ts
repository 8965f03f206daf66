/**
 * The store side of the local replication: which keys a captured request writes, the stamp put on
 * a captured item, the conditional write that applies a change last-writer-wins, and the drill
 * that changes one copy without replicating it.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { type Item, keyIdOf, normalizeKey } from './replication-keys.ts';
import { type Change, compareVersions, observe, type RegionReplica } from './replication-state.ts';
import { type CorruptedCopy, REP_UPDATE_REGION, REP_UPDATE_TIME } from './replication-types.ts';

/** The commands whose successful writes are captured. */
export const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

/** One item a captured request writes. */
export interface PlannedWrite {
  readonly table: string;
  readonly key: Item;
  readonly keyId: string;
  readonly kind: 'put' | 'delete';
}

/** The key of an item of `table` in wire form (the table's key schema picks its attributes). */
type KeyOf = (table: string, item: Record<string, unknown>) => Promise<Item>;

/** The keys a write request touches, in wire form; empty when nothing replicates. */
export async function planWrites(
  command: string,
  input: Record<string, unknown>,
  keyOf: KeyOf,
  replicates: (table: string) => boolean,
): Promise<PlannedWrite[]> {
  const planned: PlannedWrite[] = [];
  const add = (table: string, key: Item, kind: PlannedWrite['kind']) =>
    planned.push({ table, key, keyId: keyIdOf(table, key), kind });
  if (command === 'BatchWriteItemCommand') {
    const requests = (input.RequestItems ?? {}) as Record<string, readonly Record<string, unknown>[]>;
    for (const [table, writes] of Object.entries(requests)) {
      if (!replicates(table)) continue;
      for (const write of writes) {
        const put = write.PutRequest as { Item?: Record<string, unknown> } | undefined;
        const del = write.DeleteRequest as { Key?: Record<string, unknown> } | undefined;
        if (put?.Item) add(table, await keyOf(table, put.Item), 'put');
        else if (del?.Key) add(table, normalizeKey(del.Key), 'delete');
      }
    }
    return planned;
  }
  const table = String(input.TableName ?? '');
  if (!replicates(table)) return planned;
  if (command === 'PutItemCommand') {
    add(table, await keyOf(table, (input.Item ?? {}) as Record<string, unknown>), 'put');
  } else {
    const key = normalizeKey((input.Key ?? {}) as Record<string, unknown>);
    add(table, key, command === 'DeleteItemCommand' ? 'delete' : 'put');
  }
  return planned;
}

/** Stamps a captured put on the item; its new image, or undefined when the item is gone already. */
export async function stampItem(
  region: RegionReplica,
  write: PlannedWrite,
  time: number,
): Promise<Item | undefined> {
  const [firstKey] = Object.keys(write.key);
  try {
    const { Attributes } = await region.writer.send(
      new UpdateItemCommand({
        TableName: write.table,
        Key: write.key,
        UpdateExpression: 'SET #time = :time, #region = :region',
        ConditionExpression: 'attribute_exists(#key)',
        ExpressionAttributeNames: {
          '#time': REP_UPDATE_TIME,
          '#region': REP_UPDATE_REGION,
          '#key': firstKey ?? '',
        },
        ExpressionAttributeValues: { ':time': { N: String(time) }, ':region': { S: region.id } },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Attributes;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return undefined;
    throw error;
  }
}

/** Applies one change at the link's target if it is newer than what the target holds. */
export async function applyChange(
  target: RegionReplica,
  change: Change,
): Promise<'delivered' | 'superseded'> {
  const release = await target.locks.acquire([change.keyId]);
  try {
    observe(target, change.time);
    const condition = newerThanHeld(target, change);
    try {
      if (change.image) {
        await target.writer.send(
          new PutItemCommand({ TableName: change.table, Item: change.image, ...condition }),
        );
        target.tombstones.delete(change.keyId);
      } else {
        await target.writer.send(
          new DeleteItemCommand({ TableName: change.table, Key: change.key, ...condition }),
        );
        target.tombstones.set(change.keyId, { time: change.time, region: change.region });
      }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'superseded';
      throw error;
    }
    return 'delivered';
  } finally {
    release();
  }
}

/**
 * The condition of a replicated write: the change is newer than the target's item (its stamp) or,
 * when the item is missing, than the target's tombstone for it.
 */
function newerThanHeld(target: RegionReplica, change: Change) {
  // One conditional write (not a read, then a write): last writer wins is checked by the store.
  // The same write already there (delivered again after a crash before its delivery was logged)
  // is written again, harmlessly. A missing item loses to a newer tombstone, kept in memory.
  const tombstone = target.tombstones.get(change.keyId);
  const keptDeleted = tombstone !== undefined && compareVersions(change, tombstone) < 0;
  const [firstKey] = Object.keys(change.key);
  const older = 'attribute_not_exists(#time) OR #time < :time OR (#time = :time AND #region <= :region)';
  return {
    ConditionExpression: keptDeleted ? `attribute_exists(#key) AND (${older})` : older,
    ExpressionAttributeNames: {
      '#time': REP_UPDATE_TIME,
      '#region': REP_UPDATE_REGION,
      ...(keptDeleted ? { '#key': firstKey ?? '' } : {}),
    },
    ExpressionAttributeValues: { ':time': { N: String(change.time) }, ':region': { S: change.region } },
  };
}

/** The `corrupt` drill on one region's copy; see Replication.corrupt. */
export async function corruptCopy(
  region: RegionReplica,
  table: string,
  key: Readonly<Record<string, unknown>>,
  changes: Readonly<Record<string, unknown>> | null,
): Promise<CorruptedCopy> {
  const wireKey = normalizeKey(key);
  if (changes) {
    const touched = Object.keys(changes).filter((name) => name in wireKey);
    if (touched.length > 0)
      throw new Error(`replication: corrupt cannot change key attribute(s) ${touched.join(', ')}`);
  }
  // The replicator's own client: what it writes is never captured, so never replicated.
  const doc = DynamoDBDocumentClient.from(region.writer, {
    marshallOptions: { removeUndefinedValues: true },
  });
  // Held like a replicated write: a copy arriving for the same key waits until the change is done.
  const release = await region.locks.acquire([keyIdOf(table, wireKey)]);
  try {
    const { Item: before } = await doc.send(
      new GetCommand({ TableName: table, Key: key, ConsistentRead: true }),
    );
    if (changes === null) {
      if (before) await doc.send(new DeleteCommand({ TableName: table, Key: key }));
      return { region: region.id, table, key, before, after: undefined };
    }
    const after: Record<string, unknown> = { ...(before ?? key) };
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) delete after[name];
      else after[name] = value;
    }
    await doc.send(new PutCommand({ TableName: table, Item: after }));
    return { region: region.id, table, key, before, after };
  } finally {
    release();
  }
}
