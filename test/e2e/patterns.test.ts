/**
 * Deployment patterns end to end on the local control plane (issue 4 part B): active-active spreads
 * unconstrained tasks by traffic weight and, after a failover, gives the failed region's weight to the
 * survivors in proportion; active-passive sends every task to the active region and, after a failover,
 * to the promoted standby only. The fast policy (10 s x 3) at SPEED simulated ms per real ms.
 */
import { describe, expect, it, vi } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { LocalControlPlane } from '../../lib/local/control-plane.ts';
import { defaultTopologyJson, specActivePassiveDeployment } from '../fixtures/topologies.ts';
import { call, post, untilAllHealthy, usePlane, withFastPolicy } from '../support/plane.ts';

const SPEED = 15;
const REAL_INTERVAL_MS = 10_000 / SPEED;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;

const plane = usePlane('cortex-patterns-', SPEED);
const running = plane.running;

type Json = ReturnType<typeof defaultTopologyJson>;

async function start(edit: (json: Json) => void): Promise<LocalControlPlane> {
  const raw = withFastPolicy(defaultTopologyJson());
  // A quiet hour, so every region has the free capacity a failover target needs.
  for (const allocation of Object.values(raw.global_resource_pool.regional_allocation) as {
    current_usage: { workers: number; tokens_used: number; compute_units: number };
  }[]) {
    allocation.current_usage = { workers: 2, tokens_used: 1000, compute_units: 10 };
  }
  edit(raw);
  const cp = await plane.start(raw);
  await untilAllHealthy(cp, 8 * REAL_INTERVAL_MS);
  return cp;
}

function waitFor<T>(check: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 20 });
}

/** Routes through a surviving region's endpoint (the gateway may still point at the failed one). */
async function route(via: string, taskId: string, requirements: Record<string, unknown> = {}) {
  const answer = await post(`${running().regions[via]?.url}/v1/route`, {
    task_id: taskId,
    source: { region: via },
    requirements,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  // The task ends at once, so its worker is free again (tasks hold workers while they run).
  const done = await post(
    `${running().regions[via]?.url}/v1/handoffs/${answer.body.handoff.handoff_id}/complete`,
    {},
  );
  expect(done.status, JSON.stringify(done.body)).toBe(200);
  return answer.body.region as string;
}

async function weights(via: string): Promise<Record<string, number>> {
  const { body } = await call(`${running().regions[via]?.url}/v1/regions`);
  return Object.fromEntries(
    body.regions.map((r: { region_id: string; traffic_weight: number }) => [r.region_id, r.traffic_weight]),
  );
}

async function failOver(failed: string, observer: string): Promise<FailoverRecord> {
  expect((await post(`${running().gatewayUrl}/v1/sim/faults`, { region: failed, kind: 'down' })).status).toBe(
    201,
  );
  const record = await waitFor(async () => {
    await running().runtime.replication.flush({ all: true });
    const [failover] = await running().runtime.region(observer).deps.state.listFailovers(failed);
    expect(['running', 'awaiting_approval']).not.toContain(failover?.status ?? 'running');
    return failover as FailoverRecord;
  }, 40 * REAL_INTERVAL_MS);
  expect(record.status, JSON.stringify(record.error)).toBe('completed');
  await running().runtime.replication.flush({ all: true });
  return record;
}

describe('deployment patterns', () => {
  it("active-active spreads unconstrained tasks 40/35/25, and a failed region's weight goes to the survivors", async () => {
    await start((json) => {
      json.deployment.traffic_distribution.algorithm = 'weighted';
    });
    expect(await weights('eu-west-1')).toEqual({ 'us-east-1': 40, 'eu-west-1': 35, 'ap-south-1': 25 });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 60; i++) {
      const region = await route('eu-west-1', `spread-${i}`);
      counts[region] = (counts[region] ?? 0) + 1;
    }
    expect(Object.keys(counts).sort()).toEqual([...REGIONS].sort());
    // A latency-sensitive task is not spread: it goes where it scores best.
    expect(await route('eu-west-1', 'near-1', { latency_sensitive: true })).toBe('eu-west-1');

    await failOver('us-east-1', 'eu-west-1');
    const after = await weights('eu-west-1');
    expect(after['us-east-1']).toBe(0);
    expect(after['eu-west-1']).toBeCloseTo(58.3, 1);
    expect(after['ap-south-1']).toBeCloseTo(41.7, 1);
    const survivors = new Set<string>();
    for (let i = 0; i < 30; i++) survivors.add(await route('eu-west-1', `after-${i}`));
    expect([...survivors].sort()).toEqual(['ap-south-1', 'eu-west-1']);
  }, 120_000);

  it('active-passive routes only to the active region, and after a failover only to the promoted standby', async () => {
    await start((json) => {
      json.deployment = {
        ...specActivePassiveDeployment(),
        traffic_distribution: {
          algorithm: 'failover',
          failover: 'automatic',
          health_check_interval_seconds: 10,
        },
      } as unknown as Json['deployment'];
    });
    expect(await weights('eu-west-1')).toEqual({ 'us-east-1': 100, 'eu-west-1': 0, 'ap-south-1': 0 });
    for (const via of REGIONS) {
      expect(await route(via, `ap-${via}`, { latency_sensitive: true, max_latency_ms: 400 })).toBe(
        'us-east-1',
      );
    }
    const passive = await post(`${running().regions['ap-south-1']?.url}/v1/route`, {
      task_id: 'ap-in-only',
      source: { region: 'ap-south-1' },
      requirements: { data_residency: 'IN' },
    });
    expect(passive.status).toBe(422);
    expect(JSON.stringify(passive.body.excluded)).toContain(
      'role passive-cold: only the active region takes tasks',
    );

    const dry = await post(`${running().regions['eu-west-1']?.url}/v1/failovers`, {
      failed_region: 'us-east-1',
      reason: 'plan',
      dry_run: true,
    });
    expect(dry.body.plan).toMatchObject({ target_region: 'eu-west-1', promotion_seconds: 120 });
    expect(dry.body.plan.estimated_rto_seconds).toBe(10 * 3 + 120);

    await failOver('us-east-1', 'eu-west-1');
    expect(await weights('eu-west-1')).toEqual({ 'us-east-1': 0, 'eu-west-1': 100, 'ap-south-1': 0 });
    for (const via of ['eu-west-1', 'ap-south-1']) {
      expect(await route(via, `after-${via}`, { latency_sensitive: true, max_latency_ms: 400 })).toBe(
        'eu-west-1',
      );
    }
  }, 120_000);
});
