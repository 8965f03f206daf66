/** A witness's probe round: it probes every region and writes its views into every replica it reaches. */
import { messageOf } from '../core/errors.ts';
import { applyRound, healthPolicyOf } from '../core/health/evaluate.ts';
import type { TargetHealth } from '../core/health/types.ts';
import { isoTime } from '../core/time.ts';
import type { Topology } from '../core/topology/types.ts';
import type { Clock, HealthViews, ProbePort } from '../ports.ts';
import { probeTargets } from './probe-targets.ts';

/** What a witness (topology `witnesses[i]`: probe-only, votes, holds no data) is given. */
export interface WitnessDeps {
  readonly witnessId: string;
  readonly topology: Topology;
  readonly clock: Clock;
  readonly probe: ProbePort;
  /** Each region's replica of the shared state; the witness writes its views into every one it reaches. */
  readonly replica: (regionId: string) => HealthViews;
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
    at: isoTime(clock.now()),
    views,
    written,
    skipped,
    read_errors: readErrors,
  };
}
