/**
 * A cascade on the virtual clock, on the shipped topology (30 s x 3, the witness, the spec's usage):
 * us-east-1 dies, its failover F1 (target eu-west-1, coordinated there) takes it out of the quorum
 * and drains it (the drain waits up to 150 s for the task in flight there), and eu-west-1 dies at
 * some moment of F1. ap-south-1 takes F1 over and rolls it back (its target failed). The rollback
 * must not make us-east-1, which a majority still cannot reach, a quorum member again: ap-south-1
 * would then reach 2 of 4 members (itself and the witness), fence itself, and nothing would serve
 * until an operator acts although one region and the witness are alive.
 *
 * The offsets count from the moment ap-south-1's replica holds us-east-1 out of the quorum (F1's
 * drain write arrived): a strike before that is two regions failing at once, which the quorum
 * cannot tell from a cut (docs/failover-safety.md, the tie rule's trade-off).
 */
import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { isServing } from '../../lib/core/state/records.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';

const FIRST = 'us-east-1';
const TARGET = 'eu-west-1';
const SURVIVOR = 'ap-south-1';

/** Tasks routed at each region (one bound to the EU), and one accepted in us-east-1: F1's drain waits for it. */
async function withWorkInFlight(plane: SimPlane): Promise<void> {
  for (const region of [FIRST, TARGET, SURVIVOR]) {
    await plane.fault({ kind: 'route', region, count: 3, priority: 'high', workers: 1, compute_units: 1 });
  }
  await plane.fault({
    kind: 'route',
    region: TARGET,
    count: 1,
    residency: 'EU',
    priority: 'normal',
    workers: 1,
    compute_units: 1,
  });
  const inFirst = plane.world.acknowledged.find((a) => a.target_region === FIRST);
  expect(inFirst, 'a task routed to us-east-1').toBeDefined();
  const accepted = await plane.post(FIRST, `/v1/handoffs/${inFirst?.handoff_id}/accept`, { worker: 'w-1' });
  expect(accepted.status).toBe(200);
  await plane.advance(2_000);
}

async function ownStatus(plane: SimPlane, region: string) {
  return (await plane.state(SURVIVOR).listRegionStatuses()).find((s) => s.region_id === region);
}

describe('a cascade: the failover target dies while the failover runs', () => {
  // Invariant: a rollback never makes a region that a majority still cannot reach a quorum member
  // again, so the last region with the witness keeps a majority and serves everything, whenever the
  // target is struck; one failover per failure epoch; no acknowledged handoff lost; residency kept.
  it.each([0, 30, 62, 90, 120, 152, 200])(
    'the target struck %i s after F1 took us-east-1 out: ap-south-1 serves it all within detection plus orchestration',
    async (offsetSeconds) => {
      const plane = await SimPlane.start(defaultTopologyJson());
      await plane.untilAllHealthy();
      await withWorkInFlight(plane);
      await plane.fault({ kind: 'down', region: FIRST });
      await plane.until(async () => {
        const status = await ownStatus(plane, FIRST);
        expect(status?.status).toBe('draining');
      }, 10 * plane.intervalMs);
      await plane.advance(offsetSeconds * 1000);
      await plane.fault({ kind: 'down', region: TARGET });
      const struckAt = plane.now();

      // The detection window (failure_threshold rounds and the round in progress) plus the
      // orchestration budget: the bound of the simulator's dead-region-traffic-served.
      const policy = plane.topology.failover_policies.health_check;
      const bound = (policy.failure_threshold + 2) * policy.interval_seconds * 1000 + 180_000;
      await plane.until(async () => {
        expect((await ownStatus(plane, SURVIVOR))?.status).toBe('healthy');
        for (const region of [FIRST, TARGET]) {
          expect(isServing((await ownStatus(plane, region))?.status ?? 'healthy'), region).toBe(false);
          expect(await plane.dnsAnswer(region)).toBe(SURVIVOR);
        }
        expect((await plane.get(SURVIVOR, '/health')).status).toBe(200);
        for (const ack of plane.world.acknowledged) {
          const handoff = await plane.state(SURVIVOR).getHandoff(ack.handoff_id);
          // EU-bound work may not move to ap-south-1 (residency): it waits, with the reason.
          if (ack.residency === 'EU') expect(handoff?.target_region).toBe(TARGET);
          else expect(handoff?.target_region, ack.handoff_id).toBe(SURVIVOR);
        }
      }, bound);
      expect(plane.now() - struckAt).toBeLessThanOrEqual(bound);

      // It stays so: a few more rounds, never fenced, one failover per failure epoch.
      await plane.rounds(6);
      expect(plane.events.filter((e) => e.type === 'region.fenced')).toEqual([]);
      expect((await ownStatus(plane, SURVIVOR))?.status).toBe('healthy');
      const failovers: FailoverRecord[] = await plane.state(SURVIVOR).listFailovers();
      const ofFirst = failovers.filter((f) => f.failed_region === FIRST && f.kind === 'failover');
      expect(new Set(ofFirst.map((f) => f.epoch)).size).toBe(ofFirst.length);
      expect(ofFirst.filter((f) => f.status === 'running' || f.status === 'awaiting_approval')).toEqual([]);
      // us-east-1 failed over for good: by F1, or by the next failover after F1's rollback kept it failed.
      const newest = [...ofFirst].sort((a, b) => b.initiated_at.localeCompare(a.initiated_at))[0];
      expect(newest?.status).toBe('completed');
      const ofTarget = failovers.filter((f) => f.failed_region === TARGET && f.kind === 'failover');
      expect(ofTarget.map((f) => [f.status, f.target_region])).toContainEqual(['completed', SURVIVOR]);
      plane.expectNoViolations();
    },
    60_000,
  );
});

describe('a region taken out while its failover cannot reach it', () => {
  // Invariant: a serving region that a peer it reaches reports taken out at a newer epoch adopts
  // that decision and only observes, so it cannot coordinate a failover from its stale replica
  // beside the region that knows (two records of one failure, two targets; found by the simulator).
  it('adopts the draining status a peer holds of it and stops acting', async () => {
    const plane = await SimPlane.start(defaultTopologyJson());
    await plane.untilAllHealthy();
    // us-east-1 coordinates the failover of eu-west-1 (it answers only 500s) but cannot write to it.
    await plane.fault({ kind: 'cut', a: FIRST, b: TARGET });
    await plane.fault({ kind: 'errors', region: TARGET, rate: 1 });
    await plane.until(async () => {
      expect(isServing((await ownStatus(plane, TARGET))?.status ?? 'healthy')).toBe(false);
    }, 15 * plane.intervalMs);
    const inItsOwn = await plane.until(async () => {
      const own = (await plane.state(TARGET).listRegionStatuses()).find((s) => s.region_id === TARGET);
      expect(own?.updated_by).toBe(`reconcile@${TARGET}`);
      return own;
    }, 3 * plane.intervalMs);
    expect(isServing(inItsOwn?.status ?? 'healthy')).toBe(false);
    expect(plane.events.filter((e) => e.type === 'region.reconciled').map((e) => e.detail.region)).toContain(
      TARGET,
    );
    plane.expectNoViolations();
  }, 60_000);
});
