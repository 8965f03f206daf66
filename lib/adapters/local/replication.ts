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
 * changes a batch at a time (DELIVERY_BATCH, replication-state.ts): the changes of one item always
 * land in order, those of different items within one batch in any order, as a stream orders each
 * item's changes only.
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
 *
 * The parts: replication-types.ts (the options, operations and stats offered here),
 * replication-state.ts (regions, links, last writer wins), replication-keys.ts (keys and key locks),
 * replication-writes.ts (the store writes), replication-restore.ts (snapshot and restart).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ReplicationJournal } from './replication-journal.ts';
import { KeySchemas, keyIdOf, normalizeKey } from './replication-keys.ts';
import { restore, snapshotOf } from './replication-restore.ts';
import {
  type Change,
  checkLag,
  DEFAULT_LAG_MS,
  dueBatch,
  type Link,
  linkId,
  linkStats,
  newLink,
  newRegion,
  RETRY_MS,
  type RegionReplica,
  stamp,
  TableRouting,
} from './replication-state.ts';
import {
  type CorruptedCopy,
  REP_UPDATE_REGION,
  REP_UPDATE_TIME,
  type Replication,
  type ReplicationOptions,
  type ReplicationStats,
  type Scheduler,
  systemScheduler,
} from './replication-types.ts';
import {
  applyChange,
  corruptCopy,
  type PlannedWrite,
  planWrites,
  stampItem,
  WRITE_COMMANDS,
} from './replication-writes.ts';

export type {
  LinkStats,
  ReplicatedTable,
  Replication,
  ReplicationOptions,
  ReplicationStats,
  Scheduler,
} from './replication-types.ts';
export { REP_UPDATE_REGION, REP_UPDATE_TIME, systemScheduler };

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
  readonly #keySchemas = new KeySchemas();
  readonly #captures = new Set<Promise<unknown>>();
  readonly #scheduler: Scheduler;
  readonly #routing: TableRouting;
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
    this.#routing = new TableRouting(options.tables, options.regions);
    this.#statePath = options.statePath;
    this.#log = options.log ?? (() => undefined);
    for (const region of options.regions) {
      if (this.#regions.has(region.regionId))
        throw new Error(`replication: region ${region.regionId} is listed twice`);
      this.#regions.set(region.regionId, newRegion(region));
      this.#writers.add(region.client);
    }
    for (const from of this.#regions.keys()) {
      for (const to of this.#regions.keys()) {
        if (from !== to) this.#links.set(linkId(from, to), newLink(from, to, lagMs));
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
      links: [...this.#links.values()].map(linkStats),
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
    return corruptCopy(this.#region(regionId), table, key, changes);
  }

  /** Restores queued changes, tombstones and stamps from the snapshot and the log after it. */
  async load(): Promise<void> {
    if (!this.#statePath) return;
    const { journal, contents } = ReplicationJournal.open(this.#statePath);
    this.#journal = journal;
    restore(this.#state(), contents, this.#scheduler);
    // The restored state becomes the new snapshot: the log starts empty in every process.
    journal.compact(this.#snapshot());
    for (const link of this.#links.values()) this.#schedule(link);
  }

  /** What the journal keeps of this replication. */
  #state() {
    return { regions: this.#regions, links: this.#links, routing: this.#routing };
  }

  #snapshot() {
    return snapshotOf(this.#state(), this.#scheduler.now());
  }

  #compactIfDue(): void {
    if (this.#journal?.wantsCompaction) this.#journal.compact(this.#snapshot());
  }

  /** The keys a write request touches, in wire form; empty when nothing replicates. */
  #plan(region: RegionReplica, command: string, input: Record<string, unknown>): Promise<PlannedWrite[]> {
    return planWrites(
      command,
      input,
      (table, item) => this.#keySchemas.keyOf(region.writer, table, item),
      (table) => this.#routing.replicates(table),
    );
  }

  /** Stamps what the store accepted, records tombstones, and queues the changes on every link. */
  async #capture(
    region: RegionReplica,
    writes: PlannedWrite[],
    output: Record<string, unknown>,
  ): Promise<void> {
    // A batch's unprocessed items were not written: nothing of them is captured.
    const unprocessed = new Set<string>();
    const left = (output.UnprocessedItems ?? {}) as Record<string, readonly Record<string, unknown>[]>;
    for (const [table, requests] of Object.entries(left)) {
      for (const request of requests) {
        const put = request.PutRequest as { Item?: Record<string, unknown> } | undefined;
        const del = request.DeleteRequest as { Key?: Record<string, unknown> } | undefined;
        if (put?.Item)
          unprocessed.add(keyIdOf(table, await this.#keySchemas.keyOf(region.writer, table, put.Item)));
        if (del?.Key) unprocessed.add(keyIdOf(table, normalizeKey(del.Key)));
      }
    }
    for (const write of writes) {
      if (unprocessed.has(write.keyId)) continue;
      const time = stamp(region, this.#scheduler.now());
      let image: Change['image'];
      if (write.kind === 'put') {
        image = await stampItem(region, write, time);
        // Gone already: only a writer outside the replicator could have deleted it; nothing to copy.
        if (!image) continue;
        region.tombstones.delete(write.keyId);
      } else {
        region.tombstones.set(write.keyId, { time, region: region.id });
      }
      this.#enqueue(region, write, time, image);
    }
    this.#compactIfDue();
  }

  /** Logs one stamped local write and queues it on every link to a region holding its table. */
  #enqueue(region: RegionReplica, write: PlannedWrite, time: number, image: Change['image']): void {
    region.captured++;
    const links = [...this.#links.values()].filter(
      (link) => link.from === region.id && this.#routing.replicatesTo(write.table, link.to),
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

  /** Sets the link's timer for its head change (or retry), unless stopped, paused, busy or empty. */
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
        const batch = dueBatch(link, all, this.#scheduler.now());
        if (batch.length === 0) return undefined;
        const outcomes = await Promise.allSettled(batch.map((change) => applyChange(target, change)));
        const failure = this.#settle(link, batch, outcomes);
        if (failure) return failure;
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

  /**
   * Logs and counts a batch's outcomes and takes the applied changes off the queue; returns the
   * first failure, the failed changes kept at the head for a retry.
   */
  #settle(
    link: Link,
    batch: readonly Change[],
    outcomes: readonly PromiseSettledResult<'delivered' | 'superseded'>[],
  ): Error | undefined {
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
    return undefined;
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
