/**
 * The workflow's rollback: restores every status this failover changed (the rollback criteria:
 * target failure, data sync failure, validation failure, operator abort), each with a higher epoch.
 * A status someone else changed since is left alone. Ends `cancelled` when the failover stopped
 * before it changed anything on purpose (declined, unconfirmed), else `rolled_back`. Idempotent: a
 * final record answers its status.
 *
 * Two exceptions: a region this failover took out of the quorum (draining, failed) that a majority of
 * fresh views still cannot reach is kept `failed`, not restored (see keptOut); and the primary role
 * is given back only while no other region holds it (see restoreStatuses).
 */

import { isDecisionOf } from '../../core/failover/adopted.ts';
import { reachedByMajorityAsMember, rollbackMarker } from '../../core/failover/kept-failed.ts';
import type { FailoverRecord, FailoverStatus } from '../../core/failover/types.ts';
import { assess } from '../../core/health/quorum.ts';
import { isServing, otherPrimaryThan, type RegionStatusRecord } from '../../core/state/records.ts';
import { isoTime } from '../../core/time.ts';
import type { HealthViews, RegionStatuses } from '../../ports.ts';
import type { ControlDeps, WithState } from '../deps.ts';
import { readStatuses } from '../live-state.ts';
import { ACTIVE_STATUSES, isActive, moveRegion, type StepErrorName, topologyRole } from './shared.ts';
import type { FailoverActionResult, StepContext, StepEvent } from './step-context.ts';
import { caughtError } from './step-helpers.ts';
import { alreadyFinal, finish } from './step-record.ts';

const CANCELLING: readonly string[] = ['ApprovalDeclined', 'FailureNotConfirmed'] satisfies StepErrorName[];

type CaughtError = ReturnType<typeof caughtError>;

interface Restored {
  readonly restored: readonly RegionStatusRecord[];
  /** Regions kept out of the quorum (`failed`) instead of restored: a majority still cannot reach them. */
  readonly keptFailed: readonly RegionStatusRecord[];
  /** Statuses left alone, each with who changed it. */
  readonly notes: readonly string[];
}

export async function rollback(ctx: StepContext): Promise<FailoverActionResult> {
  const { deps, record } = ctx;
  if (!isActive(record)) return alreadyFinal(ctx);
  const error = caughtError(ctx.event);
  const { restored, keptFailed, notes } = await restoreStatuses(deps, record, error);
  await advanceUntouchedFailed(deps, record, error);
  const cancelled = CANCELLING.includes(error.name) || record.status === 'awaiting_approval';
  const status: FailoverStatus = cancelled ? 'cancelled' : 'rolled_back';
  const now = isoTime(deps.clock.now());
  const detail =
    `${status === 'cancelled' ? 'cancelled' : 'rolled back'} after ${error.name}: ${error.message}` +
    `${restored.length ? `; restored ${restored.map((r) => `${r.region_id} to ${r.status}/${r.role}`).join(', ')}` : '; no status to restore'}` +
    `${keptFailed.length ? `; kept ${keptFailed.map((r) => r.region_id).join(', ')} failed: a majority of fresh views still cannot reach it` : ''}` +
    `${notes.length ? `; ${notes.join('; ')}` : ''}`;
  return finish(ctx, {
    outcome: 'succeeded',
    detail,
    patch: { status, completed_at: now, error: { name: error.name, message: error.message } },
    result: { status },
    events: rollbackEvents(record, status, error, restored, keptFailed),
    expectedStatuses: ACTIVE_STATUSES,
  });
}

/**
 * Puts back each status this failover wrote, newest capture first; another writer's change stays.
 * The primary role is given back last, and only while no other region holds it (holdsPrimary):
 * putting the target's own role back first frees the role this failover gave, and a region another
 * failover promoted meanwhile keeps it, so the restored one comes back as its topology role. Given
 * back blindly, a primary this failover had drained came back beside the one promoted meanwhile
 * (seed 427337: two primaries until a later failover happened to fail one of them).
 */
async function restoreStatuses(
  deps: WithState<ControlDeps, RegionStatuses & HealthViews>,
  record: FailoverRecord,
  error: CaughtError,
): Promise<Restored> {
  const id = record.failover_id;
  const restoredBy = rollbackMarker(id);
  const unreachable = await keptOut(deps, record);
  const notes: string[] = [];
  const restored: RegionStatusRecord[] = [];
  const keptFailed: RegionStatusRecord[] = [];
  const newestFirst = [...record.previous_statuses].reverse();
  const primaryLast = [
    ...newestFirst.filter((s) => s.role !== 'primary'),
    ...newestFirst.filter((s) => s.role === 'primary'),
  ];
  for (const previous of primaryLast) {
    const keep = unreachable.has(previous.region_id);
    const holder =
      previous.role === 'primary'
        ? otherPrimaryThan(await readStatuses(deps.topology, deps.state), previous.region_id)
        : undefined;
    const moved = await moveRegion(deps, previous.region_id, restoredBy, (current) => {
      if (current.updated_by === restoredBy) return undefined;
      // The failed region's copy of this failover's decision is this failover's write (isDecisionOf).
      if (!isDecisionOf(record, current)) {
        if (current.epoch !== previous.epoch) {
          notes.push(`${previous.region_id} left as ${current.status} (changed by ${current.updated_by})`);
        }
        return undefined;
      }
      if (keep) {
        return {
          status: 'failed',
          role: previous.role,
          reason: `kept failed by the rollback of ${id} (${error.name}): a majority of fresh views still cannot reach ${previous.region_id}; its next failover moves its work, a failback returns it`,
        };
      }
      if (holder) {
        const role = topologyRole(deps.topology, previous.region_id);
        return {
          status: previous.status,
          role,
          reason: `restored by the rollback of ${id} (${error.name}) as ${role}: ${holder.region_id} is primary now`,
        };
      }
      return {
        status: previous.status,
        role: previous.role,
        reason: `restored by the rollback of ${id} (${error.name})`,
      };
    });
    if (moved.wrote) (keep ? keptFailed : restored).push(moved.after);
  }
  return { restored, keptFailed, notes };
}

/**
 * The regions this failover took out of the quorum (draining or failed now, a member status before)
 * that the rollback must not make members again: a majority of the fresh views in the coordinator's
 * replica cannot reach them, and the coordinator itself holds a quorum (a cut-off coordinator cannot
 * tell a dead region from its own cut, so it restores as before).
 *
 * Why keep them out rather than restore them: a restored region that nobody reaches is a quorum
 * member again, so a cascade (the target dies while this failover runs, a survivor takes it over and
 * rolls it back) leaves the survivor reaching 2 of 4 members (itself and the witness): it fences and
 * nothing serves, although one region and the witness are alive. Kept `failed`, the region stays out
 * of the quorum as after a completed failover: the survivor holds a majority of the members left,
 * fails the target over to itself, then starts the next failover of the kept region (a new epoch,
 * so never a second failover of one failure; RoundActions.keptFailed) to a survivor that can serve,
 * and the region returns through a failback once it answers, as after any failover. Rejected:
 * re-targeting the failover instead of rolling it back (its data sync and drain would have to run
 * again against a target chosen mid-flight, and an operator's abort would still restore a dead
 * region), and changing the quorum itself (dropping unreachable regions from the membership, or a
 * witness breaking half-half ties: either lets two sides that see different views each count
 * themselves a majority).
 */
async function keptOut(
  deps: WithState<ControlDeps, RegionStatuses & HealthViews>,
  record: FailoverRecord,
): Promise<ReadonlySet<string>> {
  const { topology, regionId } = deps;
  const [statuses, views] = await Promise.all([
    readStatuses(topology, deps.state),
    deps.state.listTargetHealth(),
  ]);
  const now = deps.clock.now();
  const out = new Set<string>();
  if (assess({ topology, observer: regionId, statuses, views, now }).cut_off) return out;
  for (const previous of record.previous_statuses) {
    const current = statuses.get(previous.region_id);
    const wasMember = isServing(previous.status) || previous.status === 'fenced';
    if (!current || !wasMember || isServing(current.status) || current.status === 'fenced') continue;
    // The quorum as the restore would make it: is the region a member that a majority reaches?
    const input = { topology, observer: regionId, statuses, views, now };
    if (!reachedByMajorityAsMember(input, previous.region_id, previous.status)) out.add(previous.region_id);
  }
  return out;
}

/**
 * Nothing written for the failed region: move its epoch anyway, so the next failover of it gets a
 * new id (ids embed the epoch) instead of colliding with this finished one.
 */
async function advanceUntouchedFailed(
  deps: WithState<ControlDeps, RegionStatuses>,
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
  keptFailed: readonly RegionStatusRecord[],
): StepEvent[] {
  const id = record.failover_id;
  return [
    ...restored.map((r) => ({
      type: 'region.restored',
      detail: { region: r.region_id, status: r.status, role: r.role, epoch: r.epoch, failover_id: id },
    })),
    ...keptFailed.map((r) => ({
      type: 'region.failed',
      detail: {
        region: r.region_id,
        epoch: r.epoch,
        failover_id: id,
        kept_by_rollback: true,
        reason: r.reason,
      },
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
        kept_failed: keptFailed.map((r) => r.region_id),
      },
    },
  ];
}
