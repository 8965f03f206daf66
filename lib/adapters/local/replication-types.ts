/**
 * The public face of the local global-table replication (replication.ts): the options it starts
 * with, the operations it offers, what it reports, and the clock it runs on.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../ports.ts';

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

/** A region the replicator writes replicas to. */
export interface ReplicaRegion {
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
export interface CorruptedCopy {
  readonly region: string;
  readonly table: string;
  readonly key: Readonly<Record<string, unknown>>;
  /** The copy before (undefined: there was none). */
  readonly before: Readonly<Record<string, unknown>> | undefined;
  /** The copy after (undefined: deleted). */
  readonly after: Readonly<Record<string, unknown>> | undefined;
}
