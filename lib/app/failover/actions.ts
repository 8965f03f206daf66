/**
 * The failover workflow's task actions (statemachines/failover.asl.json calls functions/failover
 * with `{ action, failover_id }`): the one table from action name to step, and the rules every
 * action keeps. Every action:
 *
 * - reads the record and stops when the operator asked to abort (`OperatorAbort`, rolled back);
 * - is idempotent: an action the record shows as succeeded answers what it answered before, and
 *   every status write first checks whether this failover already made it (`updated_by`);
 * - appends one step with its start, end and outcome, and publishes `failover.step` (step-record.ts);
 * - fails with an error whose `name` the workflow matches: `TransientError` is retried with backoff,
 *   the others (FailoverErrorName) roll back or cancel. Anything unexpected becomes TransientError.
 *
 * Each step lives in `steps/<action>.ts`; the rollback and MarkFailed in `rollback.ts` and
 * `mark-failed.ts`.
 */
import { ConflictError, FailoverStepError, messageOf, NotFoundError } from '../../core/errors.ts';
import { type FailoverAction, type FailoverRecord, PHASE_OF } from '../../core/failover/types.ts';
import type { Failovers } from '../../ports.ts';
import type { ControlDeps, WithState } from '../deps.ts';
import { markFailed } from './mark-failed.ts';
import { rollback } from './rollback.ts';
import { isActive, readFailover, stepError } from './shared.ts';
import type { FailoverActionResult, FailoverTaskEvent, Perform, StepContext } from './step-context.ts';
import { finish, recordFailure, replay } from './step-record.ts';
import { assessImpact } from './steps/assess-impact.ts';
import { awaitApproval } from './steps/await-approval.ts';
import { awaitOperator } from './steps/await-operator.ts';
import { complete } from './steps/complete.ts';
import { drainConnections } from './steps/drain-connections.ts';
import { identifyTargetRegion } from './steps/identify-target-region.ts';
import { monitorMetrics } from './steps/monitor-metrics.ts';
import { notifyOperators } from './steps/notify-operators.ts';
import { prepareDataSync } from './steps/prepare-data-sync.ts';
import { redirectTraffic } from './steps/redirect-traffic.ts';
import { syncCriticalState } from './steps/sync-critical-state.ts';
import { updateDnsRouting } from './steps/update-dns-routing.ts';
import { validateFunctionality } from './steps/validate-functionality.ts';
import { verifyFailure } from './steps/verify-failure.ts';
import { verifyHealth } from './steps/verify-health.ts';
import { verifyTargetCapacity } from './steps/verify-target-capacity.ts';
import { type FailoverTimings, failoverTimings } from './timings.ts';

export type { FailoverActionResult, FailoverTaskEvent } from './step-context.ts';
export { canaryTaskId } from './steps/validate-functionality.ts';

/** The workflow's actions, in the order the workflow runs them; rollback and MarkFailed are apart. */
const ACTIONS: Partial<Record<FailoverAction, Perform>> = {
  verify_failure: verifyFailure,
  assess_impact: assessImpact,
  notify_operators: notifyOperators,
  await_approval: awaitApproval,
  await_operator: awaitOperator,
  identify_target_region: identifyTargetRegion,
  verify_target_capacity: verifyTargetCapacity,
  prepare_data_sync: prepareDataSync,
  drain_connections: drainConnections,
  sync_critical_state: syncCriticalState,
  update_dns_routing: updateDnsRouting,
  redirect_traffic: redirectTraffic,
  verify_health: verifyHealth,
  validate_functionality: validateFunctionality,
  monitor_metrics: monitorMetrics,
  complete,
};

export async function runFailoverAction(
  deps: ControlDeps,
  event: FailoverTaskEvent,
): Promise<FailoverActionResult> {
  const startedAt = deps.clock.now();
  const record = await readForAction(deps, event);
  const timings: FailoverTimings = failoverTimings(deps.topology);
  const ctx: StepContext = { deps, event, record, startedAt, timings };

  // The coordinator on the record is the fencing token of executions: another region took this
  // failover over (its coordinator stopped moving), so this execution ends without touching it.
  if (record.coordinator !== deps.regionId) return takenOver(ctx);

  if (event.action === 'rollback') return rollback(ctx);
  if (event.action === 'complete' && event.outcome === 'failed') return markFailed(ctx);
  if (!isActive(record)) {
    throw stepError('FailoverFinished', `failover ${record.failover_id} is already ${record.status}`);
  }
  try {
    return await performStep(ctx);
  } catch (error) {
    const failure = asStepError(error);
    await recordFailure(ctx, failure);
    throw failure;
  }
}

async function readForAction(
  deps: WithState<ControlDeps, Failovers>,
  event: FailoverTaskEvent,
): Promise<FailoverRecord> {
  try {
    return await readFailover(deps.state, event.failover_id);
  } catch (error) {
    // The record is created in the replica that took the request; the coordinator may not have it yet.
    if (error instanceof NotFoundError) {
      throw stepError('TransientError', `failover ${event.failover_id} is not in this replica yet`, error);
    }
    throw asStepError(error);
  }
}

/** A taken-over execution's rollback and MarkFailed answer quietly; any other action stops it. */
function takenOver({ deps, event, record }: StepContext): FailoverActionResult {
  const detail = `taken over by ${record.coordinator}: this execution in ${deps.regionId} stops`;
  if (event.action === 'rollback' || (event.action === 'complete' && event.outcome === 'failed')) {
    return {
      action: event.action,
      failover_id: record.failover_id,
      outcome: 'skipped',
      detail,
      status: record.status,
    };
  }
  throw stepError('FailoverFinished', detail);
}

/** Runs the action's step unless the operator aborted, or answers it again when it already succeeded. */
async function performStep(ctx: StepContext): Promise<FailoverActionResult> {
  const { record, event } = ctx;
  if (record.abort_requested) {
    throw stepError('OperatorAbort', `an operator aborted failover ${record.failover_id}`);
  }
  const succeeded = record.steps.find((s) => s.action === event.action && s.outcome === 'succeeded');
  // A wait is a question each time it is reached: never replayed from an earlier answer.
  if (succeeded && PHASE_OF[event.action] !== 'approval') return replay(ctx, succeeded);
  const perform = ACTIONS[event.action];
  if (!perform) throw new Error(`unknown failover action ${event.action}`);
  return finish(ctx, await perform(ctx));
}

/** Unknown errors (a store that did not answer, a bug) become TransientError: retried, then rolled back. */
function asStepError(error: unknown): FailoverStepError {
  if (error instanceof FailoverStepError) return error;
  if (error instanceof ConflictError && error.code === 'FAILOVER_CHANGED') {
    return stepError('FailoverFinished', error.message, error);
  }
  const message = messageOf(error);
  return stepError('TransientError', message, error);
}
