/**
 * Replication between the local regional stores, behaving like a DynamoDB global table (MREC):
 * every successful write in one region reaches every other region after a lag, last writer wins
 * by write time, deletes replicate, and conditions are checked only against the local replica.
 *
 * How a write is captured: `attach(regionId, client)` adds a middleware (initialize step) to the
 * client the region's adapters use. It never changes the request. After the store accepted a
 * PutItem, UpdateItem, DeleteItem or BatchWriteItem, it stamps each written item with
 * `aws:rep:updatetime` (epoch ms) and `aws:rep:updateregion`, the attributes legacy global tables
 * kept on items, reading the new image in the same UpdateItem; a delete leaves a tombstone with its
 * stamp instead. The change then waits in one FIFO queue per ordered region pair (a "link") until
 * its lag has passed, and is applied to the other store if it is newer than what that store holds
 * (item stamp, else tombstone; ties by region id). Replicated writes go through the replicator's
 * own, unattached clients, so they are never captured again. A link that is behind applies its due
 * changes a batch at a time (see DELIVERY_BATCH): the changes of one item always land in order, those
 * of different items within one batch in any order, as a stream orders each item's changes only.
 *
 * Capturing in the initialize step sees the caller's input before the document client marshals it;
 * only key attributes are read from it (always S, N or B, so both shapes are unambiguous) and the
 * replicated image is what the store returns, in wire form. A lock per region and key serializes a
 * local write with its stamp and with replicated writes to the same key, so a replicated image can
 * never land between a write and its stamp.
 *
 * Stamps come from a hybrid logical clock per region: max(now, last stamp + 1), advanced past every
 * stamp the region receives, so a write made after seeing another region's write always wins over it.
 *
 * With `statePath`, queued changes, tombstones and clocks are durable like a stream
 * (replication-journal.ts): every capture and every delivery is logged before it takes effect, so
 * `kill -9` and a restart deliver every acknowledged write, in order. A restart starts every
 * region's clock past every stamp ever given (a restarted simulated clock may run behind the old
 * one), so a write after the restart wins over every write before it, as it would in real time.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../ports.ts';
import { type JournalContents, type JournalSnapshot, ReplicationJournal } from './replication-journal.ts';

/** Write time of an item's last change, epoch ms (legacy global tables used fractional seconds). */
export const REP_UPDATE_TIME = 'aws:rep:updatetime';
/** Region that made an item's last change. */
export const REP_UPDATE_REGION = 'aws:rep:updateregion';

/** Time and timers for the replicator; tests pass a manual one to be deterministic. */
export interface Scheduler extends Clock {
  /** Runs `run` once after `delayMs`; returns a function that cancels it. */
  setTimer(delayMs: number, run: () => void): () => void;
}

/** Real time. Timers are unref'd: pending replication never keeps a process alive on its own. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  setTimer: (delayMs, run) => {
    const timer = setTimeout(run, delayMs);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

interface ReplicaRegion {
  readonly regionId: string;
  /** The replicator's own client for this region's store; never `attach` it (its writes are replicas). */
  readonly client: DynamoDBClient;
}

/** A table replicated only among some regions (a selective or jurisdiction table of the placement). */
export interface ReplicatedTable {
  readonly name: string;
  /** The regions holding a replica; a write in one is copied to the others only. */
  readonly regions: readonly string[];
}

export interface ReplicationOptions {
  readonly regions: readonly ReplicaRegion[];
  /** Lag of every ordered pair until `setLag` changes it; default 200 ms (global tables: about 1 s). */
  readonly lagMs?: number;
  /**
   * Tables that replicate (the global tables): a name replicates among every region, a
   * ReplicatedTable among its own regions only; default every table written through an attached client.
   */
  readonly tables?: readonly (string | ReplicatedTable)[];
  readonly scheduler?: Scheduler;
  /**
   * Snapshot file of queued changes, tombstones and stamps, with its log beside it (`.log`), written
   * as changes are captured and delivered, so they survive `kill -9`; absent: memory only.
   */
  readonly statePath?: string;
  readonly log?: (line: string) => void;
}

export interface LinkStats {
  readonly from: string;
  readonly to: string;
  readonly lag_ms: number;
  readonly paused: boolean;
  /** Changes waiting on this link. */
  readonly queued: number;
  /** Changes applied at `to`. */
  readonly delivered: number;
  /** Changes that arrived older than what `to` held (last writer wins) and were dropped. */
  readonly superseded: number;
  /** Failed attempts to apply (retried). */
  readonly failures: number;
}

export interface ReplicationStats {
  readonly lag_ms: number;
  /** Local writes captured per region. */
  readonly captured: Readonly<Record<string, number>>;
  readonly links: readonly LinkStats[];
}

export interface Replication {
  /** Captures the successful writes made through `client` as writes of `regionId`. */
  attach(regionId: string, client: DynamoDBClient): void;
  /** Lag for changes written from now on from `from` to `to` (queued changes keep their due time). */
  setLag(from: string, to: string, ms: number): void;
  /** Stops delivery on one link; changes keep queueing (a partition). */
  pause(from: string, to: string): void;
  /** Delivers the link's queue again: overdue changes at once, the rest when due. */
  resume(from: string, to: string): void;
  /** Applies every due change on every running link (with `all`, every queued one) and waits for it. */
  flush(options?: { readonly all?: boolean }): Promise<void>;
  stats(): ReplicationStats;
  /** Stops delivery, waits for applies in flight and compacts what is still queued (`statePath`). */
  close(): Promise<void>;
  /**
   * A drill: changes `regionId`'s copy of one item WITHOUT replicating it (bit rot, a lost or
   * out-of-band write). Sets each attribute of `changes` (null removes it; key attributes cannot
   * change), or deletes the copy when `changes` is null (no tombstone: a later write brings it back).
   * The replication stamp stays as it was, so the copy still claims the write it came from.
   * `key` and the copies are in document form (plain JS values).
   */
  corrupt(
    regionId: string,
    table: string,
    key: Readonly<Record<string, unknown>>,
    changes: Readonly<Record<string, unknown>> | null,
  ): Promise<CorruptedCopy>;
}

/** What `corrupt` changed. */
interface CorruptedCopy {
  readonly region: string;
  readonly table: string;
  readonly key: Readonly<Record<string, unknown>>;
  /** The copy before (undefined: there was none). */
  readonly before: Readonly<Record<string, unknown>> | undefined;
  /** The copy after (undefined: deleted). */
  readonly after: Readonly<Record<string, unknown>> | undefined;
}

type Item = Record<string, AttributeValue>;

interface Version {
  readonly time: number;
  readonly region: string;
}

interface Change extends Version {
  readonly table: string;
  readonly key: Item;
  readonly keyId: string;
  /** The item after the write; undefined for a delete. */
  readonly image: Item | undefined;
  readonly dueAt: number;
}

interface Tombstone extends Version {}

interface RegionReplica {
  readonly id: string;
  readonly writer: DynamoDBClient;
  readonly locks: KeyLocks;
  readonly tombstones: Map<string, Tombstone>;
  lastStamp: number;
  captured: number;
}

interface Link {
  readonly from: string;
  readonly to: string;
  lagMs: number;
  paused: boolean;
  queue: Change[];
  delivered: number;
  superseded: number;
  failures: number;
  retryAt: number | undefined;
  cancelTimer: (() => void) | undefined;
  draining: Promise<unknown> | undefined;
}

interface PlannedWrite {
  readonly table: string;
  readonly key: Item;
  readonly keyId: string;
  readonly kind: 'put' | 'delete';
}

const DEFAULT_LAG_MS = 200;
/** How long a delete's tombstone is kept at least (a day: far beyond any lag but a paused link's). */
const TOMBSTONE_RETENTION_MS = 86_400_000;
const RETRY_MS = 250;
/**
 * Due changes a link applies at once, never two of one item. One at a time, each apply waits for
 * several turns of the event loop (the store's LevelDB reads and writes run on libuv's threads);
 * when the plane's jobs keep the loop busy (an idle plane at --speed 60 here: turns of 15-20 ms), a
 * link delivered hardly more changes a second than its region captured, and any loss of CPU left a
 * backlog that never drained: 1,400 queued changes after a simulated day at --speed 60, 1,700 after
 * six simulated hours at --speed 120, where batches keep it under 20.
 */
const DELIVERY_BATCH = 16;

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

export async function startReplication(options: ReplicationOptions): Promise<Replication> {
  const replication = new GlobalTableReplication(options);
  await replication.load();
  return replication;
}

class GlobalTableReplication implements Replication {
  readonly #regions = new Map<string, RegionReplica>();
  readonly #links = new Map<string, Link>();
  readonly #attached = new WeakSet<DynamoDBClient>();
  readonly #writers = new WeakSet<DynamoDBClient>();
  readonly #keySchemas = new Map<string, Promise<readonly string[]>>();
  readonly #captures = new Set<Promise<unknown>>();
  readonly #scheduler: Scheduler;
  /** Table -> its replica regions (undefined: every region); undefined: every table, every region. */
  readonly #tables: ReadonlyMap<string, ReadonlySet<string> | undefined> | undefined;
  readonly #lagMs: number;
  readonly #statePath: string | undefined;
  #journal: ReplicationJournal | undefined;
  readonly #log: (line: string) => void;
  #closed = false;

  constructor(options: ReplicationOptions) {
    const lagMs = options.lagMs ?? DEFAULT_LAG_MS;
    checkLag(lagMs);
    if (options.regions.length === 0) throw new Error('replication: at least one region is required');
    this.#lagMs = lagMs;
    this.#scheduler = options.scheduler ?? systemScheduler;
    this.#tables = options.tables ? replicaSets(options.tables, options.regions) : undefined;
    this.#statePath = options.statePath;
    this.#log = options.log ?? (() => undefined);
    for (const { regionId, client } of options.regions) {
      if (this.#regions.has(regionId)) throw new Error(`replication: region ${regionId} is listed twice`);
      this.#regions.set(regionId, {
        id: regionId,
        writer: client,
        locks: new KeyLocks(),
        tombstones: new Map(),
        lastStamp: 0,
        captured: 0,
      });
      this.#writers.add(client);
    }
    for (const from of this.#regions.keys()) {
      for (const to of this.#regions.keys()) {
        if (from === to) continue;
        this.#links.set(linkId(from, to), {
          from,
          to,
          lagMs,
          paused: false,
          queue: [],
          delivered: 0,
          superseded: 0,
          failures: 0,
          retryAt: undefined,
          cancelTimer: undefined,
          draining: undefined,
        });
      }
    }
  }

  attach(regionId: string, client: DynamoDBClient): void {
    const region = this.#region(regionId);
    if (this.#writers.has(client)) {
      throw new Error('replication: a replicator client cannot be attached (its writes are replicas)');
    }
    if (this.#attached.has(client)) throw new Error('replication: this client is already attached');
    this.#attached.add(client);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.#closed || !WRITE_COMMANDS.has(context.commandName ?? '')) return next(args);
        const input = args.input as unknown as Record<string, unknown>;
        let writes: PlannedWrite[];
        try {
          writes = await this.#plan(region, context.commandName ?? '', input);
        } catch (error) {
          // A request without a usable key or table: the store rejects it with DynamoDB's own error.
          this.#log(`replication: not capturing a ${context.commandName} in ${regionId}: ${String(error)}`);
          return next(args);
        }
        if (writes.length === 0) return next(args);
        const release = await region.locks.acquire(writes.map((w) => w.keyId));
        try {
          const result = await next(args);
          // A failed stamp rejects the caller's send although its write landed: the store that just took
          // the write is failing, and a loud error beats a replica that silently never converges.
          const capture = this.#capture(region, writes, result.output as unknown as Record<string, unknown>);
          this.#captures.add(capture);
          try {
            await capture;
          } finally {
            this.#captures.delete(capture);
          }
          return result;
        } finally {
          release();
        }
      },
      { step: 'initialize', name: 'cortexReplicationCapture', tags: ['REPLICATION'] },
    );
  }

  setLag(from: string, to: string, ms: number): void {
    checkLag(ms);
    this.#link(from, to).lagMs = ms;
  }

  pause(from: string, to: string): void {
    const link = this.#link(from, to);
    link.paused = true;
    link.cancelTimer?.();
    link.cancelTimer = undefined;
  }

  resume(from: string, to: string): void {
    const link = this.#link(from, to);
    if (!link.paused) return;
    link.paused = false;
    link.retryAt = undefined;
    this.#schedule(link);
  }

  async flush(options: { readonly all?: boolean } = {}): Promise<void> {
    await Promise.all(this.#captures);
    const errors = await Promise.all(
      [...this.#links.values()].map((link) => this.#drain(link, options.all ?? false)),
    );
    const error = errors.find((e) => e !== undefined);
    if (error) throw error;
  }

  stats(): ReplicationStats {
    return {
      lag_ms: this.#lagMs,
      captured: Object.fromEntries([...this.#regions.values()].map((r) => [r.id, r.captured])),
      links: [...this.#links.values()].map((link) => ({
        from: link.from,
        to: link.to,
        lag_ms: link.lagMs,
        paused: link.paused,
        queued: link.queue.length,
        delivered: link.delivered,
        superseded: link.superseded,
        failures: link.failures,
      })),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links.values()) {
      link.cancelTimer?.();
      link.cancelTimer = undefined;
    }
    await Promise.all(this.#captures);
    await Promise.all([...this.#links.values()].map((link) => link.draining));
    if (this.#journal) {
      this.#journal.compact(this.#snapshot());
      this.#journal.close();
      this.#journal = undefined;
    }
  }

  async corrupt(
    regionId: string,
    table: string,
    key: Readonly<Record<string, unknown>>,
    changes: Readonly<Record<string, unknown>> | null,
  ): Promise<CorruptedCopy> {
    if (this.#closed) throw new Error('replication: closed');
    const region = this.#region(regionId);
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
        return { region: regionId, table, key, before, after: undefined };
      }
      const after: Record<string, unknown> = { ...(before ?? key) };
      for (const [name, value] of Object.entries(changes)) {
        if (value === null) delete after[name];
        else after[name] = value;
      }
      await doc.send(new PutCommand({ TableName: table, Item: after }));
      return { region: regionId, table, key, before, after };
    } finally {
      release();
    }
  }

  /** Restores queued changes, tombstones and stamps from the snapshot and the log after it. */
  async load(): Promise<void> {
    if (!this.#statePath) return;
    const { journal, contents } = ReplicationJournal.open(this.#statePath);
    this.#journal = journal;
    this.#restore(contents);
    // The restored state becomes the new snapshot: the log starts empty in every process.
    journal.compact(this.#snapshot());
    for (const link of this.#links.values()) this.#schedule(link);
  }

  #restore({ snapshot, records }: JournalContents): void {
    for (const [id, state] of Object.entries(snapshot?.regions ?? {})) {
      const region = this.#regions.get(id);
      if (!region) continue;
      region.lastStamp = Math.max(region.lastStamp, state.last_stamp);
      for (const [keyId, tombstone] of state.tombstones) region.tombstones.set(keyId, tombstone);
    }
    for (const savedLink of snapshot?.links ?? []) {
      const link = this.#links.get(linkId(savedLink.from, savedLink.to));
      if (!link) continue;
      // A table's replica set may have changed since (a new placement): drop what no longer goes there.
      link.queue.push(...savedLink.queue.filter((change) => this.#replicatesTo(change.table, link.to)));
    }
    for (const record of records) {
      const origin = this.#regions.get(record.region);
      if (record.kind === 'capture') {
        if (!origin) continue;
        origin.lastStamp = Math.max(origin.lastStamp, record.time);
        if (record.image) origin.tombstones.delete(record.keyId);
        else origin.tombstones.set(record.keyId, { time: record.time, region: record.region });
        for (const [to, dueAt] of Object.entries(record.due)) {
          const link = this.#links.get(linkId(record.region, to));
          if (!link || !this.#replicatesTo(record.table, to)) continue;
          const { kind: _kind, due: _due, ...change } = record;
          link.queue.push({ ...change, image: record.image, dueAt });
        }
        continue;
      }
      const link = this.#links.get(linkId(record.from, record.to));
      const target = this.#regions.get(record.to);
      if (!link || !target) continue;
      // The delivered change is among the first (a batch); searched for, as the placement may have dropped some.
      const at = link.queue.findIndex(
        (c) => c.keyId === record.keyId && c.time === record.time && c.region === record.region,
      );
      if (at === -1) continue;
      const [change] = link.queue.splice(at, 1);
      this.#observe(target, record.time);
      if (record.outcome === 'delivered' && change) {
        if (change.image) target.tombstones.delete(change.keyId);
        else target.tombstones.set(change.keyId, { time: change.time, region: change.region });
      }
    }
    // Time never runs backwards across a restart: every clock starts past every stamp ever given.
    const latest = Math.max(...[...this.#regions.values()].map((r) => r.lastStamp));
    for (const region of this.#regions.values()) region.lastStamp = latest;
    // A restarted simulated clock may run behind the old one: a queued change waits one lag at most.
    const now = this.#scheduler.now();
    for (const link of this.#links.values()) {
      link.queue = link.queue.map((c) =>
        c.dueAt > now + link.lagMs ? { ...c, dueAt: now + link.lagMs } : c,
      );
    }
  }

  #snapshot(): Omit<JournalSnapshot, 'version' | 'seq'> {
    this.#pruneTombstones();
    return {
      regions: Object.fromEntries(
        [...this.#regions.values()].map((r) => [
          r.id,
          { last_stamp: r.lastStamp, tombstones: [...r.tombstones] },
        ]),
      ),
      links: [...this.#links.values()]
        .filter((link) => link.queue.length > 0)
        .map((link) => ({ from: link.from, to: link.to, queue: link.queue })),
    };
  }

  /**
   * Forgets tombstones nothing can still need: a tombstone only refuses a change older than itself,
   * which is either queued now or never comes (every later capture is stamped past the clock), so
   * one older than every queued change and than TOMBSTONE_RETENTION_MS goes. Without this, every
   * delete ever made would stay in memory and in the snapshot.
   */
  #pruneTombstones(): void {
    let before = this.#scheduler.now() - TOMBSTONE_RETENTION_MS;
    for (const link of this.#links.values()) {
      for (const change of link.queue) before = Math.min(before, change.time);
    }
    for (const region of this.#regions.values()) {
      for (const [keyId, tombstone] of region.tombstones) {
        if (tombstone.time < before) region.tombstones.delete(keyId);
      }
    }
  }

  #compactIfDue(): void {
    if (this.#journal?.wantsCompaction) this.#journal.compact(this.#snapshot());
  }

  /** The keys a write request touches, in wire form; empty when nothing replicates. */
  async #plan(
    region: RegionReplica,
    command: string,
    input: Record<string, unknown>,
  ): Promise<PlannedWrite[]> {
    const planned: PlannedWrite[] = [];
    const add = (table: string, key: Item, kind: PlannedWrite['kind']) =>
      planned.push({ table, key, keyId: keyIdOf(table, key), kind });
    if (command === 'BatchWriteItemCommand') {
      const requests = (input.RequestItems ?? {}) as Record<string, readonly Record<string, unknown>[]>;
      for (const [table, writes] of Object.entries(requests)) {
        if (!this.#replicates(table)) continue;
        for (const write of writes) {
          const put = write.PutRequest as { Item?: Record<string, unknown> } | undefined;
          const del = write.DeleteRequest as { Key?: Record<string, unknown> } | undefined;
          if (put?.Item) add(table, await this.#keyOf(region, table, put.Item), 'put');
          else if (del?.Key) add(table, normalizeKey(del.Key), 'delete');
        }
      }
      return planned;
    }
    const table = String(input.TableName ?? '');
    if (!this.#replicates(table)) return planned;
    if (command === 'PutItemCommand') {
      add(table, await this.#keyOf(region, table, (input.Item ?? {}) as Record<string, unknown>), 'put');
    } else {
      const key = normalizeKey((input.Key ?? {}) as Record<string, unknown>);
      add(table, key, command === 'DeleteItemCommand' ? 'delete' : 'put');
    }
    return planned;
  }

  /** Stamps what the store accepted, records tombstones, and queues the changes on every link. */
  async #capture(
    region: RegionReplica,
    writes: PlannedWrite[],
    output: Record<string, unknown>,
  ): Promise<void> {
    const unprocessed = new Set<string>();
    const left = (output.UnprocessedItems ?? {}) as Record<string, readonly Record<string, unknown>[]>;
    for (const [table, requests] of Object.entries(left)) {
      for (const request of requests) {
        const put = request.PutRequest as { Item?: Record<string, unknown> } | undefined;
        const del = request.DeleteRequest as { Key?: Record<string, unknown> } | undefined;
        if (put?.Item) unprocessed.add(keyIdOf(table, await this.#keyOf(region, table, put.Item)));
        if (del?.Key) unprocessed.add(keyIdOf(table, normalizeKey(del.Key)));
      }
    }
    for (const write of writes) {
      if (unprocessed.has(write.keyId)) continue;
      const time = this.#stamp(region);
      let image: Item | undefined;
      if (write.kind === 'put') {
        image = await this.#stampItem(region, write, time);
        // Gone already: only a writer outside the replicator could have deleted it; nothing to copy.
        if (!image) continue;
        region.tombstones.delete(write.keyId);
      } else {
        region.tombstones.set(write.keyId, { time, region: region.id });
      }
      region.captured++;
      const links = [...this.#links.values()].filter(
        (link) => link.from === region.id && this.#replicatesTo(write.table, link.to),
      );
      const now = this.#scheduler.now();
      const due = Object.fromEntries(links.map((link) => [link.to, now + link.lagMs]));
      const change = { table: write.table, key: write.key, keyId: write.keyId, time, region: region.id };
      // Logged before it is queued and before the writer's call returns: an acknowledged write survives kill -9.
      this.#journal?.append({ kind: 'capture', ...change, ...(image ? { image } : {}), due });
      for (const link of links) {
        link.queue.push({ ...change, image, dueAt: due[link.to] ?? now });
        this.#schedule(link);
      }
    }
    this.#compactIfDue();
  }

  async #stampItem(region: RegionReplica, write: PlannedWrite, time: number): Promise<Item | undefined> {
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
  async #apply(target: RegionReplica, change: Change): Promise<'delivered' | 'superseded'> {
    const release = await target.locks.acquire([change.keyId]);
    try {
      this.#observe(target, change.time);
      // One conditional write (not a read, then a write): last writer wins is checked by the store.
      // The same write already there (delivered again after a crash before its delivery was logged)
      // is written again, harmlessly. A missing item loses to a newer tombstone, kept in memory.
      const tombstone = target.tombstones.get(change.keyId);
      const keptDeleted = tombstone !== undefined && compareVersions(change, tombstone) < 0;
      const [firstKey] = Object.keys(change.key);
      const older = 'attribute_not_exists(#time) OR #time < :time OR (#time = :time AND #region <= :region)';
      const condition = {
        ConditionExpression: keptDeleted ? `attribute_exists(#key) AND (${older})` : older,
        ExpressionAttributeNames: {
          '#time': REP_UPDATE_TIME,
          '#region': REP_UPDATE_REGION,
          ...(keptDeleted ? { '#key': firstKey ?? '' } : {}),
        },
        ExpressionAttributeValues: { ':time': { N: String(change.time) }, ':region': { S: change.region } },
      };
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

  #schedule(link: Link): void {
    link.cancelTimer?.();
    link.cancelTimer = undefined;
    const head = link.queue[0];
    if (this.#closed || link.paused || link.draining || !head) return;
    const at = Math.max(head.dueAt, link.retryAt ?? 0);
    link.cancelTimer = this.#scheduler.setTimer(Math.max(0, at - this.#scheduler.now()), () => {
      link.cancelTimer = undefined;
      void this.#drain(link, false);
    });
  }

  /**
   * Delivers the link's due changes, in order for each item (a batch at a time when several are due);
   * resolves with the error that stopped it, if any.
   */
  #drain(link: Link, all: boolean): Promise<Error | undefined> {
    if (link.draining) return link.draining.then(() => this.#drain(link, all));
    const target = this.#region(link.to);
    const run = (async (): Promise<Error | undefined> => {
      while (!this.#closed && !link.paused) {
        const batch = this.#dueBatch(link, all);
        if (batch.length === 0) return undefined;
        const outcomes = await Promise.allSettled(batch.map((change) => this.#apply(target, change)));
        // Only captures push onto the queue meanwhile: the batch is still its first entries.
        const kept: Change[] = [];
        let failure: unknown;
        outcomes.forEach((result, i) => {
          const change = batch[i] as Change;
          if (result.status === 'rejected') {
            failure ??= result.reason;
            kept.push(change);
            return;
          }
          this.#journal?.append({
            kind: 'delivery',
            from: link.from,
            to: link.to,
            keyId: change.keyId,
            time: change.time,
            region: change.region,
            outcome: result.value,
          });
          link[result.value]++;
        });
        link.queue.splice(0, batch.length, ...kept);
        this.#compactIfDue();
        if (failure !== undefined) {
          link.failures += kept.length;
          link.retryAt = this.#scheduler.now() + RETRY_MS;
          this.#log(`replication ${link.from} -> ${link.to} failed (retrying): ${String(failure)}`);
          return failure instanceof Error ? failure : new Error(String(failure));
        }
        link.retryAt = undefined;
      }
      return undefined;
    })();
    const draining = run.finally(() => {
      link.draining = undefined;
      this.#schedule(link);
    });
    link.draining = draining;
    return draining;
  }

  /** The first changes of the queue that are due (with `all`, queued), up to a second change of one item. */
  #dueBatch(link: Link, all: boolean): Change[] {
    const now = this.#scheduler.now();
    if (!all && (link.retryAt ?? 0) > now) return [];
    const batch: Change[] = [];
    const items = new Set<string>();
    for (const change of link.queue) {
      if (batch.length === DELIVERY_BATCH || items.has(change.keyId)) break;
      if (!all && change.dueAt > now) break;
      batch.push(change);
      items.add(change.keyId);
    }
    return batch;
  }

  #stamp(region: RegionReplica): number {
    region.lastStamp = Math.max(Math.floor(this.#scheduler.now()), region.lastStamp + 1);
    return region.lastStamp;
  }

  #observe(region: RegionReplica, time: number): void {
    region.lastStamp = Math.max(region.lastStamp, time);
  }

  #replicates(table: string): boolean {
    return this.#tables === undefined || this.#tables.has(table);
  }

  /** The table has a replica in `regionId` (a write elsewhere is copied there). */
  #replicatesTo(table: string, regionId: string): boolean {
    if (this.#tables === undefined) return true;
    const regions = this.#tables.get(table);
    return this.#tables.has(table) && (regions === undefined || regions.has(regionId));
  }

  async #keyOf(region: RegionReplica, table: string, item: Record<string, unknown>): Promise<Item> {
    let schema = this.#keySchemas.get(table);
    if (!schema) {
      schema = region.writer.send(new DescribeTableCommand({ TableName: table })).then(({ Table }) => {
        const names = (Table?.KeySchema ?? []).flatMap((k) => (k.AttributeName ? [k.AttributeName] : []));
        if (names.length === 0) throw new Error(`replication: table ${table} has no key schema`);
        return names;
      });
      // A failed lookup (e.g. the table does not exist yet) is not cached; the write then fails on its own.
      schema.catch(() => this.#keySchemas.delete(table));
      this.#keySchemas.set(table, schema);
    }
    const names = await schema;
    return normalizeKey(Object.fromEntries(names.map((name) => [name, item[name]])));
  }

  #region(regionId: string): RegionReplica {
    const region = this.#regions.get(regionId);
    if (!region) throw new Error(`replication: unknown region ${regionId}`);
    return region;
  }

  #link(from: string, to: string): Link {
    this.#region(from);
    this.#region(to);
    const link = this.#links.get(linkId(from, to));
    if (!link) throw new Error(`replication: no link from ${from} to itself`);
    return link;
  }
}

/** Table name -> its replica regions (undefined: every region); checks each named region exists. */
function replicaSets(
  tables: readonly (string | ReplicatedTable)[],
  regions: readonly ReplicaRegion[],
): Map<string, ReadonlySet<string> | undefined> {
  const known = new Set(regions.map((r) => r.regionId));
  const sets = new Map<string, ReadonlySet<string> | undefined>();
  for (const table of tables) {
    const name = typeof table === 'string' ? table : table.name;
    if (sets.has(name)) throw new Error(`replication: table ${name} is listed twice`);
    if (typeof table === 'string') {
      sets.set(name, undefined);
      continue;
    }
    const unknown = table.regions.filter((r) => !known.has(r));
    if (unknown.length > 0) {
      throw new Error(`replication: table ${name} names unknown region(s) ${unknown.join(', ')}`);
    }
    sets.set(name, new Set(table.regions));
  }
  return sets;
}

function linkId(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

function checkLag(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`replication: lag must be a number of ms >= 0, got ${ms}`);
}

/** Last writer wins: later write time, then the greater region id. */
function compareVersions(a: Version, b: Version): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.region === b.region ? 0 : a.region < b.region ? -1 : 1;
}

/**
 * A key in wire form. Key attributes are S, N or B, so the document client's native values
 * (string, number, bigint, Uint8Array, NumberValue) and wire values ({ S } ...) cannot be confused.
 */
function normalizeKey(key: Record<string, unknown>): Item {
  const out: Item = {};
  for (const [name, value] of Object.entries(key)) out[name] = keyValue(name, value);
  return out;
}

function keyValue(name: string, value: unknown): AttributeValue {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number' || typeof value === 'bigint') return { N: String(value) };
  if (value instanceof Uint8Array) return { B: value };
  if (value !== null && typeof value === 'object') {
    const wire = value as Record<string, unknown>;
    if (typeof wire.S === 'string') return { S: wire.S };
    if (typeof wire.N === 'string') return { N: wire.N };
    if (wire.B instanceof Uint8Array) return { B: wire.B };
    // @aws-sdk/util-dynamodb's NumberValue (numbers beyond double precision).
    if (typeof wire.value === 'string') return { N: wire.value };
  }
  throw new Error(`replication: key attribute ${name} is not a string, number or binary`);
}

function keyIdOf(table: string, key: Item): string {
  const parts = Object.keys(key)
    .sort()
    .map((name) => {
      const value = key[name];
      const text = value?.S ?? value?.N ?? (value?.B ? Buffer.from(value.B).toString('base64') : '');
      return [name, value?.S !== undefined ? 'S' : value?.N !== undefined ? 'N' : 'B', text];
    });
  return `${table}\u0000${JSON.stringify(parts)}`;
}

/** Async mutual exclusion per key; several keys are taken in sorted order so two lockers cannot deadlock. */
class KeyLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(keys: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const key of [...new Set(keys)].sort()) releases.push(await this.#acquireOne(key));
    return () => {
      for (const release of releases.reverse()) release();
    };
  }

  async #acquireOne(key: string): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.#tails.set(key, tail);
    await previous;
    return () => {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    };
  }
}
