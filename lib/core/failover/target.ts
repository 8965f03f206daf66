/**
 * Which region takes over a failed region's work (the spec's identify_target_region). Pure: the
 * caller passes statuses, live capacity and the failed region's pending handoffs.
 *
 * Candidates go in failover_priority order (topology order on ties). A candidate must serve, must
 * not be the failed region, must have at least half of its scarcest resource free (the spec's
 * "capacity at least 50%"), and must hold every compliance framework the pending workloads require.
 * Residency is preferred, not required: the first candidate that keeps every pending workload inside
 * its residency and the compliance rules (lib/core/compliance: the router's rules for each task's
 * classification and origin) wins; when none does, the first otherwise eligible one wins and the
 * workloads it cannot hold stay pending (`workloads_pending`), because moving them would break
 * residency or compliance.
 *
 * When no candidate has half of its scarcest resource free (the spec's busy usage leaves none), the
 * failover does not give up: a dead region's traffic must be served somewhere (DESIGN principle 5).
 * It goes `spread`: the target (the region promoted in the failed region's place) is the first
 * candidate that serves, holds the frameworks and has any room left, and the failed region's work is
 * spread over every survivor that can hold it (lib/app/failover/plan.ts). Only when no survivor has
 * any room does the choice come back without a target: an operator decides, with the plan.
 */
import { assessCompliance, queryOfTask } from '../compliance/rules.ts';
import type { DeploymentFacts } from '../compliance/types.ts';
import { failoverOrder } from '../health/quorum.ts';
import { availableCapacity, normalizeFramework, type RegionLiveState } from '../routing.ts';
import { type Handoff, isServing, type RegionStatusRecord } from '../state/records.ts';
import { expandResidency } from '../topology/residency.ts';
import type { Region, Topology } from '../topology/types.ts';

/** The spec's failover script refuses a target with less than 50 % capacity available. */
export const MIN_TARGET_CAPACITY = 0.5;

export interface FailoverTargetInput {
  readonly topology: Topology;
  readonly failedRegion: string;
  /** Every region's status as the coordinator's replica holds it (missing: not serving). */
  readonly statuses: ReadonlyMap<string, RegionStatusRecord>;
  readonly live: ReadonlyMap<string, RegionLiveState>;
  /** Handoffs routed to the failed region and still pending: the work that has to move. */
  readonly pendingHandoffs: readonly Handoff[];
  /** An operator's choice: only it is considered. */
  readonly requestedTarget?: string;
  /** What the deployment configures (the compliance rules check it for regulated data). */
  readonly deployment?: DeploymentFacts;
}

export interface ConsideredRegion {
  readonly region: string;
  /** Why it was not taken; empty for the chosen region. */
  readonly reasons: readonly string[];
}

export interface PendingWorkload {
  readonly handoff_id: string;
  readonly task_id: string;
  readonly reason: string;
}

export interface FailoverTargetChoice {
  readonly target: string | undefined;
  /**
   * `single`: the target has the spec's 50 % free and takes the work; `spread`: no survivor has, so
   * the work goes to every survivor with room, in proportion to it; absent with no target.
   */
  readonly mode?: 'single' | 'spread';
  readonly considered: readonly ConsideredRegion[];
  /** Workloads the chosen target cannot hold without breaking their residency: they stay pending. */
  readonly workloads_pending: readonly PendingWorkload[];
}

interface Requirements {
  readonly compliance: readonly string[];
  readonly residency?: string;
}

function requirementsOf(handoff: Handoff): Requirements {
  const requirements = (handoff.task as { requirements?: unknown }).requirements;
  if (!requirements || typeof requirements !== 'object') return { compliance: [] };
  const { compliance, data_residency } = requirements as { compliance?: unknown; data_residency?: unknown };
  return {
    compliance: Array.isArray(compliance)
      ? compliance.filter((c): c is string => typeof c === 'string').map(normalizeFramework)
      : [],
    ...(typeof data_residency === 'string' ? { residency: data_residency } : {}),
  };
}

/**
 * The workloads whose residency or compliance rules `region` would break, with the reason for each.
 * Frameworks are not judged here: target selection requires them of every candidate.
 */
export function residencyBreaches(
  topology: Topology,
  region: Region,
  handoffs: readonly Handoff[],
  deployment?: DeploymentFacts,
): PendingWorkload[] {
  const allowed = new Set(region.residency_countries);
  const breaches: PendingWorkload[] = [];
  for (const handoff of handoffs) {
    const { residency } = requirementsOf(handoff);
    const reasons: string[] = [];
    if (residency !== undefined) {
      const countries = expandResidency(topology, residency);
      if (countries === undefined || countries.some((country) => !allowed.has(country))) {
        reasons.push(`data residency ${residency} is not allowed in ${region.region_id}`);
      }
    }
    const resolved = queryOfTask(topology, handoff.task, handoff.source_region);
    if ('error' in resolved) {
      reasons.push(`its compliance cannot be judged: ${resolved.error}`);
    } else {
      const verdict = assessCompliance(topology, resolved.query, deployment).get(region.region_id);
      for (const reason of verdict?.reasons ?? []) {
        if (reason.type !== 'framework') reasons.push(reason.reason);
      }
    }
    if (reasons.length > 0) {
      breaches.push({ handoff_id: handoff.handoff_id, task_id: handoff.task_id, reason: reasons.join('; ') });
    }
  }
  return breaches;
}

export function selectFailoverTarget(input: FailoverTargetInput): FailoverTargetChoice {
  const { topology, failedRegion, statuses, live, pendingHandoffs, requestedTarget, deployment } = input;
  const failed = topology.regions.find((r) => r.region_id === failedRegion);
  const failedFrameworks = new Set<string>(failed?.compliance ?? []);
  // Frameworks the failed region holds that its pending work relies on: the target must hold them too.
  const required = new Map<string, number>();
  for (const handoff of pendingHandoffs) {
    for (const framework of new Set(requirementsOf(handoff).compliance)) {
      if (failedFrameworks.has(framework)) required.set(framework, (required.get(framework) ?? 0) + 1);
    }
  }

  const order = failoverOrder(topology).filter(
    (id) => id !== failedRegion && (requestedTarget === undefined || id === requestedTarget),
  );
  const eligible: { region: Region; breaches: PendingWorkload[] }[] = [];
  /** Candidates whose only shortcoming is less than 50 % free, with some room left. */
  const roomy: { region: Region; breaches: PendingWorkload[] }[] = [];
  const reasonsOf = new Map<string, string[]>();
  for (const id of order) {
    const region = topology.regions.find((r) => r.region_id === id) as Region;
    const reasons: string[] = [];
    const status = statuses.get(id);
    if (!status) reasons.push('status unknown');
    else if (!isServing(status.status)) reasons.push(`region is ${status.status}, not serving`);
    const state = live.get(id);
    let short = false;
    let room = false;
    if (!state) {
      reasons.push('capacity unknown');
    } else {
      const available = availableCapacity(state.allocation, state.usage);
      room = available > 0;
      if (available < MIN_TARGET_CAPACITY) {
        short = true;
        reasons.push(
          `available capacity ${percent(available)} is below ${percent(MIN_TARGET_CAPACITY)} of its scarcest resource`,
        );
      }
    }
    const held = new Set<string>(region.compliance);
    for (const [framework, count] of required) {
      if (!held.has(framework)) {
        reasons.push(`lacks compliance framework ${framework} required by ${count} pending workload(s)`);
      }
    }
    reasonsOf.set(id, reasons);
    if (reasons.length === 0) {
      eligible.push({ region, breaches: residencyBreaches(topology, region, pendingHandoffs, deployment) });
    } else if (short && room && reasons.length === 1) {
      roomy.push({ region, breaches: residencyBreaches(topology, region, pendingHandoffs, deployment) });
    }
  }

  const single = eligible.find((c) => c.breaches.length === 0) ?? eligible[0];
  const chosen = single ?? roomy.find((c) => c.breaches.length === 0) ?? roomy[0];
  const mode = single ? 'single' : chosen ? 'spread' : undefined;
  const considered = order.map((id): ConsideredRegion => {
    const reasons = [...(reasonsOf.get(id) ?? [])];
    if (id !== chosen?.region.region_id) {
      const candidate = eligible.find((c) => c.region.region_id === id);
      if (candidate && reasons.length === 0) {
        reasons.push(
          candidate.breaches.length > 0
            ? `would break data residency of ${candidate.breaches.length} pending workload(s)`
            : `eligible, but ${chosen?.region.region_id} comes first in failover order`,
        );
      }
    }
    if (mode === 'spread' && roomy.some((c) => c.region.region_id === id)) {
      reasons.push(
        id === chosen?.region.region_id
          ? `no survivor has ${percent(MIN_TARGET_CAPACITY)} free: ${id} leads, and the work is spread over every survivor with room`
          : `has room: takes a share of the work spread over every survivor with room`,
      );
    }
    return { region: id, reasons };
  });
  return {
    target: chosen?.region.region_id,
    ...(mode === undefined ? {} : { mode }),
    considered,
    workloads_pending: chosen?.breaches ?? [],
  };
}

function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}
