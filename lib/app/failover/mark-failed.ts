/**
 * The workflow's MarkFailed: the rollback itself failed, so the record ends `failed` and an operator
 * looks. Statuses may be left as the failover set them.
 *
 * Except a rollback whose retries ran out on an error the workflow retries (TransientError: the
 * state did not answer, as a coordinator cut off from the MRSC table's majority): it was interrupted,
 * not refused. Ended `failed`, the record left the region it had drained `draining` for good once the
 * state answered again, since nothing fails a draining region over or back (seeds 5290 and 5797 on
 * the MRSC topology: the table answered again between the rollback's last attempt and this write).
 * The record stays running instead, and its coordinator's round starts the workflow again from it
 * (resumeStalled), as after a crash: the new execution replays what succeeded and completes or rolls
 * back, so the region ends failed or restored (a crash never strands a failover). A failover waiting
 * for an operator still ends `failed`: it changed no status yet, and no round resumes it.
 */
import { RETRY_POLICY } from '../../core/failover/workflow-errors.ts';
import { isoTime } from '../../core/time.ts';
import type { Failovers } from '../../ports.ts';
import { ACTIVE_STATUSES, isActive } from './shared.ts';
import type { FailoverActionResult, StepContext } from './step-context.ts';
import { caughtError } from './step-helpers.ts';
import { alreadyFinal, finish } from './step-record.ts';

export async function markFailed(ctx: StepContext<Failovers>): Promise<FailoverActionResult> {
  const { record, event } = ctx;
  if (!isActive(record)) return alreadyFinal(ctx);
  const error = caughtError(event);
  if (interrupted(error.name) && record.status === 'running') return leftRunning(ctx, error);
  return finish(ctx, {
    outcome: 'failed',
    detail: `the rollback failed (${error.name}: ${error.message}); statuses may be left as the failover set them`,
    patch: {
      status: 'failed',
      completed_at: isoTime(ctx.deps.clock.now()),
      error: { name: error.name, message: error.message },
    },
    result: { status: 'failed' },
    events: [
      {
        type: 'failover.failed',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          target_region: record.target_region,
          error: error.name,
          message: error.message,
        },
      },
    ],
    expectedStatuses: ACTIVE_STATUSES,
  });
}

/** An error the one Retry block retries: it says nothing about whether the rollback can succeed. */
function interrupted(name: string): boolean {
  return (RETRY_POLICY.ErrorEquals as readonly string[]).includes(name);
}

/**
 * Records why the record stays running; the execution still ends (Failed) and the coordinator's
 * round resumes the failover once the record has not moved for two intervals.
 */
function leftRunning(
  ctx: StepContext<Failovers>,
  error: { readonly name: string; readonly message: string },
): Promise<FailoverActionResult> {
  return finish(ctx, {
    outcome: 'skipped',
    detail: `the rollback was interrupted (${error.name}: ${error.message}); the record stays running and ${ctx.record.coordinator} resumes it from the record`,
    result: { status: ctx.record.status },
  });
}
