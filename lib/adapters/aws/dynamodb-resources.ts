import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { HoldRef, RegionPool, Reservation } from '../../core/resources/pool.ts';
import type { Handoff } from '../../core/state/records.ts';
import type { ResourceAmounts, ResourceUsage } from '../../core/topology/types.ts';
import type { Clock, HandoffClaim, Hold, RebalanceRecord, ResourcesPort } from '../../ports.ts';
import { putIfAbsent, queryAll, strip, type TableRef } from './dynamo-items.ts';
import {
  holdAttributes,
  holdOfItem,
  keys,
  OPEN_HANDOFF_STATUSES,
  poolsOfItems,
  STATE_TABLE,
  tokensAttribute,
} from './state-keys.ts';

interface DynamoResourcesOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Where handoffs live when not in `tableName` (the MRSC table of synchronous data). */
  readonly handoffs?: TableRef;
  /** Where region pools live when not in `tableName` (the MRSC table, lib/core/replication/placement.ts resourcePoolTable). */
  readonly pools?: TableRef;
  /**
   * The region whose replica this adapter writes: its reservations and releases go to its own held
   * counters and its claims to its own journal, which no other replica writes. Default `_` (tests on
   * one table).
   */
  readonly writer?: string;
  /**
   * The pools' table is strongly consistent (the MRSC table): every writer shares one held counter
   * per pool, so its conditional write decides between regions too and regions racing for the last
   * worker get one reservation. On an eventually consistent table each writer keeps its own counter
   * (a shared one would lose concurrent writes to last writer wins).
   */
  readonly strongPools?: boolean;
  /** When holds change (their `changed_at`); default the system clock. */
  readonly clock?: Clock;
}

type Held = Reservation & { readonly hold: HoldRef };

/** The amounts a release takes off a held counter. */
function negated<R extends Reservation>(reservation: R): R {
  return { ...reservation, workers: -reservation.workers, compute_units: -reservation.compute_units };
}

/** The held counters' writer on a strongly consistent pools table: one counter per pool. */
const SHARED_HELD = '_';

/** Attempts at a reservation when another call of the same replica changed the held counter meanwhile. */
const HELD_ATTEMPTS = 5;

/**
 * The resource pool in the state table (layout: state-keys.ts). A region's pool is one item: its
 * allocation, its base usage (the topology's snapshot, then what the region reports) and one token
 * counter per clock hour. What reservations hold is counted in held counters, one item per pool and
 * writing region, written only in that region's replica: a reservation or a release is an ADD on the
 * writer's own counter, so concurrent writes from several regions all survive replication (last
 * writer wins per item, and each item has one writer), and a pool's usage is its base plus every
 * writer's counter. The capacity check reads this replica's sum and writes the counter conditionally
 * on its revision: within one replica exactly as many reservations win as fit; two regions reserving
 * at the same instant can each pass their check (conditions are local on a global table). In the
 * MRSC table (`strongPools`) every writer shares one held counter, so exactly as many win as fit.
 *
 * A reservation with a hold is also one item under its reserving region's `HOLDS#`
 * partition, in the pools' table. Any region may release it, each in its own replica: a release is a
 * conditional write on the hold (only if this replica does not hold it released), journaled under the
 * releasing writer's `RELEASES#` partition before its counter drops. Two releases in two replicas
 * across a partition both pass; last writer wins keeps one `released_by` on the hold, and the other
 * writer finds its release no longer standing and gives it back (`settleReleases`), once: every
 * journal entry carries a revision its give-back is conditional on.
 */
export class DynamoResourcesAdapter implements ResourcesPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #handoffs: TableRef;
  readonly #pools: TableRef;
  readonly #writer: string;
  /** Whose held counter reservations and releases write (`#writer`, or SHARED_HELD). */
  readonly #heldWriter: string;
  readonly #clock: Clock;

  constructor(options: DynamoResourcesOptions) {
    if (!options.tableName) throw new Error('DynamoResourcesAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
    this.#handoffs = options.handoffs ?? { client: options.client, tableName: options.tableName };
    this.#pools = options.pools ?? { client: options.client, tableName: options.tableName };
    const writer = options.writer ?? '_';
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(writer)) {
      throw new Error(`DynamoResourcesAdapter: writer "${writer}" must be 1-64 letters, digits, _ . @ or -`);
    }
    this.#writer = writer;
    this.#heldWriter = options.strongPools ? SHARED_HELD : writer;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  async getPool(region: string, hour: string): Promise<RegionPool | undefined> {
    return (await this.listPools(hour)).find((pool) => pool.region === region);
  }

  async listPools(hour: string): Promise<RegionPool[]> {
    const items = await queryAll(this.#pools.client, {
      TableName: this.#pools.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.regionPool('').pk },
      ConsistentRead: true,
    });
    return poolsOfItems(
      items.map((item) => ({ sk: String(item[STATE_TABLE.sortKey]), item })),
      hour,
    );
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
    const { hold } = reservation;
    if (hold && (await this.#getItem(keys.hold(hold)))) return;
    for (let attempt = 0; ; attempt++) {
      const current = await this.getPool(reservation.region, reservation.hour);
      const rev = await this.#heldRevision(reservation.region);
      if (!current) {
        throw new ConflictError('CAPACITY_EXHAUSTED', `no resource pool for ${reservation.region}`);
      }
      if (current.allocation_version !== pool.allocation_version) {
        throw new ConflictError(
          'ALLOCATION_CHANGED',
          `allocation of ${reservation.region} changed (version ${current.allocation_version})`,
          current,
        );
      }
      const { usage } = current;
      const fits =
        usage.workers + Math.max(reservation.workers, 1) <= allocation.workers &&
        usage.compute_units + reservation.compute_units <= allocation.compute_units &&
        usage.tokens_used + reservation.tokens <= allocation.tokens_per_hour;
      if (!fits) {
        throw new ConflictError(
          'CAPACITY_EXHAUSTED',
          `${reservation.region} cannot fit ${reservation.workers} workers, ${reservation.tokens} tokens, ${reservation.compute_units} compute units`,
          current,
        );
      }
      try {
        await this.#addHeld(reservation, reservation.tokens, 1, rev);
      } catch (error) {
        // Another call of this replica reserved between the read and the write: read again.
        if (!(error instanceof ConditionalCheckFailedException) || attempt + 1 >= HELD_ATTEMPTS) throw error;
        continue;
      }
      if (hold) await this.#recordHold({ ...reservation, hold });
      return;
    }
  }

  /** Writes a new hold; a concurrent reservation of the same hold that recorded it first keeps it. */
  async #recordHold(reservation: Held): Promise<void> {
    try {
      await this.#pools.client.send(
        new PutCommand({
          TableName: this.#pools.tableName,
          Item: { ...keys.hold(reservation.hold), ...holdAttributes(reservation, this.#clock.now()) },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Counted once already: take back what this call added.
      await this.#addHeld(negated(reservation), -reservation.tokens, 0, undefined);
    }
  }

  async release(reservation: Reservation, tokens: number): Promise<boolean> {
    const { Item } = await this.#pools.client.send(
      new GetCommand({ TableName: this.#pools.tableName, Key: keys.regionPool(reservation.region) }),
    );
    if (!Item) throw new ConflictError('POOL_MISSING', `no resource pool for ${reservation.region}`);
    const { hold } = reservation;
    if (hold && !(await this.#markReleased({ ...reservation, hold }, tokens))) return false;
    if (hold && !(await this.#journalRelease({ ...reservation, hold }, tokens))) return true;
    await this.#addHeld(negated(reservation), tokens, 0, undefined);
    return true;
  }

  /** Names this writer as the hold's release unless this replica holds it released already. */
  async #markReleased(reservation: Held, tokens: number): Promise<boolean> {
    // Every attribute, so a release that reaches a replica before the hold does writes it whole.
    const attributes = {
      ...holdAttributes(reservation, this.#clock.now()),
      released_by: this.#writer,
      released_tokens: tokens,
    };
    const names = Object.fromEntries(Object.keys(attributes).map((name, i) => [`#a${i}`, name]));
    const values = Object.fromEntries(Object.values(attributes).map((value, i) => [`:a${i}`, value]));
    try {
      await this.#pools.client.send(
        new UpdateCommand({
          TableName: this.#pools.tableName,
          Key: keys.hold(reservation.hold),
          UpdateExpression: `SET ${Object.keys(names)
            .map((name, i) => `${name} = :a${i}`)
            .join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#released)',
          ExpressionAttributeNames: { ...names, '#released': 'released_by' },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Journals this writer's release of a hold; false when its journal still holds an earlier release
   * of it (never given back: the counter dropped for it then, so it stands again and drops nothing).
   */
  async #journalRelease(reservation: Held, tokens: number): Promise<boolean> {
    const key = keys.holdRelease(this.#writer, reservation.hold);
    for (let attempt = 0; ; attempt++) {
      if (attempt >= HELD_ATTEMPTS)
        throw new Error(`release of hold ${reservation.hold.id}: its journal kept changing`);
      try {
        await this.#pools.client.send(
          new PutCommand({
            TableName: this.#pools.tableName,
            Item: {
              ...key,
              ...holdAttributes(reservation, this.#clock.now()),
              record_type: 'hold_release',
              released_tokens: tokens,
              rev: 0,
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk' },
          }),
        );
        return true;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
      try {
        // A new revision: a give-back that read the earlier one no longer applies.
        await this.#pools.client.send(
          new UpdateCommand({
            TableName: this.#pools.tableName,
            Key: key,
            UpdateExpression: 'ADD #rev :one',
            ConditionExpression: 'attribute_exists(#pk)',
            ExpressionAttributeNames: { '#pk': 'pk', '#rev': 'rev' },
            ExpressionAttributeValues: { ':one': 1 },
          }),
        );
        return false;
      } catch (error) {
        // Given back between the two writes: journal it anew.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  async listHolds(by: string = this.#writer): Promise<Hold[]> {
    const items = await queryAll(this.#pools.client, {
      TableName: this.#pools.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.holdPartition(by) },
      ConsistentRead: true,
    });
    return items.map(holdOfItem);
  }

  async restoreHold(hold: HoldRef, releasedBy: string): Promise<boolean> {
    try {
      await this.#pools.client.send(
        new UpdateCommand({
          TableName: this.#pools.tableName,
          Key: keys.hold(hold),
          UpdateExpression: 'SET #changed = :now REMOVE #released, #tokens',
          ConditionExpression: '#released = :by',
          ExpressionAttributeNames: {
            '#changed': 'changed_at',
            '#released': 'released_by',
            '#tokens': 'released_tokens',
          },
          ExpressionAttributeValues: { ':now': this.#clock.now(), ':by': releasedBy },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async forgetHold(hold: HoldRef, writers: readonly string[]): Promise<boolean> {
    const releasedBy = (await this.#getItem(keys.hold(hold)))?.released_by;
    if (releasedBy === undefined) return false;
    // A release that lost and is not given back yet would find no hold to judge it by.
    for (const writer of writers) {
      if (writer !== releasedBy && (await this.#getItem(keys.holdRelease(writer, hold)))) return false;
    }
    try {
      await this.#pools.client.send(
        new DeleteCommand({
          TableName: this.#pools.tableName,
          Key: keys.hold(hold),
          ConditionExpression: '#released = :by',
          ExpressionAttributeNames: { '#released': 'released_by' },
          ExpressionAttributeValues: { ':by': releasedBy },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async settleReleases(): Promise<HoldRef[]> {
    const entries = await queryAll(this.#pools.client, {
      TableName: this.#pools.tableName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.holdReleasePartition(this.#writer) },
      ConsistentRead: true,
    });
    const givenBack: HoldRef[] = [];
    for (const entry of entries) {
      const { reservation } = holdOfItem(entry);
      const hold = await this.#getItem(keys.hold(reservation.hold));
      if (hold?.released_by === this.#writer) continue;
      // Only the revision read: a release of the same hold journaled meanwhile stands.
      if (!(await this.#dropRelease(reservation.hold, Number(entry.rev ?? 0)))) continue;
      // A hold gone from this replica was forgotten after its retention: its release stands.
      if (!hold) continue;
      await this.#addHeld(reservation, -Number(entry.released_tokens ?? 0), 0, undefined);
      givenBack.push(reservation.hold);
    }
    return givenBack;
  }

  async #dropRelease(hold: HoldRef, rev: number): Promise<boolean> {
    try {
      await this.#pools.client.send(
        new DeleteCommand({
          TableName: this.#pools.tableName,
          Key: keys.holdRelease(this.#writer, hold),
          ConditionExpression: '#rev = :rev',
          ExpressionAttributeNames: { '#rev': 'rev' },
          ExpressionAttributeValues: { ':rev': rev },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async #getItem(key: { pk: string; sk: string }): Promise<Record<string, unknown> | undefined> {
    const { Item } = await this.#pools.client.send(
      new GetCommand({ TableName: this.#pools.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }

  /** This writer's held counter of `region`: its revision (undefined: never written). */
  async #heldRevision(region: string): Promise<number | undefined> {
    const { Item } = await this.#pools.client.send(
      new GetCommand({
        TableName: this.#pools.tableName,
        Key: keys.heldCounter(region, this.#heldWriter),
        ConsistentRead: true,
      }),
    );
    return Item ? Number(Item.rev ?? 0) : undefined;
  }

  /** One ADD on this writer's held counter; conditional on `expectedRev` when `bump` is 1. */
  async #addHeld(
    amounts: Pick<Reservation, 'region' | 'hour' | 'workers' | 'compute_units'>,
    tokens: number,
    bump: 0 | 1,
    expectedRev: number | undefined,
  ): Promise<void> {
    const condition =
      bump === 0
        ? {}
        : expectedRev === undefined
          ? { ConditionExpression: 'attribute_not_exists(#rev)' }
          : { ConditionExpression: '#rev = :seen', ExpressionAttributeValues: { ':seen': expectedRev } };
    await this.#pools.client.send(
      new UpdateCommand({
        TableName: this.#pools.tableName,
        Key: keys.heldCounter(amounts.region, this.#heldWriter),
        UpdateExpression:
          'SET #region = :region, #writer = :writer, #type = :type ADD #w :w, #c :c, #t :t, #rev :bump',
        ...condition,
        ExpressionAttributeNames: {
          '#region': 'region',
          '#writer': 'writer',
          '#type': 'record_type',
          '#w': 'workers',
          '#c': 'compute_units',
          '#t': tokensAttribute(amounts.hour),
          '#rev': 'rev',
        },
        ExpressionAttributeValues: {
          ...(condition.ExpressionAttributeValues ?? {}),
          ':region': amounts.region,
          ':writer': this.#heldWriter,
          ':type': 'held_counter',
          ':w': amounts.workers,
          ':c': amounts.compute_units,
          ':t': tokens,
          ':bump': bump,
        },
      }),
    );
  }

  async reportUsage(region: string, hour: string, usage: ResourceUsage, at: string): Promise<void> {
    // The report is the region's whole usage: the base is what the held counters do not explain.
    const held = (await this.getPool(region, hour))?.held ?? { workers: 0, compute_units: 0, tokens: 0 };
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
            ':w': usage.workers - held.workers,
            ':c': usage.compute_units - held.compute_units,
            ':t': usage.tokens_used - held.tokens,
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
    const changed = (current: RegionPool | undefined) =>
      new ConflictError(
        'ALLOCATION_CHANGED',
        `allocation of ${region} changed or would fall below its usage`,
        current,
      );
    // Never below what the region uses (its base and every held counter, as this replica sums them).
    const current = await this.getPool(region, hour);
    if (
      !current ||
      current.allocation_version !== expectedVersion ||
      current.usage.workers > allocation.workers ||
      current.usage.compute_units > allocation.compute_units ||
      current.usage.tokens_used > allocation.tokens_per_hour
    ) {
      throw changed(current);
    }
    try {
      await this.#pools.client.send(
        new UpdateCommand({
          TableName: this.#pools.tableName,
          Key: keys.regionPool(region),
          UpdateExpression: 'SET #wa = :wa, #ta = :ta, #ca = :ca, #at = :at ADD #v :one',
          ConditionExpression: 'attribute_exists(#pk) AND #v = :v',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#v': 'allocation_version',
            '#wa': 'workers_allocated',
            '#ta': 'tokens_per_hour',
            '#ca': 'compute_units_allocated',
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
        throw changed(await this.getPool(region, hour));
      }
      throw error;
    }
  }

  async recordClaim(claim: HandoffClaim): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...keys.claim(this.#writer, claim.handoff_id), record_type: 'handoff_claim', ...claim },
      }),
    );
  }

  async listClaims(): Promise<HandoffClaim[]> {
    const items = await queryAll(this.#client, {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.claimPartition(this.#writer) },
      ConsistentRead: true,
    });
    return items.map((item) => strip<HandoffClaim>(item));
  }

  async dropClaim(handoffId: string, claimId: string): Promise<boolean> {
    try {
      await this.#client.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: keys.claim(this.#writer, handoffId),
          ConditionExpression: '#claim = :claim',
          ExpressionAttributeNames: { '#claim': 'claim_id' },
          ExpressionAttributeValues: { ':claim': claimId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
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
    // The pool item and this writer's held counter (each writer compacts its own).
    const removed = await Promise.all([
      this.#compact(keys.regionPool(region), keepFrom),
      this.#compact(keys.heldCounter(region, this.#heldWriter), keepFrom),
    ]);
    return removed[0];
  }

  async #compact(key: { pk: string; sk: string }, keepFrom: string): Promise<number> {
    const { Item } = await this.#pools.client.send(
      new GetCommand({ TableName: this.#pools.tableName, Key: key, ConsistentRead: true }),
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
        Key: key,
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
