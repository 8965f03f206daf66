import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EWMA_ALPHA,
  effectiveMatrix,
  ewma,
  freshnessMs,
  type LatencyEntry,
  measuredOverrides,
  percentile,
  samplingOf,
  slaFor,
  slaVerdict,
  tunnelOverrides,
  updateEntry,
  WINDOW_SIZE,
} from '../../lib/core/latency/stats.ts';
import { decideRoute, type RegionLiveState } from '../../lib/core/routing.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

function topology(edit: (json: ReturnType<typeof defaultTopologyJson>) => void = () => {}): Topology {
  const json = defaultTopologyJson();
  edit(json);
  return validateTopology(json);
}

const SLA = { p50_target_ms: 100, p95_target_ms: 250, p99_target_ms: 500 };
const NOW = Date.UTC(2026, 10, 26, 12);

function entry(from: string, to: string, ms: number, at = NOW): LatencyEntry {
  const made = updateEntry(undefined, { from, to, samples: [ms], failures: 0, now: at }, SLA);
  if (!made) throw new Error('no entry');
  return made;
}

describe('latency statistics', () => {
  it('EWMA starts at the first sample and moves a fixed share towards each new one', () => {
    expect(ewma(undefined, 80)).toBe(80);
    expect(ewma(80, 180)).toBeCloseTo(80 + EWMA_ALPHA * 100);
  });

  it('percentiles are nearest-rank over the window', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });

  it('percentiles are ordered and within the samples (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { minLength: 1 }), (values) => {
        const p50 = percentile(values, 50);
        const p95 = percentile(values, 95);
        const p99 = percentile(values, 99);
        expect(p50).toBeLessThanOrEqual(p95);
        expect(p95).toBeLessThanOrEqual(p99);
        expect(p99).toBeLessThanOrEqual(Math.max(...values));
        expect(p50).toBeGreaterThanOrEqual(Math.min(...values));
      }),
    );
  });

  it('an update keeps a bounded window, counts samples and failures, and stamps the time', () => {
    let current: LatencyEntry | undefined;
    for (let run = 0; run < 20; run++) {
      current = updateEntry(
        current,
        { from: 'us-east-1', to: 'eu-west-1', samples: [80, 82, 84], failures: 1, now: NOW + run },
        SLA,
      );
    }
    expect(current?.window).toHaveLength(WINDOW_SIZE);
    expect(current?.sample_count).toBe(60);
    expect(current?.failure_count).toBe(20);
    expect(current?.measured_at).toBe(NOW + 19);
    expect(current?.last_ms).toBe(84);
    expect(current?.p50_ms).toBe(82);
    expect(current?.sla_violated).toBe(false);
  });

  it('a run without samples keeps the statistics and their time (the entry ages), or makes none', () => {
    const first = entry('us-east-1', 'eu-west-1', 80);
    const after = updateEntry(
      first,
      { from: 'us-east-1', to: 'eu-west-1', samples: [], failures: 3, now: NOW + 60_000 },
      SLA,
    );
    expect(after).toMatchObject({ ewma_ms: 80, measured_at: NOW, failure_count: 3 });
    expect(
      updateEntry(undefined, { from: 'a', to: 'b', samples: [], failures: 3, now: NOW }, SLA),
    ).toBeUndefined();
  });

  it('SLA verdicts name every percentile above its target', () => {
    expect(slaVerdict({ p50_ms: 90, p95_ms: 200, p99_ms: 400 }, SLA)).toEqual({ ok: true, breaches: [] });
    expect(slaVerdict({ p50_ms: 120, p95_ms: 200, p99_ms: 600 }, SLA)).toEqual({
      ok: false,
      breaches: [
        { percentile: 'p50', ms: 120, target_ms: 100 },
        { percentile: 'p99', ms: 600, target_ms: 500 },
      ],
    });
  });

  it('a pair SLA overrides the topology default for that pair only', () => {
    const t = topology((json) => {
      json.latency.pair_slas = {
        'us-east-1->ap-south-1': { p50_target_ms: 220, p95_target_ms: 300, p99_target_ms: 600 },
      };
    });
    expect(slaFor(t, 'us-east-1', 'ap-south-1').p50_target_ms).toBe(220);
    expect(slaFor(t, 'ap-south-1', 'us-east-1').p50_target_ms).toBe(100);
  });

  it('sampling defaults to every 60 s with 3 samples, fresh for three intervals; the topology can change it', () => {
    const t = topology();
    expect(samplingOf(t)).toEqual({ interval_seconds: 60, samples_per_run: 3 });
    expect(freshnessMs(t)).toBe(180_000);
    const fast = topology((json) => {
      json.latency.sampling = { interval_seconds: 10, samples_per_run: 5 };
    });
    expect(samplingOf(fast)).toEqual({ interval_seconds: 10, samples_per_run: 5 });
  });

  it('a bad sampling section fails validation naming the field', () => {
    expect(() =>
      topology((json) => {
        json.latency.sampling = { interval_seconds: 60, samples_per_run: 0 };
      }),
    ).toThrow(/latency\.sampling\.samples_per_run/);
  });
});

describe('effectiveMatrix', () => {
  const t = topology();

  it('uses fresh measurements, falls back to the mesh tunnel otherwise and says so', () => {
    const measured = [
      entry('us-east-1', 'eu-west-1', 95, NOW - 10_000),
      entry('us-east-1', 'ap-south-1', 300, NOW - freshnessMs(t) - 1),
    ];
    const matrix = effectiveMatrix(t, measured, NOW);
    expect(matrix['us-east-1']?.['eu-west-1']).toEqual({ ms: 95, source: 'measured' });
    expect(matrix['us-east-1']?.['ap-south-1']).toEqual({
      ms: 200,
      source: 'tunnel',
      via: 'direct',
      stale: true,
    });
    expect(matrix['eu-west-1']?.['ap-south-1']).toEqual({ ms: 150, source: 'tunnel', via: 'direct' });
    expect(matrix['us-east-1']?.['us-east-1']).toEqual({ ms: 1, source: 'static' });
    expect(measuredOverrides(matrix)).toEqual({ 'us-east-1': { 'eu-west-1': 95 } });
    expect(tunnelOverrides(matrix)['us-east-1']).toEqual({ 'ap-south-1': 200 });
  });

  it('an unmeasured pair whose direct tunnel is down takes the path through the third region, not the static figure', () => {
    const detour = topology((json) => {
      const tunnel = json.cross_region_networking.vpn_mesh.tunnels.find(
        (x: { tunnel_id: string }) => x.tunnel_id === 'eu-west-1-to-ap-south-1',
      );
      if (!tunnel) throw new Error('the default topology joins eu-west-1 and ap-south-1');
      tunnel.status = 'down';
    });
    const matrix = effectiveMatrix(detour, [], NOW);
    // 80 (eu-west-1 to us-east-1) + 200 (us-east-1 to ap-south-1), where the static matrix says 150.
    expect(matrix['eu-west-1']?.['ap-south-1']).toEqual({ ms: 280, source: 'tunnel', via: 'us-east-1' });
    expect(matrix['ap-south-1']?.['eu-west-1']).toEqual({ ms: 280, source: 'tunnel', via: 'us-east-1' });
    expect(matrix['us-east-1']?.['eu-west-1']).toEqual({ ms: 80, source: 'tunnel', via: 'direct' });
  });

  it('a pair whose only path is the internet falls back to the static matrix', () => {
    const cut = topology((json) => {
      for (const tunnel of json.cross_region_networking.vpn_mesh.tunnels) {
        if (tunnel.tunnel_id !== 'us-east-1-to-eu-west-1') tunnel.status = 'down';
      }
    });
    const matrix = effectiveMatrix(cut, [], NOW);
    expect(matrix['eu-west-1']?.['ap-south-1']).toEqual({ ms: 150, source: 'static' });
    expect(matrix['us-east-1']?.['ap-south-1']).toEqual({ ms: 200, source: 'static' });
    expect(matrix['us-east-1']?.['eu-west-1']).toEqual({ ms: 80, source: 'tunnel', via: 'direct' });
  });

  it('covers every ordered pair of the topology', () => {
    const matrix = effectiveMatrix(t, [], NOW);
    for (const from of t.regions) {
      for (const to of t.regions) expect(matrix[from.region_id]?.[to.region_id]).toBeDefined();
    }
  });
});

describe('routing with measured latency', () => {
  const t = topology((json) => {
    for (const region of json.regions) region.cost_index = 1;
  });
  const live = new Map<string, RegionLiveState>(
    t.regions.map((r) => {
      const pool = t.global_resource_pool.regional_allocation[r.region_id];
      if (!pool) throw new Error(`no pool for ${r.region_id}`);
      return [r.region_id, { status: 'healthy', allocation: pool, usage: pool.current_usage }];
    }),
  );
  const task = {
    task_id: 't-1',
    source: { region: 'us-east-1' },
    requirements: { latency_sensitive: true, max_latency_ms: 600 },
  };

  it('a measured figure replaces the static one and the candidate says it was measured', () => {
    const plain = decideRoute(t, task, live);
    const eu = plain.candidates.find((c) => c.region === 'eu-west-1');
    expect(eu).toMatchObject({ latency_ms: 80, latency_source: 'matrix' });
    const measured = decideRoute(t, task, live, { latency: { 'us-east-1': { 'eu-west-1': 400 } } });
    expect(measured.candidates.find((c) => c.region === 'eu-west-1')).toMatchObject({
      latency_ms: 400,
      latency_source: 'measured',
    });
    expect(measured.candidates.find((c) => c.region === 'ap-south-1')?.latency_source).toBe('matrix');
  });

  it('without a measured figure routing uses the tunnel path and says so; a measured one still wins', () => {
    const detour = topology((json) => {
      for (const region of json.regions) region.cost_index = 1;
      const tunnel = json.cross_region_networking.vpn_mesh.tunnels.find(
        (x: { tunnel_id: string }) => x.tunnel_id === 'us-east-1-to-eu-west-1',
      );
      if (!tunnel) throw new Error('the default topology joins us-east-1 and eu-west-1');
      tunnel.status = 'down';
    });
    const matrix = effectiveMatrix(detour, [entry('us-east-1', 'ap-south-1', 210, NOW - 1_000)], NOW);
    const decision = decideRoute(detour, task, live, {
      latency: measuredOverrides(matrix),
      tunnelLatency: tunnelOverrides(matrix),
    });
    // us-east-1 to eu-west-1 through ap-south-1: 200 + 150, not the static 80.
    expect(decision.candidates.find((c) => c.region === 'eu-west-1')).toMatchObject({
      latency_ms: 350,
      latency_source: 'tunnel',
    });
    expect(decision.candidates.find((c) => c.region === 'ap-south-1')).toMatchObject({
      latency_ms: 210,
      latency_source: 'measured',
    });
    expect(decision.candidates.find((c) => c.region === 'us-east-1')?.latency_source).toBe('matrix');
  });

  it('a measured figure above max_latency_ms excludes the region', () => {
    const decision = decideRoute(t, task, live, { latency: { 'us-east-1': { 'eu-west-1': 700 } } });
    expect(decision.excluded.find((e) => e.region === 'eu-west-1')?.reasons.join()).toMatch(
      /latency 700 ms from us-east-1 exceeds 600 ms/,
    );
  });
});
