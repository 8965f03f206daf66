/**
 * An in-memory replicated key-value store for the simulator, standing in for a DynamoDB global table
 * (MREC) with the semantics of the local stand-in (lib/adapters/local/replication.ts): one replica
 * per region; a write applies to its region's replica at once and is copied to every other replica
 * after the link's lag, FIFO per ordered region pair (a "link"); last writer wins by stamp, ties by
 * the greater region id; a delete leaves a tombstone so a stale copy cannot bring the item back.
 *
 * Stamps come from a hybrid logical clock per region: max(now, last stamp + 1), advanced past every
 * stamp the region receives, so a write made after seeing another region's write always wins over it.
 *
 * Everything is synchronous: a port reads, checks its condition and writes one replica without
 * yielding, which is atomic (JS is single-threaded), and conditions are checked against that
 * replica only, as DynamoDB checks them. Delivery runs in kernel events (`kernel.at`), one per
 * distinct due time, never on real timers, so a run is a pure function of its inputs.
 *
 * Keys are DynamoDB's: a partition key and a sort key. A partition's live items are kept sorted by
 * sort key, and an item may carry one secondary index key (a GSI entry) that replicates with it, so
 * ports answer Query-like listings in DynamoDB's order without scanning the table. Values are copied
 * on write (undefined attributes dropped, as the document client's removeUndefinedValues does) and on
 * read, or with `reads: 'frozen'` deep-frozen on write and handed out as they are: either way no
 * caller can change stored data, and stored images are never mutated, so one image is shared by
 * every replica it reaches.
 */
import type { LinkStats, ReplicationStats } from '../../adapters/local/replication.ts';
import type { SimKernel } from '../kernel.ts';

/** What the store needs of the kernel: virtual time and scheduled events. */
export type SimScheduler = Pick<SimKernel, 'now' | 'at'>;

/** A write's stamp: hybrid logical time and the region that wrote it. */
export interface Stamp {
  readonly time: number;
  readonly region: string;
}

/** Where an item is listed in the table's secondary index (DynamoDB's gsi1pk/gsi1sk). */
export interface IndexKey {
  readonly pk: string;
  readonly sk: string;
}

/** An item as a listing returns it. */
export interface Row<T> {
  readonly pk: string;
  readonly sk: string;
  readonly value: T;
}

export interface QueryOptions {
  /** Only sort keys starting with it (DynamoDB's begins_with). */
  readonly prefix?: string;
  /** Descending sort key order (ScanIndexForward: false). */
  readonly reverse?: boolean;
  /** At most this many items. */
  readonly limit?: number;
}

/** A table of the store; by default it has a replica in every region. */
export interface SimTableSpec {
  readonly name: string;
  /** The regions holding a replica (a placement table): a write in one is copied to the others only. */
  readonly regions?: readonly string[];
}

export interface ReplicatedStoreOptions {
  readonly kernel: SimScheduler;
  /** One replica per region, in this order (it orders links, stats and deliveries). */
  readonly regions: readonly string[];
  /** Lag of every link until `setLag` changes it; default 200 ms (global tables: about 1 s). */
  readonly lagMs?: number;
  /** The tables; default one table `state` in every region. */
  readonly tables?: readonly SimTableSpec[];
  /**
   * How reads hand items out: `copy` (default), a fresh deep copy per read; `frozen`, the stored
   * image itself, deep-frozen when written, so a read costs nothing and a caller that mutates what
   * it read throws a TypeError instead of changing the store (ES modules are strict).
   */
  readonly reads?: 'copy' | 'frozen';
}

/** One region's replica of one table. Every method is synchronous. */
export interface SimReplica {
  readonly region: string;
  readonly table: string;
  /** A copy of the live item, or undefined (absent or deleted). */
  get<T>(pk: string, sk: string): T | undefined;
  /** The stored item itself, for a condition check: never mutate it, never hand it out. */
  peek<T>(pk: string, sk: string): T | undefined;
  /** What a port hands out of something it peeked: a copy, or the frozen image (`reads`). */
  handOut<T>(value: T): T;
  /** A fresh array of `values` as `handOut` hands each out (a listing's items). */
  handOutAll<T>(values: readonly T[]): T[];
  /** The item's index key, if it is live and listed. */
  indexOf(pk: string, sk: string): IndexKey | undefined;
  /** The stamp of the item's last write (a tombstone's too), or undefined when never written. */
  stampOf(pk: string, sk: string): Stamp | undefined;
  /**
   * Writes the item (a copy of `value`) in this replica and queues it on every link from here.
   * `index`: the item's index key; undefined keeps the one the live item has (an UpdateItem that does
   * not touch it), null lists it nowhere.
   */
  put(pk: string, sk: string, value: object, index?: IndexKey | null): Stamp;
  /**
   * As `put`, for a value its caller built for this write and never changes after (a probe round's
   * views and heartbeat): with `reads: 'frozen'` the value itself is frozen and stored, not copied,
   * unless it holds something a copy would change (an undefined attribute, a class instance).
   */
  putBuilt(pk: string, sk: string, value: object, index?: IndexKey | null): Stamp;
  /** Deletes the item, leaving a tombstone that replicates; whether a live item was there. */
  delete(pk: string, sk: string): boolean;
  /** Copies of the live items of a partition, by sort key. */
  query<T>(pk: string, options?: QueryOptions): Row<T>[];
  /** As `query`, without copying: for condition checks only. */
  peekQuery<T>(pk: string, options?: QueryOptions): Row<T>[];
  /** Copies of the live items listed under `indexPk`, by index sort key (then key). */
  queryIndex<T>(indexPk: string, options?: QueryOptions): Row<T>[];
  /**
   * A number that changes whenever anything listed under `pk` changes: a partition's items, or the
   * items an index partition lists (their values too). Equal numbers mean equal listings, so a port
   * can keep what it derived from one (a merge of status slots) until it changes.
   */
  version(pk: string): number;
}

/** Link controls and figures of a replicated store (the `/v1/sim` faults of the local plane). */
export interface ReplicationControls {
  /** Lag for changes written from now on from `from` to `to` (queued changes keep their due time). */
  setLag(from: string, to: string, ms: number): void;
  /** Stops delivery on one link; changes keep queueing (a partition). */
  pause(from: string, to: string): void;
  /** Delivers the link's queue again: overdue changes at once (in a kernel event), the rest when due. */
  resume(from: string, to: string): void;
  /** A region down: its inbound and outbound links stop until `up` (its replica keeps its data). */
  down(regionId: string): void;
  up(regionId: string): void;
  isDown(regionId: string): boolean;
  /** Whether delivery on the link is stopped (paused, or either end down). */
  isPaused(from: string, to: string): boolean;
  /** Delivers now every due change on every running link (with `all`, every queued one). */
  flush(options?: { readonly all?: boolean }): void;
  /** Changes waiting on every link. */
  queued(): number;
  stats(): ReplicationStats;
}

export interface ReplicatedStore extends ReplicationControls {
  readonly regions: readonly string[];
  /** `regionId`'s replica of `table` (default `state`); throws when the table has none there. */
  replica(regionId: string, table?: string): SimReplica;
  /**
   * Every item of a replica, tombstones included, with stamps and index keys, in key order: equal
   * dumps mean byte-identical replicas (determinism checks, convergence checks).
   */
  dump(regionId: string, table?: string): string;
  /**
   * Back to how it was created, behind the same replica objects: every item, tombstone, queued
   * change, counter, clock, lag, pause and down region dropped (a fixture's reset between tests).
   */
  reset(): void;
}

export const DEFAULT_TABLE = 'state';
const DEFAULT_LAG_MS = 200;

export function createReplicatedStore(options: ReplicatedStoreOptions): ReplicatedStore {
  return new Store(options);
}

/**
 * A deep copy of plain data with undefined attributes and list elements dropped (DynamoDB's
 * removeUndefinedValues); anything that is not a plain object or array goes through structuredClone.
 * Several times faster than structuredClone on the records the ports store (a handoff: about 1 µs
 * against 8), and closer to what a DynamoDB round trip gives back.
 */
export function copyValue<T>(value: T): T {
  return copyAny(value, false) as T;
}

/**
 * As copyValue, with every object and array of the copy frozen (one pass). A frozen object or array
 * in `value` is taken as deep-frozen (the images this store hands out are) and shared, not copied.
 */
export function frozenCopy<T>(value: T): T {
  return copyAny(value, true) as T;
}

/**
 * `value` itself deep-frozen, when freezing changes nothing a copy would (every attribute and element
 * defined, plain objects and arrays only); else a frozen copy. Objects already frozen are kept as
 * they are, as frozenCopy keeps them. One pass, children first: on the copy's path the parts found
 * fit before the misfit stay frozen (the copy shares them).
 */
export function frozenInPlace<T>(value: T): T {
  return freezeFitting(value) ? value : frozenCopy(value);
}

function freezeFitting(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item === undefined || !freezeFitting(item)) return false;
    }
  } else {
    const maker = (value as { constructor?: unknown }).constructor;
    if (maker !== Object && maker !== undefined) return false;
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined || !freezeFitting(item)) return false;
    }
  }
  Object.freeze(value);
  return true;
}

function copyAny(value: unknown, freeze: boolean): unknown {
  if (typeof value !== 'object' || value === null) return value;
  // Frozen: an image this store froze (deep-frozen), handed out and written back in part (a probe's
  // window of samples, a failover's steps). Shared, not copied again: a write copies what is new.
  if (freeze && Object.isFrozen(value)) return value;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (item !== undefined)
        out.push(typeof item === 'object' && item !== null ? copyAny(item, freeze) : item);
    }
    return freeze ? Object.freeze(out) : out;
  }
  // A plain object (or one without a prototype); anything else (Date, Map, typed arrays) is cloned whole.
  const maker = (value as { constructor?: unknown }).constructor;
  if (maker !== Object && maker !== undefined) {
    const clone = structuredClone(value);
    return freeze ? Object.freeze(clone) : clone;
  }
  // Spread, then replace nested values in place: an object built key by key from `{}` falls into
  // V8's dictionary mode, and every later read and spread of the stored image costs ten times more.
  let out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  let undefinedSeen = false;
  for (const key in out) {
    const item = out[key];
    if (item === undefined) undefinedSeen = true;
    else if (typeof item === 'object' && item !== null) out[key] = copyAny(item, freeze);
  }
  if (undefinedSeen) out = Object.fromEntries(Object.entries(out).filter(([, item]) => item !== undefined));
  return freeze ? Object.freeze(out) : out;
}

/** Last writer wins: later time, then the greater region id. */
export function compareStamps(a: Stamp, b: Stamp): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.region === b.region ? 0 : a.region < b.region ? -1 : 1;
}

interface Entry extends Stamp {
  /** The item; undefined for a tombstone. Never mutated once stored. */
  readonly value: object | undefined;
  readonly index: IndexKey | undefined;
}

/** A write on its way over one link: the entry itself, shared by every replica it lands in. */
interface Change {
  readonly entry: Entry;
  readonly table: Table;
  readonly pk: string;
  readonly sk: string;
  readonly dueAt: number;
}

interface RegionNode {
  readonly id: string;
  lastStamp: number;
  captured: number;
  down: boolean;
  readonly outbound: Link[];
}

interface Link {
  readonly from: RegionNode;
  readonly to: RegionNode;
  lagMs: number;
  /** Paused by `pause` (a partition); a down end pauses it too. */
  cut: boolean;
  readonly queue: Fifo<Change>;
  delivered: number;
  superseded: number;
}

interface Table {
  readonly name: string;
  readonly replicas: Map<string, Replica>;
}

class Store implements ReplicatedStore {
  readonly regions: readonly string[];
  readonly frozen: boolean;
  readonly #kernel: SimScheduler;
  readonly #lagMs: number;
  readonly #nodes = new Map<string, RegionNode>();
  readonly #links: Link[] = [];
  readonly #linkIndex = new Map<string, Link>();
  readonly #tables = new Map<string, Table>();
  /** Due times a kernel event is already scheduled for. */
  readonly #wakes = new Set<number>();

  constructor(options: ReplicatedStoreOptions) {
    const lagMs = options.lagMs ?? DEFAULT_LAG_MS;
    checkLag(lagMs);
    if (options.regions.length === 0) throw new Error('replicated store: at least one region is required');
    this.#kernel = options.kernel;
    this.#lagMs = lagMs;
    this.frozen = options.reads === 'frozen';
    this.regions = [...options.regions];
    for (const id of options.regions) {
      if (this.#nodes.has(id)) throw new Error(`replicated store: region ${id} is listed twice`);
      this.#nodes.set(id, { id, lastStamp: 0, captured: 0, down: false, outbound: [] });
    }
    for (const from of this.#nodes.values()) {
      for (const to of this.#nodes.values()) {
        if (from === to) continue;
        const link: Link = {
          from,
          to,
          lagMs,
          cut: false,
          queue: new Fifo(),
          delivered: 0,
          superseded: 0,
        };
        this.#links.push(link);
        this.#linkIndex.set(linkId(from.id, to.id), link);
        from.outbound.push(link);
      }
    }
    for (const spec of options.tables ?? [{ name: DEFAULT_TABLE }]) {
      if (this.#tables.has(spec.name))
        throw new Error(`replicated store: table ${spec.name} is listed twice`);
      const regions = spec.regions ?? this.regions;
      const unknown = regions.filter((r) => !this.#nodes.has(r));
      if (unknown.length > 0) {
        throw new Error(`replicated store: table ${spec.name} names unknown region(s) ${unknown.join(', ')}`);
      }
      const table: Table = { name: spec.name, replicas: new Map() };
      for (const region of regions) {
        table.replicas.set(region, new Replica(this, this.#node(region), table));
      }
      this.#tables.set(spec.name, table);
    }
  }

  replica(regionId: string, table = DEFAULT_TABLE): SimReplica {
    const replica = this.#tables.get(table)?.replicas.get(regionId);
    if (replica) return replica;
    this.#node(regionId);
    throw new Error(`replicated store: table ${table} has no replica in ${regionId}`);
  }

  dump(regionId: string, table = DEFAULT_TABLE): string {
    return (this.replica(regionId, table) as Replica).dump();
  }

  reset(): void {
    for (const node of this.#nodes.values()) {
      node.lastStamp = 0;
      node.captured = 0;
      node.down = false;
    }
    for (const link of this.#links) {
      link.lagMs = this.#lagMs;
      link.cut = false;
      link.queue.clear();
      link.delivered = 0;
      link.superseded = 0;
    }
    for (const table of this.#tables.values()) for (const replica of table.replicas.values()) replica.clear();
    // Wakes already scheduled in the kernel find empty queues and do nothing.
    this.#wakes.clear();
  }

  setLag(from: string, to: string, ms: number): void {
    checkLag(ms);
    this.#link(from, to).lagMs = ms;
  }

  pause(from: string, to: string): void {
    this.#link(from, to).cut = true;
  }

  resume(from: string, to: string): void {
    const link = this.#link(from, to);
    link.cut = false;
    this.#restart(link);
  }

  down(regionId: string): void {
    this.#node(regionId).down = true;
  }

  up(regionId: string): void {
    const node = this.#node(regionId);
    if (!node.down) return;
    node.down = false;
    for (const link of this.#links) if (link.from === node || link.to === node) this.#restart(link);
  }

  isDown(regionId: string): boolean {
    return this.#node(regionId).down;
  }

  isPaused(from: string, to: string): boolean {
    return paused(this.#link(from, to));
  }

  flush(options: { readonly all?: boolean } = {}): void {
    const until = options.all ? Number.POSITIVE_INFINITY : this.#kernel.now();
    for (const link of this.#links) this.#drain(link, until);
  }

  queued(): number {
    let total = 0;
    for (const link of this.#links) total += link.queue.size;
    return total;
  }

  stats(): ReplicationStats {
    const links: LinkStats[] = this.#links.map((link) => ({
      from: link.from.id,
      to: link.to.id,
      lag_ms: link.lagMs,
      paused: paused(link),
      queued: link.queue.size,
      delivered: link.delivered,
      superseded: link.superseded,
      failures: 0,
    }));
    const captured: Record<string, number> = {};
    for (const node of this.#nodes.values()) captured[node.id] = node.captured;
    return { lag_ms: this.#lagMs, captured, links };
  }

  /** Stamps a local write of `replica`, applies it there and queues it on the links to its table's other replicas. */
  write(
    replica: Replica,
    pk: string,
    sk: string,
    value: object | undefined,
    index: IndexKey | undefined,
  ): Stamp {
    const node = replica.node;
    const now = this.#kernel.now();
    node.lastStamp = Math.max(Math.floor(now), node.lastStamp + 1);
    const entry: Entry = { value, index, time: node.lastStamp, region: node.id };
    replica.set(pk, sk, entry);
    node.captured++;
    const table = replica.tableRef;
    for (const link of node.outbound) {
      if (!table.replicas.has(link.to.id)) continue;
      link.queue.push({ entry, table, pk, sk, dueAt: now + link.lagMs });
      // A non-empty queue already has a wake for its head (or is paused, and `resume` wakes it).
      if (link.queue.size === 1 && !paused(link)) this.#wake(now + link.lagMs);
    }
    return { time: entry.time, region: entry.region };
  }

  #restart(link: Link): void {
    const head = link.queue.peek();
    if (head && !paused(link)) this.#wake(Math.max(head.dueAt, this.#kernel.now()));
  }

  /** One kernel event per distinct due time delivers every link's due changes. */
  #wake(at: number): void {
    if (this.#wakes.has(at)) return;
    this.#wakes.add(at);
    this.#kernel.at(
      Math.max(0, at - this.#kernel.now()),
      () => {
        this.#wakes.delete(at);
        const now = this.#kernel.now();
        for (const link of this.#links) this.#drain(link, now);
      },
      // Deliveries only set replicas' items: nothing asynchronous to wait for after them.
      { synchronous: true },
    );
  }

  /** Delivers the link's changes due by `until`, in order (a later one waits behind its head). */
  #drain(link: Link, until: number): void {
    if (paused(link)) return;
    for (let head = link.queue.peek(); head !== undefined; head = link.queue.peek()) {
      if (head.dueAt > until) {
        this.#wake(head.dueAt);
        return;
      }
      link.queue.shift();
      const target = head.table.replicas.get(link.to.id) as Replica;
      const { entry } = head;
      // The receiving region's clock moves past the stamp, superseded or not.
      link.to.lastStamp = Math.max(link.to.lastStamp, entry.time);
      const held = target.entry(head.pk, head.sk);
      if (held && compareStamps(entry, held) <= 0) {
        link.superseded++;
        continue;
      }
      // Entries are never mutated: the one written is the one every replica holds.
      target.set(head.pk, head.sk, entry);
      link.delivered++;
    }
  }

  #node(regionId: string): RegionNode {
    const node = this.#nodes.get(regionId);
    if (!node) throw new Error(`replicated store: unknown region ${regionId}`);
    return node;
  }

  #link(from: string, to: string): Link {
    this.#node(from);
    this.#node(to);
    const link = this.#linkIndex.get(linkId(from, to));
    if (!link) throw new Error(`replicated store: no link from ${from} to itself`);
    return link;
  }
}

interface Partition {
  readonly entries: Map<string, Entry>;
  /** Sort keys of the live items, ascending. */
  readonly order: string[];
}

/** Changes made to any replica of any store: versions only grow, so a stale one never matches. */
let changes = 0;

/** Members of one index partition: `<index sk>\0<pk>\0<sk>` -> the item's key, in sorted order. */
interface IndexPartition {
  readonly members: Map<string, { readonly pk: string; readonly sk: string }>;
  readonly order: string[];
}

class Replica implements SimReplica {
  readonly region: string;
  readonly table: string;
  readonly node: RegionNode;
  readonly tableRef: Table;
  readonly #store: Store;
  readonly #partitions = new Map<string, Partition>();
  readonly #index = new Map<string, IndexPartition>();
  /** pk (a partition's or an index partition's) -> the change that last touched it (see `version`). */
  readonly #versions = new Map<string, number>();
  #cleared = 0;

  constructor(store: Store, node: RegionNode, table: Table) {
    this.#store = store;
    this.node = node;
    this.tableRef = table;
    this.region = node.id;
    this.table = table.name;
  }

  get<T>(pk: string, sk: string): T | undefined {
    const value = this.#partitions.get(pk)?.entries.get(sk)?.value;
    return value === undefined ? undefined : this.handOut(value as T);
  }

  peek<T>(pk: string, sk: string): T | undefined {
    return this.#partitions.get(pk)?.entries.get(sk)?.value as T | undefined;
  }

  handOut<T>(value: T): T {
    return this.#store.frozen ? value : copyValue(value);
  }

  handOutAll<T>(values: readonly T[]): T[] {
    // A spread, not slice or map: V8 copies a frozen array fast only by spreading it.
    return this.#store.frozen ? [...values] : values.map((value) => copyValue(value));
  }

  indexOf(pk: string, sk: string): IndexKey | undefined {
    const entry = this.#partitions.get(pk)?.entries.get(sk);
    return entry?.value === undefined ? undefined : entry.index;
  }

  stampOf(pk: string, sk: string): Stamp | undefined {
    const entry = this.#partitions.get(pk)?.entries.get(sk);
    return entry ? { time: entry.time, region: entry.region } : undefined;
  }

  put(pk: string, sk: string, value: object, index?: IndexKey | null): Stamp {
    const kept = index === undefined ? this.indexOf(pk, sk) : (index ?? undefined);
    const image = this.#store.frozen ? frozenCopy(value) : copyValue(value);
    return this.#store.write(this, pk, sk, image, kept && { pk: kept.pk, sk: kept.sk });
  }

  putBuilt(pk: string, sk: string, value: object, index?: IndexKey | null): Stamp {
    if (!this.#store.frozen) return this.put(pk, sk, value, index);
    const kept = index === undefined ? this.indexOf(pk, sk) : (index ?? undefined);
    return this.#store.write(this, pk, sk, frozenInPlace(value), kept && { pk: kept.pk, sk: kept.sk });
  }

  delete(pk: string, sk: string): boolean {
    const existed = this.peek(pk, sk) !== undefined;
    this.#store.write(this, pk, sk, undefined, undefined);
    return existed;
  }

  query<T>(pk: string, options?: QueryOptions): Row<T>[] {
    return this.peekQuery<T>(pk, options).map((row) => ({ pk, sk: row.sk, value: this.handOut(row.value) }));
  }

  peekQuery<T>(pk: string, options: QueryOptions = {}): Row<T>[] {
    const partition = this.#partitions.get(pk);
    if (!partition) return [];
    return range(partition.order, options).map((sk) => ({
      pk,
      sk,
      value: partition.entries.get(sk)?.value as T,
    }));
  }

  queryIndex<T>(indexPk: string, options: QueryOptions = {}): Row<T>[] {
    const partition = this.#index.get(indexPk);
    if (!partition) return [];
    // Members start with the index sort key, so a prefix selects by it.
    return range(partition.order, options).map((member) => {
      const { pk, sk } = partition.members.get(member) as { pk: string; sk: string };
      return { pk, sk, value: this.handOut(this.peek<T>(pk, sk) as T) };
    });
  }

  /** The entry held for the key, tombstone included. */
  entry(pk: string, sk: string): Entry | undefined {
    return this.#partitions.get(pk)?.entries.get(sk);
  }

  /** Replaces what the replica holds for the key, keeping the sorted orders and the index in step. */
  set(pk: string, sk: string, entry: Entry): void {
    this.#versions.set(pk, ++changes);
    let partition = this.#partitions.get(pk);
    if (!partition) {
      partition = { entries: new Map(), order: [] };
      this.#partitions.set(pk, partition);
    }
    const old = partition.entries.get(sk);
    partition.entries.set(sk, entry);
    const wasLive = old?.value !== undefined;
    const isLive = entry.value !== undefined;
    if (!wasLive && isLive) insertSorted(partition.order, sk);
    else if (wasLive && !isLive) removeSorted(partition.order, sk);
    const before = wasLive ? old?.index : undefined;
    const after = isLive ? entry.index : undefined;
    if (before) this.#versions.set(before.pk, ++changes);
    if (after) this.#versions.set(after.pk, ++changes);
    if (before?.pk === after?.pk && before?.sk === after?.sk) return;
    if (before) this.#unlist(before, pk, sk);
    if (after) this.#list(after, pk, sk);
  }

  clear(): void {
    this.#partitions.clear();
    this.#index.clear();
    this.#versions.clear();
    this.#cleared = ++changes;
  }

  version(pk: string): number {
    return this.#versions.get(pk) ?? this.#cleared;
  }

  dump(): string {
    const rows: unknown[] = [];
    for (const pk of [...this.#partitions.keys()].sort()) {
      const partition = this.#partitions.get(pk) as Partition;
      for (const sk of [...partition.entries.keys()].sort()) {
        const e = partition.entries.get(sk) as Entry;
        rows.push([pk, sk, e.time, e.region, e.index ?? null, e.value ?? null]);
      }
    }
    return JSON.stringify(rows);
  }

  #list(index: IndexKey, pk: string, sk: string): void {
    let partition = this.#index.get(index.pk);
    if (!partition) {
      partition = { members: new Map(), order: [] };
      this.#index.set(index.pk, partition);
    }
    const member = memberId(index, pk, sk);
    partition.members.set(member, { pk, sk });
    insertSorted(partition.order, member);
  }

  #unlist(index: IndexKey, pk: string, sk: string): void {
    const partition = this.#index.get(index.pk);
    if (!partition) return;
    const member = memberId(index, pk, sk);
    if (partition.members.delete(member)) removeSorted(partition.order, member);
  }
}

function memberId(index: IndexKey, pk: string, sk: string): string {
  return `${index.sk}\u0000${pk}\u0000${sk}`;
}

/** The keys of a sorted list a query selects, in the order it asks for. */
function range(order: readonly string[], options: QueryOptions): string[] {
  const { prefix, reverse = false, limit = Number.POSITIVE_INFINITY } = options;
  let start = 0;
  let end = order.length;
  if (prefix !== undefined && prefix !== '') {
    start = lowerBound(order, prefix);
    end = start;
    while (end < order.length && (order[end] as string).startsWith(prefix)) end++;
  }
  const count = Math.min(end - start, Math.max(0, limit));
  if (!reverse) return order.slice(start, start + count);
  const out: string[] = [];
  for (let i = end - 1; out.length < count; i--) out.push(order[i] as string);
  return out;
}

/** The first position whose key is not below `key` (binary search; JS string order). */
function lowerBound(order: readonly string[], key: string): number {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((order[mid] as string) < key) low = mid + 1;
    else high = mid;
  }
  return low;
}

function insertSorted(order: string[], key: string): void {
  const last = order[order.length - 1];
  // Appends are the common case (handoffs and failovers listed by creation time).
  if (last === undefined || last < key) {
    order.push(key);
    return;
  }
  const at = lowerBound(order, key);
  if (order[at] !== key) order.splice(at, 0, key);
}

function removeSorted(order: string[], key: string): void {
  const at = lowerBound(order, key);
  if (order[at] === key) order.splice(at, 1);
}

function paused(link: Link): boolean {
  return link.cut || link.from.down || link.to.down;
}

function linkId(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

function checkLag(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0) {
    throw new Error(`replicated store: lag must be a number of ms >= 0, got ${ms}`);
  }
}

/** A queue with O(1) shift: a head index into an array compacted now and then. */
class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    const item = this.#items[this.#head];
    if (item === undefined) return undefined;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}
