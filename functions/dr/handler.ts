import middy from '@middy/core';
import * as z from 'zod/mini';
import type { ControlJobDeps, Ports } from '../../lib/app/deps.ts';
import { DR_ACTIONS, type DrStepResult, type DrTaskEvent, runDrAction } from '../../lib/app/dr/actions.ts';
import { ValidationError } from '../../lib/app/errors.ts';

/** What statemachines/regional-dr.asl.json and network-partition.asl.json send (each Task's Parameters). */
const drTaskEventSchema = z.object({
  action: z.string().check(z.refine((a) => DR_ACTIONS.includes(a), 'not an action of the DR function')),
  run: z.object({
    runbook: z.enum(['regional_failure', 'network_partition']),
    dr_id: z.string().check(z.minLength(1), z.maxLength(80)),
    failed_region: z.optional(z.string().check(z.minLength(1), z.maxLength(32))),
    dry_run: z.boolean(),
    failure_at: z.optional(z.number()),
    break_action: z.optional(z.string()),
  }),
  steps: z.optional(z.record(z.string(), z.unknown())),
  branches: z.optional(z.array(z.unknown())),
});

/** The control ports, and the replication stores the partition runbook's reconciliation checks. */
export type DrDeps = ControlJobDeps & Partial<Pick<Ports, 'replication' | 'documents'>>;

/**
 * The DR runbooks' task function: one action per invocation. Errors keep their `name`
 * (DrStepFailed, DrTransient) so the state machines' Retry and Catch match them.
 */
export function createDrHandler(deps: DrDeps) {
  return middy<unknown, DrStepResult>().handler(async (raw) => {
    const parsed = drTaskEventSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ValidationError(
        'invalid DR task event',
        parsed.error.issues.map((issue) => ({
          field: issue.path.join('.') || '(event)',
          reason: issue.message,
        })),
      );
    }
    return runDrAction(deps, parsed.data as unknown as DrTaskEvent);
  });
}
