/**
 * Found by a 1,500-schedule campaign on topology/us-mrsc.json (seed 7018): a region whose process
 * stopped (its probe rounds with it, its API and replica still up) together with its only counted
 * peer's read that peer's old heartbeat as its own replica lagging: its own views were too old to
 * say otherwise, so the heartbeat's age alone counted. It answered `/health` 503 "catching up",
 * the witness voted it out after three rounds, and the peer, back, voted with it in its first round
 * (its error window still held a burst from before its own crash): a failover with no fault. A
 * witness's fresh view now stands in for the region's own (lib/app/live-state.ts catchingUp): the
 * witness writes its views straight into every replica it reaches, and the peer reported to it the
 * heartbeat this replica already holds. The schedule is kept as it was drawn
 * (test/fixtures/schedules/seed-7018.json).
 */
import { describe, expect, it } from 'vitest';
import { regionHealth } from '../../lib/app/regions.ts';
import { simulate } from '../../lib/sim/run.ts';
import { SimWorld } from '../../lib/sim/world.ts';
import { foundSchedule, MRSC } from '../support/found-schedules.ts';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

const SEED_7018 = foundSchedule(7018);

const INTERVAL_MS = 30_000;
const EAST_2 = 'us-east-2';
/** When seed 7018 takes us-east-2 down (the first fault on it after 750 s). */
const EAST_2_DOWN_MS = 1_147_946;

describe('a region whose rounds stopped with its peer’s keeps serving (seed 7018)', () => {
  // Invariant: load-never-fails-over (a failover needs a fault on the region within its detection
  // window), and every other invariant. Seed 7018 on the MRSC topology: us-west-2 failed over since
  // a partition at 173 s; us-east-2 answers 500s from 710 to 750 s; then us-east-2's process crashes
  // at 771 s and us-east-1's at 777 s (180 s each), us-west-2's at 881 s. Before the fix us-east-2
  // answered `/health` 503 "catching up" from 873 s (no heartbeat of us-east-1 for 120 s), the
  // witness voted it unhealthy at 934 s, and us-east-1, back at 957 s, started
  // failover-us-east-2-e0 at 961 s on an error rate of 4 failed calls in 30, three of them the
  // burst before its own crash. Now us-east-2 keeps serving and nothing fails it over before it
  // goes down at 1148 s.
  it('seed 7018 holds every invariant; us-east-2 serves while its process is stopped', async () => {
    const result = await simulate(MRSC, SEED_7018, { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    const early = result.log.filter(
      (e) => e.at < EAST_2_DOWN_MS && /started failover-us-east-2/.test(e.what),
    );
    expect(early).toEqual([]);

    // Played to 934 s (the witness's third round since us-east-2 would have gone dark): its replica
    // is current, and its `/health` says so, though neither it nor us-east-1 has run a round for
    // over two minutes.
    const world = new SimWorld({ topology: MRSC, seed: SEED_7018.seed });
    const start = world.kernel.now();
    await world.start();
    for (const { at, action } of SEED_7018.actions) world.kernel.at(at, () => world.apply(action));
    await world.kernel.run(start + 934_500, async () => {});
    expect(world.isCrashed(EAST_2) && world.isCrashed('us-east-1')).toBe(true);
    expect(await regionHealth(world.deps(EAST_2))).toMatchObject({ status: 'healthy', serving: true });
  }, 60_000);
});

describe('catching up while its own rounds are stopped', () => {
  /** The shipped topology with ap-south-1 failed over, so eu-west-1 is us-east-1's only counted peer. */
  async function withOnePeer(): Promise<SimPlane> {
    const plane = await SimPlane.start(shippedTopology());
    await plane.untilAllHealthy();
    await plane.fault({ kind: 'down', region: 'ap-south-1' });
    await plane.until(async () => {
      const statuses = await plane.state('us-east-1').listRegionStatuses();
      expect(statuses.find((s) => s.region_id === 'ap-south-1')?.status).toBe('failed');
    }, 30 * INTERVAL_MS);
    return plane;
  }

  // Invariant: a region never goes dark for its peer's outage. us-east-1's process and then its
  // only counted peer eu-west-1's stop (APIs up): us-east-1's own views age out, eu-west-1 writes no
  // heartbeat, and the witness's fresh views, written into us-east-1's replica, show eu-west-1
  // reporting the heartbeat that replica holds. Before the fix `/health` turned 503 after 120 s.
  it('serves when the witness reaches the silent peer and it reports the heartbeat the replica holds', async () => {
    const plane = await withOnePeer();
    await plane.fault({ kind: 'crash', region: 'us-east-1', downMs: 12 * INTERVAL_MS });
    await plane.fault({ kind: 'crash', region: 'eu-west-1', downMs: 12 * INTERVAL_MS });
    for (let i = 0; i < 10; i++) {
      await plane.rounds(1);
      const health = await regionHealth(plane.world.deps('us-east-1'));
      expect(health, JSON.stringify(health)).toMatchObject({ serving: true });
    }
    plane.expectNoViolations();
  }, 60_000);

  // Invariant: the witness stands in only for what it saw. us-east-1's process stops and
  // replication into its replica stalls (eu-west-1 goes on writing): the witness reports
  // eu-west-1's heartbeat newer than the one us-east-1's replica holds, so us-east-1 is behind and
  // serves nothing until the heartbeats arrive.
  it('answers 503 when the witness saw the peer report a newer heartbeat than the replica holds', async () => {
    const plane = await withOnePeer();
    await plane.fault({ kind: 'crash', region: 'us-east-1', downMs: 12 * INTERVAL_MS });
    const replication = plane.world.stores.replication;
    for (const peer of ['eu-west-1', 'ap-south-1']) replication.pause(peer, 'us-east-1');
    await plane.rounds(6);
    const behind = await regionHealth(plane.world.deps('us-east-1'));
    expect(behind).toMatchObject({
      serving: false,
      reason: expect.stringMatching(/^catching up: .*eu-west-1/),
    });
    for (const peer of ['eu-west-1', 'ap-south-1']) replication.resume(peer, 'us-east-1');
    await plane.advance(2_000);
    expect(await regionHealth(plane.world.deps('us-east-1'))).toMatchObject({ serving: true });
  }, 60_000);
});
