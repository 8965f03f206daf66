/**
 * The local failover workflow as the local composition root builds it: the ASL adapter
 * (lib/adapters/local/workflow.ts) given the definition with this topology's substitutions, the
 * simulated durations its Task timeouts and polls stand for, what makes a start a no-op (a final
 * record) and the task function. The adapter imports no use case; they come in from here.
 */
import { LOCAL_FAILOVER_FUNCTION_ARN, LocalWorkflow, type TaskInvoker } from '../adapters/local/workflow.ts';
import type { ControlDeps } from '../app/deps.ts';
import { type FailoverTaskEvent, runFailoverAction } from '../app/failover/actions.ts';
import { loadFailoverDefinition } from '../app/failover/definition.ts';
import { isActive } from '../app/failover/shared.ts';
import { failoverTimings } from '../app/failover/timings.ts';
import type { Topology } from '../core/topology/types.ts';

interface LocalFailoverWorkflowOptions {
  readonly topology: Topology;
  /** The ControlDeps of a region (the coordinator's runs its failovers); read when a run starts. */
  readonly depsFor: (regionId: string) => ControlDeps;
  /**
   * The failover function as the coordinator runs it, e.g. the middy handler of functions/failover;
   * default: runFailoverAction with the coordinator's deps.
   */
  readonly invokerFor?: (deps: ControlDeps) => TaskInvoker;
  /** Simulated ms per real ms (the local clock's speed); default 1. */
  readonly speed?: number;
  readonly functionArn?: string;
  /** Executions that end unexpectedly (not by a Fail state of the definition) are reported here. */
  readonly log?: (line: string) => void;
}

export function createLocalWorkflow(options: LocalFailoverWorkflowOptions): LocalWorkflow {
  const { topology, depsFor } = options;
  const functionArn = options.functionArn ?? LOCAL_FAILOVER_FUNCTION_ARN;
  const invokerFor = options.invokerFor ?? defaultInvoker;
  const timings = failoverTimings(topology);
  return new LocalWorkflow({
    definition: loadFailoverDefinition(topology, functionArn),
    functionArn,
    // The definition's `$.timeouts.<name>` paths, as its Configure state fills them.
    timeouts: {
      ...timings.phase_timeout_seconds,
      approval: timings.approval_timeout_seconds,
      operator: timings.operator_timeout_seconds,
      closing: timings.closing_timeout_seconds,
    },
    // The Wait states whose seconds the step handler answers (its poll intervals).
    polls: {
      DrainWait: timings.drain_poll_seconds,
      SyncWait: timings.sync_poll_seconds,
      PromotionWait: timings.promotion_poll_seconds,
    },
    shouldRun: async (failoverId, coordinator) => {
      const record = await depsFor(coordinator).state.getFailover(failoverId);
      return !record || isActive(record);
    },
    invokerFor: (coordinator) => invokerFor(depsFor(coordinator)),
    ...(options.speed === undefined ? {} : { speed: options.speed }),
    ...(options.log ? { log: options.log } : {}),
  });
}

function defaultInvoker(deps: ControlDeps): TaskInvoker {
  return (event) => runFailoverAction(deps, event as FailoverTaskEvent);
}
