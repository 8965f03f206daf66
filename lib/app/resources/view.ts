/** `GET /v1/resources` and `PUT /v1/resources/{region}/usage`. */
import { NotFoundError } from '../../core/errors.ts';
import {
  hourBucket,
  totalOf,
  type Utilization,
  utilizationLevel,
  utilizationOf,
} from '../../core/resources/pool.ts';
import type { ResourceAmounts, ResourceUsage } from '../../core/topology/types.ts';
import type { RegionalDeps } from '../deps.ts';
import { readPools } from './pools.ts';

interface RegionResources {
  readonly region: string;
  readonly allocation: ResourceAmounts;
  readonly usage: ResourceUsage;
  readonly available: ResourceAmounts;
  readonly utilization: Utilization;
  /** Overall utilization against the spec's thresholds (warning 70 %, critical 85 %). */
  readonly level: 'normal' | 'warning' | 'critical';
  readonly allocation_version: number;
}

interface ResourcesView {
  /** The clock hour the token figures belong to (UTC, e.g. `2026-11-26T06`). */
  readonly hour: string;
  readonly regions: readonly RegionResources[];
  readonly totals: {
    readonly total_capacity: ResourceAmounts;
    readonly allocated: ResourceAmounts;
    readonly usage: ResourceUsage;
    readonly utilization: Utilization;
  };
  readonly dynamic_rebalancing: RegionalDeps['topology']['global_resource_pool']['dynamic_rebalancing'];
}

function resourcesOf(deps: Omit<RegionalDeps, 'state'>) {
  if (!deps.resources) throw new Error('no resource pool in the deps (deps.resources)');
  return deps.resources;
}

export async function viewResources(deps: Omit<RegionalDeps, 'state'>): Promise<ResourcesView> {
  const now = deps.clock.now();
  const pools = await readPools(deps.topology, resourcesOf(deps), now);
  const regions: RegionResources[] = [];
  for (const region of deps.topology.regions) {
    const pool = pools.get(region.region_id);
    if (!pool) continue;
    const utilization = utilizationOf(pool.allocation, pool.usage);
    regions.push({
      region: pool.region,
      allocation: pool.allocation,
      usage: pool.usage,
      available: {
        workers: Math.max(0, pool.allocation.workers - pool.usage.workers),
        tokens_per_hour: Math.max(0, pool.allocation.tokens_per_hour - pool.usage.tokens_used),
        compute_units: Math.max(0, pool.allocation.compute_units - pool.usage.compute_units),
      },
      utilization,
      level: utilizationLevel(utilization.overall),
      allocation_version: pool.allocation_version,
    });
  }
  const allocated = totalOf(regions.map((r) => r.allocation));
  const used = totalOf(
    regions.map((r) => ({
      workers: r.usage.workers,
      tokens_per_hour: r.usage.tokens_used,
      compute_units: r.usage.compute_units,
    })),
  );
  const usage = {
    workers: used.workers,
    tokens_used: used.tokens_per_hour,
    compute_units: used.compute_units,
  };
  const { global_resource_pool: pool } = deps.topology;
  return {
    hour: hourBucket(now),
    regions,
    totals: {
      total_capacity: pool.total_capacity,
      allocated,
      usage,
      utilization: utilizationOf(allocated, usage),
    },
    dynamic_rebalancing: pool.dynamic_rebalancing,
  };
}

/** A region's own figures replace the accounted ones (corrects drift, e.g. after a lost release). */
export async function reportUsage(
  deps: Omit<RegionalDeps, 'state'>,
  region: string,
  usage: ResourceUsage,
): Promise<RegionResources> {
  if (!deps.topology.regions.some((r) => r.region_id === region)) throw new NotFoundError('region', region);
  const resources = resourcesOf(deps);
  const now = deps.clock.now();
  await readPools(deps.topology, resources, now);
  const at = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  await resources.reportUsage(region, hourBucket(now), usage, at);
  const view = await viewResources(deps);
  const answer = view.regions.find((r) => r.region === region);
  if (!answer) throw new NotFoundError('resource pool', region);
  return answer;
}
