/**
 * Deployment patterns (spec: Deployment Patterns; `topology.deployment.pattern`). Pure.
 *
 * - active-active: every serving region takes tasks; a task with no latency or residency constraint
 *   is spread by traffic weight (40/35/25 in the seed), deterministically per task id so a retried
 *   request lands on the same region.
 * - active-passive: only the active region (or the region a failover promoted, role `primary`) takes
 *   tasks; passive regions are promoted in failover order, a warm standby in 120 s and a cold one in
 *   600 s (`failover.promotion_time_seconds`), which the failover adds to its validation wait.
 *
 * Weights are computed from the region statuses rather than stored: a region out of service (failed
 * over) has weight 0 and its topology weight goes to the serving regions in
 * proportion to theirs; in active-passive the routable region carries all of it (100).
 */
import type { Topology } from '../topology/types.ts';

/** Roles that take tasks in active-passive: the configured active region, or one a failover promoted. */
const ROUTABLE_ROLES: ReadonlySet<string> = new Set(['active', 'primary']);

interface PatternRegionState {
  /** In service: not failed over (the caller decides what counts). */
  readonly serving: boolean;
  readonly role: string;
}

/** Whether the pattern lets a region with this role take tasks. */
export function roleTakesTasks(topology: Topology, role: string | undefined): boolean {
  return topology.deployment.pattern !== 'active-passive' || ROUTABLE_ROLES.has(role ?? 'active');
}

/** Each region's traffic weight (percent, summing to 100 when any region serves) given its state. */
export function trafficWeights(
  topology: Topology,
  states: ReadonlyMap<string, PatternRegionState>,
): Map<string, number> {
  const weights = new Map<string, number>();
  const takes = (id: string) => {
    const state = states.get(id);
    return state?.serving === true && roleTakesTasks(topology, state.role);
  };
  const base = (id: string) => topology.deployment.regions[id]?.traffic_weight ?? 0;
  const ids = topology.regions.map((r) => r.region_id);
  const surviving = ids.filter(takes);
  let sum = surviving.reduce((total, id) => total + base(id), 0);
  // A promoted passive region has no weight of its own: survivors share equally then.
  const equal = sum <= 0;
  if (equal) sum = surviving.length;
  for (const id of ids) {
    const share = surviving.includes(id) ? (equal ? 1 : base(id)) / sum : 0;
    weights.set(id, Math.round(share * 1000) / 10);
  }
  return weights;
}

/** FNV-1a of the key as a fraction in [0, 1): stable across processes and runtimes. */
function stableFraction(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash / 2 ** 32;
}

/** Picks among `regions` by weight for `key` (regions in the given order; zero weights never win). */
export function weightedPick(
  key: string,
  regions: readonly string[],
  weights: ReadonlyMap<string, number>,
): string | undefined {
  const positive = regions.filter((r) => (weights.get(r) ?? 0) > 0);
  const total = positive.reduce((sum, r) => sum + (weights.get(r) ?? 0), 0);
  if (total <= 0) return undefined;
  let point = stableFraction(key) * total;
  for (const region of positive) {
    point -= weights.get(region) ?? 0;
    if (point < 0) return region;
  }
  return positive[positive.length - 1];
}

/** Seconds a passive region needs to take traffic: warm 120, cold 600, 0 for an active region. */
export function promotionSeconds(topology: Topology, regionId: string): number {
  const role = topology.deployment.regions[regionId]?.role;
  const times = topology.deployment.failover?.promotion_time_seconds ?? { warm: 120, cold: 600 };
  if (topology.deployment.pattern !== 'active-passive') return 0;
  if (role === 'passive-warm') return times.warm;
  if (role === 'passive-cold') return times.cold;
  return 0;
}
