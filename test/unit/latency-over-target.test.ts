import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SamplerReport } from '../../lib/app/latency/sampler.ts';
import { latencySamplerMetrics } from '../../lib/app/metrics.ts';
import { type LatencyEntry, slaFor, updateEntry } from '../../lib/core/latency/stats.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';

// The one latency alarm a region keeps (LatencyOverTarget > 100) replaces three alarms per link: on
// the default topology as shipped, the figure the sampler publishes must cross 100 exactly when one
// link's own p50, p95 or p99 crosses its monitoring target.

const topology = loadTopologyFile();
const FROM = 'us-east-1';
const peers = topology.regions.map((r) => r.region_id).filter((r) => r !== FROM);
const targets = topology.monitoring.performance.cross_region_latency;

/** A sampler run whose links hold these windows (each built through the matrix's own update). */
function reportOf(windows: readonly (readonly number[])[]): SamplerReport {
  return {
    region: FROM,
    at: 0,
    requests: 0,
    events: [],
    pairs: windows.map((samples, i) => {
      const to = peers[i % peers.length] as string;
      const entry = updateEntry(
        undefined,
        { from: FROM, to, samples: [...samples], failures: 0, now: 0 },
        slaFor(topology, FROM, to),
      );
      return { to, samples, failures: 0, ...(entry ? { entry } : {}) };
    }),
  };
}

const overTarget = (entry: LatencyEntry) =>
  entry.p50_ms > targets.p50_target || entry.p95_ms > targets.p95_target || entry.p99_ms > targets.p99_target;

const folded = (report: SamplerReport) =>
  latencySamplerMetrics(topology, report).find((p) => p.name === 'LatencyOverTarget');

describe('LatencyOverTarget: the worst link against its target', () => {
  // Invariant: the folded figure is over 100 if and only if some link's percentile is over its target.
  it('crosses 100 exactly when one link’s p50, p95 or p99 is over its target', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 1, max: 2_000 }), { minLength: 1, maxLength: 30 }), {
          minLength: 1,
          maxLength: peers.length,
        }),
        (windows) => {
          const report = reportOf(windows);
          const point = folded(report);
          const anyOver = report.pairs.some((p) => p.entry !== undefined && overTarget(p.entry));
          expect(point?.dimensions).toEqual({ region: FROM });
          expect((point?.value ?? 0) > 100).toBe(anyOver);
        },
      ),
    );
  });

  // Invariant: a tail slower than the p99 target on one link is enough, however fast the others are.
  it('names a slow tail on one link while the other links are fast', () => {
    const fast = Array.from({ length: 30 }, () => 40);
    const tail = [...fast.slice(1), targets.p99_target + 50];
    expect(folded(reportOf([fast, tail]))?.value).toBe(
      Math.round(((targets.p99_target + 50) / targets.p99_target) * 1000) / 10,
    );
    expect(folded(reportOf([fast, fast]))?.value).toBe((40 / targets.p50_target) * 100);
  });

  // Invariant: no link with an entry publishes no figure (no data is no alarm, not a breach).
  it('publishes nothing for a run in which no link ever answered', () => {
    expect(folded(reportOf([[], []]))).toBeUndefined();
  });
});
