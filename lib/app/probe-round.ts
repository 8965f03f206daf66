/**
 * One probe round of a region: views, heartbeat, quorum, then what the round does about them
 * (lib/app/round-actions.ts). The witness's round is lib/app/witness-round.ts, the rounds inside a
 * minute lib/app/probe-minute.ts, the automatic failover start lib/app/automatic-failover.ts.
 */

import { messageOf } from '../core/errors.ts';
import { type AvailabilitySample, minuteBucket, minuteState } from '../core/health/availability.ts';
import { applyRound, healthPolicyOf } from '../core/health/evaluate.ts';
import { assess } from '../core/health/quorum.ts';
import type { Assessment, ReportedPeerStatus, TargetHealth } from '../core/health/types.ts';
import { isServing, type RegionStatus, type RegionStatusRecord } from '../core/state/records.ts';
import { isoTime } from '../core/time.ts';
import type { Heartbeat } from '../ports.ts';
import type { ControlDeps } from './deps.ts';
import { keepHandoffs } from './handoffs/orphans.ts';
import { defaultStatus, readStatuses } from './live-state.ts';
import { type McpProbeReport, probeMcpServers } from './mcp/probe.ts';
import { probeTargets } from './probe-targets.ts';
import { giveBackReleases } from './resources/holds.ts';
import { type ProbeRoundActions, RoundActions } from './round-actions.ts';

// Importers of the round's neighbours before they had their own files.
export { type AutomaticFailoverResult, startAutomaticFailover } from './automatic-failover.ts';
export type { ProbeRoundActions, SkippedFailover } from './round-actions.ts';
export { runWitnessRound, type WitnessDeps, type WitnessRoundReport } from './witness-round.ts';

export interface ProbeRoundOptions {
  /**
   * The assessment this region made last round, when the caller kept it: events fire on changes
   * between the two. Without it the round compares with an assessment of the state as read at its
   * start, which can miss a change that replicated in between but never repeats one.
   */
  readonly previous?: Assessment;
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
  /** The availability sample this round recorded (the first round of each minute records one). */
  readonly availability_sample?: AvailabilitySample;
  /** The MCP servers' probe beside the round (absent without an MCP registry and probe). */
  readonly mcp?: McpProbeReport | { readonly error: string };
}

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
  // The MCP servers' own endpoints are probed beside the regions', on their own interval.
  const [observations, mcp] = await Promise.all([
    probeTargets(deps.probe, regionId, targets, policy, clock),
    mcpProbeBeside(deps),
  ]);
  const ownBefore = new Map(viewsBefore.filter((v) => v.observer === regionId).map((v) => [v.target, v]));
  const views = targets.map((target) =>
    applyRound(
      ownBefore.get(target),
      observations.filter((o) => o.target === target),
      policy,
    ),
  );
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
  // The round's writes together: the replication mark counts writes that finish while its last ADD
  // is on its way in one ADD (counting-state.ts), and every ADD is a write replicated to each region.
  await Promise.all([...views.map((view) => state.putTargetHealth(view)), state.putHeartbeat(heartbeat)]);

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
  const taken = takenOut(views, regionId, own);
  if (own.status === 'failed' || own.status === 'draining' || own.status === 'shutdown') {
    // Its own views may be the broken ones; the surviving regions act on it, it does not act. A
    // region an operator shut down keeps probing (its heartbeat proves it answers for a restore)
    // but neither fences, unfences nor coordinates anything.
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
      else await act.unfence(storedOwn, assessment, statuses);
    } else if (taken) {
      // A failover took this region out while its writer could not reach it (a cut): a peer it
      // reaches holds the decision. Adopt it and observe: coordinating on its own stale replica, it
      // would start a failover the peer starts too, with another target (found by the simulator).
      await act.adopt(storedOwn, taken.status, taken.from);
      act.passive = `adopted ${taken.status.status} at epoch ${taken.status.epoch} from ${taken.from}'s replica: observing only`;
    } else {
      act.declarations(previous, assessment);
      await act.failovers(assessment, statuses);
      await act.keptFailed(assessment, statuses, withOwn(storedViews, views));
      act.componentRestarts(previous, assessment, statuses);
      act.saturationChanges(previous, assessment, statuses, views);
      await act.takeOverStranded(assessment, statuses);
      await act.resumeStalled();
    }
  }
  await act.publish();
  const after = act.ownStatus ?? own;
  statuses.set(regionId, after);
  // One write a minute, not a round: the first round whose heartbeat falls in a new minute records.
  const sample =
    deps.availability && (!lastBeat || minuteBucket(lastBeat.at) !== minuteBucket(heartbeat.at))
      ? availabilitySample(topology.regions, heartbeat.at, regionId, statuses, assessment)
      : undefined;
  if (sample) await deps.availability?.recordSample(sample);
  // Settle this region's duplicate claims, move the orphaned handoffs it keeps and
  // reconcile its holds; a region that does not serve still gives back its releases that lost.
  if (act.passive === undefined && isServing(after.status)) await keepHandoffs(deps);
  else await giveBackReleases(deps);
  return {
    observer: regionId,
    at: isoTime(now),
    status: after.status,
    epoch: after.epoch,
    heartbeat,
    views,
    assessment,
    actions: act.report(),
    ...(sample ? { availability_sample: sample } : {}),
    ...(mcp ? { mcp } : {}),
  };
}

/** The MCP probe when this region has a registry and an MCP probe; its failure never fails the round. */
async function mcpProbeBeside(deps: Omit<ControlDeps, 'state'>): Promise<ProbeRoundReport['mcp']> {
  const { mcp, mcpProbe } = deps;
  if (!mcp || !mcpProbe) return undefined;
  try {
    return await probeMcpServers({ ...deps, mcp, mcpProbe });
  } catch (error) {
    deps.log?.('MCP probe failed', error);
    return { error: messageOf(error) };
  }
}

/** This round's view of every region for the minute of `at`: serving, and reachable by a majority. */
function availabilitySample(
  regions: readonly { readonly region_id: string }[],
  at: number,
  observer: string,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  assessment: Assessment,
): AvailabilitySample {
  const reachable = new Set(assessment.reachable_by_majority);
  const out: Record<string, ReturnType<typeof minuteState>> = {};
  for (const { region_id } of regions) {
    // A region without a status record was never failed over: it serves (defaultStatus).
    const status = statuses.get(region_id)?.status ?? 'healthy';
    out[region_id] = minuteState(isServing(status), reachable.has(region_id));
  }
  return { observer, minute: minuteBucket(at), regions: out };
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
    .filter((v) => v.reachable !== false && v.reports_observer && winsOver(v.reports_observer, own))
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

/** A newer decision a peer holds that took this serving region out of service (draining, failed, shut down). */
function takenOut(
  views: readonly TargetHealth[],
  regionId: string,
  own: RegionStatusRecord,
): { status: ReportedPeerStatus; from: string } | undefined {
  const newer = newerStatusOfMine(views, regionId, own);
  if (!newer || newer.status.epoch <= own.epoch) return undefined;
  const status = newer.status.status;
  return isServing(status) || status === 'fenced' ? undefined : newer;
}

/**
 * Whether a peer's record of this region wins over its own fence by the status merge rule: a higher
 * epoch, or the same epoch with another status (at an equal epoch another region's write beats the
 * region's own, so an operator's shutdown written from the epoch it fenced at is never unfenced over).
 */
function winsOver(reported: ReportedPeerStatus, own: RegionStatusRecord): boolean {
  return reported.epoch > own.epoch || (reported.epoch === own.epoch && reported.status !== own.status);
}

/** The views as stored, with this round's own views in place (a replica read may lag its own write). */
function withOwn(stored: readonly TargetHealth[], own: readonly TargetHealth[]): TargetHealth[] {
  // A round's own views are few (one per other region): compared field by field, no keys built.
  const kept = stored.filter((v) => !own.some((o) => o.observer === v.observer && o.target === v.target));
  for (const view of own) kept.push(view);
  return kept;
}
