/**
 * drain_connections (execution): the failed region takes no new work (`draining`), and the step polls
 * until the handoffs it had accepted are done or the drain's max wait has passed. Work still running
 * then is never dropped: redirect_traffic re-routes it.
 */
import { type Handoff, isServing } from '../../../core/state/records.ts';
import type { Failovers, Handoffs, RegionStatuses } from '../../../ports.ts';
import { type Moved, moveRegion, seconds } from '../shared.ts';
import type { Perform, Performed, StepContext, StepEvent } from '../step-context.ts';
import { capturePrevious, firstRunOf } from '../step-helpers.ts';

export const drainConnections: Perform<RegionStatuses & Handoffs & Failovers> = async (ctx) => {
  const { deps, record, timings } = ctx;
  const failed = record.failed_region;
  const moved = await startDraining(ctx);
  const handoffs = await deps.state.listHandoffsByTarget(failed);
  const running = handoffs.filter((h) => h.status === 'accepted' && h.target_region === failed);
  const inFlight = running.length;
  const waited = (deps.clock.now() - firstRunOf(ctx)) / 1000;
  const events: StepEvent[] = moved.wrote
    ? [
        {
          type: 'region.draining',
          detail: { region: failed, epoch: moved.after.epoch, failover_id: record.failover_id },
        },
      ]
    : [];
  const state = `${failed} is ${moved.after.status} (epoch ${moved.after.epoch})`;
  if (inFlight === 0) {
    return {
      outcome: 'succeeded',
      detail: `${state}; no handoff in flight`,
      result: { done: true, wait_seconds: 0 },
      events,
    };
  }
  // Failed already (a rollback kept it failed: lib/core/failover/kept-failed.ts): the failover that
  // took it out drained it to its max wait, so this one does not wait for the same work again.
  const drainedBefore = moved.after.status === 'failed';
  if (drainedBefore || waited >= timings.drain_max_wait_seconds) {
    const why = drainedBefore
      ? 'already failed (an earlier failover drained it)'
      : `max wait of ${timings.drain_max_wait_seconds} s passed`;
    return drainIncomplete(ctx, state, why, running, events);
  }
  return {
    outcome: 'waiting',
    detail: `${state}; ${inFlight} handoff(s) in flight after ${seconds(waited * 1000)} s`,
    result: { done: false, wait_seconds: timings.drain_poll_seconds },
    events,
  };
};

/** Captures the failed region's status for the rollback, then marks it `draining` (once). */
async function startDraining(ctx: StepContext<RegionStatuses & Failovers>): Promise<Moved> {
  const { deps, record } = ctx;
  const failed = record.failed_region;
  await capturePrevious(ctx, [failed]);
  return moveRegion(deps, failed, record.failover_id, (current) => {
    if (current.updated_by === record.failover_id) return undefined;
    // Fenced, or failed by someone else: it already serves nothing, so there is nothing to drain.
    if (!isServing(current.status)) return undefined;
    return { status: 'draining', reason: `failover ${record.failover_id}: draining (${record.reason})` };
  });
}

/**
 * The max wait passed with work still running. Never dropped: the record names what was still
 * running, and redirect_traffic re-routes it by the failover's rules (or keeps it, with the reasons,
 * where no region may take it).
 */
function drainIncomplete(
  ctx: StepContext<unknown>,
  state: string,
  why: string,
  running: readonly Handoff[],
  events: readonly StepEvent[],
): Performed {
  const { record, timings } = ctx;
  return {
    outcome: 'succeeded',
    detail:
      `${state}; ${why} with ${running.length} handoff(s) still in flight: ` +
      `${namedHandoffs(running)}; redirect_traffic re-routes them`,
    result: { done: true, wait_seconds: 0 },
    events: [
      ...events,
      {
        type: 'failover.drain_incomplete',
        detail: {
          failover_id: record.failover_id,
          region: record.failed_region,
          max_wait_seconds: timings.drain_max_wait_seconds,
          in_flight: running.map((h) => ({
            handoff_id: h.handoff_id,
            task_id: h.task_id,
            ...(h.accepted_by === undefined ? {} : { accepted_by: h.accepted_by }),
            ...(h.accepted_at === undefined ? {} : { accepted_at: h.accepted_at }),
          })),
        },
      },
    ],
  };
}

/** Handoffs by id (with who accepted them) for a one-line step detail; the first ten, then a count. */
function namedHandoffs(handoffs: readonly Handoff[]): string {
  const shown = handoffs
    .slice(0, 10)
    .map((h) => `${h.handoff_id}${h.accepted_by === undefined ? '' : ` (accepted by ${h.accepted_by})`}`);
  const more = handoffs.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}
