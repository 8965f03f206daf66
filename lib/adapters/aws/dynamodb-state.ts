import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import { activityAfterUpdate, isActiveFailoverStatus } from '../../core/failover/active.ts';
import type { FailoverRecord, FailoverStatus, FailoverStepRecord } from '../../core/failover/types.ts';
import type { TargetHealth } from '../../core/health/types.ts';
import { STATE_RECORD_TYPES, type StateRecordType } from '../../core/replication/placement.ts';
import type { Handoff, HandoffStatus, RegionStatusRecord } from '../../core/state/records.ts';
import { mergeStatusSlots, type StatusSlot, statusSlot } from '../../core/state/status-merge.ts';
import type { Heartbeat, StatePort } from '../../ports.ts';
import {
  healthViewItem,
  healthViewOf,
  type Item,
  patchAssignments,
  putIfAbsent,
  queryAll,
  strip,
  type TableRef,
} from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

export interface DynamoStateOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  /** The state table (`<name>-state`): every record type not in `records`. */
  readonly tableName: string;
  /**
   * Record types kept in another table with the same layout: the MRSC table `<name>-critical` of the
   * synchronous data types (lib/core/replication/placement.ts stateRecordTables).
   */
  readonly records?: Partial<Record<StateRecordType, TableRef>>;
  /**
   * The region whose replica this adapter writes: its region status writes go to its own slot
   * (state-keys.ts), which no other replica ever writes. Without it, one slot `_` shared by every
   * adapter: right where region statuses have one strongly consistent copy (the MRSC table: there a
   * condition is checked against the latest write of every region, so of two regions writing from
   * one epoch exactly one wins) and for tests on one table.
   */
  readonly writer?: string;
  /**
   * How a batch read retries the keys DynamoDB leaves unprocessed (throttling, the 16 MB answer
   * limit): up to `attempts` calls per batch, after an exponential backoff with full jitter from
   * `baseDelayMs`. @default 8 attempts from 50 ms, each wait at most 2 s
   */
  readonly batchRetry?: { readonly attempts?: number; readonly baseDelayMs?: number };
}

/** The slot every adapter built without a writer shares. */
const SHARED_WRITER = '_';

/** BatchGetItem's limit of keys per call. */
const BATCH_GET_KEYS = 100;

/** Full jitter (a random wait up to the exponential bound), so retrying readers spread out. */
function backoffMs(attempt: number, baseDelayMs: number): number {
  return Math.random() * Math.min(2_000, baseDelayMs * 2 ** (attempt - 1));
}

/**
 * The state port on DynamoDB: every change is one conditional write (no transactions, see DESIGN),
 * each record type in its table (the state table, or the MRSC table for synchronous data).
 *
 * A region's status is a max register of per-writer slots, because a conditional write is checked
 * against the local replica only and replicas converge by last writer wins (DESIGN principle 4):
 * one item written from two regions during a partition would keep the later write, even one at a
 * lower epoch. Each writer (the region whose replica it writes) has its own slot, written only in
 * its replica with a compare-and-set on the slot's epoch, and the epoch every write carries must be
 * above the epoch merged from all slots (its fencing token). Every replica merges the slots it holds
 * by one rule, so once the same slots have reached them all they read the same record, whatever
 * order the slots arrived in:
 *   1. the highest epoch wins;
 *   2. on equal epochs a write by another region (a failover decision: the slot's writer is not the
 *      region itself; for the legacy item, `updated_by` is not `health-probe@<region>`) beats the
 *      region's own write (its probe fencing or unfencing it);
 *   3. then status precedence: failed > draining > fenced > degraded > healthy;
 *   4. then the writer id, ascending (the legacy item, with no writer, first).
 * A slot's epoch only grows in every replica (one replica writes it, in order), so the merged epoch
 * a replica reads never decreases. In the MRSC table the composition roots give no writer: every
 * region writes one shared slot there, whose condition is checked against the one latest copy.
 */
export class DynamoStateAdapter implements StatePort {
  readonly #tables: Readonly<Record<StateRecordType, TableRef>>;
  readonly #writer: string;
  readonly #batchRetry: {
    readonly attempts: number;
    readonly baseDelayMs: number;
    readonly sleep: (ms: number) => Promise<void>;
  };

  constructor(options: DynamoStateOptions) {
    if (!options.tableName) throw new Error('DynamoStateAdapter: tableName is required');
    const state: TableRef = { client: options.client, tableName: options.tableName };
    const tables = {} as Record<StateRecordType, TableRef>;
    for (const recordType of STATE_RECORD_TYPES) {
      const ref = options.records?.[recordType] ?? state;
      if (!ref.tableName) throw new Error(`DynamoStateAdapter: records.${recordType}.tableName is required`);
      tables[recordType] = ref;
    }
    this.#tables = tables;
    const writer = options.writer ?? SHARED_WRITER;
    // The writer ends the slot's sort key after the region id and its `#`.
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(writer)) {
      throw new Error(`DynamoStateAdapter: writer "${writer}" must be 1-64 letters, digits, _ . @ or -`);
    }
    this.#writer = writer;
    const attempts = options.batchRetry?.attempts ?? 8;
    const baseDelayMs = options.batchRetry?.baseDelayMs ?? 50;
    if (!Number.isInteger(attempts) || attempts < 1) {
      throw new Error(`DynamoStateAdapter: batchRetry.attempts must be a whole number >= 1, got ${attempts}`);
    }
    if (!Number.isFinite(baseDelayMs) || baseDelayMs < 0) {
      throw new Error(`DynamoStateAdapter: batchRetry.baseDelayMs must be >= 0, got ${baseDelayMs}`);
    }
    this.#batchRetry = {
      attempts,
      baseDelayMs,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  }

  /** Where `recordType` lives, for adapters that share its records (handoff settlement, erasure). */
  tableOf(recordType: StateRecordType): TableRef {
    return this.#tables[recordType];
  }

  async getRegionStatus(regionId: string): Promise<RegionStatusRecord | undefined> {
    return mergeStatusSlots(await this.#statusSlots(regionId))?.record;
  }

  async listRegionStatuses(): Promise<RegionStatusRecord[]> {
    const { client, tableName } = this.#tables.region_status;
    const items = await queryAll(client, partition(tableName, keys.regionStatusPartition));
    const byRegion = new Map<string, StatusSlot[]>();
    for (const item of items) {
      const slot = slotOf(item);
      const slots = byRegion.get(slot.region) ?? [];
      slots.push(slot);
      byRegion.set(slot.region, slots);
    }
    return [...byRegion.keys()]
      .sort()
      .flatMap((region) => mergeStatusSlots(byRegion.get(region) ?? [])?.record ?? []);
  }

  async putRegionStatus(record: RegionStatusRecord, expectedEpoch: number | undefined): Promise<void> {
    const { client, tableName } = this.#tables.region_status;
    if (expectedEpoch !== undefined && record.epoch <= expectedEpoch) {
      throw new ConflictError(
        'EPOCH_NOT_INCREASING',
        `epoch ${record.epoch} of ${record.region_id} must be above ${expectedEpoch}`,
      );
    }
    const conflict = (current: RegionStatusRecord | undefined) =>
      new ConflictError(
        'EPOCH_CONFLICT',
        `status of ${record.region_id} changed concurrently (stored epoch ${current?.epoch ?? 'none'}, expected ${
          expectedEpoch ?? 'none'
        })`,
        current,
      );
    const slots = await this.#statusSlots(record.region_id);
    const current = mergeStatusSlots(slots)?.record;
    // The fencing token: the merged epoch must be the one the caller decided from (none: nothing
    // stored), so the new epoch, above the expected one, is above every slot's.
    if (current?.epoch !== expectedEpoch) throw conflict(current);
    // Compare-and-set on this writer's own slot as read: of two callers of one replica that read the
    // same state, one wins; a write that landed in the slot since the read refuses this one.
    const own = slots.find((slot) => slot.writer === this.#writer);
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.regionStatus(record.region_id, this.#writer),
            record_type: 'region_status',
            ...record,
            writer: this.#writer,
          },
          ...(own
            ? {
                ConditionExpression: 'attribute_exists(#pk) AND #epoch = :seen',
                ExpressionAttributeNames: { '#pk': 'pk', '#epoch': 'epoch' },
                ExpressionAttributeValues: { ':seen': own.record.epoch },
              }
            : {
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': 'pk' },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        throw conflict(await this.getRegionStatus(record.region_id));
      }
      throw error;
    }
  }

  /** Every slot of one region's status in this replica (one strongly consistent Query). */
  async #statusSlots(regionId: string): Promise<StatusSlot[]> {
    const { client, tableName } = this.#tables.region_status;
    const items = await queryAll(client, {
      ...partition(tableName, keys.regionStatusPartition),
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :region)',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': keys.regionStatusPartition, ':region': regionId },
    });
    // `us-east-1` is a prefix of `us-east-10#...` too: keep this region's slots only.
    return items.map(slotOf).filter((slot) => slot.region === regionId);
  }

  async createHandoff(handoff: Handoff): Promise<void> {
    const { client, tableName } = this.#tables.handoff;
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...keys.handoff(handoff.handoff_id),
            gsi1pk: keys.handoffByTarget(handoff.target_region),
            gsi1sk: `${handoff.created_at}#${handoff.handoff_id}`,
            record_type: 'handoff',
            ...handoff,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = error.Item ? strip<Handoff>(error.Item) : await this.getHandoff(handoff.handoff_id);
        throw new ConflictError('HANDOFF_EXISTS', `handoff ${handoff.handoff_id} already exists`, current);
      }
      throw error;
    }
  }

  async getHandoff(handoffId: string): Promise<Handoff | undefined> {
    const { client, tableName } = this.#tables.handoff;
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: keys.handoff(handoffId), ConsistentRead: true }),
    );
    return Item ? strip<Handoff>(Item) : undefined;
  }

  async getHandoffs(handoffIds: readonly string[]): Promise<Map<string, Handoff>> {
    const { client, tableName } = this.#tables.handoff;
    const found = new Map<string, Handoff>();
    // BatchGetItem refuses a request naming one key twice.
    const ids = [...new Set(handoffIds)];
    for (let start = 0; start < ids.length; start += BATCH_GET_KEYS) {
      let pending: Item[] = ids.slice(start, start + BATCH_GET_KEYS).map((id) => keys.handoff(id));
      for (let attempt = 1; ; attempt++) {
        const { Responses, UnprocessedKeys } = await client.send(
          new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of Responses?.[tableName] ?? []) {
          const handoff = strip<Handoff>(item);
          found.set(handoff.handoff_id, handoff);
        }
        pending = UnprocessedKeys?.[tableName]?.Keys ?? [];
        if (pending.length === 0) break;
        // A throttled or oversized batch answers part of it: retry the rest after a backoff.
        if (attempt >= this.#batchRetry.attempts) {
          throw new Error(
            `BatchGetItem on ${tableName} left ${pending.length} handoff key(s) unprocessed after ${attempt} attempts`,
          );
        }
        await this.#batchRetry.sleep(backoffMs(attempt, this.#batchRetry.baseDelayMs));
      }
    }
    return found;
  }

  async listHandoffsByTarget(regionId: string): Promise<Handoff[]> {
    const { client, tableName } = this.#tables.handoff;
    const { gsi1 } = STATE_TABLE;
    const items = await queryAll(client, {
      TableName: tableName,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.handoffByTarget(regionId) },
    });
    return items.map((item) => strip<Handoff>(item));
  }

  async redirectHandoff(
    handoffId: string,
    change: Parameters<StatePort['redirectHandoff']>[1],
    expectedStatus: HandoffStatus,
  ): Promise<void> {
    const { client, tableName } = this.#tables.handoff;
    const sets = [
      '#target = :target',
      '#status = :status',
      '#score = :score',
      '#from = :from',
      '#gpk = :gpk',
    ];
    const names: Record<string, string> = {
      '#pk': 'pk',
      '#target': 'target_region',
      '#status': 'status',
      '#score': 'routing_score',
      '#from': 'redirected_from',
      '#gpk': 'gsi1pk',
      '#held': 'held_reason',
    };
    const values: Record<string, unknown> = {
      ':target': change.target_region,
      ':status': change.status,
      ':score': change.routing_score,
      ':from': change.redirected_from,
      ':gpk': keys.handoffByTarget(change.target_region),
      ':expected': expectedStatus,
    };
    const removes = ['#held'];
    if (change.reservation) {
      sets.push('#reservation = :reservation');
      names['#reservation'] = 'reservation';
      values[':reservation'] = change.reservation;
    }
    if (change.interrupted) {
      sets.push('#interruptions = list_append(if_not_exists(#interruptions, :none), :interrupted)');
      names['#interruptions'] = 'interruptions';
      names['#acceptedAt'] = 'accepted_at';
      names['#acceptedBy'] = 'accepted_by';
      values[':none'] = [];
      values[':interrupted'] = [change.interrupted];
      removes.push('#acceptedAt', '#acceptedBy');
    }
    try {
      await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.handoff(handoffId),
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ConditionExpression: 'attribute_exists(#pk) AND #status = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getHandoff(handoffId);
        throw new ConflictError(
          'HANDOFF_CHANGED',
          `handoff ${handoffId} is ${current?.status ?? 'missing'}, not ${expectedStatus}`,
          current,
        );
      }
      throw error;
    }
  }

  async transitionHandoff(
    handoffId: string,
    status: HandoffStatus,
    patch: Readonly<Record<string, unknown>>,
    expectedStatuses: readonly HandoffStatus[],
  ): Promise<Handoff> {
    const { client, tableName } = this.#tables.handoff;
    const names: Record<string, string> = { '#pk': 'pk', '#status': 'status', '#settlement': 'settlement' };
    const values: Record<string, unknown> = { ':status': status };
    const sets = ['#status = :status'];
    Object.entries(patch).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:f${i}`] = value;
      sets.push(`#f${i} = :f${i}`);
    });
    // DynamoDB refuses `IN ()` as a malformed expression, not as a failed condition.
    if (expectedStatuses.length === 0) throw new Error('transitionHandoff: expectedStatuses is empty');
    const allowed = expectedStatuses.map((expected, i) => {
      values[`:s${i}`] = expected;
      return `:s${i}`;
    });
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.handoff(handoffId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(#pk) AND attribute_not_exists(#settlement) AND #status IN (${allowed.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_OLD',
        }),
      );
      return strip<Handoff>(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getHandoff(handoffId);
        throw new ConflictError(
          'HANDOFF_CHANGED',
          `handoff ${handoffId} is ${current?.status ?? 'missing'}, not ${expectedStatuses.join(' or ')}`,
          current,
        );
      }
      throw error;
    }
  }

  async putTargetHealth(view: TargetHealth): Promise<void> {
    const { client, tableName } = this.#tables.target_health;
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          ...keys.targetHealth(view.observer, view.target),
          record_type: 'target_health',
          ...healthViewItem(view),
        },
      }),
    );
  }

  async listTargetHealth(): Promise<TargetHealth[]> {
    const { client, tableName } = this.#tables.target_health;
    const items = await queryAll(client, partition(tableName, 'HEALTH'));
    return items.map(healthViewOf);
  }

  async putHeartbeat(heartbeat: Heartbeat): Promise<void> {
    const { client, tableName } = this.#tables.heartbeat;
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { ...keys.heartbeat(heartbeat.region), record_type: 'heartbeat', ...heartbeat },
      }),
    );
  }

  async listHeartbeats(): Promise<Heartbeat[]> {
    const { client, tableName } = this.#tables.heartbeat;
    const items = await queryAll(client, partition(tableName, 'HEARTBEAT'));
    return items.map((item) => strip<Heartbeat>(item));
  }

  async createFailover(record: FailoverRecord): Promise<void> {
    const { client, tableName } = this.#tables.failover;
    const item = {
      ...keys.failover(record.failover_id),
      gsi1pk: failoverListOf(isActiveFailoverStatus(record.status) ? 'active' : 'ended'),
      gsi1sk: `${record.initiated_at}#${record.failover_id}`,
      record_type: 'failover',
      ...record,
    };
    if (!(await putIfAbsent(client, tableName, item))) {
      const current = await this.getFailover(record.failover_id);
      throw new ConflictError('FAILOVER_EXISTS', `failover ${record.failover_id} already exists`, current);
    }
  }

  async getFailover(failoverId: string): Promise<FailoverRecord | undefined> {
    const { client, tableName } = this.#tables.failover;
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: keys.failover(failoverId), ConsistentRead: true }),
    );
    return Item ? strip<FailoverRecord>(Item) : undefined;
  }

  async listFailovers(failedRegion?: string): Promise<FailoverRecord[]> {
    // Both lists in parallel, merged by their sort key (start time, then id), newest first.
    const [active, ended] = await Promise.all([
      this.#failoverList(keys.activeFailoverList),
      this.#failoverList(keys.failoverList),
    ]);
    const items = active.length === 0 ? ended : [...active, ...ended].sort(byListKeyDescending);
    const records = items.map((item) => strip<FailoverRecord>(item));
    return failedRegion === undefined ? records : records.filter((r) => r.failed_region === failedRegion);
  }

  async listActiveFailovers(): Promise<FailoverRecord[]> {
    // The index is updated in the write that ends a failover; its copy of an item is that item as
    // written, so the status check only guards against a record written without the index key.
    return (await this.#failoverList(keys.activeFailoverList))
      .map((item) => strip<FailoverRecord>(item))
      .filter((record) => isActiveFailoverStatus(record.status));
  }

  /** One GSI partition of failovers, newest first (a GSI Query: eventually consistent). */
  async #failoverList(listKey: string): Promise<Item[]> {
    const { client, tableName } = this.#tables.failover;
    const { gsi1 } = STATE_TABLE;
    return queryAll(client, {
      TableName: tableName,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
      ExpressionAttributeValues: { ':pk': listKey },
      ScanIndexForward: false,
    });
  }

  async updateFailover(
    failoverId: string,
    patch: Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>,
    options: { readonly expectedStatuses: readonly FailoverStatus[]; readonly step?: FailoverStepRecord },
  ): Promise<FailoverRecord> {
    const { client, tableName } = this.#tables.failover;
    const names: Record<string, string> = { '#pk': 'pk', '#status': 'status' };
    const values: Record<string, unknown> = {};
    const sets = patchAssignments(patch, names, values);
    if (sets.length === 0 && !options.step) throw new Error('updateFailover: nothing to change');
    // The list the failover is in moves in this same write, so it never disagrees with the status.
    const activity = activityAfterUpdate(patch.status, options.expectedStatuses);
    if (activity !== undefined) {
      names['#list'] = STATE_TABLE.gsi1.partitionKey;
      values[':list'] = failoverListOf(activity);
      sets.push('#list = :list');
    }
    if (options.step) {
      names['#steps'] = 'steps';
      values[':step'] = [options.step];
      values[':empty'] = [];
      sets.push('#steps = list_append(if_not_exists(#steps, :empty), :step)');
    }
    const allowed = options.expectedStatuses.map((status, i) => {
      values[`:s${i}`] = status;
      return `:s${i}`;
    });
    // DynamoDB refuses `IN ()` as a malformed expression, not as a failed condition.
    if (allowed.length === 0) throw new Error('updateFailover: expectedStatuses is empty');
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: tableName,
          Key: keys.failover(failoverId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(#pk) AND #status IN (${allowed.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<FailoverRecord>(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getFailover(failoverId);
        throw new ConflictError(
          'FAILOVER_CHANGED',
          current
            ? `failover ${failoverId} is ${current.status}, not ${options.expectedStatuses.join(' or ')}`
            : `failover ${failoverId} does not exist`,
          current,
        );
      }
      throw error;
    }
  }
}

/** The GSI partition a failover is listed under. */
function failoverListOf(activity: 'active' | 'ended'): string {
  return activity === 'active' ? keys.activeFailoverList : keys.failoverList;
}

function byListKeyDescending(a: Item, b: Item): number {
  const ka = String(a[STATE_TABLE.gsi1.sortKey]);
  const kb = String(b[STATE_TABLE.gsi1.sortKey]);
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

function slotOf(item: Item): StatusSlot {
  const { writer: _writer, ...record } = strip<RegionStatusRecord & { writer?: unknown }>(item);
  return statusSlot(String(item[STATE_TABLE.sortKey]), record);
}

/** A strongly consistent Query of one partition of `tableName`. */
function partition(tableName: string, pk: string): QueryCommandInput {
  return {
    TableName: tableName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
    ExpressionAttributeValues: { ':pk': pk },
    ConsistentRead: true,
  };
}
