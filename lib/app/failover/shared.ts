/**
 * What the failover use cases share: reading the record, publishing events, and moving a region's
 * status with the next epoch (principle 4: epochs only increase; a conflict means someone else moved
 * first, so re-read and decide again, never overwrite blindly).
 */
import { ConflictError, FailoverStepError, NotFoundError } from '../../core/errors.ts';
import { ACTIVE_FAILOVER_STATUSES, isActiveFailoverStatus } from '../../core/failover/active.ts';
import type { FailoverErrorName, FailoverRecord, FailoverStatus } from '../../core/failover/types.ts';
import { newestPosition } from '../../core/replication/lag.ts';
import type { RegionStatusRecord } from '../../core/state/records.ts';
import { isoTime } from '../../core/time.ts';
import type { Topology } from '../../core/topology/types.ts';
import type { Failovers, HealthViews, Heartbeats, RegionStatuses } from '../../ports.ts';
import type { ControlDeps, WithState } from '../deps.ts';
import { defaultStatus } from '../live-state.ts';

/** Statuses of a failover that is still going; every other status is final (one list, in core). */
export const ACTIVE_STATUSES: readonly FailoverStatus[] = ACTIVE_FAILOVER_STATUSES;

export function isActive(record: FailoverRecord): boolean {
  return isActiveFailoverStatus(record.status);
}

/** Error names the workflow acts on, plus `FailureNotConfirmed` (verify_failure: nothing to fail over). */
export type StepErrorName = FailoverErrorName | 'FailureNotConfirmed' | 'FailoverFinished';

export function stepError(name: StepErrorName, message: string, cause?: unknown): FailoverStepError {
  return new FailoverStepError(name, message, cause === undefined ? undefined : { cause });
}

/** The record as the API shows it: the approval token stays inside (it answers the workflow). */
export type FailoverView = Omit<FailoverRecord, 'approval_token'>;

export function toView(record: FailoverRecord): FailoverView {
  const { approval_token: _token, ...view } = record;
  return view;
}

export async function readFailover(state: Failovers, failoverId: string): Promise<FailoverRecord> {
  const record = await state.getFailover(failoverId);
  if (!record) throw new NotFoundError('failover', failoverId);
  return record;
}

/** Publishes events; delivery is best effort and never fails a failover step (EventsPort contract). */
export async function publish(
  deps: Omit<ControlDeps, 'state'>,
  type: string,
  detail: Readonly<Record<string, unknown>>,
): Promise<void> {
  try {
    await deps.events.publish([
      { type, source_region: deps.regionId, time: isoTime(deps.clock.now()), detail },
    ]);
  } catch {
    // EventsPort implementations log their own failures; a failover never waits on them.
  }
}

/** The role a region has when no failover has touched it (deployment.regions[id].role). */
export function topologyRole(topology: Topology, regionId: string): string {
  return topology.deployment.regions[regionId]?.role ?? 'active';
}

type StatusChange = Partial<Pick<RegionStatusRecord, 'status' | 'role' | 'reason'>>;

export interface Moved {
  /** The status before this call (after any concurrent change it re-read). */
  readonly before: RegionStatusRecord;
  /** The status now: `before` when nothing was written. */
  readonly after: RegionStatusRecord;
  readonly wrote: boolean;
}

/**
 * Writes one region's status with epoch + 1 unless `decide` (given the stored status) answers
 * undefined. A conflicting write re-reads and asks `decide` again; `decide` may throw to stop.
 */
export async function moveRegion(
  deps: WithState<ControlDeps, RegionStatuses>,
  regionId: string,
  updatedBy: string,
  decide: (current: RegionStatusRecord) => StatusChange | undefined,
): Promise<Moved> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const stored = await deps.state.getRegionStatus(regionId);
    const current = stored ?? defaultStatus(deps.topology, regionId);
    const change = decide(current);
    if (!change) return { before: current, after: current, wrote: false };
    const next: RegionStatusRecord = {
      ...current,
      ...change,
      region_id: regionId,
      epoch: current.epoch + 1,
      updated_at: isoTime(deps.clock.now()),
      updated_by: updatedBy,
    };
    try {
      await deps.state.putRegionStatus(next, stored ? current.epoch : undefined);
      return { before: current, after: next, wrote: true };
    } catch (error) {
      if (error instanceof ConflictError) continue;
      throw error;
    }
  }
  throw stepError('TransientError', `the status of ${regionId} kept changing while this failover wrote it`);
}

/** The failed region's last write marker this replica knows of: its heartbeat or what observers saw. */
export async function lastKnownHeartbeat(
  state: Heartbeats & HealthViews,
  regionId: string,
): Promise<{ readonly seq: number; readonly at: number } | undefined> {
  const [heartbeats, views] = await Promise.all([state.listHeartbeats(), state.listTargetHealth()]);
  // The lag monitor's reading (lib/core/replication/lag.ts): one definition of "last known".
  const reported = views.filter((view) => view.target === regionId).map((view) => view.reported_heartbeat);
  return newestPosition(regionId, heartbeats, reported);
}

/** Seconds with one decimal. */
export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
