/** complete (closing): the failover is `completed`; one event carries its figures (downtime, work moved, data-loss window). */

import { isoTime } from '../../../core/time.ts';
import type { Perform } from '../step-context.ts';

export const complete: Perform<unknown> = async ({ deps, record }) => {
  const at = deps.clock.now();
  const now = isoTime(at);
  return {
    outcome: 'succeeded',
    detail: `${record.failed_region} failed over to ${record.target_region}`,
    patch: { status: 'completed', completed_at: now },
    result: {
      status: 'completed',
      failover_seconds: Math.max(0, (at - Date.parse(record.initiated_at)) / 1000),
    },
    events: [
      {
        type: 'failover.completed',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          target_region: record.target_region,
          trigger: record.trigger,
          initiated_at: record.initiated_at,
          completed_at: now,
          downtime_seconds: record.downtime_seconds,
          workloads_migrated: record.workloads_migrated,
          workloads_pending: record.workloads_pending,
          data_loss_window_seconds: record.data_loss_window_seconds,
        },
      },
    ],
  };
};
