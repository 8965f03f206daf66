/**
 * sync_critical_state (execution): waits, polling, for the target's replica to hold the failed
 * region's last known writes; after the sync's max wait the target takes over anyway and the record
 * carries the data-loss window (rolling back would leave a dead region marked as serving).
 */
import type { FailoverRecord } from '../../../core/failover/types.ts';
import { readReplica } from '../../../core/replication/lag.ts';
import { decideMrsc } from '../../../core/replication/placement.ts';
import type { HealthViews, Heartbeats } from '../../../ports.ts';
import { seconds } from '../shared.ts';
import type { Perform, Performed, StepContext, StepEvent } from '../step-context.ts';
import { firstRunOf, heartbeatsOf, targetOf } from '../step-helpers.ts';

/**
 * With an MRSC table (lib/core/replication/placement.ts), the synchronous data types were never
 * behind: the step's heartbeat comparison then speaks for the asynchronous data only, and says so.
 */
export const syncCriticalState: Perform<HealthViews & Heartbeats> = async (ctx) => {
  const performed = await syncReplicaOf(ctx);
  const regions = ctx.deps.topology.regions.map((r) => r.region_id);
  if (!decideMrsc(regions).allowed) return performed;
  return {
    ...performed,
    detail: `${performed.detail} (synchronous data is in the MRSC table ${ctx.deps.topology.name}-critical, strongly consistent: nothing of it to wait for or lose; this reading is the asynchronous data's)`,
  };
};

const syncReplicaOf: Perform<HealthViews & Heartbeats> = async (ctx) => {
  const { deps, record, timings } = ctx;
  const target = targetOf(record);
  const failed = record.failed_region;
  const { known, copy } = await heartbeatsOf(deps, target, failed);
  if (!known) {
    return {
      outcome: 'succeeded',
      detail: `no heartbeat of ${failed} known: nothing to wait for`,
      result: { done: true, wait_seconds: 0 },
    };
  }
  if (!copy) return nothingReceived(ctx, target, known.seq);
  // The lag monitor's reading (lib/core/replication/lag.ts): caught up, and the data-loss window if not.
  const reading = readReplica(known, copy);
  if (reading.caught_up) {
    return {
      outcome: 'succeeded',
      detail: `${target}'s replica holds ${failed}'s last known writes (seq ${copy.seq})`,
      patch: { data_loss_window_seconds: 0 },
      result: { done: true, wait_seconds: 0 },
    };
  }
  const waited = (deps.clock.now() - firstRunOf(ctx)) / 1000;
  if (waited >= timings.sync_max_wait_seconds) {
    const window = seconds(reading.window_ms);
    return {
      outcome: 'succeeded',
      detail: `${target}'s replica is still at seq ${copy.seq} of ${known.seq} after ${timings.sync_max_wait_seconds} s: data-loss window ${window} s`,
      patch: { data_loss_window_seconds: window },
      result: { done: true, wait_seconds: 0 },
      events: [dataLossWindow(record, target, { seconds: window })],
    };
  }
  return {
    outcome: 'waiting',
    detail: `${target}'s replica holds ${failed}'s seq ${copy.seq} of ${known.seq}; waiting`,
    result: { done: false, wait_seconds: timings.sync_poll_seconds },
  };
};

/**
 * Nothing of the failed region has reached the target yet (it died moments after it started, or the
 * link was down all along). Wait like any lag; then take over and say the window is unknown.
 */
function nothingReceived(ctx: StepContext<unknown>, target: string, knownSeq: number): Performed {
  const { deps, record, timings } = ctx;
  const failed = record.failed_region;
  const waited = (deps.clock.now() - firstRunOf(ctx)) / 1000;
  if (waited < timings.sync_max_wait_seconds) {
    return {
      outcome: 'waiting',
      detail: `${target}'s replica has no write of ${failed} yet (last known seq ${knownSeq}); waiting`,
      result: { done: false, wait_seconds: timings.sync_poll_seconds },
    };
  }
  return {
    outcome: 'succeeded',
    detail: `${target}'s replica never received a write of ${failed} (last known seq ${knownSeq}) within ${timings.sync_max_wait_seconds} s: data-loss window unknown`,
    result: { done: true, wait_seconds: 0 },
    events: [dataLossWindow(record, target, { unknown: true })],
  };
}

/** The `failover.data_loss_window` event: how much of the failed region's writes the target may lack. */
function dataLossWindow(
  record: FailoverRecord,
  target: string,
  window: { readonly unknown: true } | { readonly seconds: number },
): StepEvent {
  return {
    type: 'failover.data_loss_window',
    detail: {
      failover_id: record.failover_id,
      failed_region: record.failed_region,
      target_region: target,
      ...window,
    },
  };
}
