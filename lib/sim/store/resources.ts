/**
 * The resources port over one region's replica of the simulator's replicated store, behaving as
 * lib/adapters/aws/dynamodb-resources.ts does on a DynamoDB global table: a region's pool is one item
 * (allocation, held workers and compute units, one `tokens@<hour>` counter per clock hour), every
 * change is one conditional write checked against this replica only, and the whole item replicates,
 * so two regions changing one pool concurrently converge by last writer wins (an `ADD` is a local
 * read-modify-write). Handoffs are settled where the state port keeps them. With an MRSC table the
 * handoffs (and, when `worker_assignments` is synchronous, the pools) live in its one copy instead,
 * where a reservation is checked against the latest pool of every region. A reservation's hold, its
 * releases and their journal behave as the adapter's: one release stands per hold once replicated,
 * and a writer whose release lost gives it back once (`settleReleases`).
 */
import {
  holdAttributes,
  holdOfItem,
  keys,
  OPEN_HANDOFF_STATUSES,
  poolOfItem,
  poolsOfItems,
  tokensAttribute,
} from '../../adapters/aws/state-keys.ts';
import { ConflictError } from '../../core/errors.ts';
import type { HoldRef, RegionPool, Reservation } from '../../core/resources/pool.ts';
import type { Handoff } from '../../core/state/records.ts';
import type { ResourceAmounts, ResourceUsage } from '../../core/topology/types.ts';
import type { Clock, HandoffClaim, Hold, RebalanceRecord, ResourcesPort } from '../../ports.ts';
import { frozenInPlace, type IndexKey, type SimReplica } from './replicated.ts';

export interface SimResourcesOptions {
  /** The region's replica of the state table, shared with its SimStatePort (handoffs live there). */
  readonly replica: SimReplica;
  /** Where handoffs live when not in `replica` (the MRSC table of synchronous data: the state port's). */
  readonly handoffs?: SimReplica;
  /** Where region pools live when not in `replica` (the MRSC table: placement.ts resourcePoolTable). */
  readonly pools?: SimReplica;
  /** The region whose held counters and claim journal it writes (the adapter's `writer`); default `_`. */
  readonly writer?: string;
  /** The pools' table is the MRSC table: one held counter per pool for every writer (the adapter's `strongPools`). */
  readonly strongPools?: boolean;
  /** When holds change (the adapter's `clock`); default the system clock. */
  readonly clock?: Clock;
}

type Held = Reservation & { readonly hold: HoldRef };

/**
 * What DynamoDB throws for a failed condition the adapter does not translate (`release` of a pool
 * that does not exist): the same name, without the SDK.
 */
export class SimConditionalCheckFailed extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConditionalCheckFailedException';
  }
}

/** A pool item as the state table holds it (dynamodb-resources.ts). */
type PoolItem = Readonly<Record<string, unknown>>;

/** The token counter of one clock hour: a new hour is a new attribute, so it starts at zero. */
const TOKENS_PREFIX = tokensAttribute('');

const POOLS_PARTITION = keys.regionPool('').pk;

/** DynamoDB's `#a <= :b`: false when the attribute is missing or not a number. */
function atMost(item: PoolItem, name: string, bound: number): boolean {
  const value = item[name];
  return typeof value === 'number' && value <= bound;
}

/** `attribute_not_exists(#a) OR #a <= :b`. */
function _absentOrAtMost(item: PoolItem, name: string, bound: number): boolean {
  return item[name] === undefined || atMost(item, name, bound);
}

/** DynamoDB's `ADD #a :n` on a number: a missing attribute counts as zero. */
function added(item: PoolItem, name: string, amount: number): number {
  return Number(item[name] ?? 0) + amount;
}

/** Where a rebalance is listed: one list, by time (the adapter's gsi1). */
function rebalanceIndex(record: RebalanceRecord): IndexKey {
  return { pk: keys.rebalanceList, sk: `${record.at}#${record.rebalance_id}` };
}

export class SimResourcesPort implements ResourcesPort {
  readonly #replica: SimReplica;
  readonly #handoffs: SimReplica;
  readonly #pools: SimReplica;
  readonly #writer: string;
  /** Whose held counter reservations and releases write. */
  readonly #heldWriter: string;
  readonly #clock: Clock;

  constructor(options: SimResourcesOptions) {
    this.#replica = options.replica;
    this.#handoffs = options.handoffs ?? options.replica;
    this.#pools = options.pools ?? options.replica;
    this.#writer = options.writer ?? '_';
    this.#heldWriter = options.strongPools ? '_' : this.#writer;
    this.#clock = options.clock ?? { now: () => Date.now() };
  }

  async getPool(region: string, hour: string): Promise<RegionPool | undefined> {
    const pool = this.#derived(POOLS_PARTITION, `pool|${region}|${hour}`, () => this.#livePool(region, hour));
    return pool === undefined ? undefined : this.#pools.handOut(pool);
  }

  async listPools(hour: string): Promise<RegionPool[]> {
    const pools = this.#derived(POOLS_PARTITION, `pools|${hour}`, () =>
      poolsOfItems(
        this.#pools.peekQuery<PoolItem>(POOLS_PARTITION).map((row) => ({ sk: row.sk, item: row.value })),
        hour,
      ),
    );
    return this.#pools.handOutAll(pools);
  }

  /** Per derived reading: the version of the partition it was derived from, and its frozen result. */
  readonly #readings = new Map<string, { readonly version: number; readonly value: unknown }>();

  /**
   * What `derive` makes of the partition `pk` of the pools' table, kept (deep-frozen) until the
   * partition changes: every probe answer reads the target's pool and every round its holds, and
   * they change far less often than they are read. Callers hand it out as the replica hands out items.
   */
  #derived<T>(pk: string, name: string, derive: () => T): T {
    const version = this.#pools.version(pk);
    const kept = this.#readings.get(name);
    if (kept?.version === version) return kept.value as T;
    // Derived afresh from the stored items: frozen where it stands, not copied.
    const value = frozenInPlace(derive());
    this.#readings.set(name, { version, value });
    return value;
  }

  /** The pool with every writer's held counters, as this replica holds them. */
  #livePool(region: string, hour: string): RegionPool | undefined {
    return poolsOfItems(
      this.#pools
        .peekQuery<PoolItem>(POOLS_PARTITION)
        .filter((row) => row.sk === `POOL#${region}` || row.sk.startsWith(`HELD#${region}#`))
        .map((row) => ({ sk: row.sk, item: row.value })),
      hour,
    )[0];
  }

  /** One ADD on this writer's held counter of the reservation's region (the adapter's UpdateItem). */
  #addHeld(reservation: Reservation, sign: 1 | -1, tokens: number): void {
    const { pk, sk } = keys.heldCounter(reservation.region, this.#heldWriter);
    const item = this.#pools.peek<PoolItem>(pk, sk) ?? {};
    const counter = tokensAttribute(reservation.hour);
    this.#pools.put(
      pk,
      sk,
      {
        ...item,
        region: reservation.region,
        writer: this.#heldWriter,
        record_type: 'held_counter',
        workers: added(item, 'workers', sign * reservation.workers),
        compute_units: added(item, 'compute_units', sign * reservation.compute_units),
        [counter]: added(item, counter, tokens),
        rev: added(item, 'rev', sign === 1 ? 1 : 0),
      },
      null,
    );
  }

  async seedPool(pool: RegionPool): Promise<boolean> {
    const { pk, sk } = keys.regionPool(pool.region);
    if (this.#pools.peek(pk, sk) !== undefined) return false;
    this.#pools.put(
      pk,
      sk,
      {
        region: pool.region,
        workers_allocated: pool.allocation.workers,
        tokens_per_hour: pool.allocation.tokens_per_hour,
        compute_units_allocated: pool.allocation.compute_units,
        workers_used: pool.usage.workers,
        compute_units_used: pool.usage.compute_units,
        [tokensAttribute(pool.hour)]: pool.usage.tokens_used,
        allocation_version: pool.allocation_version,
      },
      null,
    );
    return true;
  }

  async reserve(reservation: Reservation, pool: RegionPool): Promise<void> {
    const { allocation } = pool;
    const { hold } = reservation;
    // A hold already recorded here was counted when it was: nothing is added again.
    if (hold && this.#peek(keys.hold(hold))) return;
    const item = this.#pool(reservation.region);
    const current = this.#livePool(reservation.region, reservation.hour);
    // The adapter's check: this replica's usage (base and every held counter) plus the need within
    // the allocation it was computed from; nothing lands between the read and the write here.
    if (current && item && current.allocation_version !== pool.allocation_version) {
      throw new ConflictError(
        'ALLOCATION_CHANGED',
        `allocation of ${reservation.region} changed (version ${current.allocation_version})`,
        current,
      );
    }
    const fits =
      current !== undefined &&
      current.usage.workers + Math.max(reservation.workers, 1) <= allocation.workers &&
      current.usage.compute_units + reservation.compute_units <= allocation.compute_units &&
      current.usage.tokens_used + reservation.tokens <= allocation.tokens_per_hour;
    if (!fits) {
      throw new ConflictError(
        'CAPACITY_EXHAUSTED',
        current
          ? `${reservation.region} cannot fit ${reservation.workers} workers, ${reservation.tokens} tokens, ${reservation.compute_units} compute units`
          : `no resource pool for ${reservation.region}`,
        current,
      );
    }
    this.#addHeld(reservation, 1, reservation.tokens);
    if (hold) this.#put(keys.hold(hold), holdAttributes({ ...reservation, hold }, this.#clock.now()));
  }

  async release(reservation: Reservation, tokens: number): Promise<boolean> {
    if (!this.#pool(reservation.region)) {
      throw new ConflictError('POOL_MISSING', `no resource pool for ${reservation.region}`);
    }
    const { hold } = reservation;
    if (hold && !this.#markReleased({ ...reservation, hold }, tokens)) return false;
    if (hold && !this.#journalRelease({ ...reservation, hold }, tokens)) return true;
    this.#addHeld(reservation, -1, tokens);
    return true;
  }

  /** The adapter's conditional UpdateItem: this writer's release unless this replica holds one. */
  #markReleased(reservation: Held, tokens: number): boolean {
    const key = keys.hold(reservation.hold);
    const item = this.#peek(key);
    if (item?.released_by !== undefined) return false;
    this.#put(key, {
      ...item,
      ...holdAttributes(reservation, this.#clock.now()),
      released_by: this.#writer,
      released_tokens: tokens,
    });
    return true;
  }

  /** The adapter's journal entry; false when an earlier release of the hold stands again. */
  #journalRelease(reservation: Held, tokens: number): boolean {
    const key = keys.holdRelease(this.#writer, reservation.hold);
    const entry = this.#peek(key);
    if (entry) {
      this.#put(key, { ...entry, rev: added(entry, 'rev', 1) });
      return false;
    }
    this.#put(key, {
      ...holdAttributes(reservation, this.#clock.now()),
      record_type: 'hold_release',
      released_tokens: tokens,
      rev: 0,
    });
    return true;
  }

  async listHolds(by: string = this.#writer): Promise<Hold[]> {
    const pk = keys.holdPartition(by);
    const holds = this.#derived(pk, pk, () =>
      this.#pools.peekQuery<PoolItem>(pk).map((row) => holdOfItem(row.value)),
    );
    return this.#pools.handOutAll(holds);
  }

  async restoreHold(hold: HoldRef, releasedBy: string): Promise<boolean> {
    const key = keys.hold(hold);
    const item = this.#peek(key);
    if (!item || item.released_by !== releasedBy) return false;
    const { released_by: _by, released_tokens: _tokens, ...held } = item;
    this.#put(key, { ...held, changed_at: this.#clock.now() });
    return true;
  }

  async forgetHold(hold: HoldRef, writers: readonly string[]): Promise<boolean> {
    const { pk, sk } = keys.hold(hold);
    const releasedBy = this.#pools.peek<PoolItem>(pk, sk)?.released_by;
    if (releasedBy === undefined) return false;
    // The adapter's check: a release that lost and is not given back yet keeps the hold.
    if (writers.some((w) => w !== releasedBy && this.#peek(keys.holdRelease(w, hold)))) return false;
    return this.#pools.delete(pk, sk);
  }

  async settleReleases(): Promise<HoldRef[]> {
    const givenBack: HoldRef[] = [];
    const entries = this.#pools.peekQuery<PoolItem>(keys.holdReleasePartition(this.#writer));
    for (const { pk, sk, value } of entries) {
      const { reservation } = holdOfItem(value);
      const hold = this.#peek(keys.hold(reservation.hold));
      if (hold?.released_by === this.#writer) continue;
      this.#pools.delete(pk, sk);
      // A hold gone from this replica was forgotten after its retention: its release stands.
      if (!hold) continue;
      this.#addHeld(reservation, 1, -Number(value.released_tokens ?? 0));
      givenBack.push(reservation.hold);
    }
    return givenBack;
  }

  #peek(key: { pk: string; sk: string }): PoolItem | undefined {
    return this.#pools.peek<PoolItem>(key.pk, key.sk);
  }

  #put(key: { pk: string; sk: string }, item: PoolItem): void {
    this.#pools.put(key.pk, key.sk, item, null);
  }

  async reportUsage(region: string, hour: string, usage: ResourceUsage, at: string): Promise<void> {
    const item = this.#pool(region);
    if (!item) throw new ConflictError('POOL_MISSING', `no resource pool for ${region}`);
    // The report is the region's whole usage: the base is what the held counters do not explain.
    const held = this.#livePool(region, hour)?.held ?? { workers: 0, compute_units: 0, tokens: 0 };
    this.#write(region, {
      ...item,
      workers_used: usage.workers - held.workers,
      compute_units_used: usage.compute_units - held.compute_units,
      [tokensAttribute(hour)]: usage.tokens_used - held.tokens,
      reported_at: at,
    });
  }

  async setAllocation(
    region: string,
    hour: string,
    allocation: ResourceAmounts,
    expectedVersion: number,
    at: string,
  ): Promise<number> {
    const item = this.#pool(region);
    const live = this.#livePool(region, hour);
    // Never below what the region uses (its base and every held counter, as this replica sums them).
    const allowed =
      item !== undefined &&
      live !== undefined &&
      item.allocation_version === expectedVersion &&
      live.usage.workers <= allocation.workers &&
      live.usage.compute_units <= allocation.compute_units &&
      live.usage.tokens_used <= allocation.tokens_per_hour;
    if (!allowed) {
      throw new ConflictError(
        'ALLOCATION_CHANGED',
        `allocation of ${region} changed or would fall below its usage`,
        item ? poolOfItem(item, hour) : undefined,
      );
    }
    this.#write(region, {
      ...item,
      workers_allocated: allocation.workers,
      tokens_per_hour: allocation.tokens_per_hour,
      compute_units_allocated: allocation.compute_units,
      allocated_at: at,
      allocation_version: added(item, 'allocation_version', 1),
    });
    return expectedVersion + 1;
  }

  async settleHandoff(
    handoffId: string,
    outcome: 'completed' | 'failed',
    settlement: object,
  ): Promise<Handoff | undefined> {
    const { pk, sk } = keys.handoff(handoffId);
    const current = this.#handoffs.peek<Handoff & { settlement?: unknown }>(pk, sk);
    if (!current || current.settlement !== undefined || !OPEN_HANDOFF_STATUSES.includes(current.status)) {
      return undefined;
    }
    const before = this.#handoffs.handOut(current);
    // An UpdateItem: the handoff stays listed where it is.
    this.#handoffs.put(pk, sk, { ...current, status: outcome, settlement });
    return before;
  }

  async compactTokens(region: string, keepFrom: string): Promise<number> {
    const held = keys.heldCounter(region, this.#heldWriter);
    const counter = this.#pools.peek<PoolItem>(held.pk, held.sk);
    if (counter) {
      const kept = Object.fromEntries(
        Object.entries(counter).filter(
          ([name]) => !(name.startsWith(TOKENS_PREFIX) && name.slice(TOKENS_PREFIX.length) < keepFrom),
        ),
      );
      if (Object.keys(kept).length !== Object.keys(counter).length)
        this.#pools.put(held.pk, held.sk, kept, null);
    }
    const item = this.#pool(region);
    if (!item) return 0;
    // Hour buckets sort as text (`2026-11-26T06`), so older ones compare below `keepFrom`.
    const old = Object.keys(item).filter(
      (name) => name.startsWith(TOKENS_PREFIX) && name.slice(TOKENS_PREFIX.length) < keepFrom,
    );
    if (old.length === 0) return 0;
    const kept: Record<string, unknown> = { ...item };
    for (const name of old) delete kept[name];
    this.#write(region, kept);
    return old.length;
  }

  async recordClaim(claim: HandoffClaim): Promise<void> {
    const { pk, sk } = keys.claim(this.#writer, claim.handoff_id);
    this.#replica.put(pk, sk, claim, null);
  }

  async listClaims(): Promise<HandoffClaim[]> {
    return this.#replica.query<HandoffClaim>(keys.claimPartition(this.#writer)).map((row) => row.value);
  }

  async dropClaim(handoffId: string, claimId: string): Promise<boolean> {
    const { pk, sk } = keys.claim(this.#writer, handoffId);
    if (this.#replica.peek<HandoffClaim>(pk, sk)?.claim_id !== claimId) return false;
    return this.#replica.delete(pk, sk);
  }

  async putRebalance(record: RebalanceRecord): Promise<void> {
    const { pk, sk } = keys.rebalance(record.rebalance_id);
    this.#replica.put(pk, sk, record, rebalanceIndex(record));
  }

  async listRebalances(limit: number): Promise<RebalanceRecord[]> {
    // DynamoDB refuses a Limit below 1 as a malformed request.
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`listRebalances: limit ${limit} is not >= 1`);
    return this.#replica
      .queryIndex<RebalanceRecord>(keys.rebalanceList, { reverse: true, limit })
      .map((row) => row.value);
  }

  /** The region's pool item as stored (never hand it out). */
  #pool(region: string): PoolItem | undefined {
    const { pk, sk } = keys.regionPool(region);
    return this.#pools.peek<PoolItem>(pk, sk);
  }

  #write(region: string, item: PoolItem): void {
    const { pk, sk } = keys.regionPool(region);
    this.#pools.put(pk, sk, item, null);
  }
}
