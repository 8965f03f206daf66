/**
 * Moving handoffs away from a region that no longer serves: the failover's redirect step and the
 * sweep of handoffs that reach a failed region after it (lib/app/handoffs/orphans.ts) both move them
 * by these rules. Each task is re-routed with its own request by the routing core (plan.ts); its
 * resources move with it: reserved in the new region (under a hold of its own) before the handoff
 * points there, released in the old one after (a crash between leaves the old hold held until the
 * reconciler of the region that made it finds the record naming the new one: resources/holds.ts).
 *
 * Pending work moves as it is. Accepted work moves only when the caller says why its acceptance ended
 * (`interrupted`: a failed-over region's task still running when the drain's wait ran out): it is
 * pending again in its new region, and the ended acceptance is kept on the record. Each move is one
 * conditional write from the status the handoff was read in, so work that finished meanwhile stays.
 */
import { ConflictError } from '../../core/errors.ts';
import { holdRef, hourBucket, type Reservation, taskNeeds } from '../../core/resources/pool.ts';
import type { Handoff, RegionStatusRecord } from '../../core/state/records.ts';
import type { Handoffs } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import { rerouteHandoffs, type WorkloadKeptPending, type WorkloadMove } from '../failover/plan.ts';
import type { ReservedHandoff } from '../resources/accounting.ts';
import { readLiveStates } from '../resources/pools.ts';

export interface RedirectOutcome {
  /** Where the routing core would send each handoff. */
  readonly moves: readonly WorkloadMove[];
  /** The moves made (reserved and written): what actually moved. */
  readonly moved: readonly WorkloadMove[];
  /** Handoffs no region can take now, with each one's reasons. */
  readonly kept: WorkloadKeptPending[];
  /** How many handoffs this call moved. */
  readonly migrated: number;
  /** Handoffs changed by their region meanwhile (accepted or finished): no longer to move. */
  readonly raced: number;
  /** Of `migrated`, the accepted handoffs whose acceptance was interrupted. */
  readonly interrupted: number;
}

export async function redirectHandoffs(
  deps: WithState<RegionalDeps, Handoffs>,
  failed: string,
  handoffs: readonly ReservedHandoff[],
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  /** Why accepted handoffs among `handoffs` may move; without it only pending ones do. */
  interrupted?: string,
): Promise<RedirectOutcome> {
  const movable = handoffs.filter(
    (h) => h.status === 'pending' || (h.status === 'accepted' && interrupted !== undefined),
  );
  const { live, pools } = await readLiveStates(deps, statuses);
  const { moves, kept } = rerouteHandoffs(deps, movable, statuses, live);
  const byId = new Map(movable.map((h) => [h.handoff_id, h]));
  const at = new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const moved: WorkloadMove[] = [];
  let raced = 0;
  let interruptedCount = 0;
  for (const move of moves) {
    const handoff = byId.get(move.handoff_id);
    const from = handoff?.status ?? 'pending';
    let reservation: Reservation | undefined;
    const pool = pools?.get(move.to);
    if (deps.resources && pool) {
      const { hold: _old, ...need } = handoff?.reservation ?? reservationOf(handoff);
      const now = deps.clock.now();
      // A hold of its own: the old one is released apart, whoever else releases it too.
      reservation = {
        ...need,
        region: move.to,
        hour: hourBucket(now),
        hold: holdRef(move.handoff_id, move.to, deps.regionId, now),
      };
      try {
        await deps.resources.reserve(reservation, { ...pool, hour: reservation.hour });
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        kept.push({
          handoff_id: move.handoff_id,
          task_id: move.task_id,
          reasons: [`${move.to}: no room to reserve its resources (${error.message})`],
        });
        continue;
      }
    }
    try {
      await deps.state.redirectHandoff(
        move.handoff_id,
        {
          target_region: move.to,
          status: 'pending',
          routing_score: move.routing_score,
          redirected_from: failed,
          ...(reservation ? { reservation } : {}),
          ...(from === 'accepted' && interrupted !== undefined
            ? {
                interrupted: {
                  region: failed,
                  ...(handoff?.accepted_at === undefined ? {} : { accepted_at: handoff.accepted_at }),
                  ...(handoff?.accepted_by === undefined ? {} : { accepted_by: handoff.accepted_by }),
                  at,
                  reason: interrupted,
                },
              }
            : {}),
        },
        from,
      );
      moved.push(move);
      if (from === 'accepted') interruptedCount += 1;
    } catch (error) {
      if (reservation) await deps.resources?.release(reservation, -reservation.tokens);
      // Changed by its region meanwhile (accepted, or finished): it stays where it is.
      if (error instanceof ConflictError) {
        raced += 1;
        continue;
      }
      throw error;
    }
    const old = handoff?.reservation;
    if (old && deps.resources) await deps.resources.release(old, -old.tokens);
  }
  return { moves, moved, kept, migrated: moved.length, raced, interrupted: interruptedCount };
}

/** What a handoff without a recorded reservation needs (its task's requirements, as the router reserves). */
function reservationOf(handoff: Handoff | undefined): Omit<Reservation, 'region' | 'hour'> {
  const requirements = ((handoff?.task as { requirements?: Parameters<typeof taskNeeds>[0] } | undefined)
    ?.requirements ?? {}) as Parameters<typeof taskNeeds>[0];
  const need = taskNeeds(requirements);
  return { workers: need.workers, tokens: need.tokens_per_hour, compute_units: need.compute_units };
}
