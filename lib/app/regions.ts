import { NotFoundError } from '../core/errors.ts';
import type { FailoverRecord } from '../core/failover/types.ts';
import {
  type AvailabilityWindow,
  DAY_MINUTES,
  HOUR_MINUTES,
  ledgerAvailability,
} from '../core/health/availability.ts';
import { healthPolicyOf, viewFreshForMs } from '../core/health/evaluate.ts';
import { assess } from '../core/health/quorum.ts';
import type { Assessment, HealthSignal, TargetHealth } from '../core/health/types.ts';
import { hourBucket, type RegionPool } from '../core/resources/pool.ts';
import { availableCapacity } from '../core/routing.ts';
import { isServing, type RegionStatusRecord } from '../core/state/records.ts';
import { isoTime } from '../core/time.ts';
import type { Region, Topology } from '../core/topology/types.ts';
import type { Failovers, HealthViews, Heartbeats, RegionStatuses } from '../ports.ts';
import type { Ports, RegionBasics, WithState } from './deps.ts';
import { catchingUp, defaultStatus, readStatuses } from './live-state.ts';
import { readPools } from './resources/pools.ts';
import { weightsFromStatuses } from './resources/weights.ts';

export interface RegionView {
  readonly region_id: string;
  readonly display_name: string;
  readonly tier: Region['tier'];
  readonly geographic_location: Region['geographic_location'];
  readonly capabilities: Region['capabilities'];
  readonly compliance: Region['compliance'];
  readonly data_residency: Region['data_residency'];
  readonly cost_index: number;
  readonly status: RegionStatusRecord['status'];
  readonly serving: boolean;
  readonly role: string;
  readonly epoch: number;
  readonly status_reason?: string;
  readonly status_updated_at: string;
  readonly traffic_weight: number;
  readonly failover_priority: number;
  readonly capacity: {
    readonly allocation: { workers: number; tokens_per_hour: number; compute_units: number };
    readonly usage: { workers: number; tokens_used: number; compute_units: number };
    readonly available: number;
  };
}

function view(
  topology: Topology,
  region: Region,
  status: RegionStatusRecord,
  live?: { readonly weight?: number; readonly pool?: RegionPool },
): RegionView {
  const deployment = topology.deployment.regions[region.region_id];
  const pool = topology.global_resource_pool.regional_allocation[region.region_id];
  const allocation = live?.pool?.allocation ?? {
    workers: pool?.workers ?? 0,
    tokens_per_hour: pool?.tokens_per_hour ?? 0,
    compute_units: pool?.compute_units ?? 0,
  };
  const usage = live?.pool?.usage ?? pool?.current_usage ?? { workers: 0, tokens_used: 0, compute_units: 0 };
  return {
    region_id: region.region_id,
    display_name: region.display_name,
    tier: region.tier,
    geographic_location: region.geographic_location,
    capabilities: region.capabilities,
    compliance: region.compliance,
    data_residency: region.data_residency,
    cost_index: region.cost_index,
    status: status.status,
    serving: isServing(status.status),
    role: status.role,
    epoch: status.epoch,
    ...(status.reason === undefined ? {} : { status_reason: status.reason }),
    status_updated_at: status.updated_at,
    // Live weight: a failed region's share has gone to the survivors.
    traffic_weight: live?.weight ?? deployment?.traffic_weight ?? 0,
    failover_priority: deployment?.failover_priority ?? 0,
    capacity: {
      allocation,
      usage: { workers: usage.workers, tokens_used: usage.tokens_used, compute_units: usage.compute_units },
      available: round3(availableCapacity(allocation, usage)),
    },
  };
}

/**
 * What the observers, taken together, see of a region and what the control plane does about it:
 * the status record says what was decided, this says what is true now, whether or not a failover
 * ran (a dead region whose failover waits for an operator is `unreachable` here while its status
 * still says `healthy`).
 */
export interface ObservedHealth {
  /**
   * `unreachable`: a majority of its observers get no answer; `unhealthy`: a majority votes it
   * failed on what it answers (/health errors, error rate, p99); `saturated`: a majority sees its
   * capacity below the threshold (load: no new work, never a failover); `healthy` otherwise.
   */
  readonly state: 'healthy' | 'saturated' | 'unhealthy' | 'unreachable';
  /** Observers with a fresh view voting it unhealthy, of those with a fresh view. */
  readonly observers_against: number;
  readonly observers: number;
  readonly signals: readonly HealthSignal[];
  readonly reasons: readonly string[];
  /** What the control plane did or does about it, in words. */
  readonly action: string;
}

/** What one observer (a region or a witness) last concluded about a region. */
export interface ObserverView {
  readonly verdict: TargetHealth['verdict'];
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
  readonly error_rate: number;
  readonly p99_ms: number;
  readonly reasons: readonly string[];
  readonly reachable: boolean;
  readonly saturated: boolean;
  readonly updated_at: string;
}

/** What reading health takes: the replica, the topology and the clock. */
type HealthDeps = Pick<RegionBasics, 'regionId' | 'topology' | 'state' | 'clock'>;

/**
 * What the regions API reads: the basics, the pool and this region's availability ledger, each when
 * wired (without them a region is shown without live usage or availability); of the shared state,
 * the statuses, the health views and the failovers.
 */
export type RegionsDeps = WithState<
  RegionBasics & Partial<Pick<Ports, 'resources' | 'availability'>>,
  RegionStatuses & HealthViews & Failovers
>;

/**
 * What the health concern reads (`/health`, `/coordination/status` and their bundle): the basics and
 * the pool when wired (the capacity a peer's probe reads); of the shared state, the statuses, the
 * health views and heartbeats that say whether this replica is catching up.
 */
export type HealthConcernDeps = WithState<
  RegionBasics & Partial<Pick<Ports, 'resources'>>,
  RegionStatuses & HealthViews & Heartbeats
>;

function observedHealth(
  deps: Omit<HealthDeps, 'state'>,
  regionId: string,
  status: RegionStatusRecord,
  views: readonly TargetHealth[],
  assessment: Assessment,
  failovers: readonly FailoverRecord[],
): ObservedHealth {
  const freshForMs = viewFreshForMs(healthPolicyOf(deps.topology));
  const now = deps.clock.now();
  const latest = new Map<string, TargetHealth>();
  for (const v of views) {
    if (v.target !== regionId || v.observer === regionId || now - v.updated_at > freshForMs) continue;
    const seen = latest.get(v.observer);
    if (!seen || v.updated_at >= seen.updated_at) latest.set(v.observer, v);
  }
  const fresh = [...latest.values()];
  const against = fresh.filter((v) => v.verdict === 'unhealthy');
  const majority = (n: number) => fresh.length > 0 && n * 2 > fresh.length;
  const unreachable = majority(fresh.filter((v) => v.reachable === false).length);
  const saturated = majority(fresh.filter((v) => v.saturated === true).length);
  const state: ObservedHealth['state'] = unreachable
    ? 'unreachable'
    : majority(against.length)
      ? 'unhealthy'
      : saturated
        ? 'saturated'
        : 'healthy';
  const signals = [
    ...new Set(fresh.flatMap((v) => (v.verdict === 'unhealthy' || v.saturated ? (v.signals ?? []) : []))),
  ];
  const reasons = [...new Set((state === 'healthy' ? [] : fresh).flatMap((v) => v.reasons))];
  return {
    state,
    observers_against: against.length,
    observers: fresh.length,
    signals,
    reasons,
    action: actionOn(regionId, status, state, assessment, failovers),
  };
}

function actionOn(
  regionId: string,
  status: RegionStatusRecord,
  state: ObservedHealth['state'],
  assessment: Assessment,
  failovers: readonly FailoverRecord[],
): string {
  const mine = failovers
    .filter((f) => f.failed_region === regionId && f.kind === 'failover')
    .sort((a, b) => Date.parse(b.initiated_at) - Date.parse(a.initiated_at));
  const active = mine.find((f) => f.status === 'running' || f.status === 'awaiting_approval');
  if (active?.operator_wait) {
    return `failover ${active.failover_id} waits for an operator: ${active.operator_wait.reason} (approve after freeing capacity or recovering a region, or decline)`;
  }
  if (active) return `failover ${active.failover_id} ${active.status} (coordinator ${active.coordinator})`;
  if (status.status === 'failed')
    return `failed over (${status.reason ?? status.updated_by}); back through a failback`;
  if (status.status === 'draining') return `draining (${status.reason ?? status.updated_by})`;
  if (status.status === 'shutdown') {
    return `shut down by an operator (${status.reason ?? status.updated_by}); no automatic failover; back through DELETE /v1/regions/${regionId}/emergency-shutdown`;
  }
  if (status.status === 'fenced') {
    return 'fenced itself: it cannot reach a majority; it unfences once it reaches one again';
  }
  const last = mine[0];
  if ((state === 'unhealthy' || state === 'unreachable') && last && last.status !== 'completed') {
    return `last failover ${last.failover_id} ${last.status}${last.error ? ` (${last.error.name}: ${last.error.message})` : ''}; the next starts after a backoff or as soon as capacity or a region changes`;
  }
  if (state === 'unhealthy' || state === 'unreachable') {
    return assessment.cut_off
      ? `this observer is cut off (${assessment.cut_off_reason}): it declares nothing`
      : 'declared failed: the coordinator starts its failover';
  }
  if (state === 'saturated') {
    return 'saturated: new work goes elsewhere or is refused naming the resource, lower priorities first; the rebalancer acts; no failover (load is not failure)';
  }
  return 'none needed';
}

function observersOf(views: readonly TargetHealth[], target: string): Record<string, ObserverView> {
  const out: Record<string, ObserverView> = {};
  for (const v of views) {
    if (v.target !== target) continue;
    out[v.observer] = {
      verdict: v.verdict,
      consecutive_failures: v.consecutive_failures,
      consecutive_successes: v.consecutive_successes,
      error_rate: v.error_rate,
      p99_ms: v.p99_ms,
      reasons: v.reasons,
      reachable: v.reachable ?? true,
      saturated: v.saturated ?? false,
      updated_at: new Date(v.updated_at).toISOString(),
    };
  }
  return out;
}

/** A region's availability over the last hour and day, as the asking region's probe rounds saw it. */
export interface RegionAvailability {
  /** The region whose samples these are (the one answering). */
  readonly observer: string;
  readonly last_hour: AvailabilityWindow;
  readonly last_day: AvailabilityWindow;
}

/** Every region with its live status and what each observer sees of it, from this region's replica. */
type RegionReport = RegionView & {
  health: ObservedHealth;
  observers: Record<string, ObserverView>;
  /** Absent when no availability store is wired. */
  availability?: RegionAvailability;
};

/** This region's ledger (its last day of samples rolled up in one record), read once, and each region's windows from it. */
async function readAvailability(
  deps: Omit<RegionsDeps, 'state'>,
): Promise<(regionId: string) => { availability?: RegionAvailability }> {
  if (!deps.availability) return () => ({});
  const now = deps.clock.now();
  const ledger = await deps.availability.readLedger(deps.regionId);
  const sla = deps.topology.monitoring.health.region_availability.sla;
  return (regionId) => ({
    availability: {
      observer: deps.regionId,
      last_hour: ledgerAvailability(ledger, regionId, now, HOUR_MINUTES, sla),
      last_day: ledgerAvailability(ledger, regionId, now, DAY_MINUTES, sla),
    },
  });
}

/** Statuses, views, this observer's assessment and the failover records, read once. */
async function readHealth(deps: WithState<HealthDeps, RegionStatuses & HealthViews & Failovers>) {
  const [statuses, views, failovers] = await Promise.all([
    readStatuses(deps.topology, deps.state),
    deps.state.listTargetHealth(),
    deps.state.listFailovers(),
  ]);
  const assessment = assess({
    topology: deps.topology,
    observer: deps.regionId,
    statuses,
    views,
    now: deps.clock.now(),
  });
  const healthOf = (regionId: string) =>
    observedHealth(
      deps,
      regionId,
      statuses.get(regionId) ?? defaultStatus(deps.topology, regionId),
      views,
      assessment,
      failovers,
    );
  return { statuses, views, healthOf };
}

/** Every region's status and what the observers, taken together, see of it now, from this region's replica (one read of each). */
export async function observedHealthOfRegions(
  deps: WithState<HealthDeps, RegionStatuses & HealthViews & Failovers>,
): Promise<{
  readonly statuses: ReadonlyMap<string, RegionStatusRecord>;
  readonly observed: ReadonlyMap<string, ObservedHealth>;
}> {
  const { statuses, healthOf } = await readHealth(deps);
  return {
    statuses,
    observed: new Map(deps.topology.regions.map((r) => [r.region_id, healthOf(r.region_id)])),
  };
}

export async function listRegions(deps: RegionsDeps): Promise<{ observer: string; regions: RegionReport[] }> {
  const [{ statuses, views, healthOf }, availabilityOf] = await Promise.all([
    readHealth(deps),
    readAvailability(deps),
  ]);
  const weights = weightsFromStatuses(deps.topology, statuses);
  const pools = deps.resources ? await readPools(deps.topology, deps.resources, deps.clock.now()) : undefined;
  return {
    observer: deps.regionId,
    regions: deps.topology.regions.map((r) => ({
      ...view(deps.topology, r, statuses.get(r.region_id) ?? defaultStatus(deps.topology, r.region_id), {
        weight: weights.get(r.region_id) ?? 0,
        ...(pools?.get(r.region_id) ? { pool: pools.get(r.region_id) } : {}),
      }),
      health: healthOf(r.region_id),
      observers: observersOf(views, r.region_id),
      ...availabilityOf(r.region_id),
    })),
  };
}

export async function getRegion(deps: RegionsDeps, regionId: string): Promise<RegionReport> {
  const region = deps.topology.regions.find((r) => r.region_id === regionId);
  if (!region) throw new NotFoundError('region', regionId);
  const [{ statuses, views, healthOf }, availabilityOf] = await Promise.all([
    readHealth(deps),
    readAvailability(deps),
  ]);
  const status = statuses.get(regionId);
  const pools = deps.resources ? await readPools(deps.topology, deps.resources, deps.clock.now()) : undefined;
  return {
    ...view(deps.topology, region, status ?? defaultStatus(deps.topology, regionId), {
      weight: weightsFromStatuses(deps.topology, statuses).get(regionId) ?? 0,
      ...(pools?.get(regionId) ? { pool: pools.get(regionId) } : {}),
    }),
    health: healthOf(regionId),
    observers: observersOf(views, regionId),
    ...availabilityOf(regionId),
  };
}

interface HealthReport {
  readonly region: string;
  readonly status: RegionStatusRecord['status'];
  readonly serving: boolean;
  readonly epoch: number;
  readonly checked_at: string;
  /** Why a region whose status serves does not serve yet (its replica is catching up). */
  readonly reason?: string;
}

/** This region's own health as Route 53 must see it: serving or not, from its own replica. */
export async function regionHealth(
  deps: WithState<HealthDeps, RegionStatuses & HealthViews & Heartbeats>,
): Promise<HealthReport> {
  const statuses = await readStatuses(deps.topology, deps.state);
  const own = statuses.get(deps.regionId) ?? defaultStatus(deps.topology, deps.regionId);
  const behind = isServing(own.status) ? await catchingUp(deps, statuses) : undefined;
  return {
    region: deps.regionId,
    status: own.status,
    serving: isServing(own.status) && behind === undefined,
    epoch: own.epoch,
    checked_at: isoTime(deps.clock.now()),
    ...(behind === undefined ? {} : { reason: behind }),
  };
}

/**
 * This region's role, status and epoch, and what it sees of the others. Probes read `status`,
 * `available_capacity` and `heartbeat` from it (the failover's sync check compares heartbeats).
 */
export async function coordinationStatus(
  deps: WithState<HealthDeps & Partial<Pick<Ports, 'resources'>>, RegionStatuses & Heartbeats>,
) {
  const [statuses, heartbeats] = await Promise.all([
    readStatuses(deps.topology, deps.state),
    deps.state.listHeartbeats(),
  ]);
  const own = statuses.get(deps.regionId) ?? defaultStatus(deps.topology, deps.regionId);
  const heartbeat = heartbeats.find((h) => h.region === deps.regionId);
  const pool = deps.topology.global_resource_pool.regional_allocation[deps.regionId];
  // Live usage when the pool is wired (the failover's target check reads this figure).
  const livePool = deps.resources
    ? await deps.resources.getPool(deps.regionId, hourBucket(deps.clock.now()))
    : undefined;
  return {
    region: deps.regionId,
    role: own.role,
    status: own.status,
    serving: isServing(own.status),
    epoch: own.epoch,
    available_capacity: livePool
      ? round3(availableCapacity(livePool.allocation, livePool.usage))
      : pool
        ? round3(availableCapacity(pool, pool.current_usage))
        : 0,
    heartbeat: heartbeat ? { seq: heartbeat.seq, at: heartbeat.at } : { seq: 0, at: 0 },
    observed_at: isoTime(deps.clock.now()),
    peers: [...statuses.values()]
      .filter((s) => s.region_id !== deps.regionId)
      .map((s) => ({
        region: s.region_id,
        status: s.status,
        role: s.role,
        epoch: s.epoch,
        updated_at: s.updated_at,
      })),
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
