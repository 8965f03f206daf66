/**
 * The workflow's rollback: restores every status this failover changed (the rollback criteria:
 * target failure, data sync failure, validation failure, operator abort), each with a higher epoch.
 * A status someone else changed since is left alone. Ends `cancelled` when the failover stopped
 * before it changed anything on purpose (declined, unconfirmed), else `rolled_back`. Idempotent: a
 * final record answers its status.
 */
import type { FailoverRecord, FailoverStatus } from '../../core/failover/types.ts';
import type { RegionStatusRecord } from '../../core/state/records.ts';
import type { ControlDeps } from '../deps.ts';
import { ACTIVE_STATUSES, isActive, iso, moveRegion, type StepErrorName } from './shared.ts';
import type { FailoverActionResult, StepContext, StepEvent } from './step-context.ts';
import { caughtError } from './step-helpers.ts';
import { alreadyFinal, finish } from './step-record.ts';

const CANCELLING: readonly string[] = ['ApprovalDeclined', 'FailureNotConfirmed'] satisfies StepErrorName[];

/** Ours: this failover's forward writes carry its id, its rollback writes `<id>/rollback`. */
const rollbackMarker = (failoverId: string) => `${failoverId}/rollback`;

type CaughtError = ReturnType<typeof caughtError>;

interface Restored {
  readonly restored: readonly RegionStatusRecord[];
  /** Statuses left alone, each with who changed it. */
  readonly notes: readonly string[];
}

export async function rollback(ctx: StepContext): Promise<FailoverActionResult> {
  const { deps, record } = ctx;
  if (!isActive(record)) return alreadyFinal(ctx);
  const error = caughtError(ctx.event);
  const { restored, notes } = await restoreStatuses(deps, record, error);
  await advanceUntouchedFailed(deps, record, error);
  const cancelled = CANCELLING.includes(error.name) || record.status === 'awaiting_approval';
  const status: FailoverStatus = cancelled ? 'cancelled' : 'rolled_back';
  const now = iso(deps.clock.now());
  const detail =
    `${status === 'cancelled' ? 'cancelled' : 'rolled back'} after ${error.name}: ${error.message}` +
    `${restored.length ? `; restored ${restored.map((r) => `${r.region_id} to ${r.status}/${r.role}`).join(', ')}` : '; no status to restore'}` +
    `${notes.length ? `; ${notes.join('; ')}` : ''}`;
  return finish(ctx, {
    outcome: 'succeeded',
    detail,
    patch: { status, completed_at: now, error: { name: error.name, message: error.message } },
    result: { status },
    events: rollbackEvents(record, status, error, restored),
    expectedStatuses: ACTIVE_STATUSES,
  });
}

/** Puts back each status this failover wrote, newest capture first; another writer's change stays. */
async function restoreStatuses(
  deps: ControlDeps,
  record: FailoverRecord,
  error: CaughtError,
): Promise<Restored> {
  const id = record.failover_id;
  const restoredBy = rollbackMarker(id);
  const notes: string[] = [];
  const restored: RegionStatusRecord[] = [];
  for (const previous of [...record.previous_statuses].reverse()) {
    const moved = await moveRegion(deps, previous.region_id, restoredBy, (current) => {
      if (current.updated_by === restoredBy) return undefined;
      if (current.updated_by !== id) {
        if (current.epoch !== previous.epoch) {
          notes.push(`${previous.region_id} left as ${current.status} (changed by ${current.updated_by})`);
        }
        return undefined;
      }
      return {
        status: previous.status,
        role: previous.role,
        reason: `restored by the rollback of ${id} (${error.name})`,
      };
    });
    if (moved.wrote) restored.push(moved.after);
  }
  return { restored, notes };
}

/**
 * Nothing written for the failed region: move its epoch anyway, so the next failover of it gets a
 * new id (ids embed the epoch) instead of colliding with this finished one.
 */
async function advanceUntouchedFailed(
  deps: ControlDeps,
  record: FailoverRecord,
  error: CaughtError,
): Promise<void> {
  const touchedFailed = record.previous_statuses.some((s) => s.region_id === record.failed_region);
  if (touchedFailed) return;
  const restoredBy = rollbackMarker(record.failover_id);
  await moveRegion(deps, record.failed_region, restoredBy, (current) =>
    current.epoch === record.epoch && current.updated_by !== restoredBy
      ? {
          reason: `failover ${record.failover_id} ended without changing ${record.failed_region} (${error.name})`,
        }
      : undefined,
  );
}

function rollbackEvents(
  record: FailoverRecord,
  status: FailoverStatus,
  error: CaughtError,
  restored: readonly RegionStatusRecord[],
): StepEvent[] {
  const id = record.failover_id;
  return [
    ...restored.map((r) => ({
      type: 'region.restored',
      detail: { region: r.region_id, status: r.status, role: r.role, epoch: r.epoch, failover_id: id },
    })),
    {
      type: status === 'cancelled' ? 'failover.cancelled' : 'failover.rolled_back',
      detail: {
        failover_id: id,
        failed_region: record.failed_region,
        target_region: record.target_region,
        error: error.name,
        message: error.message,
        restored: restored.map((r) => r.region_id),
      },
    },
  ];
}
