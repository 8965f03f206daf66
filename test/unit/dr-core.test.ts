/** The DR core: objectives, RTO per tier, RPO per data class, the verdict, partition groups. */
import { describe, expect, it } from 'vitest';
import {
  judgeDr,
  lossWindowSeconds,
  phaseTimings,
  rpoByClass,
  rtoByTier,
} from '../../lib/core/dr/metrics.ts';
import { DR_OBJECTIVES, tierOf } from '../../lib/core/dr/objectives.ts';
import { partitionGroups, selectPrimaryGroup } from '../../lib/core/dr/partition.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');

describe('DR objectives', () => {
  it("are the spec's: 15/60/240 minutes by tier, 60/300/3600 seconds by data class", () => {
    expect(DR_OBJECTIVES.rto.tier_1_services.max_downtime_minutes).toBe(15);
    expect(DR_OBJECTIVES.rto.tier_3_services.max_downtime_minutes).toBe(240);
    expect(DR_OBJECTIVES.rpo.critical_data.max_data_loss_seconds).toBe(60);
    expect(DR_OBJECTIVES.success_criteria).toEqual({
      rto_achievement: 0.95,
      rpo_achievement: 0.99,
      data_integrity: 1,
    });
    expect(tierOf('mcp_servers')).toBe('tier_2_services');
    expect(DR_OBJECTIVES.rpo.critical_data.data_types).toContain('active_tasks');
  });
});

describe('RTO per tier', () => {
  it('is the slowest service of the tier; a service never restored misses', () => {
    const rto = rtoByTier(T0, {
      authentication: T0 + 600_000,
      global_coordinator: T0 + 1_000_000,
      mcp_servers: null,
    });
    expect(rto[0]).toMatchObject({
      tier: 'tier_1_services',
      downtime_seconds: 1000,
      objective_seconds: 900,
      met: false,
    });
    expect(rto[1]).toMatchObject({ tier: 'tier_2_services', downtime_seconds: null, met: false });
    expect(rto[2]).toMatchObject({ tier: 'tier_3_services', downtime_seconds: 0, met: true });
  });
});

describe('RPO per data class', () => {
  it('is the widest window of the class; an unknown window misses', () => {
    const rpo = rpoByClass({ active_tasks: 45, worker_state: 301, archives: null });
    expect(rpo.map((c) => [c.data_class, c.loss_seconds, c.met])).toEqual([
      ['critical_data', 45, true],
      ['important_data', 301, false],
      ['standard_data', null, false],
    ]);
    expect(lossWindowSeconds(T0, [T0 - 2_000, T0 - 500])).toBe(2);
    expect(lossWindowSeconds(T0, [])).toBe(0);
  });
});

describe('the verdict', () => {
  it('names every missed objective with its figure and target', () => {
    const verdict = judgeDr({
      rto: rtoByTier(T0, { authentication: T0 + 1_000_000 }),
      rpo: rpoByClass({}),
      integrity: { acknowledged: 10, intact: 9 },
      residency_violations: 1,
      failures: ['runbook regional_failure failed at X'],
    });
    expect(verdict.met).toBe(false);
    expect(verdict.misses).toEqual([
      'RTO tier_1_services: 1000 s > 900 s (authentication 1000 s)',
      'rto_achievement: 0.6667 < 0.95',
      'data_integrity: 0.9 < 1 (1 acknowledged write(s) not intact)',
      'residency: 1 handoff(s) where their residency forbids',
      'runbook regional_failure failed at X',
    ]);
  });

  it('is met when every figure is within its objective', () => {
    const verdict = judgeDr({
      rto: rtoByTier(T0, {}),
      rpo: rpoByClass({}),
      integrity: { acknowledged: 5, intact: 5 },
    });
    expect(verdict).toMatchObject({
      met: true,
      rto_achievement: 1,
      rpo_achievement: 1,
      data_integrity: 1,
      misses: [],
    });
  });

  it('times each phase from its steps, in the order phases began', () => {
    expect(
      phaseTimings([
        { phase: 'assessment', started_at: 0, ended_at: 1_000 },
        { phase: 'execution', started_at: 2_000, ended_at: 9_000 },
        { phase: 'assessment', started_at: 500, ended_at: 1_500 },
      ]),
    ).toEqual([
      { phase: 'assessment', started_at: 0, ended_at: 1_500, seconds: 1.5 },
      { phase: 'execution', started_at: 2_000, ended_at: 9_000, seconds: 7 },
    ]);
  });
});

describe('partition groups', () => {
  const members = ['us-east-1', 'eu-west-1', 'ap-south-1', 'witness'];
  const reach = (observer: string, target: string, reachable = true) => ({ observer, target, reachable });

  it('groups members that reach one another; a witness seen from one side only joins it', () => {
    const groups = partitionGroups(members, [
      reach('us-east-1', 'eu-west-1'),
      reach('eu-west-1', 'us-east-1'),
      reach('us-east-1', 'ap-south-1', false),
      reach('eu-west-1', 'ap-south-1', false),
      reach('witness', 'us-east-1'),
      reach('witness', 'ap-south-1', false),
    ]);
    expect(groups).toEqual([['eu-west-1', 'us-east-1', 'witness'], ['ap-south-1']]);
  });

  it('a pair one side calls unreachable is apart, whatever the other says', () => {
    expect(partitionGroups(['a', 'b'], [reach('a', 'b'), reach('b', 'a', false)])).toEqual([['a'], ['b']]);
  });

  it('the primary group is the largest; a tie goes to the better-ranked tier', () => {
    const rank = (m: string) => ({ a: 0, b: 1, c: 2, d: 3 })[m] ?? 99;
    expect(selectPrimaryGroup([['c', 'd'], ['a'], ['b']], rank).primary).toEqual(['c', 'd']);
    const tie = selectPrimaryGroup(
      [
        ['c', 'd'],
        ['a', 'b'],
      ],
      rank,
    );
    expect(tie.primary).toEqual(['a', 'b']);
    expect(tie.minority).toEqual([['c', 'd']]);
    expect(tie.reason).toContain('tied');
  });
});
