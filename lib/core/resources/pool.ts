/**
 * The global resource pool (spec: global_resource_pool): what each region is allocated, what it
 * uses, and how full it is. Pure: the caller passes `now`.
 *
 * Workers and compute units are held while a task runs; tokens are a budget per clock hour, so each
 * hour has its own counter (`hourBucket`) and a new hour starts at zero without any expiry.
 */
import type { ResourceAmounts, ResourceUsage, Topology } from '../topology/types.ts';

/** What one task reserves on its region: the task's `workers`, `estimated_tokens`, `compute_units`. */
export interface Reservation {
  readonly region: string;
  /** The hour bucket the tokens were counted in (`hourBucket`). */
  readonly hour: string;
  readonly workers: number;
  readonly tokens: number;
  readonly compute_units: number;
  /**
   * The hold that counts this reservation: released at most once however many paths end
   * its handoff. Absent on reservations made before holds (released as plain counter changes).
   */
  readonly hold?: HoldRef;
}

/** Which hold counts a reservation: one per reservation, kept by the region that reserved. */
export interface HoldRef {
  /** Unique per reservation (`<handoff_id>@<region>@<epoch ms>[#<tag>]`, see `holdRef`). */
  readonly id: string;
  /** The region that reserved it: its held counter was raised, its reconciler keeps the hold. */
  readonly by: string;
  /** The handoff whose record says whether it is still held. */
  readonly handoff_id: string;
}

/** Whether two references name the same hold. */
export function isSameHold(a: HoldRef | undefined, b: HoldRef | undefined): boolean {
  return a !== undefined && b !== undefined && a.id === b.id && a.by === b.by;
}

/**
 * The hold of a reservation `by` makes on `region` for a handoff at `now` (epoch ms); `tag` tells
 * apart reservations one region makes for one handoff in the same millisecond.
 */
export function holdRef(handoffId: string, region: string, by: string, now: number, tag?: string): HoldRef {
  const id = `${handoffId}@${region}@${now}${tag === undefined ? '' : `#${tag}`}`;
  return { id, by, handoff_id: handoffId };
}

/** A region's pool record as the state table holds it (live usage for the current hour). */
export interface RegionPool {
  readonly region: string;
  readonly allocation: ResourceAmounts;
  readonly usage: ResourceUsage;
  /** The hour bucket `usage.tokens_used` belongs to. */
  readonly hour: string;
  /** Bumped by every allocation change: reservations are conditional on the allocation they read. */
  readonly allocation_version: number;
  /**
   * What the open reservations hold (workers, compute units; tokens of `hour`), included in `usage`:
   * the sum of every writer's held counters (lib/adapters/aws/dynamodb-resources.ts).
   */
  readonly held?: { readonly workers: number; readonly compute_units: number; readonly tokens: number };
}

export interface Utilization {
  readonly workers: number;
  readonly tokens_per_hour: number;
  readonly compute_units: number;
  /** The busiest resource: a region is as full as its bottleneck. */
  readonly overall: number;
}

/** The spec's monitoring thresholds on regional_utilization, in percent. */
const UTILIZATION_WARNING = 70;
const UTILIZATION_CRITICAL = 85;

/** The clock hour of `now` (epoch ms) in UTC, e.g. `2026-11-26T06`: the token budget's bucket. */
export function hourBucket(now: number): string {
  // Every probe answer and route asks, nearly always for the hour asked last: formatting a date is
  // most of the cost, so the last hour's bucket is kept.
  const hour = Math.floor(now / HOUR_MS);
  if (hour !== lastHour) {
    lastBucket = new Date(now).toISOString().slice(0, 13);
    lastHour = hour;
  }
  return lastBucket;
}

const HOUR_MS = 3_600_000;
let lastHour = Number.NaN;
let lastBucket = '';

/** The amounts a task needs: 1 worker, 0 tokens, 0 compute units unless it says otherwise. */
export function taskNeeds(requirements: {
  readonly workers?: number;
  readonly estimated_tokens?: number;
  readonly compute_units?: number;
}): ResourceAmounts {
  return {
    workers: requirements.workers ?? 1,
    tokens_per_hour: requirements.estimated_tokens ?? 0,
    compute_units: requirements.compute_units ?? 0,
  };
}

/** Used fraction (0..1, above 1 when over-committed) per resource and overall. */
export function utilizationOf(allocation: ResourceAmounts, usage: ResourceUsage): Utilization {
  const share = (used: number, total: number) => (total <= 0 ? (used > 0 ? 1 : 0) : used / total);
  const workers = round3(share(usage.workers, allocation.workers));
  const tokens = round3(share(usage.tokens_used, allocation.tokens_per_hour));
  const compute = round3(share(usage.compute_units, allocation.compute_units));
  return {
    workers,
    tokens_per_hour: tokens,
    compute_units: compute,
    overall: Math.max(workers, tokens, compute),
  };
}

/** `normal`, `warning` (>= 70 %) or `critical` (>= 85 %) for the overall utilization. */
export function utilizationLevel(overall: number): 'normal' | 'warning' | 'critical' {
  const percent = overall * 100;
  if (percent >= UTILIZATION_CRITICAL) return 'critical';
  if (percent >= UTILIZATION_WARNING) return 'warning';
  return 'normal';
}

/** The pool record a region starts from: the topology's allocation and its `current_usage` snapshot. */
export function seedPool(topology: Topology, region: string, now: number): RegionPool | undefined {
  const pool = topology.global_resource_pool.regional_allocation[region];
  if (!pool) return undefined;
  return {
    region,
    allocation: {
      workers: pool.workers,
      tokens_per_hour: pool.tokens_per_hour,
      compute_units: pool.compute_units,
    },
    usage: { ...pool.current_usage },
    hour: hourBucket(now),
    allocation_version: 0,
  };
}

/** Whether `need` fits in what the region has free (a task always needs a free worker). */
export function fits(pool: Pick<RegionPool, 'allocation' | 'usage'>, need: ResourceAmounts): boolean {
  const { allocation, usage } = pool;
  return (
    usage.workers + Math.max(need.workers, 1) <= allocation.workers &&
    usage.tokens_used + need.tokens_per_hour <= allocation.tokens_per_hour &&
    usage.compute_units + need.compute_units <= allocation.compute_units
  );
}

/** Sum of amounts. */
export function totalOf(amounts: readonly ResourceAmounts[]): ResourceAmounts {
  return amounts.reduce(
    (sum, a) => ({
      workers: sum.workers + a.workers,
      tokens_per_hour: sum.tokens_per_hour + a.tokens_per_hour,
      compute_units: sum.compute_units + a.compute_units,
    }),
    { workers: 0, tokens_per_hour: 0, compute_units: 0 },
  );
}

export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
