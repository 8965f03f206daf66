/**
 * Operator actions on a running failover (abort, approve, decline) and reading failover records.
 */
import { ConflictError, CoordinatorUnreachableError, NotFoundError } from '../../core/errors.ts';
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

/** The calls an operator's change makes on the replica holding a failover record. */
type FailoverReplica = Pick<Failovers, 'getFailover' | 'updateFailover'>;

/**
 * A failover record as its coordinator's replica holds it, and that replica: what an operator's
 * change is decided on and written to. Principle 4: a conditional write is checked against the
 * replica it lands in only, and replication keeps the newest write of the whole item. So an abort
 * written on a replica that had not yet seen the failover complete (its coordinator finished it
 * inside a partition, then went down) replaced the completed record everywhere once the coordinator
 * came back, and its workflow resumed and rolled back a promotion the record no longer showed: two
 * primaries (seed 428204). The coordinator's replica is where its workflow writes every step and reads
 * the abort or the approval: the one copy never behind. A record that names another coordinator
 * there (taken over) is followed to it; a take-over that has not yet replicated there is not seen
 * (a replication lag's window, while the old coordinator is gone anyway). A coordinator out of
 * reach is a CoordinatorUnreachableError and nothing is written: the copy here may be stale, and the
 * operator retries or asks the coordinator's region. The answer is the coordinator's record; this
 * region's copy catches up by replication (it is never written too: a later copy here would replace
 * the steps the coordinator wrote meanwhile).
 */
async function atCoordinator(
  deps: WithState<ControlDeps, Failovers>,
  failoverId: string,
): Promise<{ readonly record: FailoverRecord; readonly state: FailoverReplica }> {
  let record = await readFailover(deps.state, failoverId);
  let state: FailoverReplica = deps.state;
  const asked = new Set([deps.regionId]);
  while (!asked.has(record.coordinator)) {
    const coordinator = record.coordinator;
    asked.add(coordinator);
    const replica = deps.replica(coordinator);
    let there: FailoverRecord | undefined;
    try {
      there = await replica.getFailover(failoverId);
    } catch (error) {
      throw new CoordinatorUnreachableError(failoverId, coordinator, deps.regionId, record.status, {
        cause: error,
      });
    }
    if (!there) {
      // A coordinator writes its record in its own replica first: missing there is rare (a replica
      // restored from a backup), and nothing here can be trusted more than that.
      throw new ConflictError(
        'FAILOVER_CHANGED',
        `${coordinator}, the coordinator of ${failoverId}, holds no record of it yet; read it again`,
        toView(record),
      );
    }
    record = there;
    state = replica;
  }
  // Followed back here (the coordinator's replica names this region): this replica is the one.
  if (record.coordinator === deps.regionId && state !== deps.state) {
    record = await readFailover(deps.state, failoverId);
    state = deps.state;
  }
  return { record, state };
}

/**
 * Asks a running failover to stop: the next step sees `abort_requested` and the workflow rolls back
 * (the spec's operator-intervention criterion). A failover waiting for approval is declined (cancelled).
 * Decided and written in the coordinator's replica (atCoordinator): a failover that completed there
 * is not running, whatever the copy here says.
 */
export async function abortFailover(
  deps: WithState<ControlDeps, Failovers>,
  failoverId: string,
  decision: OperatorDecision = {},
): Promise<FailoverView> {
  const { record, state } = await atCoordinator(deps, failoverId);
  if (!isActive(record)) {
    throw new ConflictError('FAILOVER_NOT_RUNNING', `${failoverId} is ${record.status}`, toView(record));
  }
  const now = isoTime(deps.clock.now());
  const waiting = record.status === 'awaiting_approval' && !record.approval && record.approval_token;
  const updated = await changeRecord(state, record, ['running', 'awaiting_approval'], {
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

/**
 * Answers the approval step of a failover waiting for it: approve goes on, decline cancels. Decided
 * and written in the coordinator's replica, like an abort (atCoordinator).
 */
export async function answerApproval(
  deps: WithState<ControlDeps, Failovers>,
  failoverId: string,
  approved: boolean,
  decision: OperatorDecision = {},
): Promise<FailoverView> {
  const { record, state } = await atCoordinator(deps, failoverId);
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
    state,
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
  const after = await state.getFailover(failoverId);
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
  state: FailoverReplica,
  record: FailoverRecord,
  expectedStatuses: readonly FailoverStatus[],
  patch: Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>,
  step?: FailoverRecord['steps'][number],
): Promise<FailoverRecord> {
  try {
    return await state.updateFailover(record.failover_id, patch, {
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
