/**
 * An operator's emergency shutdown of a region, and bringing it back (the spec's
 * `emergency_regional_shutdown`). A shutdown is one conditional status write (epoch + 1): from that
 * write on the region's `/health` answers 503, the router excludes it, its workers accept nothing
 * new, and no probe starts an automatic failover of it. Its pending work is moved at once by each
 * handoff's keeper; accepted work may finish until the drain ends (`drain_until`), and what still
 * runs then is moved the same way (lib/app/handoffs/orphans.ts). An incident records who did what,
 * and an event notifies. Bringing it back is like a failback: it must still answer, epoch + 1.
 */
import { ConflictError, messageOf, NotFoundError } from '../../core/errors.ts';
import { healthPolicyOf, viewFreshForMs } from '../../core/health/evaluate.ts';
import {
  checkConfirmation,
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  type IncidentAuditEntry,
  type IncidentRecord,
  incidentIdFor,
  notAnsweringReason,
  restoredStatus,
  shutdownStatus,
} from '../../core/ops/shutdown.ts';
import { otherPrimaryThan, type RegionStatusRecord } from '../../core/state/records.ts';
import type { Failovers, Handoffs, HealthViews, Heartbeats, RegionStatuses } from '../../ports.ts';
import type { Ports } from '../deps.ts';
import { ACTIVE_STATUSES, topologyRole } from '../failover/shared.ts';
import { defaultStatus, readStatuses } from '../live-state.ts';
import type { IncidentDeps } from './deps.ts';

interface ShutdownRequest {
  readonly reason: string;
  readonly confirm?: string;
  readonly drain_timeout_seconds?: number;
  /** Who asks, as the edge identified the caller. */
  readonly requested_by?: string;
}

interface RestoreRequest {
  readonly confirm?: string;
  readonly reason?: string;
  readonly requested_by?: string;
}

interface ShutdownResult {
  readonly region: string;
  readonly status: RegionStatusRecord;
  readonly incident: IncidentRecord;
  /** Whether the notification was published (best effort: a shutdown never waits on it). */
  readonly notify_error?: string;
}

const NOTIFY_SHUTDOWN = 'region.emergency_shutdown';
const NOTIFY_RESTORE = 'region.restored';

export async function shutdownRegion(
  deps: IncidentDeps<RegionStatuses & Handoffs & Failovers>,
  regionId: string,
  request: ShutdownRequest,
): Promise<ShutdownResult> {
  requireRegion(deps, regionId);
  checkConfirmation(regionId, request.confirm, 'an emergency shutdown');
  const { state, topology, clock } = deps;
  const ops = deps.ops;
  const [stored, failovers] = await Promise.all([
    state.getRegionStatus(regionId),
    state.listFailovers(regionId),
  ]);
  const current = stored ?? defaultStatus(topology, regionId);
  const running = failovers.find((f) => ACTIVE_STATUSES.includes(f.status));
  if (running) {
    // Its steps write the region's status too: the two would undo each other.
    throw new ConflictError(
      'FAILOVER_IN_PROGRESS',
      `${running.failover_id} is ${running.status} for ${regionId}: abort it or let it end before a shutdown`,
      { failover_id: running.failover_id, status: running.status },
    );
  }
  const by = request.requested_by ?? 'operator';
  const now = clock.now();
  if (current.status === 'shutdown') {
    // A retry after the status write landed but the incident's did not: record it now; otherwise 409.
    const existing = await ops.getIncident(incidentIdFor(regionId, current.epoch));
    if (existing) return alreadyShutDown(current, existing);
  }
  const next =
    current.status === 'shutdown'
      ? current
      : shutdownStatus(current, {
          reason: request.reason,
          by: `emergency-shutdown@${deps.regionId} (${by})`,
          now,
          drainSeconds: request.drain_timeout_seconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS,
        });
  if (next !== current) await state.putRegionStatus(next, stored?.epoch);

  const handoffs = await state.listHandoffsByTarget(regionId);
  const at = new Date(now).toISOString();
  const audit: IncidentAuditEntry = {
    action: 'shutdown',
    at,
    by,
    via: deps.regionId,
    reason: request.reason,
    from_status: current.status === 'shutdown' ? 'unknown' : current.status,
    to_status: 'shutdown',
    epoch: next.epoch,
  };
  const notified = await notify(deps, NOTIFY_SHUTDOWN, at, {
    region: regionId,
    reason: request.reason,
    requested_by: by,
    epoch: next.epoch,
    drain_until: next.drain_until,
    incident_id: incidentIdFor(regionId, next.epoch),
  });
  const incident: IncidentRecord = {
    incident_id: incidentIdFor(regionId, next.epoch),
    kind: 'emergency_shutdown',
    region: regionId,
    reason: request.reason,
    status: 'open',
    opened_at: at,
    opened_by: by,
    epoch: next.epoch,
    drain_timeout_seconds: request.drain_timeout_seconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS,
    drain_until: next.drain_until ?? at,
    work_at_shutdown: {
      pending: handoffs.filter((h) => h.target_region === regionId && h.status === 'pending').length,
      accepted: handoffs.filter((h) => h.target_region === regionId && h.status === 'accepted').length,
    },
    notified: notified.error === undefined ? [NOTIFY_SHUTDOWN] : [],
    audit: [audit],
  };
  try {
    await ops.createIncident(incident);
  } catch (error) {
    if (!(error instanceof ConflictError && error.code === 'INCIDENT_EXISTS')) throw error;
    return alreadyShutDown(next, error.current as IncidentRecord);
  }
  return {
    region: regionId,
    status: next,
    incident,
    ...(notified.error === undefined ? {} : { notify_error: notified.error }),
  };
}

interface RestoreResult {
  readonly region: string;
  readonly status: RegionStatusRecord;
  readonly incident?: IncidentRecord;
  readonly notify_error?: string;
}

/** Brings a shut-down region back: it must still answer (heartbeat and views), then epoch + 1. */
export async function restoreRegion(
  deps: IncidentDeps<RegionStatuses & Heartbeats & HealthViews>,
  regionId: string,
  request: RestoreRequest,
): Promise<RestoreResult> {
  requireRegion(deps, regionId);
  checkConfirmation(regionId, request.confirm, 'a restore');
  const { state, topology, clock } = deps;
  const ops = deps.ops;
  const [stored, heartbeats, views, statuses] = await Promise.all([
    state.getRegionStatus(regionId),
    state.listHeartbeats(),
    state.listTargetHealth(),
    readStatuses(topology, state),
  ]);
  const current = stored ?? defaultStatus(topology, regionId);
  const by = request.requested_by ?? 'operator';
  const reason = request.reason ?? 'restored by an operator';
  const now = clock.now();
  // A primary shut down holds the role no more: back as its topology role if a failover promoted another.
  const stepsDown = current.role === 'primary' && otherPrimaryThan(statuses, regionId) !== undefined;
  const next = restoredStatus(current, {
    reason,
    by: `emergency-shutdown@${deps.regionId} (${by})`,
    now,
    ...(stepsDown ? { role: topologyRole(topology, regionId) } : {}),
  });
  const silent = notAnsweringReason({
    region: regionId,
    heartbeatAt: heartbeats.find((h) => h.region === regionId)?.at,
    views,
    now,
    freshForMs: viewFreshForMs(healthPolicyOf(topology)),
  });
  if (silent !== undefined) {
    throw new ConflictError(
      'REGION_NOT_ANSWERING',
      `${regionId} does not answer (${silent}); it stays shut down`,
      current,
    );
  }
  await state.putRegionStatus(next, stored?.epoch);
  const at = new Date(now).toISOString();
  const notified = await notify(deps, NOTIFY_RESTORE, at, {
    region: regionId,
    reason,
    requested_by: by,
    epoch: next.epoch,
    incident_id: incidentIdFor(regionId, current.epoch),
  });
  const open = await ops.getIncident(incidentIdFor(regionId, current.epoch));
  let incident: IncidentRecord | undefined;
  if (open?.status === 'open') {
    incident = {
      ...open,
      status: 'resolved',
      resolved_at: at,
      resolved_by: by,
      notified: notified.error === undefined ? [...open.notified, NOTIFY_RESTORE] : open.notified,
      audit: [
        ...open.audit,
        {
          action: 'restore',
          at,
          by,
          via: deps.regionId,
          reason,
          from_status: 'shutdown',
          to_status: next.status,
          epoch: next.epoch,
        },
      ],
    };
    await ops.replaceIncident(incident, 'open');
  }
  return {
    region: regionId,
    status: next,
    ...(incident ? { incident } : open ? { incident: open } : {}),
    ...(notified.error === undefined ? {} : { notify_error: notified.error }),
  };
}

/** Incidents, newest first; only the open ones with `open`. */
export async function listIncidents(
  deps: Pick<Ports, 'ops'>,
  filter: { readonly open?: boolean; readonly limit?: number } = {},
): Promise<{ incidents: IncidentRecord[] }> {
  const all = await deps.ops.listIncidents();
  return {
    incidents: all.filter((i) => !filter.open || i.status === 'open').slice(0, filter.limit ?? 100),
  };
}

function requireRegion(deps: Omit<IncidentDeps<unknown>, 'state'>, regionId: string): void {
  if (!deps.topology.regions.some((r) => r.region_id === regionId))
    throw new NotFoundError('region', regionId);
}

function alreadyShutDown(current: RegionStatusRecord, incident: IncidentRecord | undefined): never {
  throw new ConflictError(
    'REGION_ALREADY_SHUT_DOWN',
    `${current.region_id} is already shut down (epoch ${current.epoch}${incident ? `, ${incident.incident_id}` : ''})`,
    incident ?? current,
  );
}

async function notify(
  deps: Omit<IncidentDeps<unknown>, 'state'>,
  type: string,
  time: string,
  detail: Record<string, unknown>,
): Promise<{ error?: string }> {
  try {
    await deps.events.publish([{ type, source_region: deps.regionId, time, detail }]);
    return {};
  } catch (error) {
    return { error: messageOf(error) };
  }
}
