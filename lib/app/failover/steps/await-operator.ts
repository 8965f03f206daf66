import { isoTime } from '../../../core/time.ts';
import type { Failovers, Handoffs, HealthViews, RegionStatuses } from '../../../ports.ts';
/**
 * await_operator (approval): no survivor can take anything: store the token and the plan, raise one
 * incident, wait. Approve (after an operator freed capacity or recovered a region) plans again;
 * decline or the window's end cancels. A new wait (the plan still found nothing) is a new question:
 * an older answer does not count for it.
 */
import { describeConsidered, planFailover } from '../plan.ts';
import { ACTIVE_STATUSES } from '../shared.ts';
import type { Perform } from '../step-context.ts';
import { answerIfDecided } from './await-approval.ts';

export const awaitOperator: Perform<RegionStatuses & Handoffs & HealthViews & Failovers> = async ({
  deps,
  record,
  event,
  timings,
}) => {
  const token = event.task_token;
  if (!token) throw new Error('await_operator needs the task token');
  const plan = await planFailover(deps, record.failed_region, record.requested_target);
  const since = isoTime(deps.clock.now());
  const reason = `no survivor can take anything from ${record.failed_region}`;
  const detail = {
    failover_id: record.failover_id,
    failed_region: record.failed_region,
    reason,
    considered: plan.considered,
    workloads_pending: plan.workloads_pending.length,
    timeout_seconds: timings.operator_timeout_seconds,
  };
  return {
    outcome: 'waiting',
    detail: `${reason}: ${describeConsidered(plan.considered)}; waiting up to ${timings.operator_timeout_seconds} s for an operator (approve plans again, decline cancels)`,
    after: () => answerIfDecided(deps, record.failover_id, token, since),
    patch: {
      status: 'awaiting_approval',
      approval_token: token,
      operator_wait: {
        since,
        reason,
        considered: plan.considered,
        workloads_pending: plan.workloads_pending.length,
      },
    },
    expectedStatuses: ACTIVE_STATUSES,
    result: { waiting: true },
    // One incident per wait, never one per epoch: the failover waits instead of starting again.
    events: [{ type: 'failover.operator_required', detail }],
  };
};
