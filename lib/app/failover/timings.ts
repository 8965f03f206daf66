/**
 * The failover's time budgets, all derived from the topology so the state machine (through its
 * definition substitutions) and the step handler (which polls and decides) agree on them.
 */
import type { FailoverPhase } from '../../core/failover/types.ts';
import { promotionSeconds } from '../../core/resources/patterns.ts';
import type { Topology } from '../../core/topology/types.ts';

export interface FailoverTimings {
  /** TimeoutSeconds of each Task state in the phase (failover_policies.failover_sequence). */
  readonly phase_timeout_seconds: Readonly<Record<FailoverPhase, number>>;
  /** How long the approval step waits for an operator (automatic_failover.decision_timeout_seconds). */
  readonly approval_timeout_seconds: number;
  /**
   * How long a failover with no survivor able to take anything waits for an operator (24 h): the
   * region is dead either way, and a person must decide; past it the failover is cancelled.
   */
  readonly operator_timeout_seconds: number;
  /** Rollback and completion bookkeeping: bounded like the execution phase. */
  readonly closing_timeout_seconds: number;
  /** Longest wait for in-flight handoffs of a draining region (the spec's drain max_wait, 300 s). */
  readonly drain_max_wait_seconds: number;
  /** Pause between two checks of the drain (the spec's drain loop sleeps 10 s). */
  readonly drain_poll_seconds: number;
  /** Longest wait for the target's replica to catch up with the failed region's last writes. */
  readonly sync_max_wait_seconds: number;
  readonly sync_poll_seconds: number;
  /** A single probe of another region (failover_policies.health_check.timeout_seconds). */
  readonly probe_timeout_ms: number;
  /**
   * Seconds each region needs to be promoted (active-passive: warm 120, cold 600; else 0). The
   * validation phase's budget includes the slowest, since the target may be a cold standby.
   */
  readonly promotion_seconds: Readonly<Record<string, number>>;
  /** Pause between two checks while a promoted standby warms up (verify_health polls). */
  readonly promotion_poll_seconds: number;
}

const OPERATOR_TIMEOUT_SECONDS = 24 * 3600;

const PHASES: readonly FailoverPhase[] = ['detection', 'preparation', 'execution', 'validation'];

/** Spec defaults when the topology's sequence leaves a phase out. */
const DEFAULT_PHASE_TIMEOUTS: Readonly<Record<FailoverPhase, number>> = {
  detection: 30,
  preparation: 60,
  execution: 300,
  validation: 120,
};

export function failoverTimings(topology: Topology): FailoverTimings {
  const policies = topology.failover_policies;
  const phase = Object.fromEntries(
    PHASES.map((name) => [
      name,
      // Step Functions takes whole seconds (TimeoutSeconds is a positive integer).
      wholeSeconds(
        policies.failover_sequence.find((s) => s.step === name)?.timeout_seconds ??
          DEFAULT_PHASE_TIMEOUTS[name],
      ),
    ]),
  ) as Record<FailoverPhase, number>;
  // The drain and the sync wait share the execution phase with the status flip and the redirect:
  // each gets a fixed share so the phase as a whole stays within its budget.
  const execution = phase.execution;
  const promotion = Object.fromEntries(
    topology.regions.map((r) => [r.region_id, promotionSeconds(topology, r.region_id)]),
  );
  phase.validation += Math.max(0, ...Object.values(promotion));
  return Object.freeze({
    phase_timeout_seconds: Object.freeze(phase),
    approval_timeout_seconds: wholeSeconds(policies.automatic_failover.decision_timeout_seconds),
    closing_timeout_seconds: execution,
    operator_timeout_seconds: OPERATOR_TIMEOUT_SECONDS,
    promotion_poll_seconds: 10,
    drain_max_wait_seconds: Math.max(1, Math.min(300, Math.floor(execution / 2))),
    drain_poll_seconds: Math.max(1, Math.min(10, Math.floor(execution / 30))),
    sync_max_wait_seconds: Math.max(1, Math.floor(execution / 5)),
    sync_poll_seconds: Math.max(1, Math.min(5, Math.floor(execution / 60))),
    probe_timeout_ms: policies.health_check.timeout_seconds * 1000,
    promotion_seconds: Object.freeze(promotion),
  });
}

function wholeSeconds(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}
