/**
 * Safety under load on `topology/default.json` as shipped: the spec's busy usage snapshot (no region
 * has 50 % free), its policy (30 s x 3), the witness. The whole control plane runs on the virtual
 * clock (test/support/sim-plane.ts): probe rounds, the failover workflow's ASL, replication with lag,
 * each region's HTTP API; the simulator's invariants are checked after every event as well.
 *
 * Each test names the invariant it protects.
 */

import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { isServing } from '../../lib/core/state/records.ts';
import { withFastPolicy } from '../fixtures/topologies.ts';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

/** The shipped policy: probes every 30 s, unhealthy after 3 failed rounds. */
const INTERVAL_MS = 30_000;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;

async function start(raw = shippedTopology()): Promise<SimPlane> {
  const plane = await SimPlane.start(raw);
  await plane.untilAllHealthy();
  return plane;
}

const task = (id: string, residency?: string, compute = 20) => ({
  task_id: id,
  priority: 'normal',
  source: { country: residency === 'EU' ? 'DE' : 'US' },
  requirements: { workers: 1, compute_units: compute, ...(residency ? { data_residency: residency } : {}) },
});

async function expectEveryRegionServing(plane: SimPlane): Promise<void> {
  for (const region of REGIONS) {
    const statuses = await plane.state(region).listRegionStatuses();
    expect(
      statuses.filter((s) => !isServing(s.status)),
      `statuses in ${region}`,
    ).toEqual([]);
    expect((await plane.get(region, '/health')).status, region).toBe(200);
  }
}

describe('safety under load on the shipped default topology', () => {
  // Invariant: capacity is load, not failure. Saturating every region fences nobody, fails nothing
  // over, keeps a region in DNS, and routing refuses with a 422 that names the resource.
  it('saturating every region leaves every region unfenced and in service, and routing answers 422 naming the resource', async () => {
    const plane = await start();
    // Normal priority first: shed once a region would fall below the 20 % reserve, naming the resource.
    // Then critical work, which may take the reserve, until nothing fits.
    const refusals = async (priority: string) => {
      const refused: string[] = [];
      for (let i = 0; i < 60 && refused.length < 3; i++) {
        const residency = ['EU', 'US', undefined][i % 3];
        const answer = await plane.post('us-east-1', '/v1/route', {
          ...task(`load-${priority}-${i}`, residency),
          priority,
        });
        if (answer.status === 422) refused.push(JSON.stringify(answer.body));
        else expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        // Requests arrive over time, as the load does; replication carries the reservations.
        await plane.advance(1_000);
      }
      return refused;
    };
    const shed = await refusals('normal');
    expect(shed.length).toBeGreaterThan(0);
    expect(shed[0]).toMatch(/saturated: (workers|compute_units|tokens_per_hour) would be [\d.]+% free/);
    const full = await refusals('critical');
    expect(full.length).toBeGreaterThan(0);
    expect(full[0]).toMatch(/insufficient (workers|compute_units|tokens_per_hour)/);

    // Several detection windows later: nobody fenced, nobody failed over, DNS answers a region.
    await plane.rounds(8);
    await expectEveryRegionServing(plane);
    expect(await plane.state('eu-west-1').listFailovers()).toEqual([]);
    expect(REGIONS).toContain(await plane.dnsAnswer());
    // Status tells the truth: saturated regions are shown as such, with what is done about it.
    const regions = (await plane.get('eu-west-1', '/v1/regions')).body.regions as {
      region_id: string;
      health: { state: string; action: string };
    }[];
    const saturated = regions.filter((r) => r.health.state === 'saturated');
    expect(saturated.length).toBeGreaterThan(0);
    expect(saturated[0]?.health.action).toMatch(/no failover \(load is not failure\)/);
    // One alarm per saturated region (raised by its coordinator), not one per observer or round.
    const alarms = plane.events
      .filter((e) => e.type === 'region.saturated')
      .map((e) => (e.detail as { region: string }).region);
    expect(alarms.length).toBeGreaterThan(0);
    expect(new Set(alarms).size).toBe(alarms.length);
    expect(plane.events.filter((e) => e.type === 'region.fenced')).toEqual([]);
    plane.expectNoViolations();
  });

  // Invariant: a dead region's traffic is always served. With the spec's usage no survivor has
  // 50 % free; the failover still completes (spread), within detection plus a few seconds, and DNS
  // and new tasks move.
  it('taking us-east-1 down completes a failover within the detection window plus 5 s and moves DNS and new tasks', async () => {
    const plane = await start();
    expect(await plane.dnsAnswer()).toBe('us-east-1');
    await plane.fault({ kind: 'down', region: 'us-east-1' });
    const downAt = plane.now();

    const record = await plane.until(async () => {
      const [found] = (await plane.state('eu-west-1').listFailovers('us-east-1')) as FailoverRecord[];
      expect(found?.status).toBe('completed');
      return found as FailoverRecord;
    }, 20 * INTERVAL_MS);
    expect(record).toMatchObject({ mode: 'spread', target_region: 'eu-west-1', coordinator: 'eu-west-1' });
    const flipped = record.steps.find((s) => s.action === 'update_dns_routing');
    const flippedAt = Date.parse(flipped?.ended_at ?? '');
    const initiatedAt = Date.parse(record.initiated_at);
    // Detection: a round may have just passed (one interval), then failure_threshold rounds, plus 5 s.
    expect((initiatedAt - downAt) / 1000).toBeLessThanOrEqual((1 + 3) * (INTERVAL_MS / 1000) + 5);
    // The orchestration's share, detection to the serving replacement, in virtual time: the
    // workflow's waits and replication, not this machine's speed.
    expect((flippedAt - initiatedAt) / 1000).toBeLessThanOrEqual(5);
    expect(await plane.state('eu-west-1').listFailovers('us-east-1')).toHaveLength(1);

    await plane.until(async () => expect(await plane.dnsAnswer()).not.toBe('us-east-1'), 6 * INTERVAL_MS);
    const routed = await plane.post('eu-west-1', '/v1/route', task('after-down', undefined, 5));
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    expect(routed.body.region).not.toBe('us-east-1');
    const view = (await plane.get('eu-west-1', '/v1/regions/us-east-1')).body;
    expect(view).toMatchObject({ status: 'failed', health: { state: 'unreachable' } });
    plane.expectNoViolations();
  });

  // Invariant: fencing follows reachability and undoes itself. A link cut for 15 s and healed
  // leaves every region serving, with one primary.
  it('a partition that heals after 15 s ends with every region serving', async () => {
    const plane = await start();
    await plane.fault({ kind: 'cut', a: 'eu-west-1', b: 'ap-south-1' });
    await plane.advance(15_000);
    await plane.fault({ kind: 'heal' });
    await plane.rounds(12);
    await expectEveryRegionServing(plane);
    plane.expectNoViolations();
  });

  // The schedule that left a global outage for good: eu-west-1 and ap-south-1 each cut off from
  // everyone long enough for every region to fence (us-east-1 reaches only the witness: 2 of 4),
  // then healed. Invariant: nothing stays fenced for good; every region ends serving, one primary.
  it('two regions cut off long enough that all three fence, then healed: every region serves again', async () => {
    const raw = shippedTopology();
    withFastPolicy(raw);
    const plane = await start(raw);
    await plane.fault({ kind: 'partition', groups: [['us-east-1'], ['eu-west-1'], ['ap-south-1']] });
    await plane.until(async () => {
      for (const region of REGIONS) {
        expect((await plane.state(region).getRegionStatus(region))?.status, region).toBe('fenced');
      }
    }, 30 * 10_000);
    await plane.fault({ kind: 'heal' });
    await plane.until(() => expectEveryRegionServing(plane), 30 * 10_000);
    const primaries = (await plane.state('us-east-1').listRegionStatuses()).filter(
      (s) => s.role === 'primary',
    );
    expect(primaries.length).toBeLessThanOrEqual(1);
    expect(await plane.state('us-east-1').listFailovers()).toEqual([]);
    plane.expectNoViolations();
  });

  // Invariant: with no survivor able to take anything, the failover waits for an operator once (one
  // record, one incident), is not retried every epoch, says so in /v1/regions, and completes once an
  // operator frees capacity and approves.
  it('a failover with no possible target waits for approval once, is not retried, and completes when approved after capacity is freed', async () => {
    const plane = await start();
    // Fill eu-west-1 and ap-south-1 to their last worker with critical work (it may take the reserve),
    // each routed where it runs, so each pool is written in its own region's replica.
    const routed: { handoff_id: string }[] = [];
    for (const [residency, country, n, region] of [
      ['EU', 'DE', 5, 'eu-west-1'],
      ['IN', 'IN', 5, 'ap-south-1'],
    ] as const) {
      for (let i = 0; i < n; i++) {
        const answer = await plane.post(region, '/v1/route', {
          task_id: `fill-${residency}-${i}`,
          priority: 'critical',
          source: { country },
          requirements: { workers: 1, data_residency: residency },
        });
        expect(answer.status, JSON.stringify(answer.body)).toBe(200);
        routed.push(answer.body.handoff);
      }
    }
    await plane.advance(2_000);
    await plane.fault({ kind: 'down', region: 'us-east-1' });
    const waiting = await plane.until(async () => {
      const [record] = await plane.state('eu-west-1').listFailovers('us-east-1');
      expect(record?.status, JSON.stringify(record?.steps.map((x) => x.detail))).toBe('awaiting_approval');
      expect(record?.operator_wait?.reason).toBe('no survivor can take anything from us-east-1');
      return record as FailoverRecord;
    }, 20 * INTERVAL_MS);

    // Many intervals later: still the one failover, waiting; one incident; the truth in /v1/regions.
    await plane.rounds(6);
    expect((await plane.state('eu-west-1').listFailovers('us-east-1')).map((r) => r.failover_id)).toEqual([
      waiting.failover_id,
    ]);
    expect(plane.events.filter((e) => e.type === 'failover.operator_required')).toHaveLength(1);
    const us = (await plane.get('eu-west-1', '/v1/regions/us-east-1')).body;
    expect(us.health.state).toBe('unreachable');
    expect(us.health.action).toMatch(/waits for an operator/);

    // The operator frees capacity (the work finishes) and approves: it plans again and completes.
    for (const handoff of routed) {
      const done = await plane.post('eu-west-1', `/v1/handoffs/${handoff.handoff_id}/complete`);
      expect(done.status, JSON.stringify(done.body)).toBe(200);
    }
    await plane.until(async () => {
      const free = (await plane.get('eu-west-1', '/v1/regions/ap-south-1')).body.capacity.available;
      expect(free).toBeGreaterThan(0);
    }, 10 * INTERVAL_MS);
    const approved = await plane.post('eu-west-1', `/v1/failovers/${waiting.failover_id}/approve`, {
      by: 'oncall',
    });
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    await plane.until(async () => {
      const record = await plane.state('eu-west-1').getFailover(waiting.failover_id);
      expect(record?.status).toBe('completed');
    }, 20 * INTERVAL_MS);
    expect((await plane.state('eu-west-1').getRegionStatus('us-east-1'))?.status).toBe('failed');
    plane.expectNoViolations();
  });

  // Invariant: a region cut off from all others fences, and once healed serves again (unfencing, or
  // a failback when the majority failed it over meanwhile).
  it('a region cut off from all others fences, and unfences once healed', async () => {
    const plane = await start();
    await plane.isolate('ap-south-1');
    await plane.until(
      async () =>
        expect((await plane.state('ap-south-1').getRegionStatus('ap-south-1'))?.status).toBe('fenced'),
      12 * INTERVAL_MS,
    );
    await plane.fault({ kind: 'heal' });
    const back = await plane.until(async () => {
      const own = await plane.state('ap-south-1').getRegionStatus('ap-south-1');
      expect(own?.status === 'healthy' || own?.status === 'failed').toBe(true);
      return own;
    }, 12 * INTERVAL_MS);
    if (back?.status === 'failed') {
      const failback = await plane.post('eu-west-1', '/v1/failovers', {
        failed_region: 'ap-south-1',
        action: 'failback',
        reason: 'healed',
      });
      expect([200, 201, 202]).toContain(failback.status);
    }
    await plane.until(
      async () => expect((await plane.get('ap-south-1', '/health')).status).toBe(200),
      12 * INTERVAL_MS,
    );
    plane.expectNoViolations();
  });
});
