/**
 * Deployment patterns on the virtual clock (test/support/sim-plane.ts): active-active spreads
 * unconstrained tasks by traffic weight and, after a failover, gives the failed region's weight to the
 * survivors in proportion; active-passive sends every task to the active region and, after a failover,
 * to the promoted standby only. The fast policy (10 s x 3).
 */
import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { defaultTopologyJson, specActivePassiveDeployment, withFastPolicy } from '../fixtures/topologies.ts';
import { type RawTopology, SimPlane } from '../support/sim-plane.ts';

const INTERVAL_MS = 10_000;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;

async function start(edit: (json: RawTopology) => void): Promise<SimPlane> {
  const raw = defaultTopologyJson();
  withFastPolicy(raw);
  // A quiet hour, so every region has the free capacity a failover target needs.
  for (const allocation of Object.values(raw.global_resource_pool.regional_allocation) as {
    current_usage: { workers: number; tokens_used: number; compute_units: number };
  }[]) {
    allocation.current_usage = { workers: 2, tokens_used: 1000, compute_units: 10 };
  }
  edit(raw);
  const plane = await SimPlane.start(raw);
  await plane.untilAllHealthy();
  return plane;
}

/** Routes through a region's endpoint and completes the task at once (its worker is free again). */
async function route(plane: SimPlane, via: string, taskId: string, requirements: object = {}) {
  const answer = await plane.post(via, '/v1/route', {
    task_id: taskId,
    source: { region: via },
    requirements,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  const done = await plane.post(via, `/v1/handoffs/${answer.body.handoff.handoff_id}/complete`);
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  // Tasks arrive over time; replication carries each settlement to the other replicas.
  await plane.advance(500);
  return answer.body.region as string;
}

async function weights(plane: SimPlane, via: string): Promise<Record<string, number>> {
  const { body } = await plane.get(via, '/v1/regions');
  return Object.fromEntries(
    body.regions.map((r: { region_id: string; traffic_weight: number }) => [r.region_id, r.traffic_weight]),
  );
}

async function failOver(plane: SimPlane, failed: string, observer: string): Promise<FailoverRecord> {
  await plane.fault({ kind: 'down', region: failed });
  const record = await plane.until(async () => {
    const [failover] = await plane.state(observer).listFailovers(failed);
    expect(['running', 'awaiting_approval']).not.toContain(failover?.status ?? 'running');
    return failover as FailoverRecord;
  }, 40 * INTERVAL_MS);
  expect(record.status, JSON.stringify(record.error)).toBe('completed');
  // Every replica holds the decision.
  await plane.advance(5_000);
  return record;
}

describe('deployment patterns', () => {
  it("active-active spreads unconstrained tasks 40/35/25, and a failed region's weight goes to the survivors", async () => {
    const plane = await start((json) => {
      json.deployment.traffic_distribution.algorithm = 'weighted';
    });
    expect(await weights(plane, 'eu-west-1')).toEqual({ 'us-east-1': 40, 'eu-west-1': 35, 'ap-south-1': 25 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const region = await route(plane, 'eu-west-1', `spread-${i}`);
      counts[region] = (counts[region] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual([...REGIONS].sort());
    // A latency-sensitive task is not spread: it goes where it scores best.
    expect(await route(plane, 'eu-west-1', 'near-1', { latency_sensitive: true })).toBe('eu-west-1');

    await failOver(plane, 'us-east-1', 'eu-west-1');
    const after = await weights(plane, 'eu-west-1');
    expect(after['us-east-1']).toBe(0);
    expect(after['eu-west-1']).toBeCloseTo(58.3, 1);
    expect(after['ap-south-1']).toBeCloseTo(41.7, 1);
    const survivors = new Set<string>();
    for (let i = 0; i < 30; i++) survivors.add(await route(plane, 'eu-west-1', `after-${i}`));
    expect([...survivors].sort()).toEqual(['ap-south-1', 'eu-west-1']);
    plane.expectNoViolations();
  });

  it('active-passive routes only to the active region, and after a failover only to the promoted standby', async () => {
    const plane = await start((json) => {
      json.deployment = {
        ...specActivePassiveDeployment(),
        traffic_distribution: {
          algorithm: 'failover',
          failover: 'automatic',
          health_check_interval_seconds: 10,
        },
      };
    });
    expect(await weights(plane, 'eu-west-1')).toEqual({ 'us-east-1': 100, 'eu-west-1': 0, 'ap-south-1': 0 });
    for (const via of REGIONS) {
      expect(await route(plane, via, `ap-${via}`, { latency_sensitive: true, max_latency_ms: 400 })).toBe(
        'us-east-1',
      );
    }
    const passive = await plane.post('ap-south-1', '/v1/route', {
      task_id: 'ap-in-only',
      source: { region: 'ap-south-1' },
      requirements: { data_residency: 'IN' },
    });
    expect(passive.status).toBe(422);
    expect(JSON.stringify(passive.body.excluded)).toContain(
      'role passive-cold: only the active region takes tasks',
    );

    const dry = await plane.post('eu-west-1', '/v1/failovers', {
      failed_region: 'us-east-1',
      reason: 'plan',
      dry_run: true,
    });
    expect(dry.body.plan).toMatchObject({ target_region: 'eu-west-1', promotion_seconds: 120 });
    expect(dry.body.plan.estimated_rto_seconds).toBe(10 * 3 + 120);

    const record = await failOver(plane, 'us-east-1', 'eu-west-1');
    // The warm standby's promotion is part of the orchestration: it takes its virtual time.
    const promoted = record.steps.find((s) => s.action === 'update_dns_routing');
    expect(Date.parse(promoted?.ended_at ?? '') - Date.parse(record.initiated_at)).toBeGreaterThan(0);
    expect(await weights(plane, 'eu-west-1')).toEqual({ 'us-east-1': 0, 'eu-west-1': 100, 'ap-south-1': 0 });
    for (const via of ['eu-west-1', 'ap-south-1']) {
      expect(await route(plane, via, `after-${via}`, { latency_sensitive: true, max_latency_ms: 400 })).toBe(
        'eu-west-1',
      );
    }
    plane.expectNoViolations();
  });
});
