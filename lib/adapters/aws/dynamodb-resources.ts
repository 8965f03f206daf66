import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { RegionPool, Reservation } from '../../core/resources/pool.ts';
import type { Handoff } from '../../core/state/records.ts';
import type { ResourceAmounts, ResourceUsage } from '../../core/topology/types.ts';
import type { RebalanceRecord, ResourcesPort } from '../../ports.ts';
import { putIfAbsent, queryAll, strip, type TableRef } from './dynamo-items.ts';
import { keys, OPEN_HANDOFF_STATUSES, poolOfItem, STATE_TABLE, tokensAttribute } from './state-keys.ts';

export interface DynamoResourcesOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Where handoffs live when not in `tableName` (the MRSC table of synchronous data). */
  readonly handoffs?: TableRef;
  /** Where region pools live when not in `tableName` (the MRSC table, lib/core/replication/placement.ts resourcePoolTable). */
  readonly pools?: TableRef;
}

/** The token counter of one clock hour: a new hour is a new attribute, so it starts at zero. */

/**
 * The resource pool in the state table (layout: state-keys.ts). A region's pool is one item: its
 * allocation, held workers and compute units, and one token counter per clock hour. Reservations are
 * single conditional ADDs, checked against this replica only (as every conditional write on a global
 * table): two regions reserving on the same pool at the same instant can each pass their check, and
 * last writer wins across replicas; the region's own usage reports correct such drift.
 */
export class DynamoResourcesAdapter implements ResourcesPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #handoffs: TableRef;
  readonly #pools: TableRef;

  constructor(options: DynamoResourcesOptions) {
    if (!options.tableName) throw new Error('DynamoResourcesAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
    this.#handoffs = options.handoffs ?? { client: options.client, tableName: options.tableName };
    this.#pools = options.pools ?? { client: options.client, tableName: options.tableName };
  }

  async getPool(region: string, hour: string): Promise<RegionPool | undefined> {
    const { Item } = await this.#pools.client.send(
      new GetCommand({
        TableName: this.#pools.tableName,
        Key: keys.regionPool(region),
        ConsistentRead: true,
      }),
    );
    return Item ? poolOfItem(Item, hour) : undefined;
  }

  async listPools(hour: string): Promise<RegionPool[]> {
    const items = await queryAll(this.#pools.client, {
      TableName: this.#pools.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.regionPool('').pk },
      ConsistentRead: true,
    });
    return items.map((item) => poolOfItem(item, hour));
  }

  async seedPool(pool: RegionPool): Promise<boolean> {
    return putIfAbsent(this.#pools.client, this.#pools.tableName, {
      ...keys.regionPool(pool.region),
      record_type: 'region_pool',
      region: pool.region,
      workers_allocated: pool.allocation.workers,
      tokens_per_hour: pool.allocation.tokens_per_hour,
      compute_units_allocated: pool.allocation.compute_units,
      workers_used: pool.usage.workers,
      compute_units_used: pool.usage.compute_units,
      [tokensAttribute(pool.hour)]: pool.usage.tokens_used,
      allocation_version: pool.allocation_version,
    });
  }

  async reserve(reservation: Reservation, pool: RegionPool): Promise<void> {
    const { allocation } = pool;
    try {
      await this.#pools.client.send(
        new UpdateCommand({
          TableName: this.#pools.tableName,
          Key: keys.regionPool(reservation.region),
          UpdateExpression: 'ADD #w :w, #c :c, #t :t',
          // Conditions cannot add, so the bounds are the allocation minus the need, valid only for
          // the allocation version they were computed from.
          ConditionExpression:
            'attribute_exists(#pk) AND #v = :v AND #w <= :wmax AND #c <= :cmax AND (attribute_not_exists(#t) OR #t <= :tmax)',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#v': 'allocation_version',
            '#w': 'workers_used',
            '#c': 'compute_units_used',
            '#t': tokensAttribute(reservation.hour),
          },
          ExpressionAttributeValues: {
            ':v': pool.allocation_version,
            ':w': reservation.workers,
            ':c': reservation.compute_units,
            ':t': reservation.tokens,
            ':wmax': allocation.workers - Math.max(reservation.workers, 1),
            ':cmax': allocation.compute_units - reservation.compute_units,
            ':tmax': allocation.tokens_per_hour - reservation.tokens,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getPool(reservation.region, reservation.hour);
        if (current && current.allocation_version !== pool.allocation_version) {
          throw new ConflictError(
            'ALLOCATION_CHANGED',
            `allocation of ${reservation.region} changed (version ${current.allocation_version})`,
            current,
          );
        }
        throw new ConflictError(
          'CAPACITY_EXHAUSTED',
          `${reservation.region} cannot fit ${reservation.workers} workers, ${reservation.tokens} tokens, ${reservation.compute_units} compute units`,
          current,
        );
      }
      throw error;
    }
  }

  async release(reservation: Reservation, tokens: number): Promise<void> {
    await this.#pools.client.send(
      new UpdateCommand({
        TableName: this.#pools.tableName,
        Key: keys.regionPool(reservation.region),
        UpdateExpression: 'ADD #w :w, #c :c, #t :t',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: {
          '#pk': 'pk',
          '#w': 'workers_used',
          '#c': 'compute_units_used',
          '#t': tokensAttribute(reservation.hour),
        },
        ExpressionAttributeValues: {
          ':w': -reservation.workers,
          ':c': -reservation.compute_units,
          ':t': tokens,
        },
      }),
    );
  }

  async reportUsage(region: string, hour: string, usage: ResourceUsage, at: string): Promise<void> {
    try {
      await this.#pools.client.send(
        new UpdateCommand({
          TableName: this.#pools.tableName,
          Key: keys.regionPool(region),
          UpdateExpression: 'SET #w = :w, #c = :c, #t = :t, #at = :at',
          ConditionExpression: 'attribute_exists(#pk)',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#w': 'workers_used',
            '#c': 'compute_units_used',
            '#t': tokensAttribute(hour),
            '#at': 'reported_at',
          },
          ExpressionAttributeValues: {
            ':w': usage.workers,
            ':c': usage.compute_units,
            ':t': usage.tokens_used,
            ':at': at,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw new ConflictError('POOL_MISSING', `no resource pool for ${region}`);
      }
      throw error;
    }
  }

  async setAllocation(
    region: string,
    hour: string,
    allocation: ResourceAmounts,
    expectedVersion: number,
    at: string,
  ): Promise<number> {
    try {
      await this.#pools.client.send(
        new UpdateCommand({
          TableName: this.#pools.tableName,
          Key: keys.regionPool(region),
          UpdateExpression: 'SET #wa = :wa, #ta = :ta, #ca = :ca, #at = :at ADD #v :one',
          // Never below what the region uses: the check and the change are one write.
          ConditionExpression:
            'attribute_exists(#pk) AND #v = :v AND #w <= :wa AND #c <= :ca AND (attribute_not_exists(#t) OR #t <= :ta)',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#v': 'allocation_version',
            '#wa': 'workers_allocated',
            '#ta': 'tokens_per_hour',
            '#ca': 'compute_units_allocated',
            '#w': 'workers_used',
            '#c': 'compute_units_used',
            '#t': tokensAttribute(hour),
            '#at': 'allocated_at',
          },
          ExpressionAttributeValues: {
            ':v': expectedVersion,
            ':one': 1,
            ':wa': allocation.workers,
            ':ta': allocation.tokens_per_hour,
            ':ca': allocation.compute_units,
            ':at': at,
          },
        }),
      );
      return expectedVersion + 1;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getPool(region, hour);
        throw new ConflictError(
          'ALLOCATION_CHANGED',
          `allocation of ${region} changed or would fall below its usage`,
          current,
        );
      }
      throw error;
    }
  }

  async settleHandoff(
    handoffId: string,
    outcome: 'completed' | 'failed',
    settlement: object,
  ): Promise<Handoff | undefined> {
    const { client, tableName } = this.#handoffs;
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.handoff(handoffId),
          UpdateExpression: 'SET #status = :status, #settlement = :settlement',
          ConditionExpression:
            'attribute_exists(#pk) AND attribute_not_exists(#settlement) AND #status IN (:s0, :s1, :s2)',
          ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status', '#settlement': 'settlement' },
          ExpressionAttributeValues: {
            ':status': outcome,
            ':settlement': settlement,
            ':s0': OPEN_HANDOFF_STATUSES[0],
            ':s1': OPEN_HANDOFF_STATUSES[1],
            ':s2': OPEN_HANDOFF_STATUSES[2],
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes ? strip<Handoff>(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async compactTokens(region: string, keepFrom: string): Promise<number> {
    const { Item } = await this.#pools.client.send(
      new GetCommand({
        TableName: this.#pools.tableName,
        Key: keys.regionPool(region),
        ConsistentRead: true,
      }),
    );
    const prefix = tokensAttribute('');
    // Hour buckets sort as text (`2026-11-26T06`), so older ones compare below `keepFrom`.
    const old = Object.keys(Item ?? {}).filter(
      (name) => name.startsWith(prefix) && name.slice(prefix.length) < keepFrom,
    );
    if (old.length === 0) return 0;
    const names = Object.fromEntries(old.map((name, i) => [`#t${i}`, name]));
    await this.#pools.client.send(
      new UpdateCommand({
        TableName: this.#pools.tableName,
        Key: keys.regionPool(region),
        UpdateExpression: `REMOVE ${Object.keys(names).join(', ')}`,
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': 'pk', ...names },
      }),
    );
    return old.length;
  }

  async putRebalance(record: RebalanceRecord): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          ...keys.rebalance(record.rebalance_id),
          gsi1pk: keys.rebalanceList,
          gsi1sk: `${record.at}#${record.rebalance_id}`,
          record_type: 'rebalance',
          ...record,
        },
      }),
    );
  }

  async listRebalances(limit: number): Promise<RebalanceRecord[]> {
    const { gsi1 } = STATE_TABLE;
    const { Items } = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: gsi1.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.rebalanceList },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) => strip<RebalanceRecord>(item));
  }
}
