import { describe, expect, it } from 'vitest';
import {
  promotionSeconds,
  roleTakesTasks,
  trafficWeights,
  weightedPick,
} from '../../lib/core/resources/patterns.ts';
import {
  fits,
  hourBucket,
  seedPool,
  taskNeeds,
  utilizationLevel,
  utilizationOf,
} from '../../lib/core/resources/pool.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { readTopologyJson } from '../../lib/topology/load.ts';

const topology = validateTopology(readTopologyJson());

function activePassive() {
  const json = readTopologyJson() as ReturnType<typeof readTopologyJson> & {
    deployment: Record<string, unknown>;
  };
  json.deployment = {
    pattern: 'active-passive',
    regions: {
      'us-east-1': {
        role: 'active',
        traffic_weight: 100,
        capabilities: ['read', 'write'],
        failover_priority: 0,
      },
      'eu-west-1': { role: 'passive-warm', traffic_weight: 0, capabilities: ['read'], failover_priority: 1 },
      'ap-south-1': { role: 'passive-cold', traffic_weight: 0, capabilities: [], failover_priority: 2 },
    },
    failover: { automatic: true, promotion_time_seconds: { warm: 120, cold: 600 } },
  };
  return validateTopology(json);
}

describe('the resource pool', () => {
  it('buckets tokens by UTC clock hour', () => {
    expect(hourBucket(Date.parse('2026-11-26T12:59:59.999Z'))).toBe('2026-11-26T12');
    expect(hourBucket(Date.parse('2026-11-26T13:00:00Z'))).toBe('2026-11-26T13');
  });

  it('starts from the topology snapshot', () => {
    expect(seedPool(topology, 'us-east-1', Date.parse('2026-11-26T12:00:00Z'))).toEqual({
      region: 'us-east-1',
      allocation: { workers: 25, tokens_per_hour: 500000, compute_units: 500 },
      usage: { workers: 18, tokens_used: 320000, compute_units: 380 },
      hour: '2026-11-26T12',
      allocation_version: 0,
    });
    expect(seedPool(topology, 'xx-nowhere-1', 0)).toBeUndefined();
  });

  it('reports utilization per resource and overall, with the spec thresholds 70 % and 85 %', () => {
    const u = utilizationOf(
      { workers: 25, tokens_per_hour: 500000, compute_units: 500 },
      { workers: 18, tokens_used: 320000, compute_units: 380 },
    );
    expect(u).toEqual({ workers: 0.72, tokens_per_hour: 0.64, compute_units: 0.76, overall: 0.76 });
    expect(utilizationLevel(0.69)).toBe('normal');
    expect(utilizationLevel(0.7)).toBe('warning');
    expect(utilizationLevel(0.85)).toBe('critical');
  });

  it('fits a task only when every resource stays within the allocation', () => {
    const pool = {
      allocation: { workers: 10, tokens_per_hour: 1000, compute_units: 10 },
      usage: { workers: 9, tokens_used: 900, compute_units: 5 },
    };
    expect(fits(pool, taskNeeds({ estimated_tokens: 100, compute_units: 5 }))).toBe(true);
    expect(fits(pool, taskNeeds({ estimated_tokens: 101 }))).toBe(false);
    expect(fits(pool, taskNeeds({ workers: 2 }))).toBe(false);
  });
});

describe('deployment patterns', () => {
  const healthy = new Map(topology.regions.map((r) => [r.region_id, { serving: true, role: 'active' }]));

  it("weights active-active regions 40/35/25 and gives a failed region's share to the others in proportion", () => {
    expect(Object.fromEntries(trafficWeights(topology, healthy))).toEqual({
      'us-east-1': 40,
      'eu-west-1': 35,
      'ap-south-1': 25,
    });
    const failed = new Map(healthy).set('us-east-1', { serving: false, role: 'active' });
    expect(Object.fromEntries(trafficWeights(topology, failed))).toEqual({
      'us-east-1': 0,
      'eu-west-1': 58.3,
      'ap-south-1': 41.7,
    });
  });

  it('picks by weight, stably per key, never a zero weight', () => {
    const weights = new Map([
      ['a', 40],
      ['b', 35],
      ['c', 25],
    ]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const pick = weightedPick(`task-${i}`, ['a', 'b', 'c'], weights) as string;
      counts.set(pick, (counts.get(pick) ?? 0) + 1);
      expect(weightedPick(`task-${i}`, ['a', 'b', 'c'], weights)).toBe(pick);
    }
    expect((counts.get('a') ?? 0) / 10_000).toBeCloseTo(0.4, 1);
    expect((counts.get('c') ?? 0) / 10_000).toBeCloseTo(0.25, 1);
    expect(
      weightedPick(
        'x',
        ['a', 'b'],
        new Map([
          ['a', 0],
          ['b', 0],
        ]),
      ),
    ).toBeUndefined();
  });

  it('in active-passive only the active or promoted region takes tasks, and standbys need their promotion time', () => {
    const ap = activePassive();
    expect(roleTakesTasks(ap, 'active')).toBe(true);
    expect(roleTakesTasks(ap, 'primary')).toBe(true);
    expect(roleTakesTasks(ap, 'passive-warm')).toBe(false);
    expect(roleTakesTasks(topology, 'passive-warm')).toBe(true);
    expect(promotionSeconds(ap, 'eu-west-1')).toBe(120);
    expect(promotionSeconds(ap, 'ap-south-1')).toBe(600);
    expect(promotionSeconds(ap, 'us-east-1')).toBe(0);
    expect(promotionSeconds(topology, 'eu-west-1')).toBe(0);
    const roles = new Map([
      ['us-east-1', { serving: true, role: 'active' }],
      ['eu-west-1', { serving: true, role: 'passive-warm' }],
      ['ap-south-1', { serving: true, role: 'passive-cold' }],
    ]);
    expect(Object.fromEntries(trafficWeights(ap, roles))).toEqual({
      'us-east-1': 100,
      'eu-west-1': 0,
      'ap-south-1': 0,
    });
    roles
      .set('us-east-1', { serving: false, role: 'active' })
      .set('eu-west-1', { serving: true, role: 'primary' });
    expect(Object.fromEntries(trafficWeights(ap, roles))).toEqual({
      'us-east-1': 0,
      'eu-west-1': 100,
      'ap-south-1': 0,
    });
  });
});
