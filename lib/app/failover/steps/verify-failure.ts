/**
 * verify_failure (detection): the failed region is still there to fail over, and, for an automatic
 * failover, a majority of observers still calls it unhealthy (principle 3: one observer cannot kill a
 * region). Throws `FailureNotConfirmed` otherwise, which cancels the failover.
 */
import { isDecisionOf } from '../../../core/failover/adopted.ts';
import { keptFailedBy, reachedByMajorityAsMember } from '../../../core/failover/kept-failed.ts';
import type { FailoverRecord } from '../../../core/failover/types.ts';
import { assess } from '../../../core/health/quorum.ts';
import type { RegionStatusRecord } from '../../../core/state/records.ts';
import type { Failovers, HealthViews, RegionStatuses } from '../../../ports.ts';
import type { ControlDeps, WithState } from '../../deps.ts';
import { readStatuses } from '../../live-state.ts';
import { stepError } from '../shared.ts';
import type { Perform, Performed } from '../step-context.ts';

export const verifyFailure: Perform<RegionStatuses & HealthViews & Failovers> = async ({ deps, record }) => {
  const failed = record.failed_region;
  const statuses = await readStatuses(deps.topology, deps.state);
  const current = statuses.get(failed) as RegionStatusRecord;
  if (current.status === 'failed') {
    const others = (await deps.state.listFailovers(failed)).filter(
      (r) => r.failover_id !== record.failover_id,
    );
    const keptBy = keptFailedBy(current, others);
    if (keptBy) return confirmKeptFailed(deps, record, statuses, keptBy.failover_id);
  }
  refuseTakenRegion(record, current);
  if (record.trigger === 'manual') {
    return {
      outcome: 'succeeded',
      detail: `operator-initiated (${record.reason}); ${failed} is ${current.status} at epoch ${current.epoch}`,
    };
  }
  if (current.status === 'fenced') {
    return { outcome: 'succeeded', detail: `${failed} fenced itself: it cannot reach a majority` };
  }
  return confirmByMajority(deps, record, statuses);
};

/** A region already failed, or drained by another failover, has nothing left for this one to do. */
function refuseTakenRegion(record: FailoverRecord, current: RegionStatusRecord): void {
  const failed = record.failed_region;
  if (current.status === 'failed') {
    throw stepError(
      'FailureNotConfirmed',
      `${failed} is already failed (epoch ${current.epoch}, by ${current.updated_by}): nothing to fail over`,
    );
  }
  if (current.status === 'draining' && !isDecisionOf(record, current)) {
    throw stepError('FailureNotConfirmed', `${failed} is being drained by ${current.updated_by}`);
  }
}

/**
 * A region a rollback kept failed (its failover rolled back while a majority could not reach it) is
 * still to fail over while a majority still cannot reach it; one that answers again waits for a
 * failback instead.
 */
async function confirmKeptFailed(
  deps: WithState<ControlDeps, HealthViews>,
  record: FailoverRecord,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  keptBy: string,
): Promise<Performed> {
  const failed = record.failed_region;
  const input = {
    topology: deps.topology,
    observer: record.coordinator,
    statuses,
    views: await deps.state.listTargetHealth(),
    now: deps.clock.now(),
  };
  const assessment = assess(input);
  if (assessment.cut_off) {
    throw stepError(
      'FailureNotConfirmed',
      `${record.coordinator} cannot confirm the failure: ${assessment.cut_off_reason}`,
    );
  }
  if (reachedByMajorityAsMember(input, failed)) {
    throw stepError(
      'FailureNotConfirmed',
      `${failed} was kept failed by the rollback of ${keptBy}, but a majority reaches it again: a failback returns it`,
    );
  }
  return {
    outcome: 'succeeded',
    detail: `${failed} was kept failed by the rollback of ${keptBy} and a majority of fresh views still cannot reach it: its work has not moved yet`,
  };
}

/** The coordinator's quorum assessment, now: a cut-off coordinator cannot confirm anything. */
async function confirmByMajority(
  deps: WithState<ControlDeps, HealthViews>,
  record: FailoverRecord,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
): Promise<Performed> {
  const failed = record.failed_region;
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
}
