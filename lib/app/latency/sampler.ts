/**
 * The latency sampler of one region, run on a schedule in every region: it pings every
 * other region's `/api/v1/ping` a few times through the ProbePort (sequentially per target, so the
 * samples do not queue behind each other; targets in parallel), updates its own row of the measured
 * matrix (one entry per pair, written only here) and emits an event when a pair crosses its SLA
 * (`latency.sla_violated`) or comes back within it (`latency.sla_recovered`), never on every run.
 */
import { type LatencyEntry, samplingOf, slaFor, slaVerdict, updateEntry } from '../../core/latency/stats.ts';
import type { ControlPlaneEvent, EventsPort, LatencyPort, ProbePort } from '../../ports.ts';
import type { RegionalDeps } from '../deps.ts';

export interface LatencySamplerDeps extends RegionalDeps {
  readonly probe: ProbePort;
  readonly events: EventsPort;
  readonly latency: LatencyPort;
}

interface SamplerOptions {
  /** Samples per pair this run; default the topology's `latency.sampling.samples_per_run` (3). */
  readonly samples?: number;
}

export const PING_ENDPOINT = '/api/v1/ping';

interface PairReport {
  readonly to: string;
  readonly samples: readonly number[];
  readonly failures: number;
  /** The entry after this run; absent when the pair has never answered. */
  readonly entry?: LatencyEntry;
}

export interface SamplerReport {
  readonly region: string;
  readonly at: number;
  readonly pairs: readonly PairReport[];
  /** Probe requests made. */
  readonly requests: number;
  readonly events: readonly ControlPlaneEvent[];
}

export async function runLatencySampler(
  deps: Omit<LatencySamplerDeps, 'state'>,
  options: SamplerOptions = {},
): Promise<SamplerReport> {
  const { topology, regionId, clock, probe, latency } = deps;
  const count = options.samples ?? samplingOf(topology).samples_per_run;
  const timeoutMs = topology.failover_policies.health_check.timeout_seconds * 1000;
  const started = clock.now();
  const previous = new Map(
    (await latency.listLatency()).filter((e) => e.from === regionId).map((e) => [e.to, e]),
  );
  const targets = topology.regions.map((r) => r.region_id).filter((id) => id !== regionId);

  const pairs = await Promise.all(
    targets.map(async (to): Promise<PairReport> => {
      const samples: number[] = [];
      let failures = 0;
      for (let i = 0; i < count; i++) {
        const seen = await probe.probe(regionId, to, PING_ENDPOINT, timeoutMs);
        if (seen.ok) samples.push(seen.latency_ms);
        else failures++;
      }
      const before = previous.get(to);
      const entry = updateEntry(
        before,
        { from: regionId, to, samples, failures, now: clock.now() },
        slaFor(topology, regionId, to),
      );
      if (entry) await latency.putLatency(entry);
      return { to, samples, failures, ...(entry ? { entry } : {}) };
    }),
  );

  const events: ControlPlaneEvent[] = [];
  for (const pair of pairs) {
    const before = previous.get(pair.to);
    if (!pair.entry || pair.entry.sla_violated === (before?.sla_violated ?? false)) continue;
    const sla = slaFor(topology, regionId, pair.to);
    events.push({
      type: pair.entry.sla_violated ? 'latency.sla_violated' : 'latency.sla_recovered',
      source_region: regionId,
      time: new Date(clock.now()).toISOString(),
      detail: {
        from: regionId,
        to: pair.to,
        p50_ms: pair.entry.p50_ms,
        p95_ms: pair.entry.p95_ms,
        p99_ms: pair.entry.p99_ms,
        sla,
        breaches: slaVerdict(pair.entry, sla).breaches,
      },
    });
  }
  if (events.length > 0) await deps.events.publish(events);
  return { region: regionId, at: started, pairs, requests: targets.length * count, events };
}
