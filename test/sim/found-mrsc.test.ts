/**
 * Found by a 1,000-schedule campaign on topology/us-mrsc.json (seeds 5290 and 5797): a coordinator
 * cut off from the MRSC table's majority while its failover drained a region could write neither the
 * drain's next step nor the rollback, whose retries ran out seconds before the table answered again;
 * MarkFailed's write then succeeded and ended the record `failed`, the region left `draining` for
 * good (nothing fails a draining region over or back). A rollback interrupted by an error the
 * workflow retries (TransientError) now leaves the record running, and the coordinator's round
 * resumes it from the record (lib/app/failover/mark-failed.ts). The schedules are kept as they were
 * drawn (test/fixtures/schedules/seed-5290.json, seed-5797.json).
 */
import { describe, expect, it } from 'vitest';
import { runFailoverAction } from '../../lib/app/failover/actions.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { RegionStatusRecord } from '../../lib/core/state/records.ts';
import { simulate } from '../../lib/sim/run.ts';
import type { Schedule } from '../../lib/sim/schedule.ts';
import { SimWorld } from '../../lib/sim/world.ts';
import { failover } from '../contract/state-fixture.ts';
import { foundSchedule, MRSC } from '../support/found-schedules.ts';

const SEED_5290 = foundSchedule(5290);
const SEED_5797 = foundSchedule(5797);

const EAST_1 = 'us-east-1';
const EAST_2 = 'us-east-2';

/** The schedule played to its end; the failover record and us-east-2's status as the table holds them. */
async function played(
  schedule: Schedule,
  failoverId: string,
): Promise<{ record: FailoverRecord | undefined; status: RegionStatusRecord | undefined }> {
  const world = new SimWorld({ topology: MRSC, seed: schedule.seed });
  const start = world.kernel.now();
  await world.start();
  for (const { at, action } of schedule.actions) world.kernel.at(at, () => world.apply(action));
  await world.kernel.run(start + schedule.duration_ms, async () => {});
  return {
    record: await world.state(EAST_1).getFailover(failoverId),
    status: await world.state(EAST_1).getRegionStatus(EAST_2),
  };
}

/** The step MarkFailed writes when it leaves the record running. */
const interrupted = expect.objectContaining({
  action: 'complete',
  outcome: 'skipped',
  detail: expect.stringMatching(
    /^the rollback was interrupted \(TransientError: cortex-critical is unavailable/,
  ),
});

describe('a rollback interrupted by the MRSC table never strands a drained region (seeds 5290, 5797)', () => {
  // Invariant: ends-serving (every region serves in every replica after the quiet tail), and every
  // other invariant. Seed 5290: us-east-2 down at 180 s; us-east-1 starts failover-us-east-2-e0 at
  // 271 s and drains it toward us-west-2, which a cascade takes down at 300 s: us-east-1 reaches 1 of
  // the table's 3 regions, the drain and then the rollback run out of retries, and us-east-2 comes
  // back at 326 s, just before MarkFailed. Before the fix the record ended `failed` with us-east-2
  // draining until the end; now the record stays running, us-east-1 resumes it at 393 s and its
  // rollback restores us-east-2.
  it('seed 5290 holds every invariant; the resumed failover rolls back and restores us-east-2', async () => {
    const result = await simulate(MRSC, SEED_5290, { stopAtFirst: false });
    expect(result.violations).toEqual([]);

    const { record, status } = await played(SEED_5290, `failover-${EAST_2}-e0`);
    expect(record).toMatchObject({ status: 'rolled_back', coordinator: EAST_1 });
    expect(record?.steps).toContainEqual(interrupted);
    expect(record?.steps.filter((s) => s.action === 'rollback')).toHaveLength(1);
    expect(status?.status).toBe('healthy');
  }, 60_000);

  // Invariant: as above. Seed 5797: us-east-1 starts failover-us-east-2-e2 at 1171 s on error-rate
  // verdicts (us-east-2 answers 500s) and drains us-east-2 toward itself; a three-way partition at
  // 1175 s cuts us-east-1 off the table until the heal at 1200 s, after the drain's and the
  // rollback's retries. Before the fix MarkFailed ended the record `failed` at 1204 s with us-east-2
  // draining; now us-east-1 resumes it, the failover completes (us-east-2 `failed`), and the
  // operator's failback at 1560 s returns us-east-2 to service.
  it('seed 5797 holds every invariant; the resumed failover completes and us-east-2 is failed back', async () => {
    const result = await simulate(MRSC, SEED_5797, { stopAtFirst: false });
    expect(result.violations).toEqual([]);

    const { record, status } = await played(SEED_5797, `failover-${EAST_2}-e2`);
    expect(record).toMatchObject({ status: 'completed', coordinator: EAST_1 });
    expect(record?.steps).toContainEqual(interrupted);
    expect(status).toMatchObject({
      status: 'healthy',
      updated_by: expect.stringMatching(/^failback-us-east-2-/),
    });
  }, 60_000);
});

describe('MarkFailed', () => {
  /** A running failover of us-east-2 that us-east-1 coordinates, in the MRSC table of a quiet world. */
  async function running(): Promise<{ world: SimWorld; id: string }> {
    const world = new SimWorld({ topology: MRSC, seed: 1 });
    const at = new Date(world.kernel.now()).toISOString();
    const id = `failover-${EAST_2}-e0`;
    await world.deps(EAST_1).state.createFailover(
      failover({
        failover_id: id,
        failed_region: EAST_2,
        coordinator: EAST_1,
        initiated_at: at,
        updated_at: at,
      }),
    );
    return { world, id };
  }

  // Invariant: a rollback stopped only because the state did not answer is not a failed rollback: the
  // record stays running (its coordinator resumes it), so a drained region is never left for good.
  it('leaves the record running when the rollback ran out of retries on a TransientError', async () => {
    const { world, id } = await running();
    const answer = await runFailoverAction(world.deps(EAST_1), {
      action: 'complete',
      outcome: 'failed',
      failover_id: id,
      error: { Error: 'TransientError', Cause: 'cortex-critical is unavailable from us-east-1' },
    });
    expect(answer).toMatchObject({ outcome: 'skipped', status: 'running' });
    const record = await world.state(EAST_1).getFailover(id);
    expect(record?.status).toBe('running');
    expect(record?.steps.at(-1)).toMatchObject({ action: 'complete', outcome: 'skipped' });
  });

  // Invariant: a rollback that failed on an error that judges something still ends the record
  // `failed` for an operator, as before.
  it('ends the record failed when the rollback failed on any other error', async () => {
    const { world, id } = await running();
    await runFailoverAction(world.deps(EAST_1), {
      action: 'complete',
      outcome: 'failed',
      failover_id: id,
      error: { Error: 'RollbackBroken', Cause: 'a bug' },
    });
    expect(await world.state(EAST_1).getFailover(id)).toMatchObject({
      status: 'failed',
      error: { name: 'RollbackBroken' },
    });
  });
});
