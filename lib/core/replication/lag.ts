/**
 * Reading replication progress from write markers (spec: Replication Monitoring Script). The one
 * place that says how far a replica has caught up with a source region: the lag monitor measures
 * every link with it, and the failover's sync step asks it whether the target holds the failed
 * region's last known heartbeat.
 *
 * Definitions, for a source region S and a replica R (S's writes travelling to R's replica):
 * - sequences: S's heartbeat number in S's own replica and in R's copy.
 * - lag in records: S's write counter in S's replica minus R's copy of it (the writes R lacks).
 * - lag in seconds: how long the oldest change R lacks has been pending. When R lacks heartbeats,
 *   that is the first missing beat (its time is in S's mark): exact. When it lacks only writes
 *   made after S's last beat, the last write's age: a lower bound. 0 when R holds S's mark as S has it.
 * - age: how old the newest heartbeat of S in R's replica is (grows by the beat interval between beats).
 * - data-loss window: S's last change minus the last change of S that R holds: what a failover to R
 *   would lose if S died now (the RPO exposure).
 * - status, from the spec's thresholds: `alert` over 10,000 records or 300 s (monitor-replication.sh),
 *   else `over_async_target` above the asynchronous target (30 s), `over_sync_target` above the
 *   synchronous target (1 s), else `ok`; `unknown` when S's own mark cannot be read.
 */
import type { Topology } from '../topology/types.ts';
import type { ReplicationMark } from './records.ts';

/** A write marker: a heartbeat number and its time (epoch ms). */
interface Position {
  readonly seq: number;
  readonly at: number;
}

/** The spec's alert thresholds (monitor-replication.sh). */
export const ALERT_RECORDS = 10_000;
const ALERT_SECONDS = 300;

/**
 * Beat interval of the lag monitor (the one place it is set: the Lambda rounds, the local scheduler
 * and the cost model read it). A stall shows once the first beat after it is pending, so `lag
 * seconds` reads at most one beat under the true lag, and the monitor reads once a beat: a link
 * over the asynchronous target (30 s) is reported within target + two beats (60 s), one over the
 * 300 s alert within 330 s. 15 s is the longest beat that keeps that error within half the
 * asynchronous target: a link more than 45 s behind always reads over it.
 * The synchronous target (1 s) is read from the beat in flight, which no beat interval changes.
 * Each beat is a write replicated to every region and a round of the minute driver, whose Express
 * execution bills the minute until its last round: 5 s cost 12 beats and 56 s a minute, 15 s cost
 * 4 and 46 s (docs/aws.md, Idle cost).
 */
export const DEFAULT_BEAT_INTERVAL_MS = 15_000;

export interface LagThresholds {
  /** monitoring.performance.replication_lag.synchronous_target (spec: 1 s). */
  readonly synchronous_seconds: number;
  /** monitoring.performance.replication_lag.asynchronous_target (spec: 30 s). */
  readonly asynchronous_seconds: number;
  readonly alert_records: number;
  readonly alert_seconds: number;
}

export function lagThresholds(topology: Topology): LagThresholds {
  const targets = topology.monitoring.performance.replication_lag;
  return {
    synchronous_seconds: targets.synchronous_target,
    asynchronous_seconds: targets.asynchronous_target,
    alert_records: ALERT_RECORDS,
    alert_seconds: ALERT_SECONDS,
  };
}

export type LagStatus = 'ok' | 'over_sync_target' | 'over_async_target' | 'alert' | 'unknown';

const SEVERITY: Readonly<Record<Exclude<LagStatus, 'unknown'>, number>> = {
  ok: 0,
  over_sync_target: 1,
  over_async_target: 2,
  alert: 3,
};

export interface PairLag {
  readonly source: string;
  readonly replica: string;
  readonly source_seq: number | null;
  readonly replica_seq: number | null;
  readonly source_writes: number | null;
  readonly replica_writes: number | null;
  readonly lag_records: number | null;
  readonly lag_seconds: number | null;
  /** true when `lag_seconds` is only a lower bound (the oldest missing change's time is not known). */
  readonly lag_lower_bound: boolean;
  readonly age_seconds: number | null;
  readonly data_loss_window_seconds: number | null;
  readonly status: LagStatus;
  readonly meets: { readonly synchronous: boolean | null; readonly asynchronous: boolean | null };
  readonly reasons: readonly string[];
}

interface PairInput {
  readonly source: string;
  readonly replica: string;
  /** S's mark as S's own replica holds it; undefined when it could not be read or does not exist. */
  readonly atSource: ReplicationMark | undefined;
  /** Why `atSource` is missing (unreachable replica ...). */
  readonly sourceError?: string;
  /** S's mark as R's replica holds it; undefined when R has none. */
  readonly atReplica: ReplicationMark | undefined;
  readonly now: number;
  readonly thresholds: LagThresholds;
}

/** Tenths of a second. */
function secondsOf(ms: number): number {
  return Math.round(Math.max(0, ms) / 100) / 10;
}

function lastChange(mark: ReplicationMark): number {
  return Math.max(mark.beat_at, mark.written_at);
}

/** The lag of one link S -> R (see the definitions above). */
export function measurePair(input: PairInput): PairLag {
  const { source, replica, atSource, atReplica, now, thresholds } = input;
  const age = atReplica && atReplica.beat_at > 0 ? secondsOf(now - atReplica.beat_at) : null;
  const base = {
    source,
    replica,
    source_seq: atSource ? atSource.seq : null,
    replica_seq: atReplica ? atReplica.seq : null,
    source_writes: atSource ? atSource.writes : null,
    replica_writes: atReplica ? atReplica.writes : null,
    age_seconds: age,
  };
  if (!atSource) {
    return {
      ...base,
      lag_records: null,
      lag_seconds: null,
      lag_lower_bound: false,
      data_loss_window_seconds: null,
      status: 'unknown',
      meets: { synchronous: null, asynchronous: null },
      reasons: [
        input.sourceError
          ? `${source}'s own mark cannot be read: ${input.sourceError}`
          : `${source} has no mark yet (its lag monitor has not run)`,
      ],
    };
  }
  const heldSeq = atReplica?.seq ?? 0;
  const heldWrites = atReplica?.writes ?? 0;
  const lagRecords = Math.max(0, atSource.writes - heldWrites);
  let lagMs = 0;
  let lowerBound = false;
  if (atSource.seq > heldSeq) {
    const missing = atSource.beats.find(([seq]) => seq === heldSeq + 1);
    const oldest = atSource.beats[0];
    if (missing) lagMs = now - missing[1];
    else if (oldest) {
      // The first missing beat fell out of the ring: it is older than the oldest one kept.
      lagMs = now - oldest[1];
      lowerBound = true;
    } else {
      lagMs = now - atSource.beat_at;
      lowerBound = true;
    }
  }
  if (lagRecords > 0 && atSource.written_at > 0) {
    const writeLag = now - atSource.written_at;
    if (writeLag > lagMs) {
      lagMs = writeLag;
      lowerBound = lagRecords > 1;
    }
  }
  const caughtUp = atSource.seq <= heldSeq && lagRecords === 0;
  const lagSeconds = caughtUp ? 0 : secondsOf(lagMs);
  const window = caughtUp ? 0 : secondsOf(lastChange(atSource) - (atReplica ? lastChange(atReplica) : 0));
  const reasons: string[] = [];
  let status: LagStatus = 'ok';
  if (lagRecords > thresholds.alert_records) {
    reasons.push(`${lagRecords} records behind (alert above ${thresholds.alert_records})`);
    status = 'alert';
  }
  if (lagSeconds > thresholds.alert_seconds) {
    reasons.push(`${lagSeconds} s behind (alert above ${thresholds.alert_seconds} s)`);
    status = 'alert';
  }
  if (status === 'ok' && lagSeconds > thresholds.asynchronous_seconds) {
    reasons.push(
      `${lagSeconds} s behind, above the asynchronous target of ${thresholds.asynchronous_seconds} s`,
    );
    status = 'over_async_target';
  } else if (status === 'ok' && lagSeconds > thresholds.synchronous_seconds) {
    reasons.push(
      `${lagSeconds} s behind, above the synchronous target of ${thresholds.synchronous_seconds} s`,
    );
    status = 'over_sync_target';
  }
  if (!atReplica) reasons.push(`${replica}'s replica holds no mark of ${source} yet`);
  return {
    ...base,
    lag_records: lagRecords,
    lag_seconds: lagSeconds,
    lag_lower_bound: !caughtUp && lowerBound,
    data_loss_window_seconds: Math.max(0, window),
    status,
    meets: {
      synchronous: lagSeconds <= thresholds.synchronous_seconds,
      asynchronous: lagSeconds <= thresholds.asynchronous_seconds,
    },
    reasons,
  };
}

/** Every ordered pair of `regions`, measured from the marks each replica holds (`marks[replica][source]`). */
export function measureAllPairs(input: {
  readonly regions: readonly string[];
  /** Per replica: the marks it holds by source region, or an error when the replica could not be read. */
  readonly marks: Readonly<Record<string, ReadonlyMap<string, ReplicationMark> | { readonly error: string }>>;
  readonly now: number;
  readonly thresholds: LagThresholds;
}): PairLag[] {
  const held = (replica: string) => {
    const entry = input.marks[replica];
    return entry instanceof Map ? (entry as ReadonlyMap<string, ReplicationMark>) : undefined;
  };
  const errorOf = (replica: string) => {
    const entry = input.marks[replica];
    return entry && !(entry instanceof Map) ? (entry as { error: string }).error : undefined;
  };
  const pairs: PairLag[] = [];
  for (const source of input.regions) {
    for (const replica of input.regions) {
      if (source === replica) continue;
      const replicaMarks = held(replica);
      const pair = measurePair({
        source,
        replica,
        atSource: held(source)?.get(source),
        ...(errorOf(source) === undefined ? {} : { sourceError: errorOf(source) }),
        atReplica: replicaMarks?.get(source),
        now: input.now,
        thresholds: input.thresholds,
      });
      if (!replicaMarks) {
        pairs.push({
          ...pair,
          replica_seq: null,
          replica_writes: null,
          lag_records: null,
          lag_seconds: null,
          lag_lower_bound: false,
          age_seconds: null,
          data_loss_window_seconds: null,
          status: 'unknown',
          meets: { synchronous: null, asynchronous: null },
          reasons: [`${replica}'s replica cannot be read: ${errorOf(replica) ?? 'unknown error'}`],
        });
      } else {
        pairs.push(pair);
      }
    }
  }
  return pairs;
}

/**
 * What a status change means: `exceeded` when the link got worse, `recovered` when it got better,
 * undefined when nothing changed or the new status is `unknown` (no event on missing data).
 * `previous` undefined is a first measurement, compared with `ok`.
 */
export function lagTransition(
  previous: LagStatus | undefined,
  next: LagStatus,
): 'exceeded' | 'recovered' | undefined {
  if (next === 'unknown') return undefined;
  const before = previous === undefined || previous === 'unknown' ? 0 : SEVERITY[previous];
  const after = SEVERITY[next];
  if (after > before) return 'exceeded';
  if (after < before) return 'recovered';
  return undefined;
}

/**
 * A region's newest write marker this replica knows of: its heartbeat as replicated here, or what
 * observers saw it report on `/coordination/status` (the highest sequence wins).
 */
export function newestPosition(
  region: string,
  heartbeats: readonly (Position & { readonly region: string })[],
  reported: readonly (Position | undefined)[],
): Position | undefined {
  let best: Position | undefined;
  const consider = (mark: Position | undefined) => {
    if (mark && (!best || mark.seq > best.seq)) best = { seq: mark.seq, at: mark.at };
  };
  consider(heartbeats.find((h) => h.region === region));
  for (const mark of reported) consider(mark);
  return best;
}

interface ReplicaReading {
  /** The replica holds the marker (or a later one). */
  readonly caught_up: boolean;
  /** Markers the replica lacks. */
  readonly missing: number;
  /** Time between the newest known marker and the newest one the replica holds: the data-loss window. */
  readonly window_ms: number;
}

/** How far a replica's copy of a region's marker is behind the newest one known. */
export function readReplica(known: Position, copy: Position | undefined): ReplicaReading {
  if (!copy) return { caught_up: false, missing: known.seq, window_ms: Number.POSITIVE_INFINITY };
  if (copy.seq >= known.seq) return { caught_up: true, missing: 0, window_ms: 0 };
  return { caught_up: false, missing: known.seq - copy.seq, window_ms: Math.max(0, known.at - copy.at) };
}

/** A mark's beats after a new one, keeping the last MARK_BEATS. */
export function nextBeats(
  beats: readonly (readonly [number, number])[],
  seq: number,
  at: number,
  keep: number,
): [number, number][] {
  return [...beats.map(([s, t]): [number, number] => [s, t]), [seq, at] as [number, number]].slice(-keep);
}
