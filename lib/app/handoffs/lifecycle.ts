/**
 * Reading handoffs back and the target region's side of their lifecycle:
 * `GET /v1/handoffs` (paged), `GET /v1/handoffs/{id}` and `POST /v1/handoffs/{id}/accept`.
 *
 * pending -> accepted -> completed | failed. Each move is one conditional write on the handoff's
 * status (StatePort.transitionHandoff); repeating a move that already happened answers the record as
 * it is (200), a move the status does not allow is a 409 naming both. Only the handoff's target region
 * moves it: its workers call their own region's API, so each handoff has one writer at a time (a
 * conditional write on a global table is checked against the local replica only).
 */
import { ConflictError, NotFoundError, RegionNotServingError, ValidationError } from '../../core/errors.ts';
import {
  HANDOFF_TRANSITIONS,
  type Handoff,
  type HandoffStatus,
  isServing,
} from '../../core/state/records.ts';
import type { Handoffs, HealthViews, Heartbeats, RegionStatuses } from '../../ports.ts';
import type { RegionalDeps, WithState } from '../deps.ts';
import { catchingUp, defaultStatus, readStatuses } from '../live-state.ts';

/** A handoff as the API shows it: everything but the request digest. */
export type HandoffView = Omit<Handoff, 'request_hash'>;

function handoffView(handoff: Handoff): HandoffView {
  const { request_hash: _hash, ...view } = handoff;
  return view;
}

export const HANDOFF_LIST_MAX = 100;
const HANDOFF_LIST_DEFAULT = 25;

interface HandoffQuery {
  /** Target region; default every region of the topology. */
  readonly region?: string;
  readonly status?: HandoffStatus;
  /** The cursor of the previous page (`next`). */
  readonly after?: string;
  readonly limit?: number;
}

export interface HandoffPage {
  readonly handoffs: readonly HandoffView[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/** A page's position: the last handoff's creation time and id (the per-target index's sort key). */
function cursorOf(handoff: Handoff): string {
  return Buffer.from(`${handoff.created_at}#${handoff.handoff_id}`, 'utf8').toString('base64url');
}

function positionOf(after: string): string {
  const position = Buffer.from(after, 'base64url').toString('utf8');
  if (!/^\d{4}-\d\d-\d\dT[^#]+#.+$/.test(position) || Buffer.from(position).toString('base64url') !== after) {
    throw new ValidationError('invalid handoff listing', [
      { field: 'after', reason: 'is not a cursor of this listing (pass the `next` of the previous page)' },
    ]);
  }
  return position;
}

/**
 * Handoffs this region's replica holds, oldest first (by creation time, then id), `limit` at a time.
 * Each target region's handoffs are one indexed Query; a listing of every region merges them.
 */
export async function listHandoffs(
  deps: WithState<RegionalDeps, Handoffs>,
  query: HandoffQuery,
): Promise<HandoffPage> {
  const regionIds = deps.topology.regions.map((r) => r.region_id);
  if (query.region !== undefined && !regionIds.includes(query.region)) {
    throw new ValidationError('invalid handoff listing', [
      { field: 'region', reason: `unknown region "${query.region}"; known: ${regionIds.join(', ')}` },
    ]);
  }
  const limit = query.limit ?? HANDOFF_LIST_DEFAULT;
  const after = query.after === undefined ? undefined : positionOf(query.after);
  const targets = query.region === undefined ? regionIds : [query.region];
  const lists = await Promise.all(targets.map((region) => deps.state.listHandoffsByTarget(region)));
  const key = (h: Handoff) => `${h.created_at}#${h.handoff_id}`;
  const matching = lists
    .flat()
    // The index lists a handoff under its current target; a replica may still list a moved one under
    // its old target until the move replicates.
    .filter((h) => targets.includes(h.target_region))
    .filter((h) => query.status === undefined || h.status === query.status)
    .filter((h) => after === undefined || key(h) > after)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const page = matching.slice(0, limit);
  const last = page[page.length - 1];
  return {
    handoffs: page.map(handoffView),
    ...(matching.length > limit && last ? { next: cursorOf(last) } : {}),
  };
}

export async function getHandoff(
  deps: WithState<RegionalDeps, Handoffs>,
  handoffId: string,
): Promise<HandoffView> {
  const handoff = await deps.state.getHandoff(handoffId);
  if (!handoff) throw new NotFoundError('handoff', handoffId);
  return handoffView(handoff);
}

/** The 409 of a move the handoff's status does not allow: both states named. */
function transitionConflict(handoff: Handoff, to: keyof typeof HANDOFF_TRANSITIONS): ConflictError {
  return new ConflictError(
    'HANDOFF_TRANSITION_INVALID',
    `handoff ${handoff.handoff_id} is ${handoff.status}; it cannot become ${to} (only from ${HANDOFF_TRANSITIONS[to].join(' or ')})`,
    handoff,
  );
}

/** Refuses a move asked of a region that is not the handoff's target (its workers are elsewhere). */
function requireTarget(deps: Omit<RegionalDeps, 'state'>, handoff: Handoff): void {
  if (handoff.target_region !== deps.regionId) {
    throw new ConflictError(
      'HANDOFF_ELSEWHERE',
      `handoff ${handoff.handoff_id} runs in ${handoff.target_region}, not ${deps.regionId}: its workers report there`,
      handoff,
    );
  }
}

interface AcceptRequest {
  /** The worker taking the task; a repeat by the same worker answers 200, another worker's a 409. */
  readonly worker?: string;
}

/**
 * `POST /v1/handoffs/{id}/accept`: the target region's worker takes the task. A region that does not
 * serve (draining, failed, fenced) takes no new work.
 */
export async function acceptHandoff(
  deps: WithState<RegionalDeps, RegionStatuses & Handoffs & HealthViews & Heartbeats>,
  handoffId: string,
  request: AcceptRequest,
): Promise<HandoffView> {
  const { state } = deps;
  const existing = await state.getHandoff(handoffId);
  if (!existing) throw new NotFoundError('handoff', handoffId);
  requireTarget(deps, existing);
  const repeat = (current: Handoff): HandoffView | undefined => {
    if (current.status !== 'accepted') return undefined;
    if ((current.accepted_by ?? undefined) !== (request.worker ?? undefined)) {
      throw new ConflictError(
        'HANDOFF_ACCEPTED_BY_OTHER',
        `handoff ${handoffId} is accepted by ${current.accepted_by ?? 'an unnamed worker'}, not ${request.worker ?? 'an unnamed worker'}`,
        current,
      );
    }
    return handoffView(current);
  };
  const again = repeat(existing);
  if (again) return again;
  if (!HANDOFF_TRANSITIONS.accepted.includes(existing.status)) throw transitionConflict(existing, 'accepted');
  const statuses = await readStatuses(deps.topology, state);
  const own = statuses.get(deps.regionId) ?? defaultStatus(deps.topology, deps.regionId);
  if (!isServing(own.status)) throw new RegionNotServingError(deps.regionId, own.status);
  const behind = await catchingUp(deps, statuses);
  if (behind !== undefined) throw new RegionNotServingError(deps.regionId, behind);
  const accepted_at = new Date(deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  try {
    const before = await state.transitionHandoff(
      handoffId,
      'accepted',
      { accepted_at, ...(request.worker === undefined ? {} : { accepted_by: request.worker }) },
      HANDOFF_TRANSITIONS.accepted,
    );
    return handoffView({
      ...before,
      status: 'accepted',
      accepted_at,
      ...(request.worker === undefined ? {} : { accepted_by: request.worker }),
    });
  } catch (error) {
    if (!(error instanceof ConflictError)) throw error;
    // Another call moved it between the read and the write: a repeat of ours, or a 409.
    const current = error.current as Handoff | undefined;
    if (!current) throw new NotFoundError('handoff', handoffId);
    const same = repeat(current);
    if (same) return same;
    throw transitionConflict(current, 'accepted');
  }
}
