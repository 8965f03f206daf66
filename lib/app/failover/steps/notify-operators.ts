/** notify_operators (detection): one event for the operators, saying whether their approval is needed. */
import type { Perform } from '../step-context.ts';
import { approvalRequired } from '../step-helpers.ts';

export const notifyOperators: Perform<unknown> = async (ctx) => {
  const { record } = ctx;
  const required = approvalRequired(ctx);
  return {
    outcome: 'succeeded',
    detail: required
      ? 'operators notified; the policy requires their approval before anything changes'
      : 'operators notified',
    result: { approval_required: required },
    events: [
      {
        type: 'failover.operators_notified',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          trigger: record.trigger,
          reason: record.reason,
          approval_required: required,
        },
      },
    ],
  };
};
