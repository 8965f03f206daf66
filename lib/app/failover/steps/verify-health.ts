/**
 * verify_health (validation): the target is primary and serving in its own replica and answers
 * `/health`; a promoted standby then gets its promotion time before the functional checks.
 */
import { isServing, type RegionStatusRecord } from '../../../core/state/records.ts';
import { defaultStatus } from '../../live-state.ts';
import { seconds, stepError } from '../shared.ts';
import type { Perform, Performed, StepContext } from '../step-context.ts';
import { targetOf } from '../step-helpers.ts';

export const verifyHealth: Perform<unknown> = async (ctx) => {
  const { deps, record, timings } = ctx;
  const target = targetOf(record);
  const own = (await deps.replica(target).getRegionStatus(target)) ?? defaultStatus(deps.topology, target);
  refuseUnpromoted(target, own);
  const health = await deps.probe.probe(record.coordinator, target, '/health', timings.probe_timeout_ms);
  if (!health.ok) {
    throw stepError('TargetRegionFailure', `${target} /health: ${health.error ?? `HTTP ${health.status}`}`);
  }
  const serving = `${target} is primary and serving in its own replica (epoch ${own.epoch}); /health answered in ${health.latency_ms} ms`;
  return awaitPromotion(ctx, target, serving);
};

function refuseUnpromoted(target: string, own: RegionStatusRecord): void {
  if (!isServing(own.status)) {
    throw stepError('TargetRegionFailure', `${target}'s own replica says it is ${own.status}`);
  }
  if (own.role !== 'primary') {
    // Its replica has not received the promotion yet (replication lag): try again shortly.
    throw stepError(
      'TransientError',
      `${target}'s replica does not show it as primary yet (epoch ${own.epoch})`,
    );
  }
}

/**
 * A promoted standby needs its promotion time (active-passive: warm 120 s, cold 600 s) before the
 * functional checks: part of the validation wait and of the RTO, counted from the status flip.
 */
function awaitPromotion(ctx: StepContext<unknown>, target: string, serving: string): Performed {
  const { deps, record, timings } = ctx;
  const promotion = timings.promotion_seconds[target] ?? 0;
  const flipped = record.steps.find((s) => s.action === 'update_dns_routing' && s.outcome === 'succeeded');
  const since = flipped ? (deps.clock.now() - Date.parse(flipped.ended_at)) / 1000 : promotion;
  if (since < promotion) {
    return {
      outcome: 'waiting',
      detail: `${serving}; promoting: ${seconds(since * 1000)} s of ${promotion} s`,
      result: {
        done: false,
        wait_seconds: Math.max(1, Math.min(timings.promotion_poll_seconds, Math.ceil(promotion - since))),
      },
    };
  }
  return {
    outcome: 'succeeded',
    detail: promotion > 0 ? `${serving}; promoted after ${promotion} s` : serving,
    result: { done: true, wait_seconds: 0 },
  };
}
