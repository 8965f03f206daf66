import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  availableCapacity,
  decideRoute,
  estimateRttMs,
  latencyScore,
  type RegionLiveState,
  type RouteInput,
  reserveFor,
  type TaskRequirements,
} from '../../lib/core/routing.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson, syntheticTopologyJson } from '../fixtures/topologies.ts';

/** The default topology with every cost index at 1.0 unless a test changes the JSON. */
function topology(edit: (json: ReturnType<typeof defaultTopologyJson>) => void = () => {}): Topology {
  const json = defaultTopologyJson();
  for (const region of json.regions) region.cost_index = 1;
  edit(json);
  return validateTopology(json);
}

function live(t: Topology, statuses: Record<string, RegionStatus> = {}): Map<string, RegionLiveState> {
  return new Map(
    t.regions.map((r) => {
      const pool = t.global_resource_pool.regional_allocation[r.region_id];
      if (!pool) throw new Error(`no pool for ${r.region_id}`);
      return [
        r.region_id,
        { status: statuses[r.region_id] ?? 'healthy', allocation: pool, usage: pool.current_usage },
      ];
    }),
  );
}

function task(
  requirements: TaskRequirements = {},
  source: RouteInput['source'] = { region: 'us-east-1' },
): RouteInput {
  return { task_id: 'task-1', source, requirements };
}

const excludedReasons = (decision: ReturnType<typeof decideRoute>, region: string) =>
  decision.excluded.find((e) => e.region === region)?.reasons ?? [];

describe('routing: the priority reserve (lower priorities are shed first)', () => {
  const t = topology();
  // Invariant: as a region fills up it refuses low, then normal, then high priority work, naming the
  // resource; critical work takes what fits. Saturation steers and refuses; it never fails anything.
  it('sheds low before normal before high, and lets critical take the last of it', () => {
    // us-east-1 (spec usage): 7 of 25 workers free (28 %). One more worker leaves 24 %, two 20 %, four 12 %.
    const only = (priority: RouteInput['priority'], workers: number) =>
      decideRoute(
        t,
        { ...task({ workers, data_residency: 'US' }), ...(priority ? { priority } : {}) },
        live(t),
      );
    expect(only('low', 1).region).toBeUndefined();
    expect(excludedReasons(only('low', 1), 'us-east-1')).toEqual([
      'saturated: workers would be 24% free after this task, below the 30% kept for higher-priority work (priority low)',
    ]);
    expect(only(undefined, 1).region).toBe('us-east-1');
    expect(only('normal', 3).region).toBeUndefined();
    expect(only('high', 3).region).toBe('us-east-1');
    expect(only('high', 5).region).toBeUndefined();
    expect(only('critical', 7).region).toBe('us-east-1');
    expect(excludedReasons(only('critical', 8), 'us-east-1')).toEqual([
      'insufficient workers: needs 8, 7 free of 25',
    ]);
  });

  it('judges only the resources the task uses', () => {
    // Compute units at 24 % free do not matter to a task that needs none of them.
    const decision = decideRoute(
      t,
      { ...task({ workers: 1, data_residency: 'US' }), priority: 'normal' },
      live(t),
    );
    expect(decision.region).toBe('us-east-1');
  });

  it('reserveFor follows the policy threshold', () => {
    expect([
      reserveFor('low', 0.2),
      reserveFor('normal', 0.2),
      reserveFor('high', 0.2),
      reserveFor('critical', 0.2),
    ]).toEqual([0.30000000000000004, 0.2, 0.1, 0]);
  });
});

describe('routing filters', () => {
  const t = topology();

  it('excludes regions that are failed, draining or fenced, and keeps degraded ones', () => {
    const decision = decideRoute(
      t,
      task(),
      live(t, { 'us-east-1': 'failed', 'eu-west-1': 'draining', 'ap-south-1': 'degraded' }),
    );
    expect(decision.region).toBe('ap-south-1');
    expect(excludedReasons(decision, 'us-east-1')).toContain('region is failed, not serving');
    expect(excludedReasons(decision, 'eu-west-1')).toContain('region is draining, not serving');
    const fenced = decideRoute(t, task(), live(t, { 'ap-south-1': 'fenced' }));
    expect(excludedReasons(fenced, 'ap-south-1')).toContain('region is fenced, not serving');
  });

  it('requires every compliance framework the task names (spelling normalized)', () => {
    const hipaa = decideRoute(t, task({ compliance: ['HIPAA'] }), live(t));
    expect(hipaa.candidates.map((c) => c.region)).toEqual(['us-east-1']);
    expect(excludedReasons(hipaa, 'eu-west-1')).toEqual(['lacks compliance framework hipaa']);
    const gdprIso = decideRoute(t, task({ compliance: ['gdpr', 'iso_27001'] }), live(t));
    expect(gdprIso.region).toBe('eu-west-1');
    const pci = decideRoute(t, task({ compliance: ['pci_dss'] }), live(t));
    expect(pci.region).toBe('us-east-1');
  });

  it('keeps data inside its residency: a country, a group, and the spec aliases', () => {
    expect(decideRoute(t, task({ data_residency: 'DE' }), live(t)).candidates.map((c) => c.region)).toEqual([
      'eu-west-1',
    ]);
    expect(decideRoute(t, task({ data_residency: 'EU' }), live(t)).region).toBe('eu-west-1');
    expect(decideRoute(t, task({ data_residency: 'UK' }), live(t)).region).toBe('eu-west-1');
    expect(decideRoute(t, task({ data_residency: 'us' }), live(t)).region).toBe('us-east-1');
    expect(decideRoute(t, task({ data_residency: 'IN' }), live(t)).region).toBe('ap-south-1');
    const de = decideRoute(t, task({ data_residency: 'DE' }), live(t));
    expect(excludedReasons(de, 'us-east-1')[0]).toMatch(/^data residency DE not allowed here/);
  });

  it('requires the capabilities the task names', () => {
    const t2 = topology((json) => {
      json.regions[2].capabilities = ['workers'];
    });
    const decision = decideRoute(t2, task({ capabilities: ['mcp-servers'] }), live(t2));
    expect(excludedReasons(decision, 'ap-south-1')).toEqual(['lacks capability mcp-servers']);
    expect(decision.candidates).toHaveLength(2);
  });

  it('drops regions beyond max_latency_ms from the source, and applies the default maximum', () => {
    const decision = decideRoute(t, task({ max_latency_ms: 100 }), live(t));
    expect(decision.candidates.map((c) => c.region).sort()).toEqual(['eu-west-1', 'us-east-1']);
    expect(excludedReasons(decision, 'ap-south-1')).toEqual(['latency 200 ms from us-east-1 exceeds 100 ms']);
    const tight = topology((json) => {
      json.routing.default_max_latency_ms = 50;
    });
    expect(decideRoute(tight, task(), live(tight)).candidates.map((c) => c.region)).toEqual(['us-east-1']);
  });

  it('excludes a region that cannot fit the task and says what is short', () => {
    // Critical: no reserve applies, so only what does not fit at all excludes.
    const decision = decideRoute(
      t,
      { ...task({ workers: 6, estimated_tokens: 150_000 }), priority: 'critical' },
      live(t),
    );
    expect(decision.candidates.map((c) => c.region)).toEqual(['us-east-1']);
    expect(excludedReasons(decision, 'eu-west-1')).toEqual([
      'insufficient workers: needs 6, 5 free of 15',
      'insufficient tokens_per_hour: needs 150000, 120000 free of 300000',
    ]);
    expect(excludedReasons(decision, 'ap-south-1')).toEqual([
      'insufficient workers: needs 6, 5 free of 10',
      'insufficient tokens_per_hour: needs 150000, 120000 free of 200000',
    ]);
    const full = topology((json) => {
      json.global_resource_pool.regional_allocation['ap-south-1'].current_usage.workers = 10;
    });
    expect(excludedReasons(decideRoute(full, task(), live(full)), 'ap-south-1')).toEqual([
      'insufficient workers: needs 1, 0 free of 10',
    ]);
  });

  it('lists every reason of an excluded region, not just the first', () => {
    const decision = decideRoute(
      t,
      task({ compliance: ['hipaa'], data_residency: 'US', max_latency_ms: 100 }, { region: 'us-east-1' }),
      live(t, { 'ap-south-1': 'failed' }),
    );
    expect(excludedReasons(decision, 'ap-south-1')).toEqual([
      'region is failed, not serving',
      'lacks compliance framework hipaa',
      expect.stringMatching(/^data residency US not allowed here/),
      'latency 200 ms from us-east-1 exceeds 100 ms',
    ]);
  });

  it('answers no region, with every exclusion, when nothing qualifies', () => {
    const decision = decideRoute(t, task({ compliance: ['hipaa'], data_residency: 'DE' }), live(t));
    expect(decision.region).toBeUndefined();
    expect(decision.candidates).toEqual([]);
    expect(decision.excluded.map((e) => e.region).sort()).toEqual(['ap-south-1', 'eu-west-1', 'us-east-1']);
  });
});

describe('routing scores', () => {
  const t = topology();

  it('weighs capacity 40, latency 30, compliance 20, cost 10 by default', () => {
    const decision = decideRoute(t, task(), live(t));
    const us = decision.candidates.find((c) => c.region === 'us-east-1');
    expect(us?.factors).toEqual({ capacity: 24, latency: 99.9, compliance: 100, cost: 100 });
    expect(us?.score).toBe(69.6); // 0.4*24 + 0.3*99.9 + 0.2*100 + 0.1*100
    const ap = decision.candidates.find((c) => c.region === 'ap-south-1');
    expect(ap?.score).toBe(70); // 0.4*40 + 0.3*80 + 20 + 10: spare capacity outweighs distance
    expect(decision.region).toBe('ap-south-1');
    expect(decision.weights).toEqual({ capacity: 40, latency: 30, compliance: 20, cost: 10 });
  });

  it('weighs latency 70 and capacity 30 for latency-sensitive tasks', () => {
    const decision = decideRoute(t, task({ latency_sensitive: true }), live(t));
    expect(decision.region).toBe('us-east-1');
    expect(decision.candidates.map((c) => [c.region, c.score])).toEqual([
      ['us-east-1', 77.1], // 0.7*99.9 + 0.3*24
      ['eu-west-1', 72.4], // 0.7*92 + 0.3*26.7
      ['ap-south-1', 68], // 0.7*80 + 0.3*40
    ]);
  });

  it('takes the weights from the topology', () => {
    const t2 = topology((json) => {
      json.routing.weights.default = { capacity: 0, latency: 100, compliance: 0, cost: 0 };
    });
    expect(decideRoute(t2, task({}, { region: 'eu-west-1' }), live(t2)).region).toBe('eu-west-1');
  });

  it('scores cheaper regions higher on cost', () => {
    const t2 = topology((json) => {
      json.regions[1].cost_index = 1.25;
    });
    const eu = decideRoute(t2, task(), live(t2)).candidates.find((c) => c.region === 'eu-west-1');
    expect(eu?.factors.cost).toBe(80);
  });

  it('breaks ties by tier, then by region id', () => {
    const t2 = topology((json) => {
      json.routing.weights.default = { capacity: 0, latency: 0, compliance: 100, cost: 0 };
    });
    const decision = decideRoute(t2, task(), live(t2));
    expect(decision.candidates.map((c) => c.region)).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
    const sameTier = topology((json) => {
      json.routing.weights.default = { capacity: 0, latency: 0, compliance: 100, cost: 0 };
      for (const region of json.regions) region.tier = 'secondary';
    });
    expect(decideRoute(sameTier, task(), live(sameTier)).candidates.map((c) => c.region)).toEqual([
      'ap-south-1',
      'eu-west-1',
      'us-east-1',
    ]);
  });

  it('estimates latency from a caller country by great-circle distance', () => {
    const decision = decideRoute(t, task({ latency_sensitive: true }, { country: 'DE' }), live(t));
    expect(decision.region).toBe('eu-west-1');
    const eu = decision.candidates.find((c) => c.region === 'eu-west-1');
    expect(eu?.latency_source).toBe('great_circle');
    // Germany to Dublin is about 1,000-1,300 km: 5 + 0.015 * km.
    expect(eu?.latency_ms).toBeGreaterThan(15);
    expect(eu?.latency_ms).toBeLessThan(30);
    const india = decideRoute(t, task({ latency_sensitive: true }, { country: 'IN' }), live(t));
    expect(india.region).toBe('ap-south-1');
  });

  it('maps latency to a 0-100 factor the spec way', () => {
    expect(latencyScore(0)).toBe(100);
    expect(latencyScore(80)).toBe(92);
    expect(latencyScore(1000)).toBe(0);
    expect(latencyScore(5000)).toBe(0);
  });

  it('rates capacity by the scarcest resource', () => {
    expect(
      availableCapacity(
        { workers: 10, tokens_per_hour: 100, compute_units: 10 },
        { workers: 1, tokens_used: 90, compute_units: 1 },
      ),
    ).toBeCloseTo(0.1);
  });

  it('estimates Virginia to Dublin close to the measured 80 ms', () => {
    const eu = t.regions.find((r) => r.region_id === 'eu-west-1');
    if (!eu) throw new Error('no eu-west-1');
    const rtt = estimateRttMs({ lat: 39.0438, lon: -77.4874 }, eu);
    expect(rtt).toBeGreaterThan(70);
    expect(rtt).toBeLessThan(100);
  });
});

describe('routing invariants', () => {
  const t = validateTopology(syntheticTopologyJson(35));
  const statuses: RegionStatus[] = ['healthy', 'degraded', 'draining', 'failed', 'fenced'];

  it('partitions the regions, keeps scores in 0-100, picks the best, and is deterministic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...statuses), { minLength: 35, maxLength: 35 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 34 }),
        fc.option(fc.integer({ min: 1, max: 400 }), { nil: undefined }),
        (states, sensitive, sourceIndex, maxLatency) => {
          const regionStates = Object.fromEntries(
            t.regions.map((r, i) => [r.region_id, states[i] ?? 'healthy']),
          );
          const source = { region: t.regions[sourceIndex]?.region_id ?? 'syn-01' };
          const input = task(
            { latency_sensitive: sensitive, ...(maxLatency ? { max_latency_ms: maxLatency } : {}) },
            source,
          );
          const decision = decideRoute(t, input, live(t, regionStates));
          const seen = [
            ...decision.candidates.map((c) => c.region),
            ...decision.excluded.map((e) => e.region),
          ];
          expect(seen.sort()).toEqual(t.regions.map((r) => r.region_id).sort());
          for (const c of decision.candidates) {
            expect(c.score).toBeGreaterThanOrEqual(0);
            expect(c.score).toBeLessThanOrEqual(100);
            expect(['healthy', 'degraded']).toContain(regionStates[c.region]);
          }
          for (const e of decision.excluded) expect(e.reasons.length).toBeGreaterThan(0);
          if (decision.candidates.length > 0) {
            expect(decision.score).toBe(Math.max(...decision.candidates.map((c) => c.score)));
          }
          expect(decideRoute(t, input, live(t, regionStates))).toEqual(decision);
        },
      ),
      { numRuns: 200 },
    );
  });
});
