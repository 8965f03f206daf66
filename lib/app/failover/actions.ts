/**
 * The failover workflow's task actions (statemachines/failover.asl.json calls functions/failover
 * with `{ action, failover_id }`). Every action:
 *
 * - reads the record and stops when the operator asked to abort (`OperatorAbort`, rolled back);
 * - is idempotent: an action the record shows as succeeded answers what it answered before, and
 *   every status write first checks whether this failover already made it (`updated_by`);
 * - appends one step with its start, end and outcome, and publishes `failover.step`;
 * - fails with an error whose `name` the workflow matches: `TransientError` is retried with backoff,
 *   the others (FailoverErrorName) roll back or cancel. Anything unexpected becomes TransientError.
 *
 * Failover uses the data plane only (principle 1): update_dns_routing writes region statuses; each
 * region's `/health` reads its own replica and Route 53 health checks follow it. No DNS API here.
 */
import {
  ConflictError,
  CortexError,
  FailoverStepError,
  messageOf,
  NotFoundError,
} from '../../core/errors.ts';
import { MIN_TARGET_CAPACITY } from '../../core/failover/target.ts';
import {
  type FailoverAction,
  type FailoverRecord,
  type FailoverStatus,
  type FailoverStepRecord,
  PHASE_OF,
  type StepOutcome,
} from '../../core/failover/types.ts';
import { assess } from '../../core/health/quorum.ts';
import { readReplica } from '../../core/replication/lag.ts';
import { decideMrsc } from '../../core/replication/placement.ts';
import { type Handoff, isServing, type RegionStatusRecord } from '../../core/state/records.ts';
import type { ControlDeps, RegionalDeps } from '../deps.ts';
import { redirectHandoffs } from '../handoffs/redirect.ts';
import { defaultStatus, readStatuses } from '../live-state.ts';
import type { ReservedHandoff } from '../resources/accounting.ts';
import { routeTask } from '../route-task.ts';
import { describeConsidered, planFailover } from './plan.ts';
import {
  ACTIVE_STATUSES,
  isActive,
  iso,
  lastKnownHeartbeat,
  moveRegion,
  publish,
  readFailover,
  type StepErrorName,
  seconds,
  stepError,
  topologyRole,
} from './shared.ts';
import { type FailoverTimings, failoverTimings } from './timings.ts';

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
}

type RecordPatch = Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>;

interface Performed {
  readonly outcome: StepOutcome;
  readonly detail: string;
  readonly patch?: RecordPatch;
  readonly result?: Partial<FailoverActionResult>;
  /** Record statuses the step may be written from; default `running`. */
  readonly expectedStatuses?: readonly FailoverStatus[];
  /** Published after the record is written, so a listener that reads the record sees the change. */
  readonly events?: readonly { readonly type: string; readonly detail: Record<string, unknown> }[];
  /** Runs after the record is written (a wait re-reads it for an answer that raced the write). */
  readonly after?: () => Promise<void>;
}

interface Context {
  readonly deps: ControlDeps;
  readonly event: FailoverTaskEvent;
  readonly record: FailoverRecord;
  readonly startedAt: number;
  readonly timings: FailoverTimings;
}

type Perform = (ctx: Context) => Promise<Performed>;

export async function runFailoverAction(
  deps: ControlDeps,
  event: FailoverTaskEvent,
): Promise<FailoverActionResult> {
  const startedAt = deps.clock.now();
  let record: FailoverRecord;
  try {
    record = await readFailover(deps.state, event.failover_id);
  } catch (error) {
    // The record is created in the replica that took the request; the coordinator may not have it yet.
    if (error instanceof NotFoundError) {
      throw stepError('TransientError', `failover ${event.failover_id} is not in this replica yet`, error);
    }
    throw asStepError(error);
  }
  const ctx: Context = { deps, event, record, startedAt, timings: failoverTimings(deps.topology) };

  // The coordinator on the record is the fencing token of executions: another region took this
  // failover over (its coordinator stopped moving), so this execution ends without touching it.
  if (record.coordinator !== deps.regionId) {
    const detail = `taken over by ${record.coordinator}: this execution in ${deps.regionId} stops`;
    if (event.action === 'rollback' || (event.action === 'complete' && event.outcome === 'failed')) {
      return {
        action: event.action,
        failover_id: record.failover_id,
        outcome: 'skipped',
        detail,
        status: record.status,
      };
    }
    throw stepError('FailoverFinished', detail);
  }

  if (event.action === 'rollback') return rollback(ctx);
  if (event.action === 'complete' && event.outcome === 'failed') return markFailed(ctx);
  if (!isActive(record)) {
    throw stepError('FailoverFinished', `failover ${record.failover_id} is already ${record.status}`);
  }
  try {
    if (record.abort_requested) {
      throw stepError('OperatorAbort', `an operator aborted failover ${record.failover_id}`);
    }
    const succeeded = record.steps.find((s) => s.action === event.action && s.outcome === 'succeeded');
    // A wait is a question each time it is reached: never replayed from an earlier answer.
    if (succeeded && PHASE_OF[event.action] !== 'approval') return replay(ctx, succeeded);
    const perform = ACTIONS[event.action];
    if (!perform) throw new Error(`unknown failover action ${event.action}`);
    return await finish(ctx, await perform(ctx));
  } catch (error) {
    const failure = asStepError(error);
    await recordFailure(ctx, failure);
    throw failure;
  }
}

/** Unknown errors (a store that did not answer, a bug) become TransientError: retried, then rolled back. */
function asStepError(error: unknown): FailoverStepError {
  if (error instanceof FailoverStepError) return error;
  if (error instanceof ConflictError && error.code === 'FAILOVER_CHANGED') {
    return stepError('FailoverFinished', error.message, error);
  }
  const message = messageOf(error);
  return stepError('TransientError', message, error);
}

function step(ctx: Context, outcome: StepOutcome, detail: string): FailoverStepRecord {
  const { record, event } = ctx;
  return {
    action: event.action,
    phase: PHASE_OF[event.action],
    started_at: iso(ctx.startedAt),
    ended_at: iso(ctx.deps.clock.now()),
    outcome,
    detail,
    attempt: record.steps.filter((s) => s.action === event.action).length + 1,
  };
}

async function finish(ctx: Context, performed: Performed): Promise<FailoverActionResult> {
  const { deps, record, event } = ctx;
  const entry = step(ctx, performed.outcome, performed.detail);
  const updated = await deps.state.updateFailover(
    record.failover_id,
    { ...performed.patch, updated_at: entry.ended_at },
    { expectedStatuses: performed.expectedStatuses ?? ['running'], step: entry },
  );
  await publish(deps, 'failover.step', stepDetail(updated, entry));
  for (const extra of performed.events ?? []) await publish(deps, extra.type, extra.detail);
  await performed.after?.();
  return {
    action: event.action,
    failover_id: record.failover_id,
    outcome: performed.outcome,
    detail: performed.detail,
    ...performed.result,
  };
}

function stepDetail(record: FailoverRecord, entry: FailoverStepRecord): Record<string, unknown> {
  return {
    failover_id: record.failover_id,
    failed_region: record.failed_region,
    ...(record.target_region === undefined ? {} : { target_region: record.target_region }),
    ...entry,
  };
}

/** Appends the failed step; best effort, since the store itself may be what failed. */
async function recordFailure(ctx: Context, failure: FailoverStepError): Promise<void> {
  const entry = step(ctx, 'failed', `${failure.name}: ${failure.message}`);
  try {
    const updated = await ctx.deps.state.updateFailover(
      ctx.record.failover_id,
      { updated_at: entry.ended_at },
      { expectedStatuses: ACTIVE_STATUSES, step: entry },
    );
    await publish(ctx.deps, 'failover.step', stepDetail(updated, entry));
  } catch {
    // The workflow still gets the error; the retry or the rollback writes the record again.
  }
}

function replay(ctx: Context, done: FailoverStepRecord): FailoverActionResult {
  const { record, event } = ctx;
  return {
    action: event.action,
    failover_id: record.failover_id,
    outcome: 'succeeded',
    detail: `already done: ${done.detail}`,
    replayed: true,
    done: true,
    wait_seconds: 0,
    approval_required: approvalRequired(ctx),
    ...(record.target_region === undefined ? {} : { target_region: record.target_region }),
    // TargetFound reads it: a Choice on a path that names no value fails the execution (States.Runtime),
    // so a resumed or taken-over execution replaying the chosen target must answer it too.
    ...(event.action === 'identify_target_region' ? { operator_required: false } : {}),
  };
}

/** The policy's approval applies to automatic failovers: an operator's own request is the approval. */
function approvalRequired(ctx: Context): boolean {
  return (
    ctx.deps.topology.failover_policies.automatic_failover.require_manual_approval &&
    ctx.record.trigger === 'automatic'
  );
}

function targetOf(record: FailoverRecord): string {
  if (record.target_region === undefined) {
    throw stepError('NoTargetRegion', `failover ${record.failover_id} has no target region yet`);
  }
  return record.target_region;
}

/** Ours: this failover's forward writes carry its id, its rollback writes `<id>/rollback`. */
const rollbackMarker = (failoverId: string) => `${failoverId}/rollback`;

// ---- detection ----------------------------------------------------------------------------------

const verifyFailure: Perform = async ({ deps, record }) => {
  const failed = record.failed_region;
  const statuses = await readStatuses(deps.topology, deps.state);
  const current = statuses.get(failed) as RegionStatusRecord;
  if (current.status === 'failed') {
    throw stepError(
      'FailureNotConfirmed',
      `${failed} is already failed (epoch ${current.epoch}, by ${current.updated_by}): nothing to fail over`,
    );
  }
  if (current.status === 'draining' && current.updated_by !== record.failover_id) {
    throw stepError('FailureNotConfirmed', `${failed} is being drained by ${current.updated_by}`);
  }
  if (record.trigger === 'manual') {
    return {
      outcome: 'succeeded',
      detail: `operator-initiated (${record.reason}); ${failed} is ${current.status} at epoch ${current.epoch}`,
    };
  }
  if (current.status === 'fenced') {
    return { outcome: 'succeeded', detail: `${failed} fenced itself: it cannot reach a majority` };
  }
  const assessment = assess({
    topology: deps.topology,
    observer: record.coordinator,
    statuses,
    views: await deps.state.listTargetHealth(),
    now: deps.clock.now(),
  });
  if (assessment.cut_off) {
    throw stepError(
      'FailureNotConfirmed',
      `${record.coordinator} cannot confirm the failure: ${assessment.cut_off_reason}`,
    );
  }
  const verdict = assessment.failed.find((f) => f.region === failed);
  const votes = Object.entries(assessment.votes[failed] ?? {})
    .map(([observer, v]) => `${observer}=${v}`)
    .join(', ');
  if (!verdict) {
    throw stepError(
      'FailureNotConfirmed',
      `a majority of observers no longer calls ${failed} unhealthy (${votes || 'no views'})`,
    );
  }
  return {
    outcome: 'succeeded',
    detail: `${verdict.votes_unhealthy} of ${verdict.voters} observers call ${failed} unhealthy: ${
      verdict.reasons.join('; ') || votes
    }`,
  };
};

const assessImpact: Perform = async ({ deps, record }) => {
  const handoffs = await deps.state.listHandoffsByTarget(record.failed_region);
  const pending = handoffs.filter((h) => h.status === 'pending');
  const inFlight = handoffs.filter((h) => h.status === 'accepted');
  const residency = new Map<string, number>();
  for (const handoff of pending) {
    const code = residencyOf(handoff) ?? 'unrestricted';
    residency.set(code, (residency.get(code) ?? 0) + 1);
  }
  const byResidency = [...residency].map(([code, n]) => `${n} ${code}`).join(', ');
  return {
    outcome: 'succeeded',
    detail:
      `regional failure of ${record.failed_region}: ${pending.length} pending and ${inFlight.length} ` +
      `in-flight handoff(s)${byResidency ? ` (residency: ${byResidency})` : ''}`,
  };
};

function residencyOf(handoff: Handoff): string | undefined {
  const requirements = (handoff.task as { requirements?: { data_residency?: unknown } }).requirements;
  return typeof requirements?.data_residency === 'string' ? requirements.data_residency : undefined;
}

const notifyOperators: Perform = async (ctx) => {
  const { record } = ctx;
  const required = approvalRequired(ctx);
  return {
    outcome: 'succeeded',
    detail: required
      ? 'operators notified; the policy requires their approval before anything changes'
      : 'operators notified',
    result: { approval_required: required },
    events: [
      {
        type: 'failover.operators_notified',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          trigger: record.trigger,
          reason: record.reason,
          approval_required: required,
        },
      },
    ],
  };
};

const awaitApproval: Perform = async ({ deps, record, event, timings }) => {
  const token = event.task_token;
  if (!token) throw new Error('await_approval needs the task token');
  if (record.approval) {
    // Retried after the operator answered: answer the new token the same way.
    await deps.workflow.answerApproval(token, record.approval.decision === 'approved');
    return {
      outcome: 'succeeded',
      detail: `already ${record.approval.decision}`,
      result: { waiting: false },
    };
  }
  return {
    outcome: 'waiting',
    detail: `waiting up to ${timings.approval_timeout_seconds} s for an operator to approve or decline`,
    after: () => answerIfDecided(deps, record.failover_id, token),
    patch: { status: 'awaiting_approval', approval_token: token },
    // A retry after the token was stored (its answer lost) stores the new token.
    expectedStatuses: ACTIVE_STATUSES,
    result: { waiting: true },
    events: [
      {
        type: 'failover.awaiting_approval',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          reason: record.reason,
          timeout_seconds: timings.approval_timeout_seconds,
        },
      },
    ],
  };
};

/**
 * An operator may answer between a wait's read of the record and its write of the new token (an
 * answer given while no execution ran, then resumed): the answer landed on the record but reached
 * no token. Re-read after the write and answer this wait's token from the record. The operator's
 * side re-reads too (lib/app/failover/manage.ts), so whichever writes second sees the other.
 */
async function answerIfDecided(deps: ControlDeps, failoverId: string, token: string, since?: string) {
  const now = await deps.state.getFailover(failoverId);
  const approval = now?.approval;
  if (!approval) return;
  if (since !== undefined && Date.parse(approval.decided_at) < Date.parse(since)) return;
  if (approval.decision === 'approved' && now?.status === 'awaiting_approval') {
    // The wait's own write put the status back to awaiting after the approval set it running.
    try {
      await deps.state.updateFailover(
        failoverId,
        { status: 'running', updated_at: iso(deps.clock.now()) },
        { expectedStatuses: ['awaiting_approval'] },
      );
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  try {
    await deps.workflow.answerApproval(token, approval.decision === 'approved');
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/**
 * No survivor can take anything: store the token and the plan, raise one incident, wait. Approve
 * (after an operator freed capacity or recovered a region) plans again; decline or the window's end
 * cancels. A new wait (the plan still found nothing) is a new question: an older answer does not
 * count for it.
 */
const awaitOperator: Perform = async ({ deps, record, event, timings }) => {
  const token = event.task_token;
  if (!token) throw new Error('await_operator needs the task token');
  const plan = await planFailover(deps, record.failed_region, record.requested_target);
  const since = iso(deps.clock.now());
  const reason = `no survivor can take anything from ${record.failed_region}`;
  const detail = {
    failover_id: record.failover_id,
    failed_region: record.failed_region,
    reason,
    considered: plan.considered,
    workloads_pending: plan.workloads_pending.length,
    timeout_seconds: timings.operator_timeout_seconds,
  };
  return {
    outcome: 'waiting',
    detail: `${reason}: ${describeConsidered(plan.considered)}; waiting up to ${timings.operator_timeout_seconds} s for an operator (approve plans again, decline cancels)`,
    after: () => answerIfDecided(deps, record.failover_id, token, since),
    patch: {
      status: 'awaiting_approval',
      approval_token: token,
      operator_wait: {
        since,
        reason,
        considered: plan.considered,
        workloads_pending: plan.workloads_pending.length,
      },
    },
    expectedStatuses: ACTIVE_STATUSES,
    result: { waiting: true },
    // One incident per wait, never one per epoch: the failover waits instead of starting again.
    events: [{ type: 'failover.operator_required', detail }],
  };
};

// ---- preparation --------------------------------------------------------------------------------

const identifyTargetRegion: Perform = async ({ deps, record }) => {
  const plan = await planFailover(deps, record.failed_region, record.requested_target);
  if (plan.target_region === undefined) {
    // Nothing can take anything: an operator decides, once, with this plan (AwaitOperator).
    return {
      outcome: 'waiting',
      detail: `no survivor can take anything from ${record.failed_region}: ${describeConsidered(plan.considered)}; an operator decides`,
      result: { operator_required: true },
    };
  }
  const pending = plan.workloads_pending.length;
  const mode = plan.mode ?? 'single';
  return {
    outcome: 'succeeded',
    detail:
      `${plan.target_region} takes over${mode === 'spread' ? ' and the work is spread over every survivor with room' : ''} (${describeConsidered(plan.considered)}); ` +
      `${plan.workloads_to_move.length} workload(s) to move${pending ? `, ${pending} would stay pending` : ''}`,
    patch: { target_region: plan.target_region, mode },
    result: { target_region: plan.target_region, operator_required: false },
    events: [
      {
        type: 'failover.target_selected',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          target_region: plan.target_region,
          mode,
          considered: plan.considered,
          workloads_to_move: plan.workloads_to_move.length,
          workloads_pending: pending,
        },
      },
    ],
  };
};

const verifyTargetCapacity: Perform = async ({ deps, record, timings }) => {
  const target = targetOf(record);
  const status = (await readStatuses(deps.topology, deps.state)).get(target);
  if (!status || !isServing(status.status)) {
    throw stepError('TargetRegionFailure', `${target} is ${status?.status ?? 'unknown'}, not serving`);
  }
  const seen = await deps.probe.probe(
    record.coordinator,
    target,
    '/coordination/status',
    timings.probe_timeout_ms,
  );
  if (!seen.ok) {
    throw stepError(
      'TargetRegionFailure',
      `${target} does not answer /coordination/status: ${seen.error ?? 'error'}`,
    );
  }
  if (seen.reported_status !== undefined && !isServing(seen.reported_status)) {
    throw stepError('TargetRegionFailure', `${target} reports itself ${seen.reported_status}`);
  }
  // Spread: no survivor had 50 % free when the target was chosen; it needs room, not half its pool.
  const needed = record.mode === 'spread' ? Number.MIN_VALUE : MIN_TARGET_CAPACITY;
  if (seen.available_capacity !== undefined && seen.available_capacity < needed) {
    throw stepError(
      'TargetRegionFailure',
      record.mode === 'spread'
        ? `${target} reports no capacity left`
        : `${target} reports ${Math.round(seen.available_capacity * 100)}% capacity available, below ${
            MIN_TARGET_CAPACITY * 100
          }%`,
    );
  }
  return {
    outcome: 'succeeded',
    detail: `${target} answers in ${seen.latency_ms} ms${
      seen.available_capacity === undefined
        ? ''
        : ` with ${Math.round(seen.available_capacity * 100)}% capacity available`
    }`,
  };
};

/** The failed region's last heartbeat known here, and the target's replica's copy of it. */
async function heartbeatsOf(deps: ControlDeps, target: string, failed: string) {
  const [known, copy] = await Promise.all([
    lastKnownHeartbeat(deps.state, failed),
    targetCopyOf(deps, target, failed),
  ]);
  return { known, copy };
}

/** The `failover.data_loss_window` event: how much of the failed region's writes the target may lack. */
function dataLossWindow(
  record: FailoverRecord,
  target: string,
  window: { readonly unknown: true } | { readonly seconds: number },
) {
  return {
    type: 'failover.data_loss_window',
    detail: {
      failover_id: record.failover_id,
      failed_region: record.failed_region,
      target_region: target,
      ...window,
    },
  };
}

async function targetCopyOf(deps: ControlDeps, target: string, failed: string) {
  try {
    return (await deps.replica(target).listHeartbeats()).find((h) => h.region === failed);
  } catch (error) {
    throw stepError('DataSyncFailure', `cannot read ${target}'s replica: ${messageOf(error)}`, error);
  }
}

const prepareDataSync: Perform = async ({ deps, record }) => {
  const target = targetOf(record);
  const failed = record.failed_region;
  const { known, copy } = await heartbeatsOf(deps, target, failed);
  let detail: string;
  if (!known) detail = `no heartbeat of ${failed} known: nothing to compare`;
  else if (!copy)
    detail = `${target}'s replica holds no heartbeat of ${failed} yet (last known seq ${known.seq})`;
  else if (copy.seq >= known.seq)
    detail = `${target}'s replica is caught up with ${failed} (seq ${copy.seq})`;
  else {
    detail = `${target}'s replica holds ${failed}'s seq ${copy.seq} of ${known.seq} (${seconds(
      known.at - copy.at,
    )} s behind)`;
  }
  return { outcome: 'succeeded', detail };
};

// ---- execution ----------------------------------------------------------------------------------

/**
 * Stores the status of each region before this failover first writes it, so a rollback can restore
 * it. Written before the status change itself; a region already captured is left as captured.
 */
async function capturePrevious(
  ctx: Context,
  regionIds: readonly string[],
): Promise<readonly RegionStatusRecord[]> {
  const { deps, record } = ctx;
  const have = new Set(record.previous_statuses.map((s) => s.region_id));
  const missing = regionIds.filter((id) => !have.has(id));
  if (missing.length === 0) return record.previous_statuses;
  const statuses = await readStatuses(deps.topology, deps.state);
  const captured = [
    ...record.previous_statuses,
    ...missing.map((id) => statuses.get(id) as RegionStatusRecord),
  ];
  await deps.state.updateFailover(
    record.failover_id,
    { previous_statuses: captured, updated_at: iso(deps.clock.now()) },
    { expectedStatuses: ['running'] },
  );
  return captured;
}

/** When this action first ran (the first of its steps), for the drain and sync max waits. */
function firstRunOf(ctx: Context): number {
  const first = ctx.record.steps.find((s) => s.action === ctx.event.action);
  return first ? Date.parse(first.started_at) : ctx.startedAt;
}

const drainConnections: Perform = async (ctx) => {
  const { deps, record, timings } = ctx;
  const failed = record.failed_region;
  await capturePrevious(ctx, [failed]);
  const moved = await moveRegion(deps, failed, record.failover_id, (current) => {
    if (current.updated_by === record.failover_id) return undefined;
    // Fenced, or failed by someone else: it already serves nothing, so there is nothing to drain.
    if (!isServing(current.status)) return undefined;
    return { status: 'draining', reason: `failover ${record.failover_id}: draining (${record.reason})` };
  });
  const handoffs = await deps.state.listHandoffsByTarget(failed);
  const running = handoffs.filter((h) => h.status === 'accepted' && h.target_region === failed);
  const inFlight = running.length;
  const waited = (deps.clock.now() - firstRunOf(ctx)) / 1000;
  const events = moved.wrote
    ? [
        {
          type: 'region.draining',
          detail: { region: failed, epoch: moved.after.epoch, failover_id: record.failover_id },
        },
      ]
    : [];
  const state = `${failed} is ${moved.after.status} (epoch ${moved.after.epoch})`;
  if (inFlight === 0) {
    return {
      outcome: 'succeeded',
      detail: `${state}; no handoff in flight`,
      result: { done: true, wait_seconds: 0 },
      events,
    };
  }
  if (waited >= timings.drain_max_wait_seconds) {
    // Never dropped: the record names what was still running, and redirect_traffic re-routes it by
    // the failover's rules (or keeps it, with the reasons, where no region may take it).
    return {
      outcome: 'succeeded',
      detail:
        `${state}; max wait of ${timings.drain_max_wait_seconds} s passed with ${inFlight} handoff(s) still in flight: ` +
        `${namedHandoffs(running)}; redirect_traffic re-routes them`,
      result: { done: true, wait_seconds: 0 },
      events: [
        ...events,
        {
          type: 'failover.drain_incomplete',
          detail: {
            failover_id: record.failover_id,
            region: failed,
            max_wait_seconds: timings.drain_max_wait_seconds,
            in_flight: running.map((h) => ({
              handoff_id: h.handoff_id,
              task_id: h.task_id,
              ...(h.accepted_by === undefined ? {} : { accepted_by: h.accepted_by }),
              ...(h.accepted_at === undefined ? {} : { accepted_at: h.accepted_at }),
            })),
          },
        },
      ],
    };
  }
  return {
    outcome: 'waiting',
    detail: `${state}; ${inFlight} handoff(s) in flight after ${seconds(waited * 1000)} s`,
    result: { done: false, wait_seconds: timings.drain_poll_seconds },
    events,
  };
};

/** Handoffs by id (with who accepted them) for a one-line step detail; the first ten, then a count. */
function namedHandoffs(handoffs: readonly Handoff[]): string {
  const shown = handoffs
    .slice(0, 10)
    .map((h) => `${h.handoff_id}${h.accepted_by === undefined ? '' : ` (accepted by ${h.accepted_by})`}`);
  const more = handoffs.length - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

/**
 * With an MRSC table (lib/core/replication/placement.ts), the synchronous data types were never
 * behind: the step's heartbeat comparison then speaks for the asynchronous data only, and says so.
 */
const syncCriticalState: Perform = async (ctx) => {
  const performed = await syncReplicaOf(ctx);
  const regions = ctx.deps.topology.regions.map((r) => r.region_id);
  if (!decideMrsc(regions).allowed) return performed;
  return {
    ...performed,
    detail: `${performed.detail} (synchronous data is in the MRSC table ${ctx.deps.topology.name}-critical, strongly consistent: nothing of it to wait for or lose; this reading is the asynchronous data's)`,
  };
};

const syncReplicaOf: Perform = async (ctx) => {
  const { deps, record, timings } = ctx;
  const target = targetOf(record);
  const failed = record.failed_region;
  const { known, copy } = await heartbeatsOf(deps, target, failed);
  if (!known) {
    return {
      outcome: 'succeeded',
      detail: `no heartbeat of ${failed} known: nothing to wait for`,
      result: { done: true, wait_seconds: 0 },
    };
  }
  if (!copy) {
    // Nothing of the failed region has reached the target yet (it died moments after it started, or
    // the link was down all along). Wait like any lag; then take over and say the window is unknown:
    // rolling back would leave a dead region marked as serving.
    const waited = (deps.clock.now() - firstRunOf(ctx)) / 1000;
    if (waited < timings.sync_max_wait_seconds) {
      return {
        outcome: 'waiting',
        detail: `${target}'s replica has no write of ${failed} yet (last known seq ${known.seq}); waiting`,
        result: { done: false, wait_seconds: timings.sync_poll_seconds },
      };
    }
    return {
      outcome: 'succeeded',
      detail: `${target}'s replica never received a write of ${failed} (last known seq ${known.seq}) within ${timings.sync_max_wait_seconds} s: data-loss window unknown`,
      result: { done: true, wait_seconds: 0 },
      events: [dataLossWindow(record, target, { unknown: true })],
    };
  }
  // The lag monitor's reading (lib/core/replication/lag.ts): caught up, and the data-loss window if not.
  const reading = readReplica(known, copy);
  if (reading.caught_up) {
    return {
      outcome: 'succeeded',
      detail: `${target}'s replica holds ${failed}'s last known writes (seq ${copy.seq})`,
      patch: { data_loss_window_seconds: 0 },
      result: { done: true, wait_seconds: 0 },
    };
  }
  const waited = (deps.clock.now() - firstRunOf(ctx)) / 1000;
  if (waited >= timings.sync_max_wait_seconds) {
    const window = seconds(reading.window_ms);
    return {
      outcome: 'succeeded',
      detail: `${target}'s replica is still at seq ${copy.seq} of ${known.seq} after ${timings.sync_max_wait_seconds} s: data-loss window ${window} s`,
      patch: { data_loss_window_seconds: window },
      result: { done: true, wait_seconds: 0 },
      events: [dataLossWindow(record, target, { seconds: window })],
    };
  }
  return {
    outcome: 'waiting',
    detail: `${target}'s replica holds ${failed}'s seq ${copy.seq} of ${known.seq}; waiting`,
    result: { done: false, wait_seconds: timings.sync_poll_seconds },
  };
};

const updateDnsRouting: Perform = async (ctx) => {
  const { deps, record } = ctx;
  const target = targetOf(record);
  const failed = record.failed_region;
  const id = record.failover_id;
  const statuses = await readStatuses(deps.topology, deps.state);
  // One primary at a time: another serving primary (from an earlier failover) returns to its role.
  const otherPrimaries = [...statuses.values()]
    .filter(
      (s) => s.region_id !== target && s.region_id !== failed && s.role === 'primary' && isServing(s.status),
    )
    .map((s) => s.region_id);
  await capturePrevious(ctx, [failed, target, ...otherPrimaries]);

  const source = await moveRegion(deps, failed, id, (current) =>
    current.status === 'failed'
      ? undefined
      : { status: 'failed', reason: `failed over to ${target} by ${id}` },
  );
  const promoted = await moveRegion(deps, target, id, (current) => {
    if (!isServing(current.status)) {
      throw stepError('TargetRegionFailure', `${target} became ${current.status} before it was promoted`);
    }
    return current.role === 'primary'
      ? undefined
      : { role: 'primary', reason: `took over from ${failed} (${id})` };
  });
  const demoted: string[] = [];
  for (const region of otherPrimaries) {
    const moved = await moveRegion(deps, region, id, (current) =>
      current.role === 'primary' && isServing(current.status)
        ? { role: topologyRole(deps.topology, region), reason: `${target} is primary after ${id}` }
        : undefined,
    );
    if (moved.wrote) demoted.push(region);
  }

  const downtime = record.downtime_seconds ?? seconds(deps.clock.now() - Date.parse(record.initiated_at));
  const events: { type: string; detail: Record<string, unknown> }[] = [];
  if (source.wrote) {
    events.push({
      type: 'region.failed',
      detail: { region: failed, epoch: source.after.epoch, failover_id: id },
    });
  }
  if (promoted.wrote) {
    events.push({
      type: 'region.promoted',
      detail: { region: target, role: 'primary', epoch: promoted.after.epoch, failover_id: id },
    });
  }
  for (const region of demoted) events.push({ type: 'region.demoted', detail: { region, failover_id: id } });
  return {
    outcome: 'succeeded',
    detail:
      `${failed} is failed (epoch ${source.after.epoch}), ${target} is primary (epoch ${promoted.after.epoch})` +
      `${demoted.length ? `, ${demoted.join(', ')} no longer primary` : ''}; Route 53 follows /health` +
      ` (downtime ${downtime} s)`,
    patch: { downtime_seconds: downtime },
    events,
  };
};

const redirectTraffic: Perform = async ({ deps, record, timings }) => {
  const failed = record.failed_region;
  const [statuses, handoffs] = await Promise.all([
    readStatuses(deps.topology, deps.state),
    deps.state.listHandoffsByTarget(failed),
  ]);
  // Accepted work still here outlived the drain's wait (the region took no new work since): it
  // moves by the same rules, its ended acceptance kept on the record.
  const open = handoffs.filter(
    (h) => (h.status === 'pending' || h.status === 'accepted') && h.target_region === failed,
  ) as ReservedHandoff[];
  const { moved, kept, migrated, raced, interrupted } = await redirectHandoffs(
    deps,
    failed,
    open,
    statuses,
    `still running in ${failed} when the drain of ${record.failover_id} ended (max wait ${timings.drain_max_wait_seconds} s)`,
  );
  const total = record.workloads_migrated + migrated;
  const wasAccepted = new Set(open.filter((h) => h.status === 'accepted').map((h) => h.handoff_id));
  const keptRunning = kept.filter((k) => wasAccepted.has(k.handoff_id));
  const keptPending = kept.filter((k) => !wasAccepted.has(k.handoff_id));
  const listKept = (list: typeof kept) =>
    list.map((k) => `${k.task_id} (${k.reasons.join('; ')})`).join(', ');
  const events: { type: string; detail: Record<string, unknown> }[] = [
    {
      type: 'failover.workloads_redirected',
      detail: {
        failover_id: record.failover_id,
        failed_region: failed,
        moved: moved.map((m) => ({ handoff_id: m.handoff_id, to: m.to })),
      },
    },
  ];
  if (kept.length > 0) {
    events.push({
      type: 'failover.workloads_pending',
      detail: { failover_id: record.failover_id, failed_region: failed, workloads: kept },
    });
  }
  return {
    outcome: 'succeeded',
    detail:
      `${migrated - interrupted} pending handoff(s) re-routed` +
      `${interrupted ? ` and ${interrupted} accepted one(s) still running in ${failed} (interrupted)` : ''}` +
      ` (${total} in all)` +
      `${keptPending.length ? `; ${keptPending.length} kept pending: ${listKept(keptPending)}` : ''}` +
      `${keptRunning.length ? `; ${keptRunning.length} accepted kept in ${failed}: ${listKept(keptRunning)}` : ''}` +
      `${raced ? `; ${raced} changed by their region meanwhile` : ''}`,
    patch: { workloads_migrated: total, workloads_pending: kept.length },
    events,
  };
};

// ---- validation ---------------------------------------------------------------------------------

const verifyHealth: Perform = async ({ deps, record, timings }) => {
  const target = targetOf(record);
  const own = (await deps.replica(target).getRegionStatus(target)) ?? defaultStatus(deps.topology, target);
  if (!isServing(own.status)) {
    throw stepError('TargetRegionFailure', `${target}'s own replica says it is ${own.status}`);
  }
  if (own.role !== 'primary') {
    // Its replica has not received the promotion yet (replication lag): try again shortly.
    throw stepError(
      'TransientError',
      `${target}'s replica does not show it as primary yet (epoch ${own.epoch})`,
    );
  }
  const health = await deps.probe.probe(record.coordinator, target, '/health', timings.probe_timeout_ms);
  if (!health.ok) {
    throw stepError('TargetRegionFailure', `${target} /health: ${health.error ?? `HTTP ${health.status}`}`);
  }
  const serving = `${target} is primary and serving in its own replica (epoch ${own.epoch}); /health answered in ${health.latency_ms} ms`;
  // A promoted standby needs its promotion time (active-passive: warm 120 s, cold 600 s) before the
  // functional checks: part of the validation wait and of the RTO, counted from the status flip.
  const promotion = timings.promotion_seconds[target] ?? 0;
  const flipped = record.steps.find((s) => s.action === 'update_dns_routing' && s.outcome === 'succeeded');
  const since = flipped ? (deps.clock.now() - Date.parse(flipped.ended_at)) / 1000 : promotion;
  if (since < promotion) {
    return {
      outcome: 'waiting',
      detail: `${serving}; promoting: ${seconds(since * 1000)} s of ${promotion} s`,
      result: {
        done: false,
        wait_seconds: Math.max(1, Math.min(timings.promotion_poll_seconds, Math.ceil(promotion - since))),
      },
    };
  }
  return {
    outcome: 'succeeded',
    detail: promotion > 0 ? `${serving}; promoted after ${promotion} s` : serving,
    result: { done: true, wait_seconds: 0 },
  };
};

export const canaryTaskId = (failoverId: string) => `canary-${failoverId}`;

const validateFunctionality: Perform = async ({ deps, record }) => {
  const target = targetOf(record);
  const failed = record.failed_region;
  const targetDeps: RegionalDeps = {
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

const monitorMetrics: Perform = async ({ deps, record, timings }) => {
  const target = targetOf(record);
  const conditions = deps.topology.failover_policies.automatic_failover.conditions;
  const views = await deps.state.listTargetHealth();
  const view = views.find((v) => v.observer === record.coordinator && v.target === target);
  const problems: string[] = [];
  if (view) {
    if (view.verdict === 'unhealthy') problems.push(`verdict unhealthy (${view.reasons.join('; ')})`);
    if (view.error_rate > conditions.error_rate_threshold) {
      problems.push(`error rate ${view.error_rate} above ${conditions.error_rate_threshold}`);
    }
    if (view.p99_ms > conditions.latency_p99_threshold_ms) {
      problems.push(`p99 ${view.p99_ms} ms above ${conditions.latency_p99_threshold_ms} ms`);
    }
  }
  const ping = await deps.probe.probe(record.coordinator, target, '/api/v1/ping', timings.probe_timeout_ms);
  if (!ping.ok) problems.push(`/api/v1/ping: ${ping.error ?? `HTTP ${ping.status}`}`);
  if (problems.length > 0) {
    throw stepError('ValidationFailure', `${target} after takeover: ${problems.join('; ')}`);
  }
  return {
    outcome: 'succeeded',
    detail: view
      ? `${target}: error rate ${view.error_rate}, p99 ${view.p99_ms} ms, ping ${ping.latency_ms} ms`
      : `${target}: ping ${ping.latency_ms} ms (no probe view yet)`,
  };
};

// ---- closing ------------------------------------------------------------------------------------

const complete: Perform = async ({ deps, record }) => {
  const now = iso(deps.clock.now());
  return {
    outcome: 'succeeded',
    detail: `${record.failed_region} failed over to ${record.target_region}`,
    patch: { status: 'completed', completed_at: now },
    result: { status: 'completed' },
    events: [
      {
        type: 'failover.completed',
        detail: {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          target_region: record.target_region,
          trigger: record.trigger,
          initiated_at: record.initiated_at,
          completed_at: now,
          downtime_seconds: record.downtime_seconds,
          workloads_migrated: record.workloads_migrated,
          workloads_pending: record.workloads_pending,
          data_loss_window_seconds: record.data_loss_window_seconds,
        },
      },
    ],
  };
};

function caughtError(event: FailoverTaskEvent): { name: string; message: string } {
  const name = event.error?.Error ?? 'Unknown';
  const cause = event.error?.Cause ?? '';
  // Lambda errors arrive as a JSON Cause ({ errorType, errorMessage, trace }); local ones as text.
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return { name, message: parsed.errorMessage };
  } catch {
    // Plain text.
  }
  return { name, message: cause };
}

const CANCELLING: readonly string[] = ['ApprovalDeclined', 'FailureNotConfirmed'] satisfies StepErrorName[];

/**
 * Restores every status this failover changed (the rollback criteria: target failure, data sync
 * failure, validation failure, operator abort), each with a higher epoch. A status someone else
 * changed since is left alone. Ends `cancelled` when the failover stopped before it changed anything
 * on purpose (declined, unconfirmed), else `rolled_back`. Idempotent: a final record answers its status.
 */
async function rollback(ctx: Context): Promise<FailoverActionResult> {
  const { deps, record, event } = ctx;
  const base = { action: event.action, failover_id: record.failover_id };
  if (!isActive(record)) {
    return {
      ...base,
      outcome: 'skipped',
      detail: `already ${record.status}`,
      replayed: true,
      status: record.status,
    };
  }
  const error = caughtError(event);
  const id = record.failover_id;
  const restoredBy = rollbackMarker(id);
  const notes: string[] = [];
  const restored: RegionStatusRecord[] = [];
  for (const previous of [...record.previous_statuses].reverse()) {
    const moved = await moveRegion(deps, previous.region_id, restoredBy, (current) => {
      if (current.updated_by === restoredBy) return undefined;
      if (current.updated_by !== id) {
        if (current.epoch !== previous.epoch) {
          notes.push(`${previous.region_id} left as ${current.status} (changed by ${current.updated_by})`);
        }
        return undefined;
      }
      return {
        status: previous.status,
        role: previous.role,
        reason: `restored by the rollback of ${id} (${error.name})`,
      };
    });
    if (moved.wrote) restored.push(moved.after);
  }
  // Nothing written for the failed region: move its epoch anyway, so the next failover of it gets a
  // new id (ids embed the epoch) instead of colliding with this finished one.
  const touchedFailed = record.previous_statuses.some((s) => s.region_id === record.failed_region);
  if (!touchedFailed) {
    await moveRegion(deps, record.failed_region, restoredBy, (current) =>
      current.epoch === record.epoch && current.updated_by !== restoredBy
        ? { reason: `failover ${id} ended without changing ${record.failed_region} (${error.name})` }
        : undefined,
    );
  }
  const cancelled = CANCELLING.includes(error.name) || record.status === 'awaiting_approval';
  const status: FailoverStatus = cancelled ? 'cancelled' : 'rolled_back';
  const now = iso(deps.clock.now());
  const detail =
    `${status === 'cancelled' ? 'cancelled' : 'rolled back'} after ${error.name}: ${error.message}` +
    `${restored.length ? `; restored ${restored.map((r) => `${r.region_id} to ${r.status}/${r.role}`).join(', ')}` : '; no status to restore'}` +
    `${notes.length ? `; ${notes.join('; ')}` : ''}`;
  return finish(ctx, {
    outcome: 'succeeded',
    detail,
    patch: { status, completed_at: now, error: { name: error.name, message: error.message } },
    result: { status },
    events: [
      ...restored.map((r) => ({
        type: 'region.restored',
        detail: { region: r.region_id, status: r.status, role: r.role, epoch: r.epoch, failover_id: id },
      })),
      {
        type: status === 'cancelled' ? 'failover.cancelled' : 'failover.rolled_back',
        detail: {
          failover_id: id,
          failed_region: record.failed_region,
          target_region: record.target_region,
          error: error.name,
          message: error.message,
          restored: restored.map((r) => r.region_id),
        },
      },
    ],
    expectedStatuses: ACTIVE_STATUSES,
  });
}

/** The rollback itself failed: record `failed` so an operator looks (MarkFailed in the workflow). */
async function markFailed(ctx: Context): Promise<FailoverActionResult> {
  const { record, event } = ctx;
  if (!isActive(record)) {
    return {
      action: event.action,
      failover_id: record.failover_id,
      outcome: 'skipped',
      detail: `already ${record.status}`,
      replayed: true,
      status: record.status,
    };
  }
  const error = caughtError(event);
  return finish(ctx, {
    outcome: 'failed',
    detail: `the rollback failed (${error.name}: ${error.message}); statuses may be left as the failover set them`,
    patch: {
      status: 'failed',
      completed_at: iso(ctx.deps.clock.now()),
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

const ACTIONS: Partial<Record<FailoverAction, Perform>> = {
  verify_failure: verifyFailure,
  assess_impact: assessImpact,
  notify_operators: notifyOperators,
  await_approval: awaitApproval,
  await_operator: awaitOperator,
  identify_target_region: identifyTargetRegion,
  verify_target_capacity: verifyTargetCapacity,
  prepare_data_sync: prepareDataSync,
  drain_connections: drainConnections,
  sync_critical_state: syncCriticalState,
  update_dns_routing: updateDnsRouting,
  redirect_traffic: redirectTraffic,
  verify_health: verifyHealth,
  validate_functionality: validateFunctionality,
  monitor_metrics: monitorMetrics,
  complete,
};
