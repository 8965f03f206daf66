/** The `global_resource_pool` section: allocations within the total, rebalancing thresholds in order. */
import type { ParsedTopology } from '../schema.ts';
import type { GlobalResourcePool } from '../types.ts';
import { checkRegionKeys, type KnownRegions, type Report, round6, sum } from './report.ts';

export function checkResourcePool(
  pool: ParsedTopology['global_resource_pool'],
  known: KnownRegions,
  report: Report,
): GlobalResourcePool {
  const field = 'global_resource_pool';
  checkRegionKeys(pool.regional_allocation, `${field}.regional_allocation`, known, report, 'allocation');
  const allocations = Object.values(pool.regional_allocation);
  for (const resource of ['workers', 'tokens_per_hour', 'compute_units'] as const) {
    const allocated = round6(sum(allocations.map((a) => a[resource])));
    const total = pool.total_capacity[resource];
    if (allocated > total) {
      report(
        `${field}.regional_allocation`,
        `allocated ${resource} add up to ${allocated}, above total_capacity.${resource} ${total}`,
      );
    }
  }
  const { overload, underutilized } = pool.dynamic_rebalancing.thresholds;
  if (underutilized >= overload) {
    report(
      `${field}.dynamic_rebalancing.thresholds.underutilized`,
      `underutilized (${underutilized}) must be below overload (${overload})`,
    );
  }
  return pool;
}
