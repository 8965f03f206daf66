/** What several failover steps need: the chosen target, the policy's approval, first runs, captured statuses. */
import { messageOf } from '../../core/errors.ts';
import type { FailoverRecord } from '../../core/failover/types.ts';
import type { RegionStatusRecord } from '../../core/state/records.ts';
import { isoTime } from '../../core/time.ts';
import type { Failovers, HealthViews, Heartbeats, RegionStatuses } from '../../ports.ts';
import type { ControlDeps, WithState } from '../deps.ts';
import { readStatuses } from '../live-state.ts';
import { lastKnownHeartbeat, stepError } from './shared.ts';
import type { FailoverTaskEvent, StepContext } from './step-context.ts';

export function targetOf(record: FailoverRecord): string {
  if (record.target_region === undefined) {
    throw stepError('NoTargetRegion', `failover ${record.failover_id} has no target region yet`);
  }
  return record.target_region;
}

/** The policy's approval applies to automatic failovers: an operator's own request is the approval. */
export function approvalRequired(ctx: StepContext<unknown>): boolean {
  return (
    ctx.deps.topology.failover_policies.automatic_failover.require_manual_approval &&
    ctx.record.trigger === 'automatic'
  );
}

/** When this action first ran (the first of its steps), for the drain and sync max waits. */
export function firstRunOf(ctx: StepContext<unknown>): number {
  const first = ctx.record.steps.find((s) => s.action === ctx.event.action);
  return first ? Date.parse(first.started_at) : ctx.startedAt;
}

/**
 * Stores the status of each region before this failover first writes it, so a rollback can restore
 * it. Written before the status change itself; a region already captured is left as captured.
 */
export async function capturePrevious(
  ctx: StepContext<RegionStatuses & Failovers>,
  regionIds: readonly string[],
): Promise<readonly RegionStatusRecord[]> {
  const { deps, record } = ctx;
  const have = new Set(record.previous_statuses.map((s) => s.region_id));
  const missing = regionIds.filter((id) => !have.has(id));
  if (missing.length === 0) return record.previous_statuses;
  const statuses = await readStatuses(deps.topology, deps.state);
  const captured = [
    ...record.previous_statuses,
    ...missing.map((id) => statuses.get(id) as RegionStatusRecord),
  ];
  await deps.state.updateFailover(
    record.failover_id,
    { previous_statuses: captured, updated_at: isoTime(deps.clock.now()) },
    { expectedStatuses: ['running'] },
  );
  return captured;
}

/** The failed region's last heartbeat known here, and the target's replica's copy of it. */
export async function heartbeatsOf(
  deps: WithState<ControlDeps, HealthViews & Heartbeats>,
  target: string,
  failed: string,
) {
  const [known, copy] = await Promise.all([
    lastKnownHeartbeat(deps.state, failed),
    targetCopyOf(deps, target, failed),
  ]);
  return { known, copy };
}

async function targetCopyOf(deps: Omit<ControlDeps, 'state'>, target: string, failed: string) {
  try {
    return (await deps.replica(target).listHeartbeats()).find((h) => h.region === failed);
  } catch (error) {
    throw stepError('DataSyncFailure', `cannot read ${target}'s replica: ${messageOf(error)}`, error);
  }
}

/** The error the workflow caught, for rollback and mark-failed. */
export function caughtError(event: FailoverTaskEvent): { name: string; message: string } {
  const name = event.error?.Error ?? 'Unknown';
  const cause = event.error?.Cause ?? '';
  // Lambda errors arrive as a JSON Cause ({ errorType, errorMessage, trace }); local ones as text.
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return { name, message: parsed.errorMessage };
  } catch {
    // Plain text.
  }
  return { name, message: cause };
}
