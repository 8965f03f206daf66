/**
 * The lag monitor (spec: monitor_replication_lag): each region beats its mark, reads every
 * region's mark from every replica, measures every link (lib/core/replication/lag.ts), and raises
 * events when a link into its own replica crosses a threshold or recovers. Each link is judged by
 * exactly one region (the replica's), so one crossing is one event. It also looks for document
 * conflicts that replication has just made visible.
 */
import { messageOf } from '../../core/errors.ts';
import {
  DEFAULT_BEAT_INTERVAL_MS,
  type LagStatus,
  type LagThresholds,
  lagThresholds,
  lagTransition,
  measureAllPairs,
  type PairLag,
} from '../../core/replication/lag.ts';
import { type PlacedTable, placeReplication } from '../../core/replication/placement.ts';
import type { LagView, ReplicationMark } from '../../core/replication/records.ts';
import { isoTime } from '../../core/time.ts';
import { type MinuteReport, runMinuteRounds } from '../minute-rounds.ts';
import { runConsistencyCheck } from './consistency-check.ts';
import { publishEvents, type ReplicationDeps } from './deps.ts';
import { detectConflict } from './versioned-store.ts';

/** What `GET /v1/replication` answers. */
interface ReplicationReading {
  /** The region that read. */
  readonly observer: string;
  /** ISO time of the reading. */
  readonly at: string;
  readonly thresholds: LagThresholds;
  /** Every ordered pair of regions: `source`'s writes travelling to `replica`'s replica. */
  readonly pairs: readonly (PairLag & { readonly since?: string })[];
  /** Replicas that could not be read (their pairs are `unknown`). */
  readonly unreachable: readonly { readonly region: string; readonly error: string }[];
  /** Where replicated data lives (lib/core/replication/placement.ts), and what the pairs measure. */
  readonly tables: readonly ReadingTable[];
}

interface ReadingTable {
  readonly name: string;
  readonly role: PlacedTable['role'];
  readonly consistency: PlacedTable['consistency'];
  readonly regions: readonly string[];
  readonly data_types: readonly string[];
  readonly policies: readonly string[];
  /**
   * `pairs`: the pairs above measure it (the replication marks live in it); `strongly_consistent`:
   * MRSC, nothing to measure; `single_replica`: one region, nothing replicates; `not_measured`:
   * replicated like the state table, no marks of its own.
   */
  readonly lag: 'pairs' | 'strongly_consistent' | 'single_replica' | 'not_measured';
}

const tableCache = new WeakMap<object, readonly ReadingTable[]>();

function lagOf(table: PlacedTable): ReadingTable['lag'] {
  if (table.role === 'global') return 'pairs';
  if (table.consistency === 'MRSC') return 'strongly_consistent';
  return table.regions.length === 1 ? 'single_replica' : 'not_measured';
}

/** The placement's tables as a reading lists them, computed once per topology. */
function readingTables(topology: ReplicationDeps['topology']): readonly ReadingTable[] {
  let tables = tableCache.get(topology);
  if (!tables) {
    tables = placeReplication(topology).tables.map((t) => ({
      name: t.name,
      role: t.role,
      consistency: t.consistency,
      regions: t.regions,
      data_types: t.dataTypes,
      policies: t.policies,
      lag: lagOf(t),
    }));
    tableCache.set(topology, tables);
  }
  return tables;
}

/** Reads every replica's marks and measures every pair, as `deps.regionId` sees them now. */
export async function readReplicationLag(deps: Omit<ReplicationDeps, 'state'>): Promise<ReplicationReading> {
  const regions = deps.topology.regions.map((r) => r.region_id);
  const read = await Promise.all(
    regions.map(async (region) => {
      try {
        const marks = await deps.replication(region).listMarks();
        return [region, new Map(marks.map((m) => [m.region, m]))] as const;
      } catch (error) {
        return [region, { error: messageOf(error) }] as const;
      }
    }),
  );
  const marks: Record<string, ReadonlyMap<string, ReplicationMark> | { error: string }> =
    Object.fromEntries(read);
  const now = deps.clock.now();
  const thresholds = lagThresholds(deps.topology);
  const views = await deps
    .replication(deps.regionId)
    .listLagViews()
    .catch(() => [] as LagView[]);
  const since = new Map(views.map((v) => [`${v.source}#${v.replica}`, v.since]));
  const pairs = measureAllPairs({ regions, marks, now, thresholds }).map((pair) => {
    const entered = since.get(`${pair.source}#${pair.replica}`);
    return entered === undefined ? pair : { ...pair, since: entered };
  });
  return {
    observer: deps.regionId,
    at: isoTime(now),
    thresholds,
    pairs,
    unreachable: read.flatMap(([region, entry]) =>
      'error' in entry ? [{ region, error: entry.error }] : [],
    ),
    tables: readingTables(deps.topology),
  };
}

export interface ReplicationRoundOptions {
  /** The beat interval this monitor keeps (stored in the mark); default 5 s. */
  readonly intervalMs?: number;
  /** How far back the conflict scan looks for changed documents; default 10 minutes. */
  readonly conflictWindowMs?: number;
}

export interface ReplicationRoundReport {
  readonly observer: string;
  readonly at: string;
  /** This region's mark after the beat. */
  readonly mark: ReplicationMark;
  /** The links into this region's replica, as measured this round. */
  readonly links: readonly PairLag[];
  readonly events: readonly { readonly type: string; readonly detail: Readonly<Record<string, unknown>> }[];
  /** Documents found with concurrent versions not seen before in this replica. */
  readonly conflicts: readonly string[];
  readonly unreachable: readonly { readonly region: string; readonly error: string }[];
  readonly events_error?: string;
}

const DEFAULT_CONFLICT_WINDOW_MS = 10 * 60_000;

/** One round of the lag monitor in `deps.regionId`. */
export async function runReplicationRound(
  deps: Omit<ReplicationDeps, 'state'>,
  options: ReplicationRoundOptions = {},
): Promise<ReplicationRoundReport> {
  const own = deps.replication(deps.regionId);
  const mark = await own.beat(deps.clock.now(), options.intervalMs ?? DEFAULT_BEAT_INTERVAL_MS);
  const reading = await readReplicationLag(deps);
  const links = reading.pairs.filter((p) => p.replica === deps.regionId);
  const views = new Map((await own.listLagViews()).map((v) => [`${v.source}#${v.replica}`, v]));
  const events: { type: string; detail: Record<string, unknown> }[] = [];
  const now = deps.clock.now();
  for (const link of links) {
    const view = views.get(`${link.source}#${link.replica}`);
    const known = view?.known_status as LagStatus | undefined;
    const change = lagTransition(known, link.status);
    const nextKnown = link.status === 'unknown' ? (known ?? 'unknown') : link.status;
    if (change) {
      events.push({
        type: change === 'exceeded' ? 'replication.lag_exceeded' : 'replication.lag_recovered',
        detail: {
          source: link.source,
          replica: link.replica,
          status: link.status,
          previous: known ?? 'ok',
          lag_records: link.lag_records,
          lag_seconds: link.lag_seconds,
          reasons: link.reasons,
        },
      });
    }
    // Written on a change only: a steady link costs no write (views replicate like everything else),
    // and no view means `ok` so far.
    const changed = view
      ? view.status !== link.status || view.known_status !== nextKnown
      : change !== undefined;
    if (changed) {
      await own.putLagView({
        source: link.source,
        replica: link.replica,
        status: link.status,
        known_status: nextKnown,
        since: change || !view ? isoTime(now) : view.since,
        lag_records: link.lag_records,
        lag_seconds: link.lag_seconds,
        updated_at: isoTime(now),
      });
    }
  }
  const conflicts: string[] = [];
  const changed = await deps.documents.listChangedKeys(
    isoTime(now - (options.conflictWindowMs ?? DEFAULT_CONFLICT_WINDOW_MS)),
  );
  for (const key of changed) {
    const found = await detectConflict(deps, key, 'concurrent_writes');
    if (found?.recorded) conflicts.push(key);
  }
  const eventsError = await publishEvents(deps, events);
  return {
    observer: deps.regionId,
    at: isoTime(now),
    mark,
    links,
    events,
    conflicts,
    unreachable: reading.unreachable,
    ...(eventsError === undefined ? {} : { events_error: eventsError }),
  };
}

/** How often the scheduled consistency check runs in each region (a separate hourly schedule on AWS). */
const CHECK_INTERVAL_MS = 3_600_000;

/**
 * The local scheduler's jobs (lib/local/scheduler.ts shape): every region's monitor round each beat
 * interval, and its scheduled consistency check once an hour of (simulated) time.
 */
export function replicationMonitorJobs(
  regions: readonly { readonly regionId: string; readonly deps: ReplicationDeps }[],
  options: ReplicationRoundOptions = {},
): { readonly member: string; readonly name: string; readonly run: () => Promise<unknown> }[] {
  return regions.flatMap(({ regionId, deps: ready }) => {
    let lastCheck = ready.clock.now();
    return [
      {
        member: regionId,
        name: 'replication monitor',
        run: async () => {
          const report = await runReplicationRound(ready, options);
          if (ready.clock.now() - lastCheck >= CHECK_INTERVAL_MS) {
            lastCheck = ready.clock.now();
            await runConsistencyCheck(ready, {}, { trigger: 'schedule' });
          }
          return report;
        },
      },
    ];
  });
}

interface ReplicationMinuteOptions extends ReplicationRoundOptions {
  /** Rounds this invocation runs; default one per interval in a minute. */
  readonly rounds?: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Lambda's remaining time: rounds that would not finish are not started. */
  readonly remainingMs?: () => number;
}

/** One invocation's rounds (lib/app/minute-rounds.ts). */
export type ReplicationMinuteReport = MinuteReport<ReplicationRoundReport>;

/** A round's beat, reads and view writes, with room to spare: no round starts with less of the minute left. */
export const REPLICATION_ROUND_NEEDS_MS = 5_000;

/**
 * The monitor's minute at the beat of `options.intervalMs`: its rounds, their interval and what each
 * needs, one rule for a whole-minute invocation and for the minute driver's rounds.
 */
export function replicationMinuteOf(options: ReplicationRoundOptions): {
  readonly planned: number;
  readonly intervalMs: number;
  readonly roundNeeds: { readonly ms: number; readonly said: string };
} {
  const intervalMs = options.intervalMs ?? DEFAULT_BEAT_INTERVAL_MS;
  return {
    planned: Math.max(1, Math.floor(60_000 / intervalMs)),
    intervalMs,
    roundNeeds: { ms: REPLICATION_ROUND_NEEDS_MS, said: `${REPLICATION_ROUND_NEEDS_MS} ms` },
  };
}

/**
 * The rounds of one scheduled invocation: EventBridge Scheduler fires once a minute at best
 * (DESIGN), so a 15 s beat needs the rounds inside the minute.
 */
export async function runReplicationMinute(
  deps: Omit<ReplicationDeps, 'state'>,
  options: ReplicationMinuteOptions,
): Promise<ReplicationMinuteReport> {
  const minute = replicationMinuteOf(options);
  return runMinuteRounds(
    {
      ...minute,
      planned: options.rounds ?? minute.planned,
      clock: deps.clock,
      sleep: options.sleep,
      remainingMs: options.remainingMs,
    },
    () => runReplicationRound(deps, options),
  );
}
