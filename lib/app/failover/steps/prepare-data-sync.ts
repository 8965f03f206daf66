import type { HealthViews, Heartbeats } from '../../../ports.ts';
/**
 * prepare_data_sync (preparation): how far the target's replica is behind the failed region's last
 * known writes, before anything changes; sync_critical_state waits for it later.
 */
import { seconds } from '../shared.ts';
import type { Perform } from '../step-context.ts';
import { heartbeatsOf, targetOf } from '../step-helpers.ts';

export const prepareDataSync: Perform<HealthViews & Heartbeats> = async ({ deps, record }) => {
  const target = targetOf(record);
  const failed = record.failed_region;
  const { known, copy } = await heartbeatsOf(deps, target, failed);
  let detail: string;
  if (!known) detail = `no heartbeat of ${failed} known: nothing to compare`;
  else if (!copy)
    detail = `${target}'s replica holds no heartbeat of ${failed} yet (last known seq ${known.seq})`;
  else if (copy.seq >= known.seq)
    detail = `${target}'s replica is caught up with ${failed} (seq ${copy.seq})`;
  else {
    detail = `${target}'s replica holds ${failed}'s seq ${copy.seq} of ${known.seq} (${seconds(
      known.at - copy.at,
    )} s behind)`;
  }
  return { outcome: 'succeeded', detail };
};
