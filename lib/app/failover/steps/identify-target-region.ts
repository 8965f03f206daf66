import type { Handoffs, HealthViews, RegionStatuses } from '../../../ports.ts';
/**
 * identify_target_region (preparation): the failover plan's target (lib/app/failover/plan.ts), or,
 * when no survivor can take anything, the operator's turn (the workflow's AwaitOperator).
 */
import { describeConsidered, planFailover } from '../plan.ts';
import type { Perform } from '../step-context.ts';

export const identifyTargetRegion: Perform<RegionStatuses & Handoffs & HealthViews> = async ({
  deps,
  record,
}) => {
  const plan = await planFailover(deps, record.failed_region, record.requested_target);
  if (plan.target_region === undefined) {
    // Nothing can take anything: an operator decides, once, with this plan (AwaitOperator).
    return {
      outcome: 'waiting',
      detail: `no survivor can take anything from ${record.failed_region}: ${describeConsidered(plan.considered)}; an operator decides`,
      result: { operator_required: true },
    };
  }
  const pending = plan.workloads_pending.length;
  const mode = plan.mode ?? 'single';
  return {
    outcome: 'succeeded',
    detail:
      `${plan.target_region} takes over${mode === 'spread' ? ' and the work is spread over every survivor with room' : ''} (${describeConsidered(plan.considered)}); ` +
      `${plan.workloads_to_move.length} workload(s) to move${pending ? `, ${pending} would stay pending` : ''}`,
    patch: { target_region: plan.target_region, mode },
    result: { target_region: plan.target_region, operator_required: false },
    events: [
      {
        type: 'failover.target_selected',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          target_region: plan.target_region,
          mode,
          considered: plan.considered,
          workloads_to_move: plan.workloads_to_move.length,
          workloads_pending: pending,
        },
      },
    ],
  };
};
