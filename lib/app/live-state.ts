import type { RegionLiveState } from '../core/routing.ts';
import type { RegionStatusRecord } from '../core/state/records.ts';
import type { Topology } from '../core/topology/types.ts';
import type { StatePort } from '../ports.ts';

/** A region with no status record has never been touched by a failover: it is healthy at epoch 0. */
export function defaultStatus(topology: Topology, regionId: string): RegionStatusRecord {
  const role = topology.deployment.regions[regionId]?.role ?? 'active';
  return {
    region_id: regionId,
    status: 'healthy',
    role,
    epoch: 0,
    updated_at: '1970-01-01T00:00:00Z',
    updated_by: 'topology',
  };
}

/** Every topology region's status as this replica sees it. */
export async function readStatuses(
  topology: Topology,
  state: StatePort,
): Promise<Map<string, RegionStatusRecord>> {
  const stored = new Map((await state.listRegionStatuses()).map((r) => [r.region_id, r]));
  return new Map(
    topology.regions.map((r) => [
      r.region_id,
      stored.get(r.region_id) ?? defaultStatus(topology, r.region_id),
    ]),
  );
}

/**
 * What the router knows of each region. Allocation and usage come from the topology's resource
 * pool; live accounting of handoffs replaces the usage when the resource pool lands.
 */
export function liveStates(
  topology: Topology,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
): Map<string, RegionLiveState> {
  const live = new Map<string, RegionLiveState>();
  for (const region of topology.regions) {
    const pool = topology.global_resource_pool.regional_allocation[region.region_id];
    const status = statuses.get(region.region_id);
    if (!pool || !status) continue;
    live.set(region.region_id, {
      status: status.status,
      role: status.role,
      allocation: pool,
      usage: pool.current_usage,
    });
  }
  return live;
}
