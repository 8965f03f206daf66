/** Records the replication monitor, the consistency checks and the versioned documents keep. */
import type { Dot, VersionVector } from './version-vector.ts';

/**
 * A region's replication mark: one item per region in the state table, changed only in that
 * region's replica, read from every replica to tell how far each has caught up with the region.
 *
 * - `seq`, `beat_at`, `beats`: the lag monitor's heartbeat. Every beat adds one to `seq` and keeps
 *   its time in `beats` (the last MARK_BEATS beats), so a replica that lacks beat n can tell how
 *   long beat n has been pending: the lag in seconds, to the millisecond, for the pending time.
 * - `writes`, `written_at`: the region's write counter, an atomic ADD made after each successful
 *   write into the region's replica (lib/app/replication/counting-state.ts): how many writes a
 *   replica still lacks is the source's counter minus the replica's copy of it (lag in records).
 */
export interface ReplicationMark {
  readonly region: string;
  /** Beats written; 0 before the monitor's first. */
  readonly seq: number;
  /** Epoch ms of the last beat (0: none). */
  readonly beat_at: number;
  /** The last beats as [seq, epoch ms], oldest first. */
  readonly beats: readonly (readonly [number, number])[];
  /** The monitor's beat interval, ms (0: unknown). */
  readonly interval_ms: number;
  /** Writes counted into this region's replica. */
  readonly writes: number;
  /** Epoch ms of the last counted write (0: none). */
  readonly written_at: number;
}

/** Beats a mark remembers: 64 x 5 s covers the spec's 300 s alert threshold. */
export const MARK_BEATS = 64;

/** What a region's lag monitor last concluded about one link into its replica (single writer: that region). */
export interface LagView {
  readonly source: string;
  readonly replica: string;
  /** The status of the last measurement (`unknown` included). */
  readonly status: string;
  /** The last known (not `unknown`) status: events fire on changes of it. */
  readonly known_status: string;
  /** ISO time `known_status` was entered. */
  readonly since: string;
  readonly lag_records: number | null;
  readonly lag_seconds: number | null;
  readonly updated_at: string;
}

/** One region's copy of a sampled key, as a consistency check saw it. */
export interface CopyReport {
  readonly present: boolean;
  /** sha256 of the item's canonical content (replication metadata excluded); absent when missing. */
  readonly checksum?: string;
  /** Epoch ms of the copy's last write, when the item tells (`aws:rep:updatetime` or its own time field). */
  readonly write_time?: number;
  /** Region that made the copy's last write, when the item tells (`aws:rep:updateregion`). */
  readonly write_region?: string;
}

export interface ReconcileWrite {
  readonly region: string;
  readonly action: 'put' | 'delete';
  readonly before_checksum?: string;
  /** false: the copy changed between the check's read and the repair, so it was left alone. */
  readonly applied: boolean;
}

export interface Reconciliation {
  readonly rule: string;
  readonly winner?: string;
  /** Why this copy won under the rule. */
  readonly reason?: string;
  readonly winner_checksum?: string;
  readonly writes: readonly ReconcileWrite[];
  /** Why nothing was written (no rule, winner unreachable, write in flight ...). */
  readonly skipped?: string;
}

export interface Inconsistency {
  /** `pk|sk`, the item's key in the state table. */
  readonly key: string;
  readonly record_type?: string;
  readonly data_type: string;
  readonly rule?: string;
  /** Per region: its version of the item. */
  readonly copies: Readonly<Record<string, CopyReport>>;
  /** Only with `reconcile: true`. */
  readonly reconciliation?: Reconciliation;
}

export interface ConsistencyCheckRecord {
  readonly check_id: string;
  /** The region that ran the check (its replica was sampled). */
  readonly observer: string;
  readonly trigger: 'api' | 'schedule';
  readonly reconcile: boolean;
  readonly regions: readonly string[];
  readonly sample_size: number;
  /** Keys compared (fewer than `sample_size` when the table holds fewer). */
  readonly sampled: number;
  readonly consistent: number;
  readonly inconsistent: number;
  readonly reconciled: number;
  /** Replicas that could not be read: their copies are not compared. */
  readonly unreachable: readonly { readonly region: string; readonly error: string }[];
  /** At most MAX_REPORTED_INCONSISTENCIES, in key order; `truncated` counts the rest. */
  readonly inconsistencies: readonly Inconsistency[];
  readonly truncated: number;
  readonly started_at: string;
  readonly finished_at: string;
  readonly duration_ms: number;
}

/** A check record must fit a DynamoDB item (400 KB). */
export const MAX_REPORTED_INCONSISTENCIES = 200;

/** One version of a versioned document: its write (`dot`) and what its writer had seen (`context`). */
export interface DocumentVersion {
  readonly dot: Dot;
  readonly context: VersionVector;
  /** Any JSON value. */
  readonly content: unknown;
  /** ISO time of the write. */
  readonly written_at: string;
  /** Region whose write made this version. */
  readonly written_by: string;
}

/**
 * One region's slot of a document: only that region writes it, so replication (last writer wins per
 * item) never overwrites another region's version; a reader sees every region's slot and keeps the
 * versions no other descends from.
 */
export interface DocumentSlot {
  readonly key: string;
  readonly region: string;
  /** This region's versions not yet superseded by a later write of its own (usually one). */
  readonly versions: readonly DocumentVersion[];
  /** Bumped on each write of the slot: the condition of the next one (writers in one region). */
  readonly revision: number;
  readonly updated_at: string;
}

/** A set of concurrent versions of a document, recorded once per replica that saw it. */
export interface DocumentConflict {
  readonly key: string;
  /** Digest of the sibling vectors: the same siblings, the same id in every region. */
  readonly conflict_id: string;
  readonly vectors: readonly VersionVector[];
  readonly written_by: readonly string[];
  /** `stale_write`: a write based on an old version; `concurrent_writes`: writes in two regions seen after replication. */
  readonly kind: 'stale_write' | 'concurrent_writes';
  readonly detected_at: string;
  readonly detected_by: string;
}

/** A record of selectively replicated data (SelectivePort; lib/adapters/aws/dynamodb-selective.ts). */
export interface SelectiveRecord {
  readonly key: string;
  readonly policy_id: string;
  /** The table holding it (the same name in each of its replica regions). */
  readonly table: string;
  /** The region it was written in. */
  readonly region: string;
  readonly value: Record<string, unknown>;
  readonly written_at: string;
  /** Epoch seconds after which it reads as absent (policies with `retention_days`). */
  readonly expires_at?: number;
}
