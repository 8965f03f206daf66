/**
 * What the failover workflow's task function takes and answers, and what each step is given and
 * gives back. The workflow (statemachines/failover.asl.json) calls functions/failover with
 * `{ action, failover_id }`; `actions.ts` reads the record and hands a step its context, and
 * `step-record.ts` writes what the step performed onto the record.
 */
import type {
  FailoverAction,
  FailoverRecord,
  FailoverStatus,
  StepOutcome,
} from '../../core/failover/types.ts';
import type { StatePort } from '../../ports.ts';
import type { ControlDeps, WithState } from '../deps.ts';
import type { FailoverTimings } from './timings.ts';

/** What the workflow passes to the failover function. */
export interface FailoverTaskEvent {
  readonly action: FailoverAction;
  readonly failover_id: string;
  /** await_approval: the `.waitForTaskToken` token (`$$.Task.Token`). */
  readonly task_token?: string;
  /** rollback, and complete with outcome `failed`: the error the workflow caught. */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
  /** complete: `failed` when the rollback itself failed. */
  readonly outcome?: 'failed';
}

/** What the action answers; the workflow's Choice states read `done`, `approval_required`, `status`. */
export interface FailoverActionResult {
  readonly action: FailoverAction;
  readonly failover_id: string;
  readonly outcome: StepOutcome;
  readonly detail: string;
  /** true when this action had already succeeded and was not performed again. */
  readonly replayed?: boolean;
  /** Polling actions (drain, sync): false means "wait `wait_seconds` and call again". */
  readonly done?: boolean;
  readonly wait_seconds?: number;
  readonly approval_required?: boolean;
  /** identify_target_region: no survivor can take anything, the workflow waits for an operator. */
  readonly operator_required?: boolean;
  /** await_approval: the workflow waits for the operator's answer to the task token. */
  readonly waiting?: boolean;
  readonly target_region?: string;
  /** rollback and complete: the record's final status. */
  readonly status?: FailoverStatus;
  /** complete: seconds from the failover's initiation to its completion (the FailoverTime metric). */
  readonly failover_seconds?: number;
}

type RecordPatch = Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>;

/** An event a step publishes once its step is on the record. */
export interface StepEvent {
  readonly type: string;
  readonly detail: Record<string, unknown>;
}

/** What a step did: the step entry's outcome and detail, and what changes on the record. */
export interface Performed {
  readonly outcome: StepOutcome;
  readonly detail: string;
  readonly patch?: RecordPatch;
  readonly result?: Partial<FailoverActionResult>;
  /** Record statuses the step may be written from; default `running`. */
  readonly expectedStatuses?: readonly FailoverStatus[];
  /** Published after the record is written, so a listener that reads the record sees the change. */
  readonly events?: readonly StepEvent[];
  /** Runs after the record is written (a wait re-reads it for an answer that raced the write). */
  readonly after?: () => Promise<void>;
}

/**
 * What a step is given: the record as this invocation read it, and when the invocation started. `S`
 * is what the step uses of the shared state: some of StatePort's aggregates, `unknown` for none.
 */
export interface StepContext<S = StatePort> {
  readonly deps: WithState<ControlDeps, S>;
  readonly event: FailoverTaskEvent;
  readonly record: FailoverRecord;
  readonly startedAt: number;
  readonly timings: FailoverTimings;
}

/** One failover step (an action of the workflow other than rollback and mark-failed), using `S` of the state. */
export type Perform<S = StatePort> = (ctx: StepContext<S>) => Promise<Performed>;
