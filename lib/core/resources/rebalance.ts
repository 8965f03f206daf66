/**
 * Dynamic rebalancing (spec: dynamic_rebalancing): when a region runs above the overload threshold
 * in a resource and another runs below the underutilized one, move allocation from the idle region
 * to the loaded one. Pure planning: the caller applies each move as conditional writes.
 *
 * Invariants (property-tested): the sum of allocations per resource is unchanged; no region is left
 * with less allocated than it uses; a region that is not serving (failed, fenced, draining) neither
 * gives nor receives; each move is at most `maxStepFraction` of the global total of its resource.
 */
import type { ResourceAmounts } from '../topology/types.ts';
import { round3 } from './pool.ts';

type ResourceKind = keyof ResourceAmounts;

export const RESOURCE_KINDS: readonly ResourceKind[] = ['workers', 'tokens_per_hour', 'compute_units'];

export interface RebalanceRegion {
  readonly region: string;
  readonly serving: boolean;
  readonly allocation: ResourceAmounts;
  /** Usage in the same units as the allocation (tokens: the current hour's). */
  readonly used: ResourceAmounts;
}

export interface RebalanceConfig {
  /** Utilization (0..1) above which a region wants more (spec 0.85). */
  readonly overload: number;
  /** Utilization below which a region can give some away (spec 0.30). */
  readonly underutilized: number;
  /** Largest move as a share of the resource's global total (default 0.1). */
  readonly maxStepFraction?: number;
}

export interface RebalanceMove {
  readonly resource: ResourceKind;
  readonly from: string;
  readonly to: string;
  readonly amount: number;
  readonly reason: string;
}

interface RebalancePlan {
  readonly moves: readonly RebalanceMove[];
  /** Every region's allocation after the moves. */
  readonly allocations: Readonly<Record<string, ResourceAmounts>>;
}

/** The utilization a loaded region is brought down to: halfway between the two thresholds. */
function targetUtilization(config: RebalanceConfig): number {
  return (config.overload + config.underutilized) / 2;
}

export function planRebalance(regions: readonly RebalanceRegion[], config: RebalanceConfig): RebalancePlan {
  const allocations: Record<string, { -readonly [K in ResourceKind]: number }> = {};
  for (const r of regions) allocations[r.region] = { ...r.allocation };
  const moves: RebalanceMove[] = [];
  const stepFraction = config.maxStepFraction ?? 0.1;
  const target = targetUtilization(config);
  const ordered = [...regions].sort((a, b) => (a.region < b.region ? -1 : a.region > b.region ? 1 : 0));

  for (const kind of RESOURCE_KINDS) {
    const total = ordered.reduce((sum, r) => sum + r.allocation[kind], 0);
    const maxStep = Math.max(1, Math.floor(total * stepFraction));
    const alloc = (r: RebalanceRegion) => allocations[r.region]?.[kind] ?? 0;
    const util = (r: RebalanceRegion) => {
      const a = alloc(r);
      return a <= 0 ? (r.used[kind] > 0 ? Number.POSITIVE_INFINITY : 0) : r.used[kind] / a;
    };
    const serving = ordered.filter((r) => r.serving);
    const loaded = serving.filter((r) => util(r) > config.overload).sort((a, b) => util(b) - util(a));
    for (const to of loaded) {
      // Bring the loaded region down to the target utilization, one bounded step per donor.
      let wanted = Math.ceil(to.used[kind] / target) - alloc(to);
      const donors = serving
        .filter((r) => r.region !== to.region && util(r) < config.underutilized)
        .sort((a, b) => util(a) - util(b));
      for (const from of donors) {
        if (wanted <= 0) break;
        // Never below what the donor uses, and the donor stays at or under the target itself.
        const spare = Math.floor(alloc(from) - Math.ceil(from.used[kind] / target));
        const amount = Math.min(wanted, spare, maxStep);
        if (amount <= 0) continue;
        const before = { from: util(from), to: util(to) };
        (allocations[from.region] as Record<ResourceKind, number>)[kind] -= amount;
        (allocations[to.region] as Record<ResourceKind, number>)[kind] += amount;
        wanted -= amount;
        moves.push({
          resource: kind,
          from: from.region,
          to: to.region,
          amount,
          reason: `${to.region} ${kind} at ${pct(before.to)} is above the overload threshold ${pct(
            config.overload,
          )}; ${from.region} at ${pct(before.from)} is below the underutilized threshold ${pct(
            config.underutilized,
          )}`,
        });
      }
    }
  }
  return { moves, allocations };
}

function pct(fraction: number): string {
  return `${round3(fraction * 100)}%`;
}
