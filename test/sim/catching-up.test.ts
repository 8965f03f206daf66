/**
 * A region whose replica may not know what happened to it serves nothing until it has caught up
 * (lib/app/live-state.ts catchingUp), and a region whose replica is current keeps serving whatever
 * its peers do. On the shipped default topology, on the virtual clock (test/support/sim-plane.ts).
 */
import { describe, expect, it } from 'vitest';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

const INTERVAL_MS = 30_000;

async function failedOver(plane: SimPlane, region: string, replica: string): Promise<void> {
  await plane.until(
    async () => {
      const status = (await plane.state(replica).listRegionStatuses()).find((s) => s.region_id === region);
      expect(status?.status).toBe('failed');
    },
    30 * INTERVAL_MS,
    INTERVAL_MS / 3,
  );
}

describe('a region catching up after an outage', () => {
  // Invariant: a peer that stopped writing heartbeats (its probe rounds crashed while its API
  // answers) never makes a current region call itself behind: the survivor keeps `/health` 200 and
  // no healthy region is failed over for a peer's outage (the simulator's seeds 236 and 533).
  it('keeps serving while the only counted peer has stopped its rounds but answers', async () => {
    const plane = await SimPlane.start(shippedTopology());
    await plane.untilAllHealthy();
    await plane.fault({ kind: 'down', region: 'ap-south-1' });
    await failedOver(plane, 'ap-south-1', 'eu-west-1');
    await plane.fault({ kind: 'crash', region: 'us-east-1', downMs: 12 * INTERVAL_MS });
    expect(plane.world.isCrashed('us-east-1')).toBe(true);
    for (let i = 0; i < 10; i++) {
      await plane.rounds(1);
      const health = await plane.get('eu-west-1', '/health');
      expect(health.status, JSON.stringify(health.body)).toBe(200);
    }
    const failed = (await plane.state('eu-west-1').listRegionStatuses()).filter((s) => s.status === 'failed');
    expect(failed.map((s) => s.region_id)).toEqual(['ap-south-1']);
    plane.expectNoViolations();
  }, 60_000);

  // Invariant: a region back from an outage whose replica lags what its peers wrote meanwhile serves
  // nothing (`/health` 503 with the reason, though its stale replica still reads it healthy) until it
  // knows what happened to it; it then reads the failover that happened meanwhile and stays out.
  it('answers 503 while its replica lags after an outage, then reads its own failover', async () => {
    const plane = await SimPlane.start(shippedTopology());
    await plane.untilAllHealthy();
    await plane.fault({ kind: 'down', region: 'us-east-1' });
    await failedOver(plane, 'us-east-1', 'eu-west-1');
    await plane.fault({ kind: 'up', region: 'us-east-1' });
    // Back, but nothing written meanwhile has replicated to its replica yet.
    const replication = plane.world.stores.replication;
    for (const peer of ['eu-west-1', 'ap-south-1']) replication.pause(peer, 'us-east-1');
    const back = await plane.get('us-east-1', '/health');
    expect(back.status).toBe(503);
    expect(back.body).toMatchObject({ status: 'healthy', serving: false });
    expect(back.body.reason).toMatch(
      /^catching up: no heartbeat of (eu-west-1, ap-south-1|ap-south-1, eu-west-1) /,
    );
    for (let step = 0; step < 6; step++) {
      await plane.advance(INTERVAL_MS / 3);
      expect((await plane.get('us-east-1', '/health')).status).toBe(503);
    }
    for (const peer of ['eu-west-1', 'ap-south-1']) replication.resume(peer, 'us-east-1');
    await plane.until(async () => {
      const status = (await plane.state('us-east-1').listRegionStatuses()).find(
        (s) => s.region_id === 'us-east-1',
      );
      expect(status?.status).toBe('failed');
    }, 2 * INTERVAL_MS);
    await plane.rounds(2);
    expect((await plane.get('us-east-1', '/health')).status).toBe(503);
    plane.expectNoViolations();
  }, 60_000);
});
