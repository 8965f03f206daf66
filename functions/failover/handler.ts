import middy from '@middy/core';
import * as z from 'zod/mini';
import type { ControlJobDeps } from '../../lib/app/deps.ts';
import type { FailoverAction } from '../../lib/app/edge.ts';
import { ValidationError } from '../../lib/app/errors.ts';
import {
  type FailoverActionResult,
  type FailoverTaskEvent,
  runFailoverAction,
} from '../../lib/app/failover/actions.ts';
import { failoverStepMetrics, type MetricsPublisher } from '../../lib/app/metrics.ts';

const ACTIONS = [
  'verify_failure',
  'assess_impact',
  'notify_operators',
  'await_approval',
  'await_operator',
  'identify_target_region',
  'verify_target_capacity',
  'prepare_data_sync',
  'drain_connections',
  'sync_critical_state',
  'update_dns_routing',
  'redirect_traffic',
  'verify_health',
  'validate_functionality',
  'monitor_metrics',
  'complete',
  'rollback',
] as const satisfies readonly FailoverAction[];

/** What statemachines/failover.asl.json sends (Parameters of each Task state, or its Payload). */
const failoverTaskEventSchema = z.object({
  action: z.enum(ACTIONS),
  failover_id: z.string().check(z.minLength(1), z.maxLength(128)),
  task_token: z.optional(z.string().check(z.minLength(1), z.maxLength(4096))),
  error: z.optional(z.object({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
  outcome: z.optional(z.literal('failed')),
});

/**
 * The failover workflow's task function: one action per invocation. Errors propagate with their
 * `name` (TransientError, TargetRegionFailure, ...) so the state machine's Retry and Catch match.
 */
export function createFailoverHandler(
  deps: ControlJobDeps,
  options: {
    /** Where a completed failover's time goes (lib/app/metrics.ts); default nowhere. */
    readonly metrics?: MetricsPublisher;
  } = {},
) {
  return middy<unknown, FailoverActionResult>().handler(async (raw) => {
    const parsed = failoverTaskEventSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ValidationError(
        'invalid failover task event',
        parsed.error.issues.map((issue) => ({
          field: issue.path.join('.') || '(event)',
          reason: issue.message,
        })),
      );
    }
    const result = await runFailoverAction(deps, parsed.data as FailoverTaskEvent);
    options.metrics?.publish(failoverStepMetrics(deps.regionId, result));
    return result;
  });
}
