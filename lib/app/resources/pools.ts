/**
 * Live resource accounting: each region's pool as the state table holds it, seeded
 * from the topology's `current_usage` snapshot the first time it is read, and the router's view of
 * every region built from it.
 */

import { hourBucket, type RegionPool, seedPool } from '../../core/resources/pool.ts';
import type { RegionLiveState } from '../../core/routing.ts';
import type { RegionStatusRecord } from '../../core/state/records.ts';
import type { Topology } from '../../core/topology/types.ts';
import type { ResourcesPort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';
import { liveStates } from '../live-state.ts';

/** Every topology region's pool for the current hour; a region never seen is seeded first. */
export async function readPools(
  topology: Topology,
  resources: ResourcesPort,
  now: number,
): Promise<Map<string, RegionPool>> {
  const hour = hourBucket(now);
  const pools = new Map((await resources.listPools(hour)).map((p) => [p.region, p]));
  for (const region of topology.regions) {
    if (pools.has(region.region_id)) continue;
    const seed = seedPool(topology, region.region_id, now);
    if (!seed) continue;
    // Another router may seed it between our read and write: then read what it wrote.
    const wrote = await resources.seedPool(seed);
    const pool = wrote ? seed : await resources.getPool(region.region_id, hour);
    if (pool) pools.set(region.region_id, pool);
  }
  return pools;
}

/** The router's view with live allocation and usage when the deps carry the pool. */
export async function readLiveStates(
  deps: Pick<RegionalDeps, 'topology' | 'resources' | 'clock'>,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
): Promise<{ live: Map<string, RegionLiveState>; pools: Map<string, RegionPool> | undefined }> {
  const live = liveStates(deps.topology, statuses);
  if (!deps.resources) return { live, pools: undefined };
  const pools = await readPools(deps.topology, deps.resources, deps.clock.now());
  for (const [region, state] of live) {
    const pool = pools.get(region);
    if (pool) live.set(region, { ...state, allocation: pool.allocation, usage: pool.usage });
  }
  return { live, pools };
}
