/**
 * What a failover would do, computed from the coordinator's replica without writing: the target
 * (lib/core/failover/target.ts) and where each pending workload of the failed region would go
 * (the routing core, with the failed region out of service). startFailover answers it for a dry
 * run and checks it before creating a record; identify_target_region and redirect_traffic act on it.
 */
import { type ConsideredRegion, selectFailoverTarget } from '../../core/failover/target.ts';
import { reportedStatuses } from '../../core/health/quorum.ts';
import type { TargetHealth } from '../../core/health/types.ts';
import { promotionSeconds } from '../../core/resources/patterns.ts';
import { taskNeeds } from '../../core/resources/pool.ts';
import { decideRoute, type RegionLiveState } from '../../core/routing.ts';
import { type Handoff, isServing, type RegionStatusRecord } from '../../core/state/records.ts';
import type { Handoffs, HealthViews, RegionStatuses } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import { liveStates, readStatuses } from '../live-state.ts';
import { readLiveStates } from '../resources/pools.ts';
import { type RouteRequest, resolveRouteInput, routeOptions } from '../route-task.ts';

export interface WorkloadMove {
  readonly handoff_id: string;
  readonly task_id: string;
  readonly to: string;
  readonly routing_score: number;
}

export interface WorkloadKeptPending {
  readonly handoff_id: string;
  readonly task_id: string;
  readonly reasons: readonly string[];
}

export interface FailoverPlan {
  readonly failed_region: string;
  readonly target_region: string | undefined;
  /** `single` (the target has 50 % free) or `spread` (the work goes to every survivor with room). */
  readonly mode?: 'single' | 'spread';
  /** Each candidate in failover order with why it was not taken (empty for the target). */
  readonly considered: readonly ConsideredRegion[];
  readonly workloads_to_move: readonly WorkloadMove[];
  /** Workloads no serving region can take (residency, compliance, capacity): they stay pending. */
  readonly workloads_pending: readonly WorkloadKeptPending[];
  /** Handoffs the failed region has accepted and not finished: the drain waits for them. */
  readonly workloads_in_flight: number;
  /** The target's promotion time (active-passive warm 120 s, cold 600 s; 0 for an active region). */
  readonly promotion_seconds: number;
  /**
   * Detection window (health interval x failure threshold) plus the target's promotion time: the
   * recovery time this failover is expected to take before the orchestration's own steps.
   */
  readonly estimated_rto_seconds: number;
}

interface Reroute {
  readonly moves: WorkloadMove[];
  readonly kept: WorkloadKeptPending[];
}

const PRIORITY_RANK: Readonly<Record<string, number>> = { critical: 0, high: 1, normal: 2, low: 3 };

function priorityOf(handoff: Handoff): number {
  const priority = (handoff.task as { priority?: unknown }).priority;
  return typeof priority === 'string' ? (PRIORITY_RANK[priority] ?? 2) : 2;
}

/**
 * Where the routing core sends each handoff when `statuses` hold: the handoff's own request (its
 * requirements, classification, approval and source) decides, under the same compliance rules as
 * the router, so residency and compliance hold by construction.
 *
 * Highest priority first (critical, high, normal, low; oldest first within one), and each move
 * counts against its region's capacity before the next is placed: the work spreads over the
 * survivors as their room allows (the router's capacity factor prefers the freer ones) and what
 * fits nowhere stays pending with the reasons.
 */
export function rerouteHandoffs(
  deps: Omit<RegionalDeps, 'state'>,
  handoffs: readonly Handoff[],
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  /** Live allocation and usage (lib/app/resources/pools.ts); default: the topology's snapshot. */
  live: ReadonlyMap<string, RegionLiveState> = liveStates(deps.topology, statuses),
): Reroute {
  const moves: WorkloadMove[] = [];
  const kept: WorkloadKeptPending[] = [];
  const room = new Map(live);
  const ordered = [...handoffs].sort(
    (a, b) => priorityOf(a) - priorityOf(b) || a.created_at.localeCompare(b.created_at),
  );
  for (const handoff of ordered) {
    const request = handoff.task as unknown as RouteRequest;
    try {
      const input = resolveRouteInput(deps, {
        ...request,
        task_id: handoff.task_id,
        source: request.source ?? { region: handoff.source_region },
      });
      const decision = decideRoute(deps.topology, input, room, routeOptions(deps));
      if (decision.region === undefined || decision.score === undefined) {
        kept.push({
          handoff_id: handoff.handoff_id,
          task_id: handoff.task_id,
          reasons: decision.excluded.map((e) => `${e.region}: ${e.reasons.join('; ')}`),
        });
      } else {
        moves.push({
          handoff_id: handoff.handoff_id,
          task_id: handoff.task_id,
          to: decision.region,
          routing_score: decision.score,
        });
        const state = room.get(decision.region);
        if (state) {
          const need = taskNeeds((request.requirements ?? {}) as Parameters<typeof taskNeeds>[0]);
          room.set(decision.region, {
            ...state,
            usage: {
              workers: state.usage.workers + need.workers,
              tokens_used: state.usage.tokens_used + need.tokens_per_hour,
              compute_units: state.usage.compute_units + need.compute_units,
            },
          });
        }
      }
    } catch (error) {
      kept.push({
        handoff_id: handoff.handoff_id,
        task_id: handoff.task_id,
        reasons: [`its request cannot be routed again: ${(error as Error).message}`],
      });
    }
  }
  return { moves, kept };
}

/** The statuses as they will be once `failedRegion` is out of service. */
function withRegionOut(
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  failedRegion: string,
): Map<string, RegionStatusRecord> {
  const out = new Map(statuses);
  const current = statuses.get(failedRegion);
  if (current) out.set(failedRegion, { ...current, status: 'failed' });
  return out;
}

/**
 * The statuses with every other region that says, in its newest answer, that it does not serve
 * (quorum.ts reportedStatuses) held at the status it reported. A failover's target must serve by its
 * own status (verify_target_capacity refuses one that reports itself out, and the failover rolls
 * back), and this replica may not know it yet: the write that took it out may come from a region
 * that died before it replicated here (simulator seed 904024: every failover of the dead us-east-1
 * named eu-west-1, failed by its own status, and rolled back). A record written here after that
 * answer is the newer word (a rollback restored the region: seed 2008930). This region's own status
 * is its replica's.
 */
function withReportedOut(
  deps: Pick<RegionalDeps, 'topology' | 'regionId' | 'clock'>,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  views: readonly TargetHealth[],
): Map<string, RegionStatusRecord> {
  const out = new Map(statuses);
  for (const [region, reported] of reportedStatuses(deps.topology, views, deps.clock.now(), statuses)) {
    const current = statuses.get(region);
    if (region === deps.regionId || isServing(reported) || !current || !isServing(current.status)) continue;
    out.set(region, { ...current, status: reported });
  }
  return out;
}

export async function planFailover(
  deps: WithState<RegionalDeps, RegionStatuses & Handoffs & HealthViews>,
  failedRegion: string,
  requestedTarget?: string,
): Promise<FailoverPlan> {
  const { topology, state } = deps;
  const [stored, handoffs, views] = await Promise.all([
    readStatuses(topology, state),
    state.listHandoffsByTarget(failedRegion),
    state.listTargetHealth(),
  ]);
  const statuses = withReportedOut(deps, stored, views);
  const pending = handoffs.filter((h) => h.status === 'pending');
  const choice = selectFailoverTarget({
    topology,
    failedRegion,
    statuses,
    live: (await readLiveStates(deps, statuses)).live,
    pendingHandoffs: pending,
    ...(requestedTarget === undefined ? {} : { requestedTarget }),
    ...(deps.deployment === undefined ? {} : { deployment: deps.deployment }),
  });
  const promotion = choice.target === undefined ? 0 : promotionSeconds(topology, choice.target);
  const out = withRegionOut(statuses, failedRegion);
  const { moves, kept } = rerouteHandoffs(deps, pending, out, (await readLiveStates(deps, out)).live);
  return {
    failed_region: failedRegion,
    target_region: choice.target,
    ...(choice.mode === undefined ? {} : { mode: choice.mode }),
    considered: choice.considered,
    workloads_to_move: moves,
    workloads_pending: kept,
    workloads_in_flight: handoffs.filter((h) => h.status === 'accepted').length,
    promotion_seconds: promotion,
    estimated_rto_seconds:
      topology.failover_policies.health_check.interval_seconds *
        topology.failover_policies.health_check.failure_threshold +
      promotion,
  };
}

export function describeConsidered(considered: readonly ConsideredRegion[]): string {
  return considered.map((c) => `${c.region}: ${c.reasons.join('; ') || 'chosen'}`).join(' | ');
}
