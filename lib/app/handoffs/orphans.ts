/**
 * No orphans: a pending handoff whose target region is failed or fenced, wherever
 * and whenever its record arrives (replication may deliver it after the failover's redirect step),
 * is moved by the failover's own rules (redirect.ts) or, when no region can take it, marked with why.
 * So is an accepted one of a failed region: its failover's drain has ended, so the work is moved as
 * the redirect step moves what outlived the drain (a fenced region's workers may still be running
 * theirs: only its pending work moves). A region an operator shut down is like a fenced one at once
 * (its pending work moves), and like a failed one once its drain ends (`drain_until`).
 *
 * Each handoff has one mover, so two regions never move the same one: for a failed region the
 * coordinator of its last failover (whose redirect step moved the rest in the same replica), for a
 * fenced one each handoff's keeper (lib/core/state/handoff-owner.ts handoffKeeper). Nothing moves
 * while a failover of the target is active (its redirect step moves it) or while the mover's own
 * region does not serve.
 */
import { handoffKeeper } from '../../core/state/handoff-owner.ts';
import { isServing } from '../../core/state/records.ts';
import type { Failovers, Handoffs, RegionStatuses } from '../../ports.ts';
import type { ControlDeps, WithState } from '../deps.ts';
import { ACTIVE_STATUSES } from '../failover/shared.ts';
import { defaultStatus, readStatuses } from '../live-state.ts';
import type { ReservedHandoff } from '../resources/accounting.ts';
import { reconcileHolds } from '../resources/holds.ts';
import { settleClaims } from './claims.ts';
import { redirectHandoffs } from './redirect.ts';

interface OrphanSweep {
  /** Handoffs moved, with where to. */
  readonly moved: readonly { readonly handoff_id: string; readonly from: string; readonly to: string }[];
  /** Handoffs no region can take now, marked with the reasons. */
  readonly held: readonly { readonly handoff_id: string; readonly reason: string }[];
}

async function sweepOrphans(
  deps: WithState<ControlDeps, RegionStatuses & Handoffs & Failovers>,
): Promise<OrphanSweep> {
  const { topology, state, regionId } = deps;
  const regionIds = topology.regions.map((r) => r.region_id);
  const statuses = await readStatuses(topology, state);
  const own = statuses.get(regionId) ?? defaultStatus(topology, regionId);
  if (!isServing(own.status)) return { moved: [], held: [] };
  const moved: { handoff_id: string; from: string; to: string }[] = [];
  const held: { handoff_id: string; reason: string }[] = [];
  const policy = topology.failover_policies.health_check;
  const detectionMs = (policy.failure_threshold + 2) * policy.interval_seconds * 1000;
  const now = deps.clock.now();
  for (const [region, status] of statuses) {
    if (status.status !== 'failed' && status.status !== 'fenced' && status.status !== 'shutdown') continue;
    const failovers = (await state.listFailovers(region)).filter((f) => f.kind === 'failover');
    // The failover's redirect step moves what is there while it runs.
    if (failovers.some((f) => ACTIVE_STATUSES.includes(f.status))) continue;
    // One mover per handoff, in one replica: a failed region's work is moved by the coordinator of
    // its last failover (which moved the rest, in its own replica: a second mover reading a replica
    // the redirects have not reached yet would move it again); a fenced region's by each handoff's
    // keeper, once the fence is older than a detection window and no failover followed it.
    const last = failovers[0];
    let keeperOf: (taskId: string) => string;
    if (status.status === 'failed' && last) {
      keeperOf = () => last.coordinator;
    } else if (status.status === 'shutdown') {
      // An operator's shutdown: no failover follows it, so each handoff's keeper moves its work.
      keeperOf = (taskId) => handoffKeeper(regionIds, taskId, region);
    } else if (
      status.status === 'fenced' &&
      now - Date.parse(status.updated_at) > detectionMs &&
      !failovers.some((f) => Date.parse(f.initiated_at) >= Date.parse(status.updated_at))
    ) {
      keeperOf = (taskId) => handoffKeeper(regionIds, taskId, region);
    } else {
      continue;
    }
    // A shut-down region's workers finish what they accepted until its drain ends; then it moves.
    const drained =
      status.status === 'shutdown' && now >= Date.parse(status.drain_until ?? status.updated_at);
    const failed = status.status === 'failed' || drained;
    const orphans = (await state.listHandoffsByTarget(region)).filter(
      (h) =>
        (h.status === 'pending' || (failed && h.status === 'accepted')) &&
        h.target_region === region &&
        keeperOf(h.task_id) === regionId,
    ) as ReservedHandoff[];
    if (orphans.length === 0) continue;
    const outcome = await redirectHandoffs(
      deps,
      region,
      orphans,
      statuses,
      drained
        ? `accepted in ${region}, which an operator shut down: its drain ended at ${status.drain_until ?? status.updated_at}`
        : failed && last
          ? `accepted in ${region}, which ${last.failover_id} failed over`
          : undefined,
    );
    for (const move of outcome.moved) moved.push({ handoff_id: move.handoff_id, from: region, to: move.to });
    for (const kept of outcome.kept) {
      const reason = `${region} is ${status.status}; no region can take it: ${kept.reasons.join('; ')}`;
      const current = orphans.find((h) => h.handoff_id === kept.handoff_id);
      if (!current || current.held_reason === reason) continue;
      try {
        await state.transitionHandoff(kept.handoff_id, current.status, { held_reason: reason }, [
          current.status,
        ]);
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
 * own duplicate claims, move the orphans it keeps and make its holds match the records (holds.ts).
 * Never fails the round: errors are reported.
 */
export async function keepHandoffs(
  deps: WithState<ControlDeps, RegionStatuses & Handoffs & Failovers>,
): Promise<{ readonly error?: string }> {
  try {
    await settleClaims(deps);
    await sweepOrphans(deps);
    const holds = await reconcileHolds(deps);
    if (holds.released.length + holds.restored.length + holds.given_back.length > 0) {
      // Why a pool's held figures moved without a task ending now.
      await deps.events.publish([
        {
          type: 'resources.holds_reconciled',
          source_region: deps.regionId,
          time: new Date(deps.clock.now()).toISOString(),
          detail: { released: holds.released, restored: holds.restored, given_back: holds.given_back },
        },
      ]);
    }
    return {};
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
