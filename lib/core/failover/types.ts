/**
 * The failover record: one per failure (id derived from the failed region and its epoch), every
 * step with its timing and outcome (principle 7). The workflow (statemachines/failover.asl.json)
 * drives the steps; functions/failover performs each action and writes the record.
 */
import type { RegionStatusRecord } from '../state/records.ts';
import type { FailoverErrorName } from './workflow-errors.ts';

export type FailoverKind = 'failover' | 'failback';
export type FailoverTrigger = 'automatic' | 'manual';
export type FailoverStatus =
  | 'running'
  | 'awaiting_approval'
  | 'completed'
  | 'rolled_back'
  | 'cancelled'
  | 'failed';

/** The spec's four phases, in order. */
export type FailoverPhase = 'detection' | 'preparation' | 'execution' | 'validation';

/** The spec's actions, plus the approval, rollback and completion bookkeeping steps. */
export type FailoverAction =
  | 'verify_failure'
  | 'assess_impact'
  | 'notify_operators'
  | 'await_approval'
  | 'await_operator'
  | 'identify_target_region'
  | 'verify_target_capacity'
  | 'prepare_data_sync'
  | 'drain_connections'
  | 'sync_critical_state'
  | 'update_dns_routing'
  | 'redirect_traffic'
  | 'verify_health'
  | 'validate_functionality'
  | 'monitor_metrics'
  | 'complete'
  | 'rollback';

export const PHASE_OF: Readonly<Record<FailoverAction, FailoverPhase | 'approval' | 'closing'>> = {
  verify_failure: 'detection',
  assess_impact: 'detection',
  notify_operators: 'detection',
  await_approval: 'approval',
  await_operator: 'approval',
  identify_target_region: 'preparation',
  verify_target_capacity: 'preparation',
  prepare_data_sync: 'preparation',
  drain_connections: 'execution',
  sync_critical_state: 'execution',
  update_dns_routing: 'execution',
  redirect_traffic: 'execution',
  verify_health: 'validation',
  validate_functionality: 'validation',
  monitor_metrics: 'validation',
  complete: 'closing',
  rollback: 'closing',
};

export type StepOutcome = 'succeeded' | 'failed' | 'skipped' | 'waiting';

export interface FailoverStepRecord {
  readonly action: FailoverAction;
  readonly phase: FailoverPhase | 'approval' | 'closing';
  /** ISO times (simulated time locally). */
  readonly started_at: string;
  readonly ended_at: string;
  readonly outcome: StepOutcome;
  /** One line for operators: what happened and why. */
  readonly detail: string;
  /** Attempt number when the workflow retried the action (1 = first). */
  readonly attempt: number;
}

/** Why a failover ended early; the names and what the workflow does with each: workflow-errors.ts. */
export type { FailoverErrorName } from './workflow-errors.ts';

export interface FailoverRecord {
  readonly failover_id: string;
  readonly kind: FailoverKind;
  /** The region failed over (for a failback: the region brought back). */
  readonly failed_region: string;
  /** Chosen by identify_target_region unless the request named one. */
  readonly target_region?: string;
  /** A target named by the operator's request. */
  readonly requested_target?: string;
  readonly trigger: FailoverTrigger;
  readonly reason: string;
  readonly status: FailoverStatus;
  /** The region whose workflow runs this failover. */
  readonly coordinator: string;
  /** The failed region's status epoch when the failover began; the id embeds it. */
  readonly epoch: number;
  readonly dry_run: boolean;
  readonly initiated_at: string;
  readonly completed_at?: string;
  readonly workloads_migrated: number;
  /** Workloads that could not move without breaking residency or compliance: kept pending. */
  readonly workloads_pending: number;
  /** Detection to DNS/status flip, simulated seconds. */
  readonly downtime_seconds?: number;
  /** Writes of the failed region the target had not received when it took over, seconds. */
  readonly data_loss_window_seconds?: number;
  readonly steps: readonly FailoverStepRecord[];
  /** Status records before the failover touched them, restored by a rollback. */
  readonly previous_statuses: readonly RegionStatusRecord[];
  /** Set by POST /v1/failovers/{id}/abort; each step checks it before acting. */
  readonly abort_requested: boolean;
  /**
   * What an automatic failover depended on when it started (lib/core/failover/retry.ts
   * failoverConditions): after it ends without a change, the next one waits until they change.
   */
  readonly conditions?: string;
  /** How the work moves: `single` target with 50 % free, or `spread` over every survivor with room. */
  readonly mode?: 'single' | 'spread';
  /**
   * Set while no survivor can take anything and the failover waits for an operator (once, not a
   * rollback and a new failover every epoch): since when, why, and the plan an approval acts on.
   */
  readonly operator_wait?: {
    readonly since: string;
    readonly reason: string;
    readonly considered: readonly { readonly region: string; readonly reasons: readonly string[] }[];
    readonly workloads_pending: number;
  };
  /** `.waitForTaskToken` token while awaiting approval. */
  readonly approval_token?: string;
  readonly approval?: {
    readonly decision: 'approved' | 'declined';
    readonly decided_at: string;
    readonly by?: string;
  };
  /** Why the failover ended rolled back, cancelled or failed. */
  readonly error?: { readonly name: FailoverErrorName | string; readonly message: string };
  readonly updated_at: string;
}

/** Deterministic id: two regions detecting the same failure derive the same id. */
export function failoverIdFor(kind: FailoverKind, region: string, epoch: number): string {
  return `${kind}-${region}-e${epoch}`;
}
