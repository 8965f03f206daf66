/**
 * Dynamic rebalancing: plan with lib/core/resources/rebalance.ts from live pools and
 * statuses, apply each move as two conditional allocation writes (the donor first, so a move that
 * would take the donor below its usage changes nothing), record it and emit `resources.rebalanced`.
 */
import { ConflictError } from '../../core/errors.ts';
import { failoverOrder } from '../../core/health/quorum.ts';
import { hourBucket, type RegionPool } from '../../core/resources/pool.ts';
import { planRebalance, type RebalanceMove } from '../../core/resources/rebalance.ts';
import { isServing } from '../../core/state/records.ts';
import type { ResourceAmounts } from '../../core/topology/types.ts';
import type { EventsPort, RebalanceRecord, RegionStatuses, ResourcesPort } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import { readStatuses } from '../live-state.ts';
import { readPools } from './pools.ts';

interface RebalanceResult extends RebalanceRecord {
  readonly dry_run: boolean;
  /** False when `dynamic_rebalancing.enabled` is false (nothing planned or written). */
  readonly enabled: boolean;
}

/** Version conflicts a move retries (another writer changed the recipient's allocation meanwhile). */
const APPLY_ATTEMPTS = 3;

export async function runRebalance(
  deps: WithState<RegionalDeps, RegionStatuses> & { readonly events?: EventsPort },
  options: { readonly dry_run: boolean; readonly force?: boolean },
): Promise<RebalanceResult> {
  const { topology, clock } = deps;
  if (!deps.resources) throw new Error('no resource pool in the deps (deps.resources)');
  const resources = deps.resources;
  const now = clock.now();
  const at = new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const rebalanceId = `rebalance-${deps.regionId}-${now}`;
  const config = topology.global_resource_pool.dynamic_rebalancing;
  const base = { rebalance_id: rebalanceId, at, region: deps.regionId, dry_run: options.dry_run };
  if (!config.enabled && !options.force) {
    return { ...base, enabled: false, moves: [], applied: [], skipped: [] };
  }
  const statuses = await readStatuses(topology, deps.state);
  const pools = await readPools(topology, resources, now);
  const plan = planRebalance(
    [...pools.values()].map((pool) => ({
      region: pool.region,
      // Failed, fenced and draining regions neither give nor receive.
      serving: isServing(statuses.get(pool.region)?.status ?? 'failed'),
      allocation: pool.allocation,
      used: {
        workers: pool.usage.workers,
        tokens_per_hour: pool.usage.tokens_used,
        compute_units: pool.usage.compute_units,
      },
    })),
    config.thresholds,
  );
  if (options.dry_run || plan.moves.length === 0) {
    return { ...base, enabled: config.enabled, moves: plan.moves, applied: [], skipped: [] };
  }
  const applied: RebalanceMove[] = [];
  const skipped: { move: RebalanceMove; reason: string }[] = [];
  const hour = hourBucket(now);
  for (const move of plan.moves) {
    const taken = await adjust(resources, pools, move.from, hour, move.resource, -move.amount, at);
    if (taken !== true) {
      skipped.push({ move, reason: taken });
      continue;
    }
    const given = await adjust(resources, pools, move.to, hour, move.resource, move.amount, at);
    if (given !== true) {
      // Give it back so the global total is conserved (an increase cannot fall below usage).
      await adjust(resources, pools, move.from, hour, move.resource, move.amount, at);
      skipped.push({ move, reason: given });
      continue;
    }
    applied.push(move);
  }
  const record: RebalanceRecord = {
    rebalance_id: rebalanceId,
    at,
    region: deps.regionId,
    moves: plan.moves,
    applied,
    skipped,
  };
  await resources.putRebalance(record);
  await deps.events?.publish([
    { type: 'resources.rebalanced', source_region: deps.regionId, time: at, detail: { ...record } },
  ]);
  return { ...record, dry_run: false, enabled: config.enabled };
}

/** One conditional allocation change, re-read and retried on a version conflict; a reason if not done. */
async function adjust(
  resources: ResourcesPort,
  pools: Map<string, RegionPool>,
  region: string,
  hour: string,
  resource: keyof ResourceAmounts,
  delta: number,
  at: string,
): Promise<true | string> {
  for (let attempt = 0; attempt < APPLY_ATTEMPTS; attempt++) {
    const pool = pools.get(region) ?? (await resources.getPool(region, hour));
    if (!pool) return `no resource pool for ${region}`;
    const allocation = { ...pool.allocation, [resource]: pool.allocation[resource] + delta };
    try {
      const version = await resources.setAllocation(region, hour, allocation, pool.allocation_version, at);
      pools.set(region, { ...pool, allocation, allocation_version: version });
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      const current = await resources.getPool(region, hour);
      if (!current) return `no resource pool for ${region}`;
      if (current.allocation_version === pool.allocation_version) {
        return `${region} uses more ${resource} than it would keep`;
      }
      pools.set(region, current);
    }
  }
  return `${region}'s allocation kept changing`;
}

/**
 * The scheduled run (every `interval_seconds`, every region): only the first serving region in
 * failover order rebalances, so two regions never move the same allocation at once; the others
 * answer `skipped`. Disabled by `dynamic_rebalancing.enabled: false`.
 */
export async function rebalanceOnSchedule(
  deps: WithState<RegionalDeps, RegionStatuses> & { readonly events?: EventsPort },
): Promise<RebalanceResult | { readonly skipped: string }> {
  if (!deps.topology.global_resource_pool.dynamic_rebalancing.enabled) {
    return { skipped: 'dynamic_rebalancing is disabled' };
  }
  const statuses = await readStatuses(deps.topology, deps.state);
  const coordinator = failoverOrder(deps.topology).find((id) =>
    isServing(statuses.get(id)?.status ?? 'failed'),
  );
  if (coordinator !== deps.regionId) {
    return { skipped: `${coordinator ?? 'no region'} rebalances (first serving region in failover order)` };
  }
  const result = await runRebalance(deps, { dry_run: false });
  // Token counters of hours before the previous one are never read again: keep the pool items small.
  const previousHour = hourBucket(deps.clock.now() - 3_600_000);
  for (const region of deps.topology.regions) {
    await deps.resources?.compactTokens(region.region_id, previousHour);
  }
  return result;
}
