/**
 * The failover workflow's own bounds, derived from the topology like its timeouts
 * (lib/app/failover/timings.ts) and passed to statemachines/failover.asl.json as definition
 * substitutions. The step handler ends every polling loop by its max wait; these bounds are the
 * workflow's backstop, so that no loop can spin forever and no execution outlives its budget even
 * when a step breaks its own rule (a bug, a clock that stopped).
 */
import type { Topology } from '../../core/topology/types.ts';
import { failoverTimings } from './timings.ts';

interface FailoverWorkflowBounds {
  /** Drained -> DrainWait rounds allowed (twice what the drain's max wait takes at its poll). */
  readonly drain_polls: number;
  /** Synced -> SyncWait rounds allowed (twice what the sync's max wait takes at its poll). */
  readonly sync_polls: number;
  /** Promoted -> PromotionWait rounds allowed (twice what the slowest promotion takes at its poll). */
  readonly promotion_polls: number;
  /** AwaitOperator waits allowed: an approval that frees nothing asks again, not forever. */
  readonly operator_rounds: number;
  /**
   * The execution's TimeoutSeconds: twice the failover's budget (every phase's timeout, the
   * slowest promotion and the closing), plus the time it may wait for people (the approval window,
   * and the operator window once per operator round); at most Step Functions' one year.
   */
  readonly execution_timeout_seconds: number;
}

const OPERATOR_ROUNDS = 3;

/** A Standard workflow runs at most one year. */
const MAX_EXECUTION_SECONDS = 365 * 24 * 3600;

export function failoverWorkflowBounds(topology: Topology): FailoverWorkflowBounds {
  const timings = failoverTimings(topology);
  const phases = timings.phase_timeout_seconds;
  // The handler ends a loop once its max wait has passed, which takes ceil(max / poll) waits (one
  // more for the promotion, whose last wait is the remainder); twice that leaves room for a slow
  // clock between Lambda containers without ever cutting a loop the handler would still end.
  const polls = (maxWait: number, poll: number, extra = 0) => 2 * (Math.ceil(maxWait / poll) + extra) + 1;
  const budget =
    phases.detection +
    phases.preparation +
    phases.execution +
    phases.validation +
    timings.closing_timeout_seconds;
  const people = timings.approval_timeout_seconds + OPERATOR_ROUNDS * timings.operator_timeout_seconds;
  return Object.freeze({
    drain_polls: polls(timings.drain_max_wait_seconds, timings.drain_poll_seconds),
    sync_polls: polls(timings.sync_max_wait_seconds, timings.sync_poll_seconds),
    promotion_polls: polls(
      Math.max(0, ...Object.values(timings.promotion_seconds)),
      timings.promotion_poll_seconds,
      1,
    ),
    operator_rounds: OPERATOR_ROUNDS,
    execution_timeout_seconds: Math.min(MAX_EXECUTION_SECONDS, 2 * budget + people),
  });
}
