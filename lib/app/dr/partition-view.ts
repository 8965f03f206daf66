/**
 * The partition as one region's replica shows it: the probes' fresh views (at most three intervals
 * old, as the quorum counts them) form the reachability matrix; the core groups it and picks the
 * group that keeps serving. A member cut off from this region has no fresh views here (they do not
 * cross the cut), so what it sees of others is not guessed at.
 */
import { type PrimaryGroupChoice, partitionGroups, selectPrimaryGroup } from '../../core/dr/partition.ts';
import { reachableOf } from '../../core/health/evaluate.ts';
import type { Tier } from '../../core/topology/types.ts';
import type { HealthViews } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';

const TIER_RANK: Readonly<Record<Tier, number>> = { primary: 0, secondary: 1, tertiary: 2, edge: 3 };

interface ObservedPartition {
  readonly members: readonly string[];
  readonly groups: readonly (readonly string[])[];
  readonly choice: PrimaryGroupChoice;
}

export async function observedPartition(
  deps: WithState<RegionalDeps, HealthViews>,
): Promise<ObservedPartition> {
  const { topology } = deps;
  const members = [
    ...topology.regions.map((r) => r.region_id),
    ...topology.witnesses.map((w) => w.witness_id),
  ];
  const freshMs = 3 * topology.failover_policies.health_check.interval_seconds * 1000;
  const now = deps.clock.now();
  const views = (await deps.state.listTargetHealth()).filter((v) => now - v.updated_at <= freshMs);
  const groups = partitionGroups(
    members,
    views.map((v) => ({ observer: v.observer, target: v.target, reachable: reachableOf(v) })),
  );
  const rank = (member: string): number => {
    const region = topology.regions.find((r) => r.region_id === member);
    if (!region) return Number.MAX_SAFE_INTEGER;
    const priority = topology.deployment.regions[member]?.failover_priority ?? 999;
    return TIER_RANK[region.tier] * 1000 + priority;
  };
  return { members, groups, choice: selectPrimaryGroup(groups, rank) };
}
