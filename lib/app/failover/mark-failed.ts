import { isoTime } from '../../core/time.ts';
import type { Failovers } from '../../ports.ts';
/**
 * The workflow's MarkFailed: the rollback itself failed, so the record ends `failed` and an operator
 * looks. Statuses may be left as the failover set them.
 */
import { ACTIVE_STATUSES, isActive } from './shared.ts';
import type { FailoverActionResult, StepContext } from './step-context.ts';
import { caughtError } from './step-helpers.ts';
import { alreadyFinal, finish } from './step-record.ts';

export async function markFailed(ctx: StepContext<Failovers>): Promise<FailoverActionResult> {
  const { record, event } = ctx;
  if (!isActive(record)) return alreadyFinal(ctx);
  const error = caughtError(event);
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
