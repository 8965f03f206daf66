/**
 * await_approval (approval): the policy requires an operator's approval of an automatic failover.
 * The workflow waits on the task token (`.waitForTaskToken`); the operator's answer on the record
 * (lib/app/failover/manage.ts) answers the token.
 */
import { ConflictError, NotFoundError } from '../../../core/errors.ts';
import { isoTime } from '../../../core/time.ts';
import type { Failovers } from '../../../ports.ts';
import type { ControlDeps, WithState } from '../../deps.ts';
import { ACTIVE_STATUSES } from '../shared.ts';
import type { Perform } from '../step-context.ts';

export const awaitApproval: Perform<Failovers> = async ({ deps, record, event, timings }) => {
  const token = event.task_token;
  if (!token) throw new Error('await_approval needs the task token');
  if (record.approval) {
    // Retried after the operator answered: answer the new token the same way.
    await deps.workflow.answerApproval(token, record.approval.decision === 'approved');
    return {
      outcome: 'succeeded',
      detail: `already ${record.approval.decision}`,
      result: { waiting: false },
    };
  }
  return {
    outcome: 'waiting',
    detail: `waiting up to ${timings.approval_timeout_seconds} s for an operator to approve or decline`,
    after: () => answerIfDecided(deps, record.failover_id, token),
    patch: { status: 'awaiting_approval', approval_token: token },
    // A retry after the token was stored (its answer lost) stores the new token.
    expectedStatuses: ACTIVE_STATUSES,
    result: { waiting: true },
    events: [
      {
        type: 'failover.awaiting_approval',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          reason: record.reason,
          timeout_seconds: timings.approval_timeout_seconds,
        },
      },
    ],
  };
};

/**
 * An operator may answer between a wait's read of the record and its write of the new token (an
 * answer given while no execution ran, then resumed): the answer landed on the record but reached
 * no token. Re-read after the write and answer this wait's token from the record. The operator's
 * side re-reads too (lib/app/failover/manage.ts), so whichever writes second sees the other.
 */
export async function answerIfDecided(
  deps: WithState<ControlDeps, Failovers>,
  failoverId: string,
  token: string,
  since?: string,
) {
  const now = await deps.state.getFailover(failoverId);
  const approval = now?.approval;
  if (!approval) return;
  if (since !== undefined && Date.parse(approval.decided_at) < Date.parse(since)) return;
  if (approval.decision === 'approved' && now?.status === 'awaiting_approval') {
    // The wait's own write put the status back to awaiting after the approval set it running.
    try {
      await deps.state.updateFailover(
        failoverId,
        { status: 'running', updated_at: isoTime(deps.clock.now()) },
        { expectedStatuses: ['awaiting_approval'] },
      );
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  try {
    await deps.workflow.answerApproval(token, approval.decision === 'approved');
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}
