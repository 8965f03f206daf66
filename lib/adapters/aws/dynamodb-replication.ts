/**
 * Replication bookkeeping and versioned documents in the state table (layout: state-keys.ts).
 *
 * The region mark is one item per region, written only into that region's replica: the write
 * counter is an atomic `ADD` (several writers in a region never lose a count), the heartbeat a
 * conditional update on `seq` (only the region's lag monitor beats; an overlapping run retries).
 * Both are small updates of one item, which DynamoDB replicates whole (last writer wins): a replica's
 * copy is the mark as of the last change that reached it.
 *
 * Every write these stores make into the table is counted on this replica's region mark too, like
 * the state port's writes (lib/app/replication/counting-state.ts), except the mark's own.
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import { nextBeats } from '../../core/replication/lag.ts';
import { EXPIRY_ATTRIBUTE } from '../../core/replication/placement.ts';
import {
  type ConsistencyCheckRecord,
  type DocumentConflict,
  type DocumentSlot,
  type LagView,
  MARK_BEATS,
  type ReplicationMark,
} from '../../core/replication/records.ts';
import type { Clock, DocumentPort, ItemCopy, ReplicationPort } from '../../ports.ts';
import { type Item, putIfAbsent, queryAll, strip } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoReplicationOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** The region whose replica this is: its mark is the one this store changes. */
  readonly regionId: string;
  /** Stamps `written_at` on counted writes. */
  readonly clock: Clock;
}

const MARK_RECORD = 'replication_mark';
const BATCH_GET_LIMIT = 100;
const PARALLEL_BATCHES = 4;

/** `pk|sk`: the check's key of an item (pks never hold `|`: every id in them is a validated pattern). */
export function itemKey(pk: string, sk: string): string {
  return `${pk}|${sk}`;
}

export function parseItemKey(key: string): { pk: string; sk: string } {
  const bar = key.indexOf('|');
  if (bar <= 0 || bar === key.length - 1) throw new Error(`not an item key (pk|sk): ${key}`);
  return { pk: key.slice(0, bar), sk: key.slice(bar + 1) };
}

/** Canonical JSON of a document-client value: object keys sorted, sets sorted, binary as base64. */
function canonical(value: unknown): unknown {
  if (value instanceof Set) {
    return {
      $set: [...value].map(canonical).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)),
    };
  }
  if (value instanceof Uint8Array) return { $b: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const name of Object.keys(value).sort()) out[name] = canonical((value as Item)[name]);
    return out;
  }
  return value;
}

/** sha256 (first 16 hex digits) of the item without replication metadata. */
export function checksumOf(item: Item): string {
  const content: Item = {};
  for (const [name, value] of Object.entries(item)) if (!name.startsWith('aws:rep:')) content[name] = value;
  return createHash('sha256')
    .update(JSON.stringify(canonical(content)))
    .digest('hex')
    .slice(0, 16);
}

const TIME_FIELDS = ['updated_at', 'at', 'initiated_at', 'created_at', 'recorded_at'];

/** Epoch ms of the item's last write, when it tells: the replication stamp, else its own time field. */
function writeTimeOf(item: Item): number | undefined {
  const stamp = item['aws:rep:updatetime'];
  if (typeof stamp === 'number' && Number.isFinite(stamp)) {
    // Legacy global tables stamp fractional seconds; the local replication epoch ms.
    return stamp < 1e11 ? Math.round(stamp * 1000) : stamp;
  }
  for (const field of TIME_FIELDS) {
    const value = item[field];
    if (typeof value === 'number' && Number.isFinite(value) && value > 1e11) return value;
    if (typeof value === 'string') {
      const parsed = Date.parse(value);
      if (Number.isFinite(parsed)) return parsed;
    }
  }
  return undefined;
}

function copyOf(item: Item): ItemCopy {
  const writeTime = writeTimeOf(item);
  const writeRegion = item['aws:rep:updateregion'];
  const recordType = typeof item.record_type === 'string' ? item.record_type : undefined;
  // Items one region alone writes: a document's slot, a region status slot (per writer region).
  const owner =
    recordType === 'document_slot' && typeof item.region === 'string'
      ? item.region
      : recordType === 'region_status' && typeof item.writer === 'string' && item.writer !== '_'
        ? item.writer
        : undefined;
  return {
    key: itemKey(String(item.pk), String(item.sk)),
    ...(recordType === undefined ? {} : { record_type: recordType }),
    checksum: checksumOf(item),
    ...(writeTime === undefined ? {} : { write_time: writeTime }),
    ...(typeof writeRegion === 'string' ? { write_region: writeRegion } : {}),
    ...(owner === undefined ? {} : { owner }),
    image: item,
  };
}

function toMark(item: Item): ReplicationMark {
  const num = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  const beats = Array.isArray(item.beats)
    ? (item.beats as unknown[]).flatMap((pair) =>
        Array.isArray(pair) && pair.length === 2 ? [[num(pair[0]), num(pair[1])] as const] : [],
      )
    : [];
  return {
    region: String(item.region ?? String(item.sk ?? '').replace(/^MARK#/, '')),
    seq: num(item.seq),
    beat_at: num(item.beat_at),
    beats,
    interval_ms: num(item.interval_ms),
    writes: num(item.writes),
    written_at: num(item.written_at),
  };
}

/** Guard attributes a repair conditions on, so a write that landed since the check's read is not undone. */
const GUARD_FIELDS = [
  'aws:rep:updatetime',
  'updated_at',
  'epoch',
  'seq',
  'at',
  'status',
  'revision',
  'writes',
];

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function beginsWith(table: string, pk: string, prefix: string): QueryCommandInput {
  return {
    TableName: table,
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
    ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
    ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
    ConsistentRead: true,
  };
}

/** The replication port on DynamoDB (one region's replica of the state table). */
/**
 * How long a consistency check's record is kept: a week of hourly checks per region. Older ones
 * expire (TTL on AWS, `sweepExpired` locally), so the state table does not grow with every check.
 */
export const CHECK_RETENTION_SECONDS = 7 * 86_400;

export class DynamoReplicationStore implements ReplicationPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #region: string;
  readonly #clock: Clock;

  constructor(options: DynamoReplicationOptions) {
    if (!options.tableName) throw new Error('DynamoReplicationStore: tableName is required');
    if (!options.regionId) throw new Error('DynamoReplicationStore: regionId is required');
    this.#client = options.client;
    this.#table = options.tableName;
    this.#region = options.regionId;
    this.#clock = options.clock;
  }

  async countWrites(count: number, at: number): Promise<void> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new Error(`countWrites: count must be >= 1, got ${count}`);
    await this.#client.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: keys.replicationMark(this.#region),
        UpdateExpression: 'SET #region = :region, #rt = :rt, #at = :at ADD #writes :n',
        ExpressionAttributeNames: {
          '#region': 'region',
          '#rt': 'record_type',
          '#at': 'written_at',
          '#writes': 'writes',
        },
        ExpressionAttributeValues: { ':region': this.#region, ':rt': MARK_RECORD, ':at': at, ':n': count },
      }),
    );
  }

  async beat(at: number, intervalMs: number): Promise<ReplicationMark> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const { Item } = await this.#client.send(
        new GetCommand({
          TableName: this.#table,
          Key: keys.replicationMark(this.#region),
          ConsistentRead: true,
        }),
      );
      const current = Item ? toMark(Item) : undefined;
      const seq = (current?.seq ?? 0) + 1;
      try {
        const { Attributes } = await this.#client.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: keys.replicationMark(this.#region),
            UpdateExpression:
              'SET #region = :region, #rt = :rt, #seq = :seq, #beatAt = :at, #beats = :beats, #interval = :interval',
            ConditionExpression:
              current && current.seq > 0 ? '#seq = :previous' : 'attribute_not_exists(#seq) OR #seq = :zero',
            ExpressionAttributeNames: {
              '#region': 'region',
              '#rt': 'record_type',
              '#seq': 'seq',
              '#beatAt': 'beat_at',
              '#beats': 'beats',
              '#interval': 'interval_ms',
            },
            ExpressionAttributeValues: {
              ':region': this.#region,
              ':rt': MARK_RECORD,
              ':seq': seq,
              ':at': at,
              ':beats': nextBeats(current?.beats ?? [], seq, at, MARK_BEATS),
              ':interval': intervalMs,
              ...(current && current.seq > 0 ? { ':previous': current.seq } : { ':zero': 0 }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        return toMark(Attributes ?? {});
      } catch (error) {
        // Another run of the monitor beat first: read again and take the next number.
        if (error instanceof ConditionalCheckFailedException) continue;
        throw error;
      }
    }
    throw new ConflictError('MARK_CONTENDED', `the mark of ${this.#region} kept changing while beating`);
  }

  async listMarks(): Promise<ReplicationMark[]> {
    const items = await queryAll(this.#client, beginsWith(this.#table, 'REPLICATION', 'MARK#'));
    return items.map(toMark);
  }

  async putLagView(view: LagView): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...keys.lagView(view.source, view.replica), record_type: 'replication_lag', ...view },
      }),
    );
    await this.#counted();
  }

  async listLagViews(): Promise<LagView[]> {
    const items = await queryAll(this.#client, beginsWith(this.#table, 'REPLICATION', 'LAG#'));
    return items.map((item) => strip<LagView>(item));
  }

  async sampleKeys(count: number, start: number): Promise<string[]> {
    if (!Number.isSafeInteger(count) || count < 1)
      throw new Error(`sampleKeys: count must be >= 1, got ${count}`);
    // A Scan resumes after any key's position in hash order, existing or not: a random key is a
    // random place to start, and the sample costs about `count` items read, not the whole table.
    const from = {
      pk: `SAMPLE#${Math.floor(Math.min(Math.max(start, 0), 0.999999) * 2 ** 48).toString(36)}`,
      sk: 'SAMPLE',
    };
    const seen = new Set<string>();
    const out: string[] = [];
    let exclusive: Record<string, unknown> | undefined = from;
    let wrapped = false;
    while (out.length < count) {
      const page: ScanCommandOutput = await this.#client.send(
        new ScanCommand({
          TableName: this.#table,
          ProjectionExpression: '#pk, #sk, #rt',
          ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#rt': 'record_type' },
          Limit: Math.min(1000, count - out.length + 16),
          ConsistentRead: true,
          ...(exclusive ? { ExclusiveStartKey: exclusive } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const key = itemKey(String(item.pk), String(item.sk));
        if (seen.has(key)) return out; // came round to where the sample started
        seen.add(key);
        if (item.record_type === MARK_RECORD) continue;
        out.push(key);
        if (out.length >= count) return out;
      }
      exclusive = page.LastEvaluatedKey;
      if (!exclusive) {
        if (wrapped) return out;
        wrapped = true; // the end of the table: go on from its beginning
      }
    }
    return out;
  }

  async readCopies(itemKeys: readonly string[]): Promise<Map<string, ItemCopy>> {
    const out = new Map<string, ItemCopy>();
    const unique = [...new Set(itemKeys)];
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT)
      batches.push(unique.slice(i, i + BATCH_GET_LIMIT));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++] as string[];
        let pending: Record<string, unknown>[] = batch.map(parseItemKey);
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 0)
            await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
          if (attempt > 8) throw new Error(`readCopies: ${pending.length} keys stayed unprocessed`);
          const answer = await this.#client.send(
            new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: pending, ConsistentRead: true } } }),
          );
          for (const item of answer.Responses?.[this.#table] ?? []) {
            const copy = copyOf(item);
            out.set(copy.key, copy);
          }
          pending = (answer.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Record<string, unknown>[];
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARALLEL_BATCHES, batches.length) }, worker));
    return out;
  }

  async repair(key: string, image: unknown, expectedChecksum: string | undefined): Promise<boolean> {
    const itemKeyValue = parseItemKey(key);
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: itemKeyValue, ConsistentRead: true }),
    );
    if ((Item ? checksumOf(Item) : undefined) !== expectedChecksum) return false;
    const names: Record<string, string> = { '#pk': 'pk' };
    const values: Record<string, unknown> = {};
    let condition = 'attribute_not_exists(#pk)';
    if (Item) {
      const parts = ['attribute_exists(#pk)'];
      GUARD_FIELDS.forEach((field, i) => {
        const value = Item[field];
        if (!isScalar(value)) return;
        names[`#g${i}`] = field;
        values[`:g${i}`] = value;
        parts.push(`#g${i} = :g${i}`);
      });
      condition = parts.join(' AND ');
    }
    const guard = {
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    };
    try {
      if (image === undefined) {
        await this.#client.send(new DeleteCommand({ TableName: this.#table, Key: itemKeyValue, ...guard }));
      } else {
        const source = image as Item;
        const replacement: Item = {};
        // Replication metadata belongs to the store: the repair is a new write of the same content.
        for (const [name, value] of Object.entries(source))
          if (!name.startsWith('aws:rep:')) replacement[name] = value;
        if (replacement.pk !== itemKeyValue.pk || replacement.sk !== itemKeyValue.sk) {
          throw new Error(`repair: the image is not item ${key}`);
        }
        await this.#client.send(new PutCommand({ TableName: this.#table, Item: replacement, ...guard }));
      }
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    await this.#counted();
    return true;
  }

  async putCheck(record: ConsistencyCheckRecord): Promise<void> {
    const item = {
      ...keys.consistencyCheck(record.check_id),
      record_type: 'consistency_check',
      ...record,
      // DynamoDB TTL deletes it on AWS (the state table's TTL attribute); sweepExpired does locally.
      [EXPIRY_ATTRIBUTE]: Math.floor(this.#clock.now() / 1000) + CHECK_RETENTION_SECONDS,
    };
    if (!(await putIfAbsent(this.#client, this.#table, item))) {
      throw new ConflictError('CHECK_EXISTS', `consistency check ${record.check_id} already exists`);
    }
    await this.#counted();
  }

  async getCheck(checkId: string): Promise<ConsistencyCheckRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: keys.consistencyCheck(checkId), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    // TTL deletes within days of expiry, not on time: an expired check reads as absent.
    const expires = Item[EXPIRY_ATTRIBUTE];
    if (typeof expires === 'number' && expires <= Math.floor(this.#clock.now() / 1000)) return undefined;
    const { [EXPIRY_ATTRIBUTE]: _expires, ...record } = strip<
      ConsistencyCheckRecord & Record<string, unknown>
    >(Item);
    return record as ConsistencyCheckRecord;
  }

  /**
   * Deletes this replica's state-table items past their `expires_at` (the local stand-in for
   * DynamoDB TTL, which dynalite lacks); each delete is conditional, so an item written again since
   * the scan stays. Returns how many were deleted.
   */
  async sweepExpired(): Promise<number> {
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const expired = {
      ConditionExpression: '#expires < :now',
      ExpressionAttributeNames: { '#expires': EXPIRY_ATTRIBUTE },
      ExpressionAttributeValues: { ':now': nowSeconds },
    };
    let deleted = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page: ScanCommandOutput = await this.#client.send(
        new ScanCommand({
          TableName: this.#table,
          FilterExpression: expired.ConditionExpression,
          ExpressionAttributeNames: expired.ExpressionAttributeNames,
          ExpressionAttributeValues: expired.ExpressionAttributeValues,
          ProjectionExpression: 'pk, sk',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        try {
          await this.#client.send(
            new DeleteCommand({ TableName: this.#table, Key: { pk: item.pk, sk: item.sk }, ...expired }),
          );
          deleted++;
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return deleted;
  }

  #counted(): Promise<void> {
    return this.countWrites(1, this.#clock.now());
  }
}

interface DynamoDocumentOptions {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Counts each write on this replica's region mark (the region's ReplicationPort). */
  readonly counter?: Pick<ReplicationPort, 'countWrites'>;
  readonly clock: Clock;
}

/** Versioned documents on DynamoDB: one slot item per writing region (see DocumentSlot). */
export class DynamoDocumentStore implements DocumentPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #counter: Pick<ReplicationPort, 'countWrites'> | undefined;
  readonly #clock: Clock;

  constructor(options: DynamoDocumentOptions) {
    if (!options.tableName) throw new Error('DynamoDocumentStore: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
    this.#counter = options.counter;
    this.#clock = options.clock;
  }

  async getSlots(key: string): Promise<DocumentSlot[]> {
    const items = await queryAll(
      this.#client,
      beginsWith(this.#table, keys.documentSlot(key, '').pk, 'SLOT#'),
    );
    return items.map((item) => strip<DocumentSlot>(item));
  }

  async putSlot(slot: DocumentSlot, expectedRevision: number | undefined): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...keys.documentSlot(slot.key, slot.region),
            gsi1pk: keys.documentList,
            gsi1sk: `${slot.updated_at}#${slot.key}#${slot.region}`,
            record_type: 'document_slot',
            ...slot,
          },
          ...(expectedRevision === undefined
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
            : {
                ConditionExpression: '#revision = :expected',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':expected': expectedRevision },
              }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = (await this.getSlots(slot.key)).find((s) => s.region === slot.region);
        throw new ConflictError(
          'DOCUMENT_CHANGED',
          `the ${slot.region} slot of document ${slot.key} changed concurrently (revision ${
            current?.revision ?? 'none'
          }, expected ${expectedRevision ?? 'none'})`,
          current,
        );
      }
      throw error;
    }
    await this.#counter?.countWrites(1, this.#clock.now());
  }

  async recordConflict(conflict: DocumentConflict): Promise<boolean> {
    const item = {
      ...keys.documentConflict(conflict.key, conflict.conflict_id),
      record_type: 'document_conflict',
      ...conflict,
    };
    if (!(await putIfAbsent(this.#client, this.#table, item))) return false;
    await this.#counter?.countWrites(1, this.#clock.now());
    return true;
  }

  async listConflicts(key: string): Promise<DocumentConflict[]> {
    const items = await queryAll(
      this.#client,
      beginsWith(this.#table, keys.documentSlot(key, '').pk, 'CONFLICT#'),
    );
    return items
      .map((item) => strip<DocumentConflict>(item))
      .sort((a, b) => (a.detected_at < b.detected_at ? -1 : a.detected_at > b.detected_at ? 1 : 0));
  }

  async listChangedKeys(sinceIso: string): Promise<string[]> {
    const { gsi1 } = STATE_TABLE;
    const items = await queryAll(this.#client, {
      TableName: this.#table,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk AND #sk >= :since',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey, '#sk': gsi1.sortKey, '#key': 'key' },
      ExpressionAttributeValues: { ':pk': keys.documentList, ':since': sinceIso },
      ProjectionExpression: '#key',
    });
    return [...new Set(items.map((item) => String(item.key)))];
  }
}
