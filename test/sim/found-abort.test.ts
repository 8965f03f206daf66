/**
 * Found by a 10,000-schedule campaign (seed 428204): an operator's abort, written through a region
 * whose replica had not yet seen the failover complete, replaced the completed record everywhere
 * (replication keeps the newest write of the whole item) and the coordinator, back from an outage,
 * rolled back a failover it had finished: two primaries. An operator's change to a failover record is
 * now decided and written in its coordinator's replica (lib/app/failover/manage.ts atCoordinator).
 * The schedule is kept as it was drawn (test/fixtures/schedules/seed-428204.json).
 */
import { describe, expect, it } from 'vitest';
import { abortFailover, answerApproval } from '../../lib/app/failover/manage.ts';
import { ConflictError, CoordinatorUnreachableError } from '../../lib/core/errors.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { simulate } from '../../lib/sim/run.ts';
import { SimWorld } from '../../lib/sim/world.ts';
import { failover } from '../contract/state-fixture.ts';
import { DEFAULT, foundSchedule } from '../support/found-schedules.ts';

const SEED_428204 = foundSchedule(428204);

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const ID = `failover-${EU}-e1`;

/** The failover of seed 428204 as a record: eu-west-1 failed over by ap-south-1, to itself. */
function record(world: SimWorld, overrides: Partial<FailoverRecord> = {}): FailoverRecord {
  const at = new Date(world.kernel.now()).toISOString();
  return failover({
    failover_id: ID,
    failed_region: EU,
    target_region: AP,
    reason: 'eu-west-1 unreachable',
    coordinator: AP,
    epoch: 1,
    initiated_at: at,
    updated_at: at,
    ...overrides,
  });
}

/**
 * A world without probe rounds (only replication runs) where ap-south-1 coordinates the record and
 * every replica holds it running; then ap-south-1 completes it inside a partition, so the other two
 * replicas still hold it running.
 */
async function completedUnseen(): Promise<SimWorld> {
  const world = new SimWorld({ topology: DEFAULT, seed: 1 });
  await world.state(AP).createFailover(record(world));
  await world.kernel.run(world.kernel.now() + 5_000);
  await world.apply({ kind: 'partition', groups: [[AP], [EU, US]] });
  const done = new Date(world.kernel.now()).toISOString();
  await world
    .state(AP)
    .updateFailover(
      ID,
      { status: 'completed', completed_at: done, updated_at: done },
      { expectedStatuses: ['running'] },
    );
  return world;
}

async function copies(world: SimWorld): Promise<Record<string, FailoverRecord | undefined>> {
  return Object.fromEntries(
    await Promise.all(world.regionIds.map(async (r) => [r, await world.state(r).getFailover(ID)] as const)),
  );
}

describe("an operator's abort is decided in the coordinator's replica (seed 428204)", () => {
  // Invariant: every invariant, ends-serving in particular (one primary, every region serving at the
  // end). Seed 428204: ap-south-1 completes failover-eu-west-1-e1 (promoting itself) inside a
  // three-way partition at about 607 s and goes down at 640 s; the partition heals at 1012 s; the
  // operator aborts at 1064 s through us-east-1, whose replica still holds the failover running;
  // ap-south-1 comes back at 1202 s. The abort answered 200 and its stale copy replaced the completed
  // record; ap-south-1 resumed and rolled back, restoring eu-west-1 as primary beside itself.
  it('holds every invariant; the abort changes nothing and the record stays completed', async () => {
    const result = await simulate(DEFAULT, SEED_428204, { stopAtFirst: false });
    expect(result.violations).toEqual([]);

    const world = new SimWorld({ topology: DEFAULT, seed: SEED_428204.seed });
    const start = world.kernel.now();
    await world.start();
    for (const { at, action } of SEED_428204.actions) world.kernel.at(at, () => world.apply(action));
    await world.kernel.run(start + 1_065_000, async () => {});
    // The abort reached no replica: us-east-1's copy is as stale as before, and not aborted.
    expect((await world.state(US).getFailover(ID))?.abort_requested).toBe(false);
    await world.kernel.run(start + 1_300_000, async () => {});
    for (const region of world.regionIds) {
      expect(await world.state(region).getFailover(ID), region).toMatchObject({
        status: 'completed',
        abort_requested: false,
      });
    }
  }, 60_000);

  // Invariant: a write on a stale replica never replaces the coordinator's newer record. The record
  // completed in ap-south-1's replica only (a partition); the operator aborts through us-east-1 at
  // the instant the partition heals, before replication: 409 with the completed record, nothing
  // written, and once replication runs every replica holds it completed.
  it('an abort through a stale replica answers 409 with the record its coordinator holds', async () => {
    const world = await completedUnseen();
    await world.apply({ kind: 'unpartition', groups: [[AP], [EU, US]] });
    expect((await world.state(US).getFailover(ID))?.status).toBe('running');

    const refused = await abortFailover(world.deps(US), ID, { by: 'oncall' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ code: 'FAILOVER_NOT_RUNNING', current: { status: 'completed' } });
    expect((await world.state(US).getFailover(ID))?.abort_requested).toBe(false);

    await world.kernel.run(world.kernel.now() + 5_000);
    for (const [region, copy] of Object.entries(await copies(world))) {
      expect(copy, region).toMatchObject({ status: 'completed', abort_requested: false });
    }
  });

  // Invariant: an operator's change lands where the coordinator's workflow reads it, at once: a
  // running failover aborted through us-east-1 is aborted in ap-south-1's replica, and us-east-1's
  // copy is not written (a copy written there later would replace the coordinator's next steps).
  it('an abort of a running failover is written in the coordinator replica only', async () => {
    const world = new SimWorld({ topology: DEFAULT, seed: 1 });
    await world.state(AP).createFailover(record(world));
    await world.kernel.run(world.kernel.now() + 5_000);

    const view = await abortFailover(world.deps(US), ID, { by: 'oncall' });
    expect(view).toMatchObject({ status: 'running', abort_requested: true, coordinator: AP });
    expect((await world.state(AP).getFailover(ID))?.abort_requested).toBe(true);
    expect((await world.state(US).getFailover(ID))?.abort_requested).toBe(false);
    await world.kernel.run(world.kernel.now() + 5_000);
    expect((await world.state(US).getFailover(ID))?.abort_requested).toBe(true);
  });

  // Invariant: bad timing gets a clear error and changes nothing (principle 10). ap-south-1 completed
  // the failover and went down before anyone saw it: an abort, an approval or a decline through
  // us-east-1 answers CoordinatorUnreachableError, naming the coordinator, and writes nothing; when
  // ap-south-1 is back, its completed record is what every replica holds.
  it('an abort or an approval while the coordinator is out of reach is refused and writes nothing', async () => {
    const world = await completedUnseen();
    await world.apply({ kind: 'down', region: AP });
    await world.apply({ kind: 'unpartition', groups: [[AP], [EU, US]] });
    const before = await copies(world);

    for (const ask of [
      () => abortFailover(world.deps(US), ID, { by: 'oncall' }),
      () => answerApproval(world.deps(EU), ID, true, { by: 'oncall' }),
      () => answerApproval(world.deps(EU), ID, false, { by: 'oncall' }),
    ]) {
      const refused = await ask().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(CoordinatorUnreachableError);
      expect(refused).toMatchObject({ code: 'COORDINATOR_UNREACHABLE', failoverId: ID, coordinator: AP });
      expect((refused as Error).message).toContain('may be stale');
    }
    expect(await copies(world)).toEqual(before);
    expect(world.events.filter((e) => e.type === 'failover.abort_requested')).toEqual([]);

    await world.apply({ kind: 'up', region: AP });
    await world.kernel.run(world.kernel.now() + 5_000);
    for (const [region, copy] of Object.entries(await copies(world))) {
      expect(copy, region).toMatchObject({ status: 'completed', abort_requested: false });
    }
  });
});
