/**
 * Reserving a task's resources when it is routed and settling them when it ends.
 *
 * The router reserves on the chosen region with one conditional ADD that stays within the region's
 * allocation, counted by a hold of its own; the handoff records the reservation.
 * `complete` and `fail` settle the handoff with one conditional update on its status: only the call
 * that moves it out of an open status releases, so a retried completion releases nothing twice, and
 * the hold is released once whichever other path ends the task too. Settle-then-release: a crash in
 * between leaves the hold held until the reconciler of its region releases it (holds.ts).
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import { type HoldRef, hourBucket, type Reservation, taskNeeds } from '../../core/resources/pool.ts';
import type { RegionLiveState, RouteDecision, RouteInput } from '../../core/routing.ts';
import type { Handoff, RegionStatusRecord } from '../../core/state/records.ts';
import type { Handoffs } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import { liveStates } from '../live-state.ts';
import { readLiveStates } from './pools.ts';

/** A handoff as stored when its task reserved resources. */
export interface ReservedHandoff extends Handoff {
  readonly reservation?: Reservation;
  readonly settlement?: Settlement;
}

interface Settlement {
  readonly outcome: 'completed' | 'failed';
  readonly at: string;
  /** Tokens the task consumed (charged to the reservation's hour). */
  readonly tokens_used: number;
  readonly released: { readonly workers: number; readonly compute_units: number; readonly tokens: number };
  readonly reason?: string;
}

/** Attempts at reserving when another router or the rebalancer changed the pool meanwhile. */
const RESERVE_ATTEMPTS = 3;

/**
 * Decides with live usage and reserves on the chosen region; a region that filled up or was
 * rebalanced between the read and the write is read again and the decision taken again.
 */
export async function decideAndReserve(
  deps: Omit<RegionalDeps, 'state'>,
  input: RouteInput,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  decide: (live: ReadonlyMap<string, RegionLiveState>) => RouteDecision,
  /** The hold that counts a reservation on `region` made at `now`. */
  holdFor: (region: string, now: number) => HoldRef,
): Promise<{ decision: RouteDecision; reservation: Reservation | undefined }> {
  const { resources } = deps;
  if (!resources) return { decision: decide(liveStates(deps.topology, statuses)), reservation: undefined };
  let lastError: unknown;
  for (let attempt = 0; attempt < RESERVE_ATTEMPTS; attempt++) {
    const { live, pools } = await readLiveStates(deps, statuses);
    const decision = decide(live);
    const pool = decision.region === undefined ? undefined : pools?.get(decision.region);
    if (decision.region === undefined || !pool) return { decision, reservation: undefined };
    const need = taskNeeds(input.requirements);
    const now = deps.clock.now();
    const reservation: Reservation = {
      region: decision.region,
      hour: hourBucket(now),
      workers: need.workers,
      tokens: need.tokens_per_hour,
      compute_units: need.compute_units,
      hold: holdFor(decision.region, now),
    };
    try {
      await resources.reserve(reservation, { ...pool, hour: reservation.hour });
      return { decision, reservation };
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

/** Gives a reservation back when its handoff was never recorded (another request won the write). */
export async function cancelReservation(
  deps: Omit<RegionalDeps, 'state'>,
  reservation: Reservation | undefined,
) {
  if (reservation && deps.resources) await deps.resources.release(reservation, -reservation.tokens);
}

interface SettleRequest {
  /** Tokens actually consumed; default: the estimate on completion, nothing on failure. */
  readonly actual_tokens?: number;
  readonly reason?: string;
}

interface SettleResponse {
  readonly handoff_id: string;
  readonly status: 'completed' | 'failed';
  /** False when an earlier call settled it (this one changed nothing). */
  readonly settled_now: boolean;
  readonly settlement?: Settlement;
}

/** `POST /v1/handoffs/{id}/complete` and `/fail`: settles once, releasing the reservation once. */
export async function settleHandoff(
  deps: WithState<RegionalDeps, Handoffs>,
  handoffId: string,
  outcome: 'completed' | 'failed',
  request: SettleRequest,
): Promise<SettleResponse> {
  const { resources, state } = deps;
  if (!resources) throw new Error('no resource pool in the deps (deps.resources)');
  const existing = (await state.getHandoff(handoffId)) as ReservedHandoff | undefined;
  if (!existing) throw new NotFoundError('handoff', handoffId);
  if (existing.settlement) return answerSettled(existing, outcome);
  const reservation = existing.reservation;
  const estimated = reservation?.tokens ?? 0;
  const used = request.actual_tokens ?? (outcome === 'completed' ? estimated : 0);
  const settlement: Settlement = {
    outcome,
    at: new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    tokens_used: used,
    released: {
      workers: reservation?.workers ?? 0,
      compute_units: reservation?.compute_units ?? 0,
      tokens: estimated - used,
    },
    ...(request.reason === undefined ? {} : { reason: request.reason }),
  };
  const before = (await resources.settleHandoff(handoffId, outcome, settlement)) as
    | ReservedHandoff
    | undefined;
  if (!before) {
    const current = (await state.getHandoff(handoffId)) as ReservedHandoff | undefined;
    if (current?.settlement) return answerSettled(current, outcome);
    throw new ConflictError(
      'HANDOFF_NOT_OPEN',
      `handoff ${handoffId} is ${current?.status ?? 'missing'}; it cannot become ${outcome} (only from pending, accepted or redirected)`,
      current,
    );
  }
  // This call moved it out of an open status: the one release of its reservation.
  if (before.reservation) await resources.release(before.reservation, used - before.reservation.tokens);
  return { handoff_id: handoffId, status: outcome, settled_now: true, settlement };
}

function answerSettled(handoff: ReservedHandoff, outcome: 'completed' | 'failed'): SettleResponse {
  const settlement = handoff.settlement as Settlement;
  if (settlement.outcome !== outcome) {
    throw new ConflictError(
      'HANDOFF_SETTLED',
      `handoff ${handoff.handoff_id} is ${settlement.outcome}; it cannot become ${outcome} (already settled)`,
      handoff,
    );
  }
  return { handoff_id: handoff.handoff_id, status: outcome, settled_now: false, settlement };
}
