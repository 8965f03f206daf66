/**
 * Operator actions on a running failover (abort, approve, decline) and reading failover records.
 */
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { FailoverRecord, FailoverStatus } from '../../core/failover/types.ts';
import { isoTime } from '../../core/time.ts';
import type { Failovers } from '../../ports.ts';
import type { ControlDeps, RegionalDeps, WithState } from '../deps.ts';
import { type FailoverView, isActive, publish, readFailover, toView } from './shared.ts';

interface OperatorDecision {
  /** Who decided, kept on the record. */
  readonly by?: string;
  readonly reason?: string;
}

/**
 * Asks a running failover to stop: the next step sees `abort_requested` and the workflow rolls back
 * (the spec's operator-intervention criterion). A failover waiting for approval is declined (cancelled).
 */
export async function abortFailover(
  deps: WithState<ControlDeps, Failovers>,
  failoverId: string,
  decision: OperatorDecision = {},
): Promise<FailoverView> {
  const record = await readFailover(deps.state, failoverId);
  if (!isActive(record)) {
    throw new ConflictError('FAILOVER_NOT_RUNNING', `${failoverId} is ${record.status}`, toView(record));
  }
  const now = isoTime(deps.clock.now());
  const waiting = record.status === 'awaiting_approval' && !record.approval && record.approval_token;
  const updated = await changeRecord(deps, record, ['running', 'awaiting_approval'], {
    abort_requested: true,
    ...(waiting ? { approval: declined(now, decision.by) } : {}),
    updated_at: now,
  });
  await publish(deps, 'failover.abort_requested', {
    failover_id: failoverId,
    failed_region: record.failed_region,
    ...(decision.by ? { by: decision.by } : {}),
    ...(decision.reason ? { reason: decision.reason } : {}),
  });
  if (waiting && record.approval_token) await answerToken(deps, record.approval_token, false);
  return toView(updated);
}

/**
 * Answers a task token. A token nobody waits on any more (the execution died with its process; it
 * is resumed from the record) is not an error: the decision is on the record, and the resumed
 * execution's wait reads it and answers its own token the same way.
 */
async function answerToken(
  deps: Omit<ControlDeps, 'state'>,
  token: string,
  approved: boolean,
): Promise<void> {
  try {
    await deps.workflow.answerApproval(token, approved);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/** Answers the approval step of a failover waiting for it: approve goes on, decline cancels. */
export async function answerApproval(
  deps: WithState<ControlDeps, Failovers>,
  failoverId: string,
  approved: boolean,
  decision: OperatorDecision = {},
): Promise<FailoverView> {
  const record = await readFailover(deps.state, failoverId);
  const token = record.approval_token;
  // An operator wait (no survivor could take anything) asks anew each time: an answer given before
  // it began answered an earlier question.
  const answered =
    record.approval !== undefined &&
    !(
      record.operator_wait && Date.parse(record.approval.decided_at) < Date.parse(record.operator_wait.since)
    );
  const waitAction =
    [...record.steps].reverse().find((s) => s.action === 'await_approval' || s.action === 'await_operator')
      ?.action ?? 'await_approval';
  if (record.status !== 'awaiting_approval' || !token || answered) {
    throw new ConflictError(
      'FAILOVER_NOT_AWAITING_APPROVAL',
      answered && record.approval
        ? `${failoverId} was already ${record.approval.decision}`
        : `${failoverId} is ${record.status}, not awaiting approval`,
      toView(record),
    );
  }
  const now = isoTime(deps.clock.now());
  const waitStep = [...record.steps].reverse().find((s) => s.action === waitAction);
  const updated = await changeRecord(
    deps,
    record,
    ['awaiting_approval'],
    {
      // Approved: running again before the workflow moves on. Declined: the workflow's rollback
      // step records `cancelled`.
      ...(approved ? { status: 'running' as const } : {}),
      approval: approved
        ? { decision: 'approved', decided_at: now, ...(decision.by ? { by: decision.by } : {}) }
        : declined(now, decision.by),
      updated_at: now,
    },
    {
      action: waitAction,
      phase: 'approval',
      started_at: waitStep?.started_at ?? now,
      ended_at: now,
      outcome: approved ? 'succeeded' : 'failed',
      detail: `${approved ? 'approved' : 'declined'}${decision.by ? ` by ${decision.by}` : ''}${
        decision.reason ? `: ${decision.reason}` : ''
      }`,
      attempt: record.steps.filter((s) => s.action === waitAction).length + 1,
    },
  );
  await publish(deps, approved ? 'failover.approved' : 'failover.declined', {
    failover_id: failoverId,
    failed_region: record.failed_region,
    ...(decision.by ? { by: decision.by } : {}),
  });
  await answerToken(deps, token, approved);
  // A wait that stored a new token meanwhile (a resumed execution) gets the same answer.
  const after = await deps.state.getFailover(failoverId);
  if (after?.approval_token && after.approval_token !== token) {
    await answerToken(deps, after.approval_token, approved);
  }
  return toView(updated);
}

export async function getFailover(
  deps: WithState<RegionalDeps, Failovers>,
  failoverId: string,
): Promise<FailoverView> {
  return toView(await readFailover(deps.state, failoverId));
}

interface ListFailoversQuery {
  readonly failed_region?: string;
  readonly status?: FailoverStatus;
  /** Default 50, at most 500. */
  readonly limit?: number;
}

/** Failover records newest first, as this region's replica holds them. */
export async function listFailovers(
  deps: WithState<RegionalDeps, Failovers>,
  query: ListFailoversQuery = {},
): Promise<{ failovers: FailoverView[] }> {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
  const records = await deps.state.listFailovers(query.failed_region);
  return {
    failovers: records
      .filter((r) => query.status === undefined || r.status === query.status)
      .slice(0, limit)
      .map(toView),
  };
}

function declined(at: string, by: string | undefined): NonNullable<FailoverRecord['approval']> {
  return { decision: 'declined', decided_at: at, ...(by ? { by } : {}) };
}

async function changeRecord(
  deps: WithState<ControlDeps, Failovers>,
  record: FailoverRecord,
  expectedStatuses: readonly FailoverStatus[],
  patch: Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>,
  step?: FailoverRecord['steps'][number],
): Promise<FailoverRecord> {
  try {
    return await deps.state.updateFailover(record.failover_id, patch, {
      expectedStatuses,
      ...(step ? { step } : {}),
    });
  } catch (error) {
    if (error instanceof ConflictError && error.code === 'FAILOVER_CHANGED') {
      const current = error.current as FailoverRecord | undefined;
      throw new ConflictError(
        'FAILOVER_CHANGED',
        `${record.failover_id} changed meanwhile (now ${current?.status ?? 'missing'}); read it again`,
        current ? toView(current) : undefined,
      );
    }
    throw error;
  }
}

/**
 * Re-issues the workflow start of every active failover `deps.regionId` coordinates, as its replica
 * holds them: a process that starts while a failover was running (the local plane after a crash,
 * `kill -9` included) has lost the execution, not the failover. The record is the durable progress:
 * every step is idempotent, so the new execution replays what succeeded and goes on, or rolls back
 * when an abort was asked; a wait for an operator asks again with a new token. On AWS the execution
 * outlives any Lambda, and a start with the same name while it runs is a no-op.
 */
export async function resumeFailovers(deps: WithState<ControlDeps, Failovers>): Promise<string[]> {
  const active = (await deps.state.listActiveFailovers()).filter((r) => r.coordinator === deps.regionId);
  for (const record of active) {
    await deps.workflow.startFailover({ failover_id: record.failover_id, coordinator: deps.regionId });
  }
  return active.map((r) => r.failover_id);
}
