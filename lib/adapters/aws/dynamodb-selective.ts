import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  ScanCommand,
  type ScanCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, ValidationError } from '../../core/errors.ts';
import {
  EXPIRY_ATTRIBUTE,
  type PlacedTable,
  policyForKey,
  type ReplicationPlacement,
  tableForKey,
} from '../../core/replication/placement.ts';
import type { SelectiveRecord } from '../../core/replication/records.ts';
import type { Clock, SelectiveListing, SelectivePort } from '../../ports.ts';
import { STATE_TABLE } from './state-keys.ts';

export type { SelectiveRecord };

/**
 * Selectively replicated data (the topology's `selective` policies) in the tables the replication
 * placement gives each policy: a key goes to its policy's table for the writing region (for
 * `same_jurisdiction`, that region's jurisdiction table), so it is copied exactly where the policy
 * allows and nowhere else.
 *
 * | attribute    | value                                                         |
 * | ------------ | ------------------------------------------------------------- |
 * | pk / sk      | `DATA#<key>` / `DATA`                                          |
 * | gsi1pk / sk  | `DATA` / `<key>`: the table's keys in order, for listing by prefix |
 * | key, value   | the key as given, the JSON document                           |
 * | policy_id    | the selective policy                                          |
 * | region       | where it was written                                          |
 * | written_at   | ISO time of the write                                         |
 * | expires_at   | epoch seconds, for policies with `retention_days` (TTL on AWS) |
 *
 * Immutable policies: a put is conditioned on the key being absent (or expired), so a record once
 * written never changes; delete is refused here and denied by IAM on AWS. Expiry is enforced by the
 * readers (an expired record reads as absent) and, locally, by `sweepExpired` standing in for TTL:
 * TTL deletes within days, not on time, and dynalite has none, so correctness never rests on it.
 */
interface DynamoSelectiveOptions {
  /** A document client for this region's stores (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  /** The region writing and reading: picks the policy's table it holds. */
  readonly regionId: string;
  readonly placement: ReplicationPlacement;
  readonly clock: Clock;
}

/** Keys look like the spec's patterns: `/`-separated, no control characters, at most 1 KiB. */
const KEY = /^\P{Cc}{1,1024}$/u;
const DAY_SECONDS = 86_400;

export class DynamoSelectiveStore implements SelectivePort {
  readonly #client: DynamoDBDocumentClient;
  readonly #regionId: string;
  readonly #placement: ReplicationPlacement;
  readonly #clock: Clock;

  constructor(options: DynamoSelectiveOptions) {
    if (options.placement.errors.length > 0) {
      throw new Error('DynamoSelectiveStore: the placement has errors; nothing may be placed by it');
    }
    this.#client = options.client;
    this.#regionId = options.regionId;
    this.#placement = options.placement;
    this.#clock = options.clock;
  }

  /** The table a key goes to from this region; a ValidationError when no policy places it here. */
  tableFor(key: string): PlacedTable {
    if (!KEY.test(key)) {
      throw new ValidationError('invalid key', [
        { field: 'key', reason: 'must be 1-1024 characters without control characters' },
      ]);
    }
    const policy = policyForKey(this.#placement, key);
    if (!policy) {
      throw new ValidationError('no selective replication policy matches the key', [
        { field: 'key', reason: `"${key}" matches no selective policy's data_pattern` },
      ]);
    }
    const table = tableForKey(this.#placement, key, this.#regionId);
    if (!table) {
      throw new ValidationError('this region holds no replica for the key', [
        {
          field: 'key',
          reason: `${policy.policyId} replicates to ${Object.keys(policy.tableByRegion).join(', ')}, not ${this.#regionId}`,
        },
      ]);
    }
    return table;
  }

  /**
   * Writes `value` under `key`. On an immutable table only where the key is absent or expired: a
   * ConflictError `IMMUTABLE_RECORD` carrying the current record otherwise.
   */
  async put(key: string, value: Record<string, unknown>): Promise<SelectiveRecord> {
    const table = this.tableFor(key);
    const now = this.#clock.now();
    const nowSeconds = Math.floor(now / 1000);
    const policyId = table.policies[0] as string;
    const record: SelectiveRecord = {
      key,
      policy_id: policyId,
      table: table.name,
      region: this.#regionId,
      value,
      written_at: new Date(now).toISOString(),
      ...(table.retentionDays !== undefined
        ? { expires_at: nowSeconds + table.retentionDays * DAY_SECONDS }
        : {}),
    };
    const item = { ...keyOf(key), gsi1pk: LIST_PARTITION, gsi1sk: key, ...withoutTable(record) };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: table.name,
          Item: item,
          ...(table.immutable
            ? {
                // An expired record is gone on AWS (TTL) or about to be: it does not block a new one.
                ConditionExpression: 'attribute_not_exists(#pk) OR #expires < :now',
                ExpressionAttributeNames: { '#pk': 'pk', '#expires': EXPIRY_ATTRIBUTE },
                ExpressionAttributeValues: { ':now': nowSeconds },
              }
            : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      throw new ConflictError(
        'IMMUTABLE_RECORD',
        `${key} is an immutable record of ${policyId} and already exists`,
        await this.#read(table, key),
      );
    }
    return record;
  }

  /** The record under `key` as this region's replica holds it; undefined when absent or expired. */
  async get(key: string): Promise<SelectiveRecord | undefined> {
    const table = this.tableFor(key);
    const record = await this.#read(table, key);
    return record && !this.#expired(record) ? record : undefined;
  }

  /**
   * Deletes the record; whether one was there (an expired one counts as absent). A ConflictError
   * `IMMUTABLE_RECORD` on an immutable table (nothing deleted).
   */
  async delete(key: string): Promise<boolean> {
    const table = this.tableFor(key);
    if (table.immutable) {
      throw new ConflictError(
        'IMMUTABLE_RECORD',
        `${key} is an immutable record of ${table.policies[0]}: it expires, it is never deleted`,
        await this.#read(table, key),
      );
    }
    const { Attributes } = await this.#client.send(
      new DeleteCommand({ TableName: table.name, Key: keyOf(key), ReturnValues: 'ALL_OLD' }),
    );
    const expires = Attributes?.[EXPIRY_ATTRIBUTE];
    return Attributes !== undefined && !(typeof expires === 'number' && expires <= this.#nowSeconds());
  }

  /**
   * Up to `limit` unexpired records whose key starts with `prefix` and sorts after `after`, across
   * the selective tables this region holds, in key order (one Query of each table's gsi1: every key of
   * a table sits in one index partition, fine for the control plane's volumes of such data).
   */
  async list(prefix: string, limit: number, after?: string): Promise<SelectiveListing> {
    // A start key outside the prefix's range is refused by DynamoDB: before it, start at the prefix;
    // after it, nothing is left.
    if (after !== undefined && !after.startsWith(prefix)) {
      if (after > prefix) return { records: [], more: false };
      return this.list(prefix, limit);
    }
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const found: SelectiveRecord[] = [];
    let more = false;
    for (const table of this.#placement.tables) {
      if (table.role !== 'selective' || !table.regions.includes(this.#regionId)) continue;
      // Resuming after a key is a position in the index (base and index keys), present or not.
      let start: Record<string, unknown> | undefined =
        after === undefined ? undefined : { ...keyOf(after), gsi1pk: LIST_PARTITION, gsi1sk: after };
      let taken = 0;
      do {
        const page: QueryCommandOutput = await this.#client.send(
          new QueryCommand({
            TableName: table.name,
            IndexName: STATE_TABLE.gsi1.indexName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: {
              '#pk': STATE_TABLE.gsi1.partitionKey,
              '#sk': STATE_TABLE.gsi1.sortKey,
            },
            ExpressionAttributeValues: { ':pk': LIST_PARTITION, ':prefix': prefix },
            Limit: limit + 1,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const record = recordOf(table, item);
          if (record.expires_at !== undefined && record.expires_at <= nowSeconds) continue;
          found.push(record);
          taken += 1;
        }
        start = taken > limit ? undefined : page.LastEvaluatedKey;
      } while (start);
    }
    found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (found.length > limit) more = true;
    return { records: found.slice(0, limit), more };
  }

  /** Every record of every selective table this region holds, expired ones included (one Scan each). */
  async listRecords(): Promise<SelectiveRecord[]> {
    const records: SelectiveRecord[] = [];
    for (const table of this.#placement.tables) {
      if (table.role !== 'selective' || !table.regions.includes(this.#regionId)) continue;
      let start: Record<string, unknown> | undefined;
      do {
        const page: ScanCommandOutput = await this.#client.send(
          new ScanCommand({
            TableName: table.name,
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) records.push(recordOf(table, item));
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return records;
  }

  /**
   * Local stand-in for DynamoDB TTL: deletes the expired records of every table this region holds
   * with an expiry attribute, and returns how many. Not for AWS, where TTL does it and IAM denies
   * function roles any delete on immutable tables.
   */
  async sweepExpired(): Promise<number> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    let deleted = 0;
    const tables = this.#placement.tables.filter(
      (t) => t.ttlAttribute !== undefined && t.regions.includes(this.#regionId),
    );
    for (const table of tables) {
      let start: Record<string, unknown> | undefined;
      do {
        const page: ScanCommandOutput = await this.#client.send(
          new ScanCommand({
            TableName: table.name,
            FilterExpression: '#expires < :now',
            ExpressionAttributeNames: { '#expires': EXPIRY_ATTRIBUTE },
            ExpressionAttributeValues: { ':now': nowSeconds },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          try {
            await this.#client.send(
              new DeleteCommand({
                TableName: table.name,
                Key: { pk: item.pk, sk: item.sk },
                // Rewritten since the scan (an expired immutable key may be written again): keep it.
                ConditionExpression: '#expires < :now',
                ExpressionAttributeNames: { '#expires': EXPIRY_ATTRIBUTE },
                ExpressionAttributeValues: { ':now': nowSeconds },
              }),
            );
            deleted++;
          } catch (error) {
            if (!(error instanceof ConditionalCheckFailedException)) throw error;
          }
        }
        start = page.LastEvaluatedKey;
      } while (start);
    }
    return deleted;
  }

  async #read(table: PlacedTable, key: string): Promise<SelectiveRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: table.name, Key: keyOf(key), ConsistentRead: true }),
    );
    return Item ? recordOf(table, Item) : undefined;
  }

  #expired(record: SelectiveRecord): boolean {
    return record.expires_at !== undefined && record.expires_at <= this.#nowSeconds();
  }

  #nowSeconds(): number {
    return Math.floor(this.#clock.now() / 1000);
  }
}

/** The one gsi1 partition of a selective table: its keys in order. */
const LIST_PARTITION = 'DATA';

function keyOf(key: string): { pk: string; sk: string } {
  return { pk: `DATA#${key}`, sk: 'DATA' };
}

function withoutTable(record: SelectiveRecord): Omit<SelectiveRecord, 'table'> {
  const { table: _table, ...rest } = record;
  return rest;
}

function recordOf(table: PlacedTable, item: Record<string, unknown>): SelectiveRecord {
  return {
    key: item.key as string,
    policy_id: item.policy_id as string,
    table: table.name,
    region: item.region as string,
    value: item.value as Record<string, unknown>,
    written_at: item.written_at as string,
    ...(typeof item[EXPIRY_ATTRIBUTE] === 'number' ? { expires_at: item[EXPIRY_ATTRIBUTE] as number } : {}),
  };
}
