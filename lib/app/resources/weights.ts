import { trafficWeights } from '../../core/resources/patterns.ts';
import type { RegionStatusRecord } from '../../core/state/records.ts';
import type { Topology } from '../../core/topology/types.ts';

/**
 * Each region's traffic weight from the statuses this replica holds. A failover updates them: once it
 * marks a region `failed`, that region's weight goes to the others in proportion (a draining or
 * fenced region keeps its weight meanwhile; it takes no task anyway, and Route 53 follows /health).
 */
export function weightsFromStatuses(
  topology: Topology,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
): Map<string, number> {
  return trafficWeights(
    topology,
    new Map([...statuses].map(([id, s]) => [id, { serving: s.status !== 'failed', role: s.role }])),
  );
}

/**
 * Whether the router spreads unconstrained tasks (no latency or residency constraint) by weight:
 * always in active-active (40/35/25 in the seed); a task with a latency or residency constraint is
 * placed by its score, so geographic proximity still decides for latency-sensitive work.
 */
function spreadsByWeight(topology: Topology): boolean {
  return topology.deployment.pattern === 'active-active';
}

/** The router's spread option: live weights when the topology spreads by weight, else none. */
export function spreadOption(
  topology: Topology,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
): { weights?: ReadonlyMap<string, number> } {
  return spreadsByWeight(topology) ? { weights: weightsFromStatuses(topology, statuses) } : {};
}
