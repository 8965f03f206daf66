/**
 * What one probe round does about its assessment: fence or unfence its region, declare failures,
 * start, take over or resume failovers, ask for component restarts, raise saturation alarms, publish.
 */
import { ConflictError, messageOf } from '../core/errors.ts';
import { adoptionMarker } from '../core/failover/adopted.ts';
import { keptFailedBy, reachedByMajorityAsMember } from '../core/failover/kept-failed.ts';
import { failoverConditions, mayStartFailover } from '../core/failover/retry.ts';
import { type FailoverRecord, failoverIdFor } from '../core/failover/types.ts';
import { healthPolicyOf } from '../core/health/evaluate.ts';
import { assessedCoordinator, coordinatorFor } from '../core/health/quorum.ts';
import type {
  Assessment,
  FailedRegion,
  ReportedPeerStatus,
  TargetHealth,
  Verdict,
} from '../core/health/types.ts';
import {
  isServing,
  otherPrimaryThan,
  type RegionStatus,
  type RegionStatusRecord,
} from '../core/state/records.ts';
import type { ControlPlaneEvent } from '../ports.ts';
import { startAutomaticFailover } from './automatic-failover.ts';
import type { ControlDeps } from './deps.ts';
import { planFailover } from './failover/plan.ts';
import { ACTIVE_STATUSES, topologyRole } from './failover/shared.ts';
import { defaultStatus } from './live-state.ts';
import { readLiveStates } from './resources/pools.ts';

export interface SkippedFailover {
  readonly region: string;
  readonly reason: string;
  readonly failover_id?: string;
}

export interface ProbeRoundActions {
  /** This region wrote itself `fenced` (cut off from the majority). */
  readonly fenced: boolean;
  /** This region wrote itself `healthy` again after being fenced. */
  readonly unfenced: boolean;
  /** Why the region only observed this round (its own status is failed or draining). */
  readonly passive?: string;
  /** Another writer moved this region's status first; the next round re-reads it. */
  readonly status_conflict?: string;
  /** Failover ids whose record this round created (or whose lost workflow start it re-issued). */
  readonly failovers_started: readonly string[];
  /** Failed regions this round did not start a failover for, and why. */
  readonly failovers_skipped: readonly SkippedFailover[];
  /** Failovers whose coordinator was gone: this region took them over from their records. */
  readonly failovers_taken_over: readonly string[];
  /** Failovers this region coordinates whose execution it started again (see resumeStalled). */
  readonly failovers_resumed: readonly string[];
  /** Why a fenced region did not unfence although it reaches a majority again. */
  readonly unfence_held?: string;
  readonly events: readonly ControlPlaneEvent[];
  /** Publishing is best effort: a failure is reported, never thrown. */
  readonly events_error?: string;
}

const VERDICT_EVENTS: Readonly<Record<Verdict, string>> = {
  healthy: 'region.recovered',
  suspect: 'region.suspect',
  unhealthy: 'region.unhealthy',
  component_failure: 'region.component_failure',
};

/**
 * A failover of a region that is still serving (or fenced, its work not yet moved) may start. Never
 * of a `shutdown` region: an operator took it out on purpose, its work is moved by the handoff
 * keepers after its drain, and a failover would end in `failed`, which a failback could undo
 * without the operator's confirmation.
 */
const FAILOVER_CANDIDATE: ReadonlySet<RegionStatus> = new Set(['healthy', 'degraded', 'fenced']);

/** Collects what one round does, so the round reads as a sequence of decisions. */
export class RoundActions {
  readonly #deps: ControlDeps;
  readonly #now: number;
  readonly #events: ControlPlaneEvent[] = [];
  readonly #started: string[] = [];
  readonly #skipped: SkippedFailover[] = [];
  #fenced = false;
  #unfenced = false;
  #conflict: string | undefined;
  #eventsError: string | undefined;
  passive: string | undefined;
  unfenceHeld: string | undefined;
  readonly #takenOver: string[] = [];
  readonly #resumed: string[] = [];
  ownStatus: RegionStatusRecord | undefined;
  #active: Promise<FailoverRecord[]> | undefined;

  constructor(deps: ControlDeps, now: number) {
    this.#deps = deps;
    this.#now = now;
  }

  verdictChanges(before: ReadonlyMap<string, TargetHealth>, views: readonly TargetHealth[]): void {
    for (const view of views) {
      const from = before.get(view.target)?.verdict;
      if (from === view.verdict || (from === undefined && view.verdict === 'healthy')) continue;
      this.#emit(VERDICT_EVENTS[view.verdict], {
        region: view.target,
        observer: view.observer,
        from: from ?? null,
        to: view.verdict,
        reasons: view.reasons,
        consecutive_failures: view.consecutive_failures,
        error_rate: view.error_rate,
        p99_ms: view.p99_ms,
      });
    }
  }

  async fence(stored: RegionStatusRecord | undefined, assessment: Assessment): Promise<void> {
    const reason = `fenced: cut off from the majority (${assessment.cut_off_reason ?? `reaches ${assessment.reachable.length} of ${assessment.members.length} members`})`;
    if (await this.#writeOwn(stored, 'fenced', reason)) {
      this.#fenced = true;
      this.#emit('region.fenced', {
        region: this.#deps.regionId,
        epoch: this.ownStatus?.epoch,
        reason,
        reachable: assessment.reachable,
        members: assessment.members,
      });
    }
  }

  /**
   * Writes in its own replica the newer status a peer holds of this region (it was failed over), with
   * the role that record gives it: a promotion elsewhere that took the primary role from this fenced
   * region is part of the decision, and kept as it was, the role would unfence as a second primary.
   * At the decision's epoch when that is above its own. When its own fence holds the same epoch (it
   * fenced from the epoch the failover drained it from, each on its side of a cut), the decision
   * already wins the merge (another region's write beats the region's own) but only where its slot
   * arrives, and its writer may be down for long: the copy goes one epoch above, as every status
   * write must (the fencing token). Written in the region's own slot, the copy loses every tie, so
   * the peers' next write of it (failed, a rollback, a failback) still wins; the failover whose
   * decision it copies counts it as its own write (isDecisionOf).
   */
  async adopt(
    stored: RegionStatusRecord | undefined,
    newer: ReportedPeerStatus,
    from: string,
  ): Promise<void> {
    const current = stored ?? defaultStatus(this.#deps.topology, this.#deps.regionId);
    const next: RegionStatusRecord = {
      ...current,
      status: newer.status,
      role: newer.role ?? current.role,
      epoch: stored === undefined ? newer.epoch : Math.max(newer.epoch, stored.epoch + 1),
      reason: `adopted from ${from}'s replica: ${this.#deps.regionId} was ${newer.status} at epoch ${newer.epoch} while it was cut off; a failback returns it to service`,
      updated_at: new Date(this.#now).toISOString(),
      updated_by: adoptionMarker(this.#deps.regionId),
    };
    try {
      await this.#deps.state.putRegionStatus(next, stored?.epoch);
      this.ownStatus = next;
      this.#emit('region.reconciled', {
        region: this.#deps.regionId,
        status: newer.status,
        epoch: newer.epoch,
        from,
      });
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      this.#conflict = error.message;
    }
  }

  /**
   * Serves again, as it was, unless it was primary and another region holds the role in this replica
   * (holdsPrimary): then as its topology role. While it was cut off the majority may have promoted
   * another region, and the demotion that came with it may have been written from an older epoch
   * and lost to this region's newer fence, or not have replicated here yet; the promotion that did
   * is enough to step down. One primary at a time, whatever order the fence, the failover and the
   * unfence took (seed 430975); with two holders cut off at once, both step down rather than both stay.
   */
  async unfence(
    stored: RegionStatusRecord | undefined,
    assessment: Assessment,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
  ): Promise<void> {
    const { regionId, topology } = this.#deps;
    const current = stored ?? defaultStatus(topology, regionId);
    const holder = current.role === 'primary' ? otherPrimaryThan(statuses, regionId) : undefined;
    const reaches = `reaches ${assessment.reachable.length} of ${assessment.members.length} members again`;
    const reason = holder
      ? `unfenced: ${reaches}; ${holder.region_id} is primary now, so ${regionId} serves as ${topologyRole(topology, regionId)}`
      : `unfenced: ${reaches}`;
    const role = holder ? topologyRole(topology, regionId) : current.role;
    if (await this.#writeOwn(stored, 'healthy', reason, role)) {
      this.#unfenced = true;
      this.#emit('region.unfenced', {
        region: regionId,
        epoch: this.ownStatus?.epoch,
        role,
        reason,
        reachable: assessment.reachable,
        members: assessment.members,
      });
    }
  }

  declarations(previous: Assessment, assessment: Assessment): void {
    const before = new Set(previous.failed.map((f) => f.region));
    for (const failed of assessment.failed) {
      if (before.has(failed.region)) continue;
      this.#emit('region.declared_failed', {
        region: failed.region,
        observer: this.#deps.regionId,
        votes_unhealthy: failed.votes_unhealthy,
        voters: failed.voters,
        reasons: failed.reasons,
        coordinator: failed.coordinator,
      });
    }
  }

  async failovers(assessment: Assessment, statuses: ReadonlyMap<string, RegionStatusRecord>): Promise<void> {
    const { regionId, topology } = this.#deps;
    for (const failed of assessment.failed) {
      const status = statuses.get(failed.region) ?? defaultStatus(topology, failed.region);
      if (failed.region === regionId || !FAILOVER_CANDIDATE.has(status.status)) continue;
      await this.#startFailover(assessment, failed, status, statuses);
    }
  }

  /**
   * A region a rollback kept failed (lib/core/failover/kept-failed.ts) has not been failed over: the
   * region that would coordinate it now starts its next failover while a majority of fresh views
   * still cannot reach it, under the same retry rule (the rolled-back failover's conditions must have
   * changed, e.g. its dead target failed over itself, or its backoff passed). One that answers again
   * waits for a failback.
   */
  async keptFailed(
    assessment: Assessment,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
    views: readonly TargetHealth[],
  ): Promise<void> {
    const { regionId, topology, state } = this.#deps;
    for (const [region, status] of statuses) {
      if (region === regionId || status.status !== 'failed') continue;
      const keptBy = keptFailedBy(status, await state.listFailovers(region));
      if (!keptBy) continue;
      const input = { topology, observer: regionId, statuses, views, now: this.#now };
      if (reachedByMajorityAsMember(input, region)) continue;
      const failed: FailedRegion = {
        region,
        votes_unhealthy: 0,
        voters: 0,
        reasons: [
          `kept failed by the rollback of ${keptBy.failover_id}: a majority of fresh views cannot reach it`,
        ],
        unreachable: true,
        signals: ['unreachable'],
        coordinator: assessedCoordinator(topology, statuses, region, assessment) ?? regionId,
      };
      await this.#startFailover(assessment, failed, status, statuses);
    }
  }

  /** Starts the automatic failover of `failed` if this region coordinates it and the policy allows. */
  async #startFailover(
    assessment: Assessment,
    failed: FailedRegion,
    status: RegionStatusRecord,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
  ): Promise<void> {
    const { regionId, topology, state } = this.#deps;
    const policy = topology.failover_policies.automatic_failover;
    const detection = healthPolicyOf(topology);
    if (failed.coordinator !== regionId) {
      const coordinator = statuses.get(failed.coordinator);
      this.#skip(
        failed.region,
        coordinator && !isServing(coordinator.status)
          ? `coordinator is ${failed.coordinator}: ${coordinator.status} here, but none of its rounds has arrived since, so it may not know and may already run this failover`
          : `coordinator is ${failed.coordinator}`,
      );
      return;
    }
    if (!policy.enabled) {
      this.#skip(
        failed.region,
        'automatic failover is disabled (failover_policies.automatic_failover.enabled)',
      );
      return;
    }
    if (assessment.answering.length * 2 <= assessment.members.length) {
      this.#skip(
        failed.region,
        `only ${assessment.answering.length} of ${assessment.members.length} members answered this round (${assessment.answering.join(', ')}): a failover starts on a majority that answers now, not on one kept by hysteresis`,
      );
      return;
    }
    const failoverId = failoverIdFor('failover', failed.region, status.epoch);
    const { live } = await readLiveStates(this.#deps, statuses);
    const conditions = failoverConditions(failed.region, statuses, live);
    const retry = mayStartFailover({
      records: await state.listFailovers(failed.region),
      nextId: failoverId,
      now: this.#now,
      cooldownSeconds: policy.cooldown_seconds,
      transientSeconds: detection.interval_seconds * detection.failure_threshold,
      conditions,
    });
    if (!retry.start) {
      this.#skip(failed.region, retry.reason);
      return;
    }
    if (!failed.unreachable) {
      // It answers: error-rate and latency verdicts fail it over only when a target can serve
      // (a region that answers badly still serves better than a failover with nowhere to go).
      const plan = await planFailover(this.#deps, failed.region);
      if (plan.target_region === undefined) {
        this.#skip(
          failed.region,
          `${failed.signals.join(', ') || 'SLO'} verdicts fail a region that answers over only when a target can serve, and none can`,
        );
        return;
      }
    }
    try {
      const result = await startAutomaticFailover(this.#deps, failed, failureReason(failed), conditions);
      if (result.outcome === 'existing') {
        this.#skip(failed.region, `already initiated by ${result.record.coordinator}`, result.failover_id);
        return;
      }
      this.#started.push(result.failover_id);
      if (result.outcome === 'created') {
        this.#emit('failover.initiated', {
          failover_id: result.failover_id,
          failed_region: failed.region,
          coordinator: regionId,
          epoch: result.record.epoch,
          trigger: 'automatic',
          reason: result.record.reason,
        });
      }
    } catch (error) {
      // The next round retries: the record id is deterministic and a lost start is re-issued.
      this.#skip(failed.region, `start failed: ${messageOf(error)}`, failoverId);
    }
  }

  /**
   * A failover whose coordinator is gone (not serving, or out of this observer's reach) and that has
   * not moved for two intervals is taken over by the region that would coordinate it now: the record
   * names the new coordinator (the fencing token every step checks) and its workflow starts here,
   * resuming from the record. The old execution, if its region comes back, stops at its next step.
   * A coordinator that left service unheard (Assessment.unheard) is not gone: its record only looks
   * stalled because its progress cannot arrive here, and it may be running it, to its own target.
   */
  async takeOverStranded(
    assessment: Assessment,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
  ): Promise<void> {
    const { regionId, topology, state, workflow } = this.#deps;
    const stalledForMs = 2 * healthPolicyOf(topology).interval_seconds * 1000;
    for (const record of await this.#activeFailovers()) {
      if (record.coordinator === regionId) continue;
      if (this.#now - Date.parse(record.updated_at) < stalledForMs) continue;
      const old = statuses.get(record.coordinator)?.status;
      const gone =
        ((old !== undefined && !isServing(old)) ||
          !assessment.reachable_by_majority.includes(record.coordinator)) &&
        !assessment.unheard.includes(record.coordinator);
      if (!gone) continue;
      const successor = assessedCoordinator(topology, statuses, record.failed_region, assessment);
      if (successor !== regionId) continue;
      try {
        const now = new Date(this.#now).toISOString();
        await state.updateFailover(
          record.failover_id,
          { coordinator: regionId, updated_at: now },
          {
            expectedStatuses: ACTIVE_STATUSES,
            step: {
              action: 'verify_failure',
              phase: 'detection',
              started_at: now,
              ended_at: now,
              outcome: 'skipped',
              detail: `coordinator ${record.coordinator} is ${old ?? 'unknown'}${assessment.reachable.includes(record.coordinator) ? '' : ' and unreachable'}: ${regionId} takes this failover over from its record`,
              attempt: record.steps.filter((s) => s.action === 'verify_failure').length + 1,
            },
          },
        );
        await workflow.startFailover({ failover_id: record.failover_id, coordinator: regionId });
        this.#takenOver.push(record.failover_id);
        this.#emit('failover.coordinator_changed', {
          failover_id: record.failover_id,
          failed_region: record.failed_region,
          from: record.coordinator,
          to: regionId,
        });
      } catch (error) {
        this.#skip(record.failed_region, `take-over failed: ${messageOf(error)}`, record.failover_id);
      }
    }
  }

  /**
   * A running failover this region coordinates that has not moved for two intervals gets its
   * workflow started again: a no-op while its execution runs (a long wait), a new execution from
   * the record when the last one ended with the record still running (its final writes failed: the
   * state it needs was unavailable, as a coordinator cut off from the MRSC table's majority for
   * longer than the workflow's retries; found by the simulator), or when its rollback was interrupted
   * the same way (MarkFailed leaves such a record running). A failover waiting for an operator is left
   * to the operator.
   */
  async resumeStalled(): Promise<void> {
    const { regionId, topology, workflow } = this.#deps;
    const stalledForMs = 2 * healthPolicyOf(topology).interval_seconds * 1000;
    for (const record of await this.#activeFailovers()) {
      if (record.coordinator !== regionId || record.status !== 'running') continue;
      if (this.#now - Date.parse(record.updated_at) < stalledForMs) continue;
      try {
        await workflow.startFailover({ failover_id: record.failover_id, coordinator: regionId });
        this.#resumed.push(record.failover_id);
      } catch (error) {
        this.#skip(record.failed_region, `resume failed: ${messageOf(error)}`, record.failover_id);
      }
    }
  }

  /**
   * One alarm when a majority starts to see a region saturated, one when it stops: raised by the
   * region that would coordinate its failover (as restarts are), so not once per observer.
   */
  saturationChanges(
    previous: Assessment,
    assessment: Assessment,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
    views: readonly TargetHealth[],
  ): void {
    const before = new Set(previous.saturated ?? []);
    const now = new Set(assessment.saturated);
    const changed = [
      ...[...now].filter((r) => !before.has(r)).map((r) => ['region.saturated', r] as const),
      ...[...before].filter((r) => !now.has(r)).map((r) => ['region.saturation_cleared', r] as const),
    ];
    for (const [type, region] of changed) {
      const requester = coordinatorFor(
        this.#deps.topology,
        statuses,
        region,
        assessment.reachable_by_majority,
      );
      if (requester !== this.#deps.regionId) continue;
      const seen = views.find((v) => v.target === region);
      this.#emit(type, {
        region,
        raised_by: this.#deps.regionId,
        ...(seen?.available_capacity === undefined ? {} : { available_capacity: seen.available_capacity }),
        threshold:
          this.#deps.topology.failover_policies.automatic_failover.conditions.available_capacity_threshold,
        action:
          type === 'region.saturated'
            ? 'new work goes elsewhere or is refused naming the resource, lower priorities first; the rebalancer moves allocation; no failover'
            : 'capacity back above the threshold',
      });
    }
  }

  componentRestarts(
    previous: Assessment,
    assessment: Assessment,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
  ): void {
    const before = new Set(previous.component_failures.map((c) => c.region));
    for (const failure of assessment.component_failures) {
      if (before.has(failure.region)) continue;
      // One request per failure, not one per observer: only the region that would coordinate its failover asks.
      const requester = coordinatorFor(
        this.#deps.topology,
        statuses,
        failure.region,
        assessment.reachable_by_majority,
      );
      if (requester !== this.#deps.regionId) continue;
      this.#emit('component.restart_requested', {
        region: failure.region,
        endpoints: failure.endpoints,
        requested_by: this.#deps.regionId,
      });
    }
  }

  async publish(): Promise<void> {
    if (this.#events.length === 0) return;
    try {
      await this.#deps.events.publish(this.#events);
    } catch (error) {
      this.#eventsError = messageOf(error);
    }
  }

  report(): ProbeRoundActions {
    return {
      fenced: this.#fenced,
      unfenced: this.#unfenced,
      ...(this.passive === undefined ? {} : { passive: this.passive }),
      ...(this.#conflict === undefined ? {} : { status_conflict: this.#conflict }),
      failovers_started: this.#started,
      failovers_skipped: this.#skipped,
      failovers_taken_over: this.#takenOver,
      failovers_resumed: this.#resumed,
      ...(this.unfenceHeld === undefined ? {} : { unfence_held: this.unfenceHeld }),
      events: this.#events,
      ...(this.#eventsError === undefined ? {} : { events_error: this.#eventsError }),
    };
  }

  /** One conditional write on the epoch this round read; a conflict means another writer moved first. */
  async #writeOwn(
    stored: RegionStatusRecord | undefined,
    status: RegionStatus,
    reason: string,
    role?: string,
  ): Promise<boolean> {
    const { regionId, topology, state } = this.#deps;
    const current = stored ?? defaultStatus(topology, regionId);
    const next: RegionStatusRecord = {
      region_id: regionId,
      status,
      role: role ?? current.role,
      epoch: current.epoch + 1,
      reason,
      updated_at: new Date(this.#now).toISOString(),
      updated_by: `health-probe@${regionId}`,
    };
    try {
      await state.putRegionStatus(next, stored?.epoch);
      this.ownStatus = next;
      return true;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      this.#conflict = error.message;
      return false;
    }
  }

  /**
   * The failovers still going, read once a round (an index of the active ones only: a round never
   * reads every failover ever written). Taking over and resuming share the read: a failover this
   * round took over was updated just now, so resuming would skip it as not stalled either way.
   */
  #activeFailovers(): Promise<FailoverRecord[]> {
    this.#active ??= this.#deps.state.listActiveFailovers();
    return this.#active;
  }

  #skip(region: string, reason: string, failoverId?: string): void {
    this.#skipped.push({ region, reason, ...(failoverId === undefined ? {} : { failover_id: failoverId }) });
  }

  #emit(type: string, detail: Record<string, unknown>): void {
    this.#events.push({
      type,
      source_region: this.#deps.regionId,
      time: new Date(this.#now).toISOString(),
      detail,
    });
  }
}

function failureReason(failed: FailedRegion): string {
  if (failed.voters === 0) return failed.reasons.join('; ');
  const why = failed.reasons.length > 0 ? `: ${failed.reasons.join('; ')}` : '';
  return `${failed.votes_unhealthy} of ${failed.voters} observers declare ${failed.region} unhealthy${why}`;
}
