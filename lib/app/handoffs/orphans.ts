/**
 * No orphans (issue 12 part 3): a pending handoff whose target region is failed or fenced, wherever
 * and whenever its record arrives (replication may deliver it after the failover's redirect step),
 * is moved by the failover's own rules (redirect.ts) or, when no region can take it, marked with why.
 *
 * Each handoff has one keeper (lib/core/state/handoff-owner.ts handoffKeeper: the first of its task's
 * claim order that is not its target), so two regions never move the same handoff; the keeper leaves
 * it alone while a failover of the target is active (its redirect step moves it) and while its own
 * region does not serve.
 */
import { handoffKeeper } from '../../core/state/handoff-owner.ts';
import { isServing } from '../../core/state/records.ts';
import type { ControlDeps } from '../deps.ts';
import { ACTIVE_STATUSES } from '../failover/shared.ts';
import { defaultStatus, readStatuses } from '../live-state.ts';
import type { ReservedHandoff } from '../resources/accounting.ts';
import { settleClaims } from './claims.ts';
import { redirectHandoffs } from './redirect.ts';

export interface OrphanSweep {
  /** Handoffs moved, with where to. */
  readonly moved: readonly { readonly handoff_id: string; readonly from: string; readonly to: string }[];
  /** Handoffs no region can take now, marked with the reasons. */
  readonly held: readonly { readonly handoff_id: string; readonly reason: string }[];
}

export async function sweepOrphans(deps: ControlDeps): Promise<OrphanSweep> {
  const { topology, state, regionId } = deps;
  const regionIds = topology.regions.map((r) => r.region_id);
  const statuses = await readStatuses(topology, state);
  const own = statuses.get(regionId) ?? defaultStatus(topology, regionId);
  if (!isServing(own.status)) return { moved: [], held: [] };
  const moved: { handoff_id: string; from: string; to: string }[] = [];
  const held: { handoff_id: string; reason: string }[] = [];
  for (const [region, status] of statuses) {
    if (status.status !== 'failed' && status.status !== 'fenced') continue;
    const pending = (await state.listHandoffsByTarget(region)).filter(
      (h) =>
        h.status === 'pending' &&
        h.target_region === region &&
        handoffKeeper(regionIds, h.task_id, region) === regionId,
    ) as ReservedHandoff[];
    if (pending.length === 0) continue;
    // The failover's redirect step moves what is there while it runs.
    const failovers = await state.listFailovers(region);
    if (failovers.some((f) => ACTIVE_STATUSES.includes(f.status))) continue;
    const outcome = await redirectHandoffs(deps, region, pending, statuses);
    for (const move of outcome.moves) {
      if (!outcome.kept.some((k) => k.handoff_id === move.handoff_id)) {
        moved.push({ handoff_id: move.handoff_id, from: region, to: move.to });
      }
    }
    for (const kept of outcome.kept) {
      const reason = `${region} is ${status.status}; no region can take it: ${kept.reasons.join('; ')}`;
      const current = pending.find((h) => h.handoff_id === kept.handoff_id);
      if (current?.held_reason === reason) continue;
      try {
        await state.transitionHandoff(kept.handoff_id, 'pending', { held_reason: reason }, ['pending']);
        held.push({ handoff_id: kept.handoff_id, reason });
      } catch {
        // Accepted or finished meanwhile: nothing to mark.
      }
    }
  }
  if (moved.length > 0 || held.length > 0) {
    await deps.events.publish([
      {
        type: 'handoffs.orphans_handled',
        source_region: regionId,
        time: new Date(deps.clock.now()).toISOString(),
        detail: { moved, held },
      },
    ]);
  }
  return { moved, held };
}

/**
 * What every serving region does for the handoffs each round (the probe round calls it): settle its
 * own duplicate claims and move the orphans it keeps. Never fails the round: errors are reported.
 */
export async function keepHandoffs(deps: ControlDeps): Promise<{ readonly error?: string }> {
  try {
    await settleClaims(deps);
    await sweepOrphans(deps);
    return {};
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
