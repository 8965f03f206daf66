import type { TargetHealth } from '../core/health/types.ts';
import type { RegionLiveState } from '../core/routing.ts';
import type { RegionStatusRecord } from '../core/state/records.ts';
import type { Topology } from '../core/topology/types.ts';
import type { HealthViews, Heartbeats, RegionStatuses } from '../ports.ts';
import type { RegionalDeps, WithState } from './deps.ts';

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
  state: RegionStatuses,
): Promise<Map<string, RegionStatusRecord>> {
  // Loops, not maps of entry pairs: every probe answer and every round reads the statuses. A
  // topology holds a few regions: each looks for its record in the listing (the last one of its id).
  const stored = await state.listRegionStatuses();
  const statuses = new Map<string, RegionStatusRecord>();
  for (const { region_id } of topology.regions) {
    let record: RegionStatusRecord | undefined;
    for (let i = 0; i < stored.length; i++) {
      if ((stored[i] as RegionStatusRecord).region_id === region_id) record = stored[i];
    }
    statuses.set(region_id, record ?? defaultStatus(topology, region_id));
  }
  return statuses;
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

/**
 * Why this region's replica may not know what happened to it, or undefined. A
 * region back after an outage (down, or cut off) reads a replica that replication has not caught up
 * yet: the others may have failed it over meanwhile. It serves nothing (`/health` 503, no routes, no
 * accepts) while most of the regions it counts have no heartbeat in its replica from the last
 * failure window (failure threshold + 1 rounds). Heartbeats are written every round and replicated
 * in order after every earlier write, so once fresh ones arrived, a failover's status writes have
 * arrived too. A region never heard from counts as fresh (a new deployment).
 *
 * It counts every other region its replica does not hold as failed. Where this region's own probes
 * saw that region within the window, they decide: a region they reached nothing of in their latest
 * round is left out (its silence is the region's, not this replica's), and one that answered is
 * behind in this replica only if the heartbeat it reported itself is newer than the one the replica
 * holds (a region whose probe rounds stopped while its API answers writes no heartbeat anywhere).
 * Without that, a survivor whose peers are down or stopped would call itself behind and go dark with
 * them, and a healthy region would be failed over for its peers' outage (found by the simulator,
 * seeds 236 and 533). Views older than the window decide nothing: this region's own rounds did not
 * run, because it was down, or because only its process stopped while its API and replica stayed
 * up. A witness's fresh view then stands in for its own: a witness writes its views straight into
 * every replica it reaches, so one here within the window was written across a live path, and the
 * peer it reached reported its heartbeat to it as to this region's probes. Without one, the
 * heartbeat's age alone counts. Before, a region whose process stopped along with its only counted
 * peer's went dark with that peer and was failed over when the peer came back (found by the
 * simulator on the MRSC topology, seed 7018).
 */
export async function catchingUp(
  deps: WithState<Pick<RegionalDeps, 'topology' | 'state' | 'clock' | 'regionId'>, HealthViews & Heartbeats>,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
): Promise<string | undefined> {
  const { topology, regionId } = deps;
  const policy = topology.failover_policies.health_check;
  const windowMs = (policy.failure_threshold + 1) * policy.interval_seconds * 1000;
  const now = deps.clock.now();
  const others: string[] = [];
  for (const { region_id: id } of topology.regions) {
    if (id !== regionId && statuses.get(id)?.status !== 'failed') others.push(id);
  }
  if (others.length === 0) return undefined;
  const [heartbeats, views] = await Promise.all([deps.state.listHeartbeats(), deps.state.listTargetHealth()]);
  // Per peer, this region's own fresh view of it, else a witness's newest fresh one.
  const fresh = new Map<string, TargetHealth>();
  const witnessed = new Map<string, TargetHealth>();
  for (const v of views) {
    if (now - v.updated_at > windowMs) continue;
    if (v.observer === regionId) fresh.set(v.target, v);
    else if (topology.witnesses.some((w) => w.witness_id === v.observer)) {
      const seen = witnessed.get(v.target);
      if (seen === undefined || v.updated_at > seen.updated_at) witnessed.set(v.target, v);
    }
  }
  for (const [target, v] of witnessed) if (!fresh.has(target)) fresh.set(target, v);
  const counted = others.filter((id) => (fresh.get(id)?.consecutive_unanswered ?? 0) === 0);
  if (counted.length === 0) return undefined;
  const stale = counted.filter((id) => {
    const beat = heartbeats.find((h) => h.region === id);
    if (beat === undefined || now - beat.at <= windowMs) return false;
    const reported = fresh.get(id)?.reported_heartbeat;
    return reported === undefined || reported.seq > beat.seq;
  });
  if (stale.length * 2 <= counted.length) return undefined;
  return `catching up: no heartbeat of ${stale.join(', ')} in this replica for over ${windowMs / 1000} s`;
}
