/**
 * validate_functionality (validation): a canary task routed from the target lands on a serving
 * region and its handoff reads back from the target's replica.
 */
import { CortexError, FailoverStepError } from '../../../core/errors.ts';
import { type RouteDeps, routeTask } from '../../route-task.ts';
import { stepError } from '../shared.ts';
import type { Perform } from '../step-context.ts';
import { targetOf } from '../step-helpers.ts';

export const canaryTaskId = (failoverId: string) => `canary-${failoverId}`;

export const validateFunctionality: Perform<unknown> = async ({ deps, record }) => {
  const target = targetOf(record);
  const failed = record.failed_region;
  const targetDeps: RouteDeps = {
    regionId: target,
    topology: deps.topology,
    state: deps.replica(target),
    clock: deps.clock,
  };
  try {
    // Critical: the canary checks that the target routes and reads back, not its spare capacity (a
    // low-priority canary was refused by the reserve of a busy target and rolled a dead region's
    // failover back; found by the simulator).
    const routed = await routeTask(targetDeps, {
      task_id: canaryTaskId(record.failover_id),
      priority: 'critical',
      source: { region: target },
    });
    if (routed.region === failed) {
      throw stepError('ValidationFailure', `the canary was routed to ${failed}, which is failed`);
    }
    const back = await targetDeps.state.getHandoff(routed.handoff.handoff_id);
    if (!back || back.target_region !== routed.region) {
      throw stepError(
        'ValidationFailure',
        `the canary's handoff ${routed.handoff.handoff_id} did not read back`,
      );
    }
    return {
      outcome: 'succeeded',
      detail: `canary ${routed.task_id} routed to ${routed.region} (score ${routed.score}) and read back from ${target}`,
    };
  } catch (error) {
    if (error instanceof FailoverStepError) throw error;
    const why = error instanceof CortexError ? `${error.code}: ${error.message}` : (error as Error).message;
    throw stepError('ValidationFailure', `the canary task failed: ${why}`, error);
  }
};
