/**
 * Writes a step onto the failover record: one entry per invocation with its start, end and outcome,
 * the record's patch in the same conditional write, then `failover.step` and the step's own events.
 * Also answers a step the record already shows as succeeded (replay) and records a failed one.
 */
import type { FailoverStepError } from '../../core/errors.ts';
import {
  type FailoverRecord,
  type FailoverStepRecord,
  PHASE_OF,
  type StepOutcome,
} from '../../core/failover/types.ts';
import { isoTime } from '../../core/time.ts';
import type { Failovers } from '../../ports.ts';
import { ACTIVE_STATUSES, publish } from './shared.ts';
import type { FailoverActionResult, Performed, StepContext } from './step-context.ts';
import { approvalRequired } from './step-helpers.ts';

function stepEntry(ctx: StepContext<unknown>, outcome: StepOutcome, detail: string): FailoverStepRecord {
  const { record, event } = ctx;
  return {
    action: event.action,
    phase: PHASE_OF[event.action],
    started_at: isoTime(ctx.startedAt),
    ended_at: isoTime(ctx.deps.clock.now()),
    outcome,
    detail,
    attempt: record.steps.filter((s) => s.action === event.action).length + 1,
  };
}

function stepDetail(record: FailoverRecord, entry: FailoverStepRecord): Record<string, unknown> {
  return {
    failover_id: record.failover_id,
    failed_region: record.failed_region,
    ...(record.target_region === undefined ? {} : { target_region: record.target_region }),
    ...entry,
  };
}

/** Writes what the step performed, publishes its events, and answers the workflow. */
export async function finish(
  ctx: StepContext<Failovers>,
  performed: Performed,
): Promise<FailoverActionResult> {
  const { deps, record, event } = ctx;
  const entry = stepEntry(ctx, performed.outcome, performed.detail);
  const updated = await deps.state.updateFailover(
    record.failover_id,
    { ...performed.patch, updated_at: entry.ended_at },
    { expectedStatuses: performed.expectedStatuses ?? ['running'], step: entry },
  );
  await publish(deps, 'failover.step', stepDetail(updated, entry));
  for (const extra of performed.events ?? []) await publish(deps, extra.type, extra.detail);
  await performed.after?.();
  return {
    action: event.action,
    failover_id: record.failover_id,
    outcome: performed.outcome,
    detail: performed.detail,
    ...performed.result,
  };
}

/** Appends the failed step; best effort, since the store itself may be what failed. */
export async function recordFailure(ctx: StepContext<Failovers>, failure: FailoverStepError): Promise<void> {
  const entry = stepEntry(ctx, 'failed', `${failure.name}: ${failure.message}`);
  try {
    const updated = await ctx.deps.state.updateFailover(
      ctx.record.failover_id,
      { updated_at: entry.ended_at },
      { expectedStatuses: ACTIVE_STATUSES, step: entry },
    );
    await publish(ctx.deps, 'failover.step', stepDetail(updated, entry));
  } catch {
    // The workflow still gets the error; the retry or the rollback writes the record again.
  }
}

/** Answers a step the record shows as succeeded without performing it again (steps are idempotent). */
export function replay(ctx: StepContext<unknown>, done: FailoverStepRecord): FailoverActionResult {
  const { record, event } = ctx;
  return {
    action: event.action,
    failover_id: record.failover_id,
    outcome: 'succeeded',
    detail: `already done: ${done.detail}`,
    replayed: true,
    done: true,
    wait_seconds: 0,
    approval_required: approvalRequired(ctx),
    ...(record.target_region === undefined ? {} : { target_region: record.target_region }),
    // TargetFound reads it: a Choice on a path that names no value fails the execution (States.Runtime),
    // so a resumed or taken-over execution replaying the chosen target must answer it too.
    ...(event.action === 'identify_target_region' ? { operator_required: false } : {}),
  };
}

/** The answer of rollback and mark-failed to a record that is already final. */
export function alreadyFinal(ctx: StepContext<unknown>): FailoverActionResult {
  const { record, event } = ctx;
  return {
    action: event.action,
    failover_id: record.failover_id,
    outcome: 'skipped',
    detail: `already ${record.status}`,
    replayed: true,
    status: record.status,
  };
}
