import { describe, expect, it } from 'vitest';
import { type FailoverTargetInput, selectFailoverTarget } from '../../lib/core/failover/target.ts';
import type { RegionLiveState } from '../../lib/core/routing.ts';
import type { Handoff, RegionStatus, RegionStatusRecord } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

function topology(edit: (json: ReturnType<typeof defaultTopologyJson>) => void = () => {}): Topology {
  const json = defaultTopologyJson();
  edit(json);
  return validateTopology(json);
}

const t = topology();

function statuses(overrides: Record<string, RegionStatus> = {}): Map<string, RegionStatusRecord> {
  return new Map(
    t.regions.map((r) => [
      r.region_id,
      {
        region_id: r.region_id,
        status: overrides[r.region_id] ?? 'healthy',
        role: 'active',
        epoch: 1,
        updated_at: '2026-11-26T12:00:00Z',
        updated_by: 'test',
      },
    ]),
  );
}

/** Each region with `free` of every resource available (0..1). */
function live(free: Record<string, number>): Map<string, RegionLiveState> {
  const allocation = { workers: 100, tokens_per_hour: 1000, compute_units: 100 };
  return new Map(
    Object.entries(free).map(([region, fraction]) => [
      region,
      {
        status: 'healthy',
        allocation,
        usage: {
          workers: 100 * (1 - fraction),
          tokens_used: 1000 * (1 - fraction),
          compute_units: 100 * (1 - fraction),
        },
      },
    ]),
  );
}

function pending(taskId: string, requirements: Record<string, unknown>): Handoff {
  return {
    handoff_id: `cross-region-${taskId}`,
    task_id: taskId,
    source_region: 'us-east-1',
    target_region: 'us-east-1',
    routing_score: 80,
    status: 'pending',
    created_at: '2026-11-26T12:00:00Z',
    task: { task_id: taskId, requirements },
    request_hash: 'x',
    decision: { candidates: [], excluded: [] },
  };
}

function select(overrides: Partial<FailoverTargetInput> = {}) {
  return selectFailoverTarget({
    topology: t,
    failedRegion: 'us-east-1',
    statuses: statuses(),
    live: live({ 'us-east-1': 0.9, 'eu-west-1': 0.8, 'ap-south-1': 0.8 }),
    pendingHandoffs: [],
    ...overrides,
  });
}

const reasonsOf = (choice: ReturnType<typeof select>, region: string) =>
  choice.considered.find((c) => c.region === region)?.reasons ?? [];

describe('selectFailoverTarget', () => {
  it('takes the first region in failover order that serves and has half its capacity free', () => {
    const choice = select();
    expect(choice.target).toBe('eu-west-1');
    expect(choice.considered.map((c) => c.region)).toEqual(['eu-west-1', 'ap-south-1']);
    expect(reasonsOf(choice, 'eu-west-1')).toEqual([]);
    expect(reasonsOf(choice, 'ap-south-1')).toEqual([
      'eligible, but eu-west-1 comes first in failover order',
    ]);
  });

  it('never chooses the failed region, whatever its capacity', () => {
    const choice = select({ live: live({ 'us-east-1': 1, 'eu-west-1': 0, 'ap-south-1': 0 }) });
    expect(choice.target).toBeUndefined();
    expect(choice.considered.map((c) => c.region)).not.toContain('us-east-1');
  });

  // Invariant (the spec's busy usage): when no survivor has 50 % free, a dead region's work is still
  // served: the first survivor with room leads and the work is spread, never a rollback.
  it('with no survivor at 50 %, the first with room leads and the work is spread', () => {
    const choice = select({ live: live({ 'us-east-1': 0.24, 'eu-west-1': 0.27, 'ap-south-1': 0.4 }) });
    expect(choice.target).toBe('eu-west-1');
    expect(choice.mode).toBe('spread');
    expect(reasonsOf(choice, 'eu-west-1')[0]).toMatch(/available capacity 27% is below 50%/);
    expect(reasonsOf(choice, 'ap-south-1').at(-1)).toMatch(/takes a share of the work spread/);
  });

  it('a target with 50 % free is a single target', () => {
    expect(select({ live: live({ 'us-east-1': 0.9, 'eu-west-1': 0.6, 'ap-south-1': 0.9 }) }).mode).toBe(
      'single',
    );
  });

  it('skips a first choice below 50 % capacity and takes the next one', () => {
    const choice = select({ live: live({ 'us-east-1': 0.9, 'eu-west-1': 0.49, 'ap-south-1': 0.5 }) });
    expect(choice.target).toBe('ap-south-1');
    expect(reasonsOf(choice, 'eu-west-1')).toEqual([
      'available capacity 49% is below 50% of its scarcest resource',
    ]);
  });

  it('judges capacity by the scarcest resource', () => {
    const scarce = live({ 'us-east-1': 0.9, 'eu-west-1': 0.9, 'ap-south-1': 0.9 });
    const eu = scarce.get('eu-west-1') as RegionLiveState;
    scarce.set('eu-west-1', { ...eu, usage: { ...eu.usage, compute_units: 60 } });
    expect(select({ live: scarce }).target).toBe('ap-south-1');
  });

  it('finds no target when no candidate has any room or serves, and says why for each', () => {
    const choice = select({
      statuses: statuses({ 'ap-south-1': 'fenced' }),
      live: live({ 'us-east-1': 0.9, 'eu-west-1': 0, 'ap-south-1': 0.9 }),
    });
    expect(choice.target).toBeUndefined();
    expect(choice.mode).toBeUndefined();
    expect(reasonsOf(choice, 'eu-west-1')[0]).toMatch(/available capacity 0% is below 50%/);
    expect(reasonsOf(choice, 'ap-south-1')).toEqual(['region is fenced, not serving']);
  });

  it('excludes regions that are draining, failed or unknown', () => {
    const choice = select({
      statuses: statuses({ 'eu-west-1': 'draining' }),
      live: live({ 'us-east-1': 0.9, 'eu-west-1': 0.9 }),
    });
    expect(choice.target).toBeUndefined();
    expect(reasonsOf(choice, 'eu-west-1')).toEqual(['region is draining, not serving']);
    expect(reasonsOf(choice, 'ap-south-1')).toEqual(['capacity unknown']);
  });

  it('requires the compliance frameworks of the failed region that pending work relies on', () => {
    const choice = select({ pendingHandoffs: [pending('phi-1', { compliance: ['HIPAA'] })] });
    expect(choice.target).toBeUndefined();
    expect(reasonsOf(choice, 'eu-west-1')).toEqual([
      'lacks compliance framework hipaa required by 1 pending workload(s)',
    ]);
  });

  it('ignores frameworks the failed region does not hold itself (that work could not run there)', () => {
    const choice = select({ pendingHandoffs: [pending('gdpr-1', { compliance: ['gdpr'] })] });
    expect(choice.target).toBe('eu-west-1');
  });

  it('prefers a later candidate that keeps every pending workload inside its residency', () => {
    const reordered = topology((json) => {
      json.deployment.regions['ap-south-1'].failover_priority = 1;
      json.deployment.regions['eu-west-1'].failover_priority = 2;
    });
    const choice = select({
      topology: reordered,
      pendingHandoffs: [pending('eu-1', { data_residency: 'EU' })],
    });
    expect(choice.target).toBe('eu-west-1');
    expect(choice.workloads_pending).toEqual([]);
    expect(reasonsOf(choice, 'ap-south-1')).toEqual(['would break data residency of 1 pending workload(s)']);
  });

  it('takes an eligible target anyway when none keeps residency, and keeps those workloads pending', () => {
    const choice = select({
      pendingHandoffs: [pending('us-1', { data_residency: 'US' }), pending('free-1', {})],
    });
    expect(choice.target).toBe('eu-west-1');
    expect(choice.workloads_pending).toEqual([
      {
        handoff_id: 'cross-region-us-1',
        task_id: 'us-1',
        reason: 'data residency US is not allowed in eu-west-1',
      },
    ]);
  });

  it('considers only the requested target, spread when it has room but not 50 %, none when it has none', () => {
    const requested = select({ requestedTarget: 'ap-south-1' });
    expect(requested.target).toBe('ap-south-1');
    expect(requested.considered.map((c) => c.region)).toEqual(['ap-south-1']);
    const refused = select({
      requestedTarget: 'ap-south-1',
      live: live({ 'us-east-1': 0.9, 'eu-west-1': 0.9, 'ap-south-1': 0 }),
    });
    expect(refused.target).toBeUndefined();
    expect(refused.considered).toHaveLength(1);
    const spread = select({
      requestedTarget: 'ap-south-1',
      live: live({ 'us-east-1': 0.9, 'eu-west-1': 0.9, 'ap-south-1': 0.3 }),
    });
    expect([spread.target, spread.mode]).toEqual(['ap-south-1', 'spread']);
  });
});
