/**
 * Failover decisions on the virtual clock (test/support/sim-plane.ts): faults applied to the
 * simulated network, the probe rounds, quorum and the failover workflow's ASL run by the simulator,
 * each region's HTTP API answered by its real handlers, the invariants checked after every event.
 * The fast policy (10 s x 3) on the default topology with a third of the spec's usage (a quiet hour:
 * with the spec's usage no survivor has the 50 % free a single target needs; test/sim/safety-under-load
 * covers that load). The real-HTTP, dynalite and DNS-server path of a failover is test/e2e/failover.
 */
import { describe, expect, it } from 'vitest';
import { runProbeRound } from '../../lib/app/probe-round.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { isServing } from '../../lib/core/state/records.ts';
import { defaultTopologyJson, inQuietHour, withFastPolicy } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';

const INTERVAL_MS = 10_000;
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;

async function start(options: { lagMs?: number } = {}): Promise<SimPlane> {
  const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
  const plane = await SimPlane.start(raw, options.lagMs === undefined ? {} : { lagMs: options.lagMs });
  await plane.untilAllHealthy();
  return plane;
}

/** Every failover record any replica holds, one entry per id (the newest copy). */
async function allFailovers(plane: SimPlane): Promise<FailoverRecord[]> {
  const byId = new Map<string, FailoverRecord>();
  for (const region of REGIONS) {
    for (const record of await plane.state(region).listFailovers()) {
      const seen = byId.get(record.failover_id);
      if (!seen || record.updated_at > seen.updated_at) byId.set(record.failover_id, record);
    }
  }
  return [...byId.values()];
}

async function settledFailover(plane: SimPlane, region: string, failed: string): Promise<FailoverRecord> {
  const record = await plane.until(async () => {
    const [failover] = await plane.state(region).listFailovers(failed);
    expect(['running', 'awaiting_approval']).not.toContain(failover?.status ?? 'running');
    return failover as FailoverRecord;
  }, 40 * INTERVAL_MS);
  expect(record.status, `${record.failover_id} ended ${record.status}: ${JSON.stringify(record.error)}`).toBe(
    'completed',
  );
  return record;
}

async function expectAllServing(plane: SimPlane): Promise<void> {
  for (const region of REGIONS) {
    const statuses = await plane.state(region).listRegionStatuses();
    expect(
      statuses.filter((s) => !isServing(s.status)),
      `statuses in ${region}`,
    ).toEqual([]);
  }
}

const TASK = (id: string) => ({ task_id: id, priority: 'high', source: { region: 'us-east-1' } });

describe('failover decisions', () => {
  // Invariant: one cut link is not a failure of either end (each still reaches a majority).
  it('fails over nothing when a partition cuts a single link between two regions', async () => {
    const plane = await start();
    await plane.fault({ kind: 'cut', a: 'eu-west-1', b: 'ap-south-1' });
    // Both ends see each other unreachable for well beyond the failure threshold.
    await plane.rounds(6);
    const view = (await plane.state('ap-south-1').listTargetHealth()).find(
      (v) => v.observer === 'ap-south-1' && v.target === 'eu-west-1',
    );
    expect(view?.verdict).toBe('unhealthy');
    expect(await allFailovers(plane)).toEqual([]);
    await expectAllServing(plane);
    for (const region of REGIONS) expect((await plane.get(region, '/health')).status).toBe(200);
    expect(await plane.dnsAnswer()).toBe('us-east-1');
    plane.expectNoViolations();
  });

  // Invariant: a region that reaches no majority fences itself (serves nothing); the majority fails
  // over that region at most, never one of its own.
  it('fences a region cut off from all others and fails over at most that region', async () => {
    const plane = await start();
    await plane.isolate('us-east-1');
    await plane.until(
      async () => expect((await plane.get('us-east-1', '/health')).status).toBe(503),
      10 * INTERVAL_MS,
    );
    expect((await plane.state('us-east-1').getRegionStatus('us-east-1'))?.status).toBe('fenced');
    const refused = await plane.post('us-east-1', '/v1/route', TASK('task-on-the-fenced-side'));
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('REGION_NOT_SERVING');

    expect(await plane.dnsAnswer()).toBe('eu-west-1');
    await plane.rounds(4);
    const failovers = await allFailovers(plane);
    expect(
      failovers.every((f) => f.failed_region === 'us-east-1'),
      JSON.stringify(failovers),
    ).toBe(true);
    expect(failovers.length).toBeLessThanOrEqual(1);
    for (const observer of REGIONS) {
      for (const majority of ['eu-west-1', 'ap-south-1']) {
        const status = (await plane.state(observer).getRegionStatus(majority))?.status ?? 'healthy';
        expect(isServing(status), `${majority} as ${observer} sees it`).toBe(true);
      }
    }
    const routed = await plane.post('eu-west-1', '/v1/route', TASK('task-on-the-majority-side'));
    expect(routed.status).toBe(200);
    expect(routed.body.region).not.toBe('us-east-1');
    plane.expectNoViolations();
  });

  // Invariant: hysteresis. Down for one interval, then up for two, three times: every observer sees
  // it fail, never failure_threshold (3) rounds in a row, so nothing fails over and DNS never moves.
  it('does not fail over a region flapping faster than the thresholds', async () => {
    const plane = await start();
    const answers = new Set<string>();
    const watch = async (ms: number) => {
      for (let t = 0; t < ms; t += 1_000) {
        await plane.advance(1_000);
        answers.add(await plane.dnsAnswer());
      }
    };
    for (let flap = 0; flap < 3; flap++) {
      await plane.fault({ kind: 'down', region: 'ap-south-1' });
      await watch(INTERVAL_MS);
      await plane.fault({ kind: 'up', region: 'ap-south-1' });
      await watch(2 * INTERVAL_MS);
    }
    await plane.rounds(2);
    const sawItFail = new Set(
      plane.events
        .filter(
          (e) => e.type === 'region.suspect' && (e.detail as { region?: string }).region === 'ap-south-1',
        )
        .map((e) => (e.detail as { observer?: string }).observer),
    );
    expect(sawItFail.size, 'observers that saw ap-south-1 fail').toBeGreaterThanOrEqual(2);
    expect(await allFailovers(plane)).toEqual([]);
    await expectAllServing(plane);
    expect((await plane.get('ap-south-1', '/health')).status).toBe(200);
    expect([...answers]).toEqual(['us-east-1']);
    plane.expectNoViolations();
  });

  // Invariant: one failover per failure. Half an interval of replication lag, and every survivor
  // running its rounds at the same instant: every detector decides before it can see another's
  // record, and still one failover, one target, one incident.
  it('ends concurrent detection under replication lag in one failover with one target', async () => {
    const plane = await start({ lagMs: INTERVAL_MS / 2 });
    await plane.fault({ kind: 'down', region: 'us-east-1' });
    const survivors = ['eu-west-1', 'ap-south-1'];
    await plane.until(async () => {
      await Promise.all(survivors.map((id) => runProbeRound(plane.world.deps(id))));
      expect((await allFailovers(plane)).length).toBeGreaterThan(0);
    }, 30 * INTERVAL_MS);

    const record = await settledFailover(plane, 'ap-south-1', 'us-east-1');
    await plane.rounds(2);
    const failovers = await allFailovers(plane);
    expect(failovers.map((f) => f.failover_id)).toEqual([record.failover_id]);
    for (const region of survivors) {
      const copies = await plane.state(region).listFailovers();
      expect(copies.map((f) => [f.failover_id, f.target_region])).toEqual([
        [record.failover_id, 'eu-west-1'],
      ]);
    }
    expect(plane.events.filter((e) => e.type === 'failover.initiated')).toHaveLength(1);
    plane.expectNoViolations();
  });
});
