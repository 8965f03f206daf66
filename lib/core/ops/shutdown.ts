/**
 * An operator's emergency shutdown of a region and its restore, as plain rules over plain data:
 * the confirmation, the status each writes (epoch + 1, like every status change) and the incident
 * record that audits both.
 */
import { ConflictError, ValidationError } from '../errors.ts';
import type { RegionStatusRecord } from '../state/records.ts';

/** The spec's graceful termination timeout (`graceful_workload_termination "$region" 300`). */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 300;
/** A drain longer than an hour is not an emergency shutdown any more. */
export const MAX_DRAIN_TIMEOUT_SECONDS = 3600;

export interface IncidentAuditEntry {
  readonly action: 'shutdown' | 'restore';
  /** ISO time. */
  readonly at: string;
  /** Who asked (the caller's identity as the edge saw it, else `operator`). */
  readonly by: string;
  /** The region whose API took the request. */
  readonly via: string;
  readonly reason: string;
  /** The region's status and epoch before and after. */
  readonly from_status: string;
  readonly to_status: string;
  readonly epoch: number;
}

/** The record of one emergency shutdown, kept in the state table (OpsPort). */
export interface IncidentRecord {
  readonly incident_id: string;
  readonly kind: 'emergency_shutdown';
  readonly region: string;
  readonly reason: string;
  /** `open` while the region is shut down; `resolved` once restored. */
  readonly status: 'open' | 'resolved';
  readonly opened_at: string;
  readonly opened_by: string;
  /** The status epoch the shutdown wrote. */
  readonly epoch: number;
  readonly drain_timeout_seconds: number;
  readonly drain_until: string;
  /** Work the region held when it was shut down: pending moves at once, accepted after the drain. */
  readonly work_at_shutdown: { readonly pending: number; readonly accepted: number };
  /** The events sent to notify (EventBridge on AWS, the event log locally). */
  readonly notified: readonly string[];
  readonly resolved_at?: string;
  readonly resolved_by?: string;
  /** Every operator action on it, oldest first. */
  readonly audit: readonly IncidentAuditEntry[];
}

export function incidentIdFor(region: string, epoch: number): string {
  return `incident-${region}-e${epoch}`;
}

/**
 * The confirmation rule: the caller names the region again in `confirm`, so a shutdown (or a
 * restore) never happens from a typo in the path or a replayed request for another region.
 */
export function checkConfirmation(regionId: string, confirm: string | undefined, action: string): void {
  if (confirm === undefined) {
    throw new ValidationError(`${action} needs a confirmation`, [
      { field: 'confirm', reason: `required: send "confirm": "${regionId}" to ${action} ${regionId}` },
    ]);
  }
  if (confirm !== regionId) {
    throw new ValidationError(`${action} not confirmed`, [
      { field: 'confirm', reason: `must equal the region id "${regionId}", got "${confirm}"` },
    ]);
  }
}

/** The status a shutdown writes: not serving, epoch + 1, with the end of its drain. */
export function shutdownStatus(
  current: RegionStatusRecord,
  input: {
    readonly reason: string;
    readonly by: string;
    readonly now: number;
    readonly drainSeconds: number;
  },
): RegionStatusRecord {
  if (current.status === 'shutdown') {
    throw new ConflictError(
      'REGION_ALREADY_SHUT_DOWN',
      `${current.region_id} is already shut down (epoch ${current.epoch}): ${current.reason ?? ''}`.trim(),
      current,
    );
  }
  return {
    region_id: current.region_id,
    status: 'shutdown',
    role: current.role,
    epoch: current.epoch + 1,
    reason: `emergency shutdown: ${input.reason}`,
    drain_until: new Date(input.now + input.drainSeconds * 1000).toISOString(),
    updated_at: new Date(input.now).toISOString(),
    updated_by: input.by,
  };
}

/**
 * The status a restore writes: serving again (healthy), epoch + 1, like a failback. `role` is the
 * role it serves as when not its own: a shut-down primary holds the role no more, and comes back
 * as its topology role when another region was promoted meanwhile (one primary at a time).
 */
export function restoredStatus(
  current: RegionStatusRecord,
  input: { readonly reason: string; readonly by: string; readonly now: number; readonly role?: string },
): RegionStatusRecord {
  if (current.status !== 'shutdown') {
    throw new ConflictError(
      'REGION_NOT_SHUT_DOWN',
      `${current.region_id} is ${current.status}: only a shut-down region is restored here`,
      current,
    );
  }
  return {
    region_id: current.region_id,
    status: 'healthy',
    role: input.role ?? current.role,
    epoch: current.epoch + 1,
    reason: `restored after an emergency shutdown: ${input.reason}`,
    updated_at: new Date(input.now).toISOString(),
    updated_by: input.by,
  };
}

/**
 * Whether a shut-down region still answers, from this replica alone (data plane only): its own
 * heartbeat (it keeps probing while shut down) is at most `freshForMs` old, and at least one fresh
 * observer view reaches it. Undefined when it does; the reason otherwise.
 */
export function notAnsweringReason(input: {
  readonly region: string;
  readonly heartbeatAt: number | undefined;
  readonly views: readonly {
    readonly target: string;
    readonly reachable?: boolean;
    readonly updated_at: number;
  }[];
  readonly now: number;
  readonly freshForMs: number;
}): string | undefined {
  const { region, heartbeatAt, views, now, freshForMs } = input;
  if (heartbeatAt === undefined) return `no heartbeat of ${region} in this replica`;
  const age = now - heartbeatAt;
  if (age > freshForMs) {
    return `${region}'s last heartbeat is ${Math.round(age / 1000)} s old (at most ${Math.round(freshForMs / 1000)} s)`;
  }
  const fresh = views.filter((v) => v.target === region && now - v.updated_at <= freshForMs);
  if (fresh.length > 0 && !fresh.some((v) => v.reachable !== false)) {
    return `no observer reaches ${region} (${fresh.length} fresh view(s), all unreachable)`;
  }
  return undefined;
}
