/**
 * update_dns_routing (execution): the failed region becomes `failed`, the target `primary`, and any
 * other region holding the primary role (serving or fenced) returns to its topology role, each with
 * the next epoch. Failover uses the data plane only (principle 1): these are region statuses in the
 * state table; each region's `/health` reads its own replica and Route 53 health checks follow it.
 * No DNS API here.
 */
import type { FailoverRecord } from '../../../core/failover/types.ts';
import { holdsPrimary, isServing, type RegionStatusRecord } from '../../../core/state/records.ts';
import type { Failovers, RegionStatuses } from '../../../ports.ts';
import type { ControlDeps, WithState } from '../../deps.ts';
import { readStatuses } from '../../live-state.ts';
import { type Moved, moveRegion, seconds, stepError, topologyRole } from '../shared.ts';
import type { Perform, StepEvent } from '../step-context.ts';
import { capturePrevious, targetOf } from '../step-helpers.ts';

export const updateDnsRouting: Perform<RegionStatuses & Failovers> = async (ctx) => {
  const { deps, record } = ctx;
  const target = targetOf(record);
  const failed = record.failed_region;
  const statuses = await readStatuses(deps.topology, deps.state);
  const otherPrimaries = otherHolders(statuses, failed, target);
  await capturePrevious(ctx, [failed, target, ...otherPrimaries]);

  const source = await markRegionFailed(deps, record, target);
  const promoted = await promoteTarget(deps, record, target);
  const demoted = await demotePrimaries(deps, record, target, otherPrimaries);

  const downtime = record.downtime_seconds ?? seconds(deps.clock.now() - Date.parse(record.initiated_at));
  return {
    outcome: 'succeeded',
    detail:
      `${failed} is failed (epoch ${source.after.epoch}), ${target} is primary (epoch ${promoted.after.epoch})` +
      `${demoted.length ? `, ${demoted.join(', ')} no longer primary` : ''}; Route 53 follows /health` +
      ` (downtime ${downtime} s)`,
    patch: { downtime_seconds: downtime },
    events: statusEvents(record, target, source, promoted, demoted),
  };
};

/**
 * One primary at a time: another region holding the primary role (from an earlier failover) returns
 * to its topology role, a fenced one too: left primary, it would unfence as a second primary (seed
 * 430975). A draining primary is left alone: its status belongs to the failover that drains it, and
 * a write here would take it from that failover's rollback (seed 427337); that failover ends it
 * failed (its failback gives the topology role) or rolls back (which gives the role back only when
 * nobody holds it). A failed or shut-down one comes back through a failback or restore.
 */
function otherHolders(
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  failed: string,
  target: string,
): string[] {
  return [...statuses.values()]
    .filter((s) => s.region_id !== target && s.region_id !== failed && holdsPrimary(s))
    .map((s) => s.region_id);
}

function markRegionFailed(
  deps: WithState<ControlDeps, RegionStatuses>,
  record: FailoverRecord,
  target: string,
): Promise<Moved> {
  const id = record.failover_id;
  return moveRegion(deps, record.failed_region, id, (current) =>
    current.status === 'failed'
      ? undefined
      : { status: 'failed', reason: `failed over to ${target} by ${id}` },
  );
}

function promoteTarget(
  deps: WithState<ControlDeps, RegionStatuses>,
  record: FailoverRecord,
  target: string,
): Promise<Moved> {
  const id = record.failover_id;
  return moveRegion(deps, target, id, (current) => {
    if (!isServing(current.status)) {
      throw stepError('TargetRegionFailure', `${target} became ${current.status} before it was promoted`);
    }
    return current.role === 'primary'
      ? undefined
      : { role: 'primary', reason: `took over from ${record.failed_region} (${id})` };
  });
}

/** Returns each other primary to its topology role; answers those it changed. */
async function demotePrimaries(
  deps: WithState<ControlDeps, RegionStatuses>,
  record: FailoverRecord,
  target: string,
  otherPrimaries: readonly string[],
): Promise<string[]> {
  const id = record.failover_id;
  const demoted: string[] = [];
  for (const region of otherPrimaries) {
    const moved = await moveRegion(deps, region, id, (current) =>
      holdsPrimary(current)
        ? { role: topologyRole(deps.topology, region), reason: `${target} is primary after ${id}` }
        : undefined,
    );
    if (moved.wrote) demoted.push(region);
  }
  return demoted;
}

function statusEvents(
  record: FailoverRecord,
  target: string,
  source: Moved,
  promoted: Moved,
  demoted: readonly string[],
): StepEvent[] {
  const id = record.failover_id;
  const events: StepEvent[] = [];
  if (source.wrote) {
    events.push({
      type: 'region.failed',
      detail: { region: record.failed_region, epoch: source.after.epoch, failover_id: id },
    });
  }
  if (promoted.wrote) {
    events.push({
      type: 'region.promoted',
      detail: { region: target, role: 'primary', epoch: promoted.after.epoch, failover_id: id },
    });
  }
  for (const region of demoted) events.push({ type: 'region.demoted', detail: { region, failover_id: id } });
  return events;
}
