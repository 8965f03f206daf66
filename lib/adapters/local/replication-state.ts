/**
 * What the local replication holds in memory: each region's clock and tombstones, each link's
 * queue and counters, and which tables replicate where; with the small rules that read them
 * (last writer wins, which changes a link delivers next, which tombstones can go).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type Item, KeyLocks } from './replication-keys.ts';
import type { LinkStats, ReplicaRegion, ReplicatedTable } from './replication-types.ts';

/** The write a change or tombstone stands for: last writer wins compares these. */
export interface Version {
  readonly time: number;
  readonly region: string;
}

/** A captured write on its way along one link. */
export interface Change extends Version {
  readonly table: string;
  readonly key: Item;
  readonly keyId: string;
  /** The item after the write; undefined for a delete. */
  readonly image: Item | undefined;
  readonly dueAt: number;
}

/** What a region remembers of a deleted item, so an older copy arriving later cannot revive it. */
export interface Tombstone extends Version {}

/** One region's replica: its replicator client, clock, key locks and tombstones. */
export interface RegionReplica {
  readonly id: string;
  readonly writer: DynamoDBClient;
  readonly locks: KeyLocks;
  readonly tombstones: Map<string, Tombstone>;
  lastStamp: number;
  captured: number;
}

/** One ordered region pair: its queue of changes, its delivery state and its counters. */
export interface Link {
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

export const DEFAULT_LAG_MS = 200;
/** How long a delete's tombstone is kept at least (a day: far beyond any lag but a paused link's). */
const TOMBSTONE_RETENTION_MS = 86_400_000;
export const RETRY_MS = 250;
/**
 * Due changes a link applies at once, never two of one item. One at a time, each apply waits for
 * several turns of the event loop (the store's LevelDB reads and writes run on libuv's threads);
 * when the plane's jobs keep the loop busy (an idle plane at --speed 60 here: turns of 15-20 ms), a
 * link delivered hardly more changes a second than its region captured, and any loss of CPU left a
 * backlog that never drained: 1,400 queued changes after a simulated day at --speed 60, 1,700 after
 * six simulated hours at --speed 120, where batches keep it under 20.
 */
const DELIVERY_BATCH = 16;

/** A region as it starts: no stamp given, nothing captured. */
export function newRegion({ regionId, client }: ReplicaRegion): RegionReplica {
  return {
    id: regionId,
    writer: client,
    locks: new KeyLocks(),
    tombstones: new Map(),
    lastStamp: 0,
    captured: 0,
  };
}

/** A link as it starts: empty, running, at the default lag. */
export function newLink(from: string, to: string, lagMs: number): Link {
  return {
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
  };
}

/** The key of a link in the link map. */
export function linkId(from: string, to: string): string {
  return `${from}\u0000${to}`;
}

/** Rejects a lag that is not a number of ms >= 0. */
export function checkLag(ms: number): void {
  if (!Number.isFinite(ms) || ms < 0)
    throw new Error(`replication: lag must be a number of ms >= 0, got ${ms}`);
}

/** What `stats` reports of one link. */
export function linkStats(link: Link): LinkStats {
  return {
    from: link.from,
    to: link.to,
    lag_ms: link.lagMs,
    paused: link.paused,
    queued: link.queue.length,
    delivered: link.delivered,
    superseded: link.superseded,
    failures: link.failures,
  };
}

/** The first changes of the queue that are due (with `all`, queued), up to a second change of one item. */
export function dueBatch(link: Link, all: boolean, now: number): Change[] {
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

/** Last writer wins: later write time, then the greater region id. */
export function compareVersions(a: Version, b: Version): number {
  if (a.time !== b.time) return a.time < b.time ? -1 : 1;
  return a.region === b.region ? 0 : a.region < b.region ? -1 : 1;
}

/**
 * Forgets tombstones nothing can still need: a tombstone only refuses a change older than itself,
 * which is either queued now or never comes (every later capture is stamped past the clock), so
 * one older than every queued change and than TOMBSTONE_RETENTION_MS goes. Without this, every
 * delete ever made would stay in memory and in the snapshot.
 */
export function pruneTombstones(regions: Iterable<RegionReplica>, links: Iterable<Link>, now: number): void {
  let before = now - TOMBSTONE_RETENTION_MS;
  for (const link of links) {
    for (const change of link.queue) before = Math.min(before, change.time);
  }
  for (const region of regions) {
    for (const [keyId, tombstone] of region.tombstones) {
      if (tombstone.time < before) region.tombstones.delete(keyId);
    }
  }
}

/** Which tables replicate, and among which regions. */
export class TableRouting {
  /** Table -> its replica regions (undefined: every region); undefined: every table, every region. */
  readonly #tables: ReadonlyMap<string, ReadonlySet<string> | undefined> | undefined;

  constructor(tables: readonly (string | ReplicatedTable)[] | undefined, regions: readonly ReplicaRegion[]) {
    this.#tables = tables ? replicaSets(tables, regions) : undefined;
  }

  /** Writes to the table are captured (it has replicas somewhere). */
  replicates(table: string): boolean {
    return this.#tables === undefined || this.#tables.has(table);
  }

  /** The table has a replica in `regionId` (a write elsewhere is copied there). */
  replicatesTo(table: string, regionId: string): boolean {
    if (this.#tables === undefined) return true;
    const regions = this.#tables.get(table);
    return this.#tables.has(table) && (regions === undefined || regions.has(regionId));
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

/** The region's next write stamp: its hybrid logical clock, max(now, last stamp + 1). */
export function stamp(region: RegionReplica, now: number): number {
  region.lastStamp = Math.max(Math.floor(now), region.lastStamp + 1);
  return region.lastStamp;
}

/** Advances the region's clock past a stamp it received, so its later writes win over that one. */
export function observe(region: RegionReplica, time: number): void {
  region.lastStamp = Math.max(region.lastStamp, time);
}
