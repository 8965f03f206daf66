/**
 * The health probe's use cases: one probe round of a region (views, heartbeat, quorum, fencing,
 * automatic failover start, events), one round of a witness, and the driver that runs the policy's
 * interval inside EventBridge Scheduler's one-minute ticks (DESIGN: 60-second precision).
 */
import { ConflictError, messageOf } from '../core/errors.ts';
import { failoverConditions, mayStartFailover } from '../core/failover/retry.ts';
import { type FailoverRecord, failoverIdFor } from '../core/failover/types.ts';
import { applyRound, type HealthPolicy, healthPolicyOf } from '../core/health/evaluate.ts';
import { assess, coordinatorFor } from '../core/health/quorum.ts';
import type {
  Assessment,
  FailedRegion,
  ProbeObservation,
  ReportedPeerStatus,
  TargetHealth,
  Verdict,
} from '../core/health/types.ts';
import { isServing, type RegionStatus, type RegionStatusRecord } from '../core/state/records.ts';
import type { Topology } from '../core/topology/types.ts';
import type { Clock, ControlPlaneEvent, Heartbeat, ProbePort, StatePort } from '../ports.ts';
import type { ControlDeps } from './deps.ts';
import { planFailover } from './failover/plan.ts';
import { ACTIVE_STATUSES } from './failover/shared.ts';
import { keepHandoffs } from './handoffs/orphans.ts';
import { defaultStatus, readStatuses } from './live-state.ts';
import { type MinuteReport, runMinuteRounds } from './minute-rounds.ts';
import { giveBackReleases } from './resources/holds.ts';
import { readLiveStates } from './resources/pools.ts';

/** What a witness (topology `witnesses[i]`: probe-only, votes, holds no data) is given. */
export interface WitnessDeps {
  readonly witnessId: string;
  readonly topology: Topology;
  readonly clock: Clock;
  readonly probe: ProbePort;
  /** Each region's replica of the shared state; the witness writes its views into every one it reaches. */
  readonly replica: (regionId: string) => StatePort;
}

export interface ProbeRoundOptions {
  /**
   * The assessment this region made last round, when the caller kept it: events fire on changes
   * between the two. Without it the round compares with an assessment of the state as read at its
   * start, which can miss a change that replicated in between but never repeats one.
   */
  readonly previous?: Assessment;
}

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

export interface ProbeRoundReport {
  readonly observer: string;
  /** ISO time the round assessed. */
  readonly at: string;
  /** This region's status after the round (and its epoch). */
  readonly status: RegionStatus;
  readonly epoch: number;
  readonly heartbeat: Heartbeat;
  /** The views this round wrote (one per other region). */
  readonly views: readonly TargetHealth[];
  readonly assessment: Assessment;
  readonly actions: ProbeRoundActions;
}

export interface WitnessRoundReport {
  readonly observer: string;
  readonly at: string;
  readonly views: readonly TargetHealth[];
  /** Replicas that received every view. */
  readonly written: readonly string[];
  /** Replicas a write failed on (partition, region down): skipped, the others still get the views. */
  readonly skipped: readonly { readonly region: string; readonly error: string }[];
  /** Replicas the previous views could not be read from (the newest readable one is used). */
  readonly read_errors: readonly { readonly region: string; readonly error: string }[];
}

const VERDICT_EVENTS: Readonly<Record<Verdict, string>> = {
  healthy: 'region.recovered',
  suspect: 'region.suspect',
  unhealthy: 'region.unhealthy',
  component_failure: 'region.component_failure',
};

/** A failover of a region that is still serving (or fenced, its work not yet moved) may start. */
const FAILOVER_CANDIDATE: ReadonlySet<RegionStatus> = new Set(['healthy', 'degraded', 'fenced']);

/**
 * One probe round of region `deps.regionId`: probe every other region, write views and heartbeat,
 * assess the quorum from every observer's views in this replica, then act: fence or unfence itself,
 * start the automatic failover of each failed region it coordinates, publish what changed.
 */
export async function runProbeRound(
  deps: ControlDeps,
  options: ProbeRoundOptions = {},
): Promise<ProbeRoundReport> {
  const { topology, regionId, state, clock } = deps;
  const policy = healthPolicyOf(topology);
  const startedAt = clock.now();
  const [viewsBefore, heartbeats, statusesBefore] = await Promise.all([
    state.listTargetHealth(),
    state.listHeartbeats(),
    options.previous ? undefined : readStatuses(topology, state),
  ]);

  const targets = topology.regions.map((r) => r.region_id).filter((id) => id !== regionId);
  const observations = await probeTargets(deps.probe, regionId, targets, policy, clock);
  const ownBefore = new Map(viewsBefore.filter((v) => v.observer === regionId).map((v) => [v.target, v]));
  const views = targets.map((target) =>
    applyRound(
      ownBefore.get(target),
      observations.filter((o) => o.target === target),
      policy,
    ),
  );
  await Promise.all(views.map((view) => state.putTargetHealth(view)));
  const lastBeat = heartbeats.find((h) => h.region === regionId);
  // Back after a gap (a restart, a region brought up): the others' views of it still describe the
  // time it was gone, so it does not fence on them this round (found by the simulator).
  const resumedAfterMs =
    lastBeat && startedAt - lastBeat.at > 2 * policy.interval_seconds * 1000
      ? startedAt - lastBeat.at
      : undefined;
  const heartbeat: Heartbeat = {
    region: regionId,
    seq: (lastBeat?.seq ?? 0) + 1,
    at: clock.now(),
  };
  await state.putHeartbeat(heartbeat);

  const [statuses, storedOwn, storedViews] = await Promise.all([
    readStatuses(topology, state),
    state.getRegionStatus(regionId),
    state.listTargetHealth(),
  ]);
  const own = storedOwn ?? defaultStatus(topology, regionId);
  statuses.set(regionId, own);
  const now = clock.now();
  const assessment = assess({
    topology,
    observer: regionId,
    statuses,
    views: withOwn(storedViews, views),
    now,
  });
  const previous =
    options.previous ??
    assess({
      topology,
      observer: regionId,
      statuses: statusesBefore ?? statuses,
      views: viewsBefore,
      now: startedAt,
    });

  const act = new RoundActions(deps, now);
  if (own.status === 'failed' || own.status === 'draining') {
    // Its own views may be the broken ones; the surviving regions act on it, it does not act.
    act.passive = `own status is ${own.status}: observing only`;
  } else {
    act.verdictChanges(ownBefore, views);
    if (assessment.cut_off && resumedAfterMs !== undefined) {
      act.passive = `resumed after ${Math.round(resumedAfterMs / 1000)} s without rounds: not fencing on views that describe that time (${assessment.cut_off_reason})`;
    } else if (assessment.cut_off) {
      if (isServing(own.status)) await act.fence(storedOwn, assessment);
    } else if (own.status === 'fenced') {
      // Reconcile first: a peer holding a newer status of this region (failed over while it was cut
      // off) wins; writing `healthy` over it would bring a failed-over region back without a failback.
      const newer = newerStatusOfMine(views, regionId, own);
      if (newer) {
        act.unfenceHeld = newer.why;
        // The majority failed it over meanwhile: adopt that decision in its own replica (its writer
        // may be down, so it may not replicate here for long); a failback brings it back.
        if (!isServing(newer.status.status)) await act.adopt(storedOwn, newer.status, newer.from);
      }
      // Acting resumes next round, once the others see this region serving again.
      else await act.unfence(storedOwn, assessment);
    } else {
      act.declarations(previous, assessment);
      await act.failovers(assessment, statuses);
      act.componentRestarts(previous, assessment, statuses);
      act.saturationChanges(previous, assessment, statuses, views);
      await act.takeOverStranded(assessment, statuses);
      await act.resumeStalled();
    }
  }
  await act.publish();
  const after = act.ownStatus ?? own;
  // Issue 12: settle this region's duplicate claims, move the orphaned handoffs it keeps and
  // reconcile its holds; a region that does not serve still gives back its releases that lost.
  if (act.passive === undefined && isServing(after.status)) await keepHandoffs(deps);
  else await giveBackReleases(deps);
  return {
    observer: regionId,
    at: new Date(now).toISOString(),
    status: after.status,
    epoch: after.epoch,
    heartbeat,
    views,
    assessment,
    actions: act.report(),
  };
}

/** Collects what one round does, so the round reads as a sequence of decisions. */
class RoundActions {
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

  /** Writes in its own replica the newer status a peer holds of this region (it was failed over). */
  async adopt(
    stored: RegionStatusRecord | undefined,
    newer: ReportedPeerStatus,
    from: string,
  ): Promise<void> {
    const current = stored ?? defaultStatus(this.#deps.topology, this.#deps.regionId);
    const next: RegionStatusRecord = {
      ...current,
      status: newer.status,
      epoch: newer.epoch,
      reason: `adopted from ${from}'s replica: ${this.#deps.regionId} was ${newer.status} at epoch ${newer.epoch} while it was cut off; a failback returns it to service`,
      updated_at: new Date(this.#now).toISOString(),
      updated_by: `reconcile@${this.#deps.regionId}`,
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

  async unfence(stored: RegionStatusRecord | undefined, assessment: Assessment): Promise<void> {
    const reason = `unfenced: reaches ${assessment.reachable.length} of ${assessment.members.length} members again`;
    if (await this.#writeOwn(stored, 'healthy', reason)) {
      this.#unfenced = true;
      this.#emit('region.unfenced', {
        region: this.#deps.regionId,
        epoch: this.ownStatus?.epoch,
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
    const { regionId, topology, state } = this.#deps;
    const policy = topology.failover_policies.automatic_failover;
    for (const failed of assessment.failed) {
      const status = statuses.get(failed.region) ?? defaultStatus(topology, failed.region);
      if (failed.region === regionId || !FAILOVER_CANDIDATE.has(status.status)) continue;
      if (failed.coordinator !== regionId) {
        this.#skip(failed.region, `coordinator is ${failed.coordinator}`);
        continue;
      }
      if (!policy.enabled) {
        this.#skip(
          failed.region,
          'automatic failover is disabled (failover_policies.automatic_failover.enabled)',
        );
        continue;
      }
      const failoverId = failoverIdFor('failover', failed.region, status.epoch);
      const { live } = await readLiveStates(this.#deps, statuses);
      const conditions = failoverConditions(failed.region, statuses, live);
      const retry = mayStartFailover({
        records: await state.listFailovers(failed.region),
        nextId: failoverId,
        now: this.#now,
        cooldownSeconds: policy.cooldown_seconds,
        conditions,
      });
      if (!retry.start) {
        this.#skip(failed.region, retry.reason);
        continue;
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
          continue;
        }
      }
      try {
        const result = await startAutomaticFailover(this.#deps, failed, failureReason(failed), conditions);
        if (result.outcome === 'existing') {
          this.#skip(failed.region, `already initiated by ${result.record.coordinator}`, result.failover_id);
          continue;
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
  }

  /**
   * A failover whose coordinator is gone (not serving, or out of this observer's reach) and that has
   * not moved for two intervals is taken over by the region that would coordinate it now: the record
   * names the new coordinator (the fencing token every step checks) and its workflow starts here,
   * resuming from the record. The old execution, if its region comes back, stops at its next step.
   */
  async takeOverStranded(
    assessment: Assessment,
    statuses: ReadonlyMap<string, RegionStatusRecord>,
  ): Promise<void> {
    const { regionId, topology, state, workflow } = this.#deps;
    const stalledForMs = 2 * healthPolicyOf(topology).interval_seconds * 1000;
    for (const record of await state.listFailovers()) {
      if (record.coordinator === regionId || !ACTIVE_STATUSES.includes(record.status)) continue;
      if (this.#now - Date.parse(record.updated_at) < stalledForMs) continue;
      const old = statuses.get(record.coordinator)?.status;
      const gone =
        (old !== undefined && !isServing(old)) ||
        !assessment.reachable_by_majority.includes(record.coordinator);
      if (!gone) continue;
      if (
        coordinatorFor(topology, statuses, record.failed_region, assessment.reachable_by_majority) !==
        regionId
      )
        continue;
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
   * longer than the workflow's retries; found by the simulator). A failover waiting for an operator
   * is left to the operator.
   */
  async resumeStalled(): Promise<void> {
    const { regionId, topology, state, workflow } = this.#deps;
    const stalledForMs = 2 * healthPolicyOf(topology).interval_seconds * 1000;
    for (const record of await state.listFailovers()) {
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
  ): Promise<boolean> {
    const { regionId, topology, state } = this.#deps;
    const current = stored ?? defaultStatus(topology, regionId);
    const next: RegionStatusRecord = {
      region_id: regionId,
      status,
      role: current.role,
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

export interface AutomaticFailoverResult {
  readonly failover_id: string;
  /**
   * `created`: this call wrote the record and started the workflow; `existing`: the record was
   * already there (another detector or an earlier round); `resumed`: it was this region's, never
   * started a step, and its workflow start was re-issued.
   */
  readonly outcome: 'created' | 'existing' | 'resumed';
  readonly record: FailoverRecord;
}

/**
 * Starts the automatic failover of `failed` from this region: one conditional create of the record
 * whose id derives from the failed region's epoch (two detectors derive the same id), then the
 * workflow start, which is idempotent per id.
 */
export async function startAutomaticFailover(
  deps: ControlDeps,
  failed: FailedRegion,
  reason: string,
  /** failoverConditions when it starts (the retry rule compares the next attempt's with them). */
  conditions?: string,
): Promise<AutomaticFailoverResult> {
  const { state, topology, regionId, clock } = deps;
  const status = (await state.getRegionStatus(failed.region)) ?? defaultStatus(topology, failed.region);
  const now = clock.now();
  const at = new Date(now).toISOString();
  const record: FailoverRecord = {
    failover_id: failoverIdFor('failover', failed.region, status.epoch),
    kind: 'failover',
    failed_region: failed.region,
    trigger: 'automatic',
    reason,
    status: 'running',
    coordinator: regionId,
    epoch: status.epoch,
    dry_run: false,
    initiated_at: at,
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    ...(conditions === undefined ? {} : { conditions }),
    updated_at: at,
  };
  const start = () => deps.workflow.startFailover({ failover_id: record.failover_id, coordinator: regionId });
  try {
    await state.createFailover(record);
  } catch (error) {
    if (!(error instanceof ConflictError && error.code === 'FAILOVER_EXISTS')) throw error;
    const current =
      (error.current as FailoverRecord | undefined) ?? (await state.getFailover(record.failover_id));
    if (!current) throw error;
    if (lostStart(current, regionId, now, healthPolicyOf(topology))) {
      await start();
      return { failover_id: record.failover_id, outcome: 'resumed', record: current };
    }
    return { failover_id: record.failover_id, outcome: 'existing', record: current };
  }
  await start();
  return { failover_id: record.failover_id, outcome: 'created', record };
}

/**
 * A record this region created whose workflow never recorded a step a whole interval later: the
 * start was lost between the record write and the workflow call (crash, throttling).
 */
function lostStart(record: FailoverRecord, regionId: string, now: number, policy: HealthPolicy): boolean {
  return (
    record.coordinator === regionId &&
    record.status === 'running' &&
    record.steps.length === 0 &&
    now - Date.parse(record.initiated_at) >= policy.interval_seconds * 1000
  );
}

function failureReason(failed: FailedRegion): string {
  const why = failed.reasons.length > 0 ? `: ${failed.reasons.join('; ')}` : '';
  return `${failed.votes_unhealthy} of ${failed.voters} observers declare ${failed.region} unhealthy${why}`;
}

/**
 * A newer status of `regionId` that a peer's replica holds (seen on its `/coordination/status`), or
 * undefined. A fenced region unfences only when no peer it reaches knows of a newer decision about it.
 */
function newerStatusOfMine(
  views: readonly TargetHealth[],
  regionId: string,
  own: RegionStatusRecord,
): { why: string; status: ReportedPeerStatus; from: string } | undefined {
  const newer = views
    .filter((v) => v.reachable !== false && v.reports_observer && v.reports_observer.epoch > own.epoch)
    .sort((a, b) => (b.reports_observer?.epoch ?? 0) - (a.reports_observer?.epoch ?? 0));
  const [top] = newer;
  if (!top?.reports_observer) return undefined;
  const said = newer
    .map(
      (v) =>
        `${v.target} holds ${regionId} ${v.reports_observer?.status} at epoch ${v.reports_observer?.epoch}`,
    )
    .join('; ');
  return {
    why: `reaches a majority again, but ${said} (own epoch ${own.epoch}): not unfencing over that decision`,
    status: top.reports_observer,
    from: top.target,
  };
}

/** The views as stored, with this round's own views in place (a replica read may lag its own write). */
function withOwn(stored: readonly TargetHealth[], own: readonly TargetHealth[]): TargetHealth[] {
  const fresh = new Map(own.map((v) => [`${v.observer}|${v.target}`, v]));
  const kept = stored.filter((v) => !fresh.has(`${v.observer}|${v.target}`));
  return [...kept, ...own];
}

/** Every endpoint of every target, concurrently, each with the policy's timeout. */
async function probeTargets(
  probe: ProbePort,
  observer: string,
  targets: readonly string[],
  policy: HealthPolicy,
  clock: Clock,
): Promise<ProbeObservation[]> {
  const timeoutMs = policy.timeout_seconds * 1000;
  return Promise.all(
    targets.flatMap((target) =>
      policy.endpoints.map(async (endpoint): Promise<ProbeObservation> => {
        try {
          return await probe.probe(observer, target, endpoint, timeoutMs);
        } catch (error) {
          // The port promises never to throw; if an adapter does, that is still a failed call.
          return {
            observer,
            target,
            endpoint,
            ok: false,
            error: `probe error: ${messageOf(error)}`,
            latency_ms: 0,
            at: clock.now(),
          };
        }
      }),
    ),
  );
}

/**
 * One witness round: probe every region, fold into the witness's views (the newest copy any replica
 * holds), and write them into every region replica it can reach. A replica that cannot be written
 * is skipped and reported: the others must still get the witness's vote.
 */
export async function runWitnessRound(deps: WitnessDeps): Promise<WitnessRoundReport> {
  const { topology, witnessId, clock } = deps;
  const policy = healthPolicyOf(topology);
  const regions = topology.regions.map((r) => r.region_id);
  const reads = await Promise.allSettled(regions.map((region) => deps.replica(region).listTargetHealth()));
  const previous = new Map<string, TargetHealth>();
  const readErrors: { region: string; error: string }[] = [];
  reads.forEach((read, i) => {
    const region = regions[i] ?? '';
    if (read.status === 'rejected') {
      readErrors.push({ region, error: messageOf(read.reason) });
      return;
    }
    for (const view of read.value) {
      if (view.observer !== witnessId) continue;
      const known = previous.get(view.target);
      if (
        !known ||
        view.updated_at > known.updated_at ||
        (view.updated_at === known.updated_at && view.rounds > known.rounds)
      ) {
        previous.set(view.target, view);
      }
    }
  });

  const observations = await probeTargets(deps.probe, witnessId, regions, policy, clock);
  const views = regions.map((target) =>
    applyRound(
      previous.get(target),
      observations.filter((o) => o.target === target),
      policy,
    ),
  );
  const writes = await Promise.allSettled(
    regions.map(async (region) => {
      const replica = deps.replica(region);
      await Promise.all(views.map((view) => replica.putTargetHealth(view)));
    }),
  );
  const written: string[] = [];
  const skipped: { region: string; error: string }[] = [];
  writes.forEach((write, i) => {
    const region = regions[i] ?? '';
    if (write.status === 'fulfilled') written.push(region);
    else skipped.push({ region, error: messageOf(write.reason) });
  });
  return {
    observer: witnessId,
    at: new Date(clock.now()).toISOString(),
    views,
    written,
    skipped,
    read_errors: readErrors,
  };
}

export interface ProbeMinuteOptions {
  /** Rounds in this invocation; default floor(60 / interval_seconds), at least 1. */
  readonly rounds?: number;
  /** Waits between rounds (real timers on Lambda; tests and the simulator pass their own). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Time left in the invocation (Lambda `getRemainingTimeInMillis`); no round starts without room for it. */
  readonly remainingMs?: () => number;
  /** The assessment of the last round before this minute (the handler keeps it across invocations). */
  readonly previous?: Assessment;
}

/** One invocation's rounds (lib/app/minute-rounds.ts). */
export type ProbeMinuteReport<R> = MinuteReport<R>;

/** State I/O after the probes' deadline: a round needs this much beyond its timeout. */
const ROUND_MARGIN_MS = 3_000;

/**
 * Runs the policy's rounds inside one scheduled invocation: EventBridge Scheduler fires at most once a
 * minute, the spec probes every 30 s (or 10 s). Rounds start `interval_seconds` apart.
 */
export function runProbeMinute(
  deps: ControlDeps,
  options: ProbeMinuteOptions,
): Promise<ProbeMinuteReport<ProbeRoundReport>>;
export function runProbeMinute(
  deps: WitnessDeps,
  options: ProbeMinuteOptions,
): Promise<ProbeMinuteReport<WitnessRoundReport>>;
export async function runProbeMinute(
  deps: ControlDeps | WitnessDeps,
  options: ProbeMinuteOptions,
): Promise<ProbeMinuteReport<ProbeRoundReport | WitnessRoundReport>> {
  const policy = healthPolicyOf(deps.topology);
  let previous = options.previous;
  return runMinuteRounds<ProbeRoundReport | WitnessRoundReport>(
    {
      planned: options.rounds ?? Math.max(1, Math.floor(60 / policy.interval_seconds)),
      intervalMs: policy.interval_seconds * 1000,
      clock: deps.clock,
      sleep: options.sleep,
      remainingMs: options.remainingMs,
      roundNeeds: {
        ms: policy.timeout_seconds * 1000 + ROUND_MARGIN_MS,
        said: `${policy.timeout_seconds} s timeout`,
      },
    },
    async () => {
      if ('witnessId' in deps) return runWitnessRound(deps);
      const report = await runProbeRound(deps, previous === undefined ? {} : { previous });
      previous = report.assessment;
      return report;
    },
  );
}
