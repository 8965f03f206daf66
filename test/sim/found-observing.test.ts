/**
 * A schedule of the 10,000-schedule campaign from seed 2000000 (`cortex simulate --schedules 10000
 * --seed 2000000`) that broke `one-failover-per-failure`, replayed from its file: a region's answer
 * that it is failed passes it over as coordinator only while nothing newer of it is here; a status
 * written after that answer (a rollback restored it) is the newer word.
 */
import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { simulate } from '../../lib/sim/run.ts';
import { DEFAULT, foundSchedule, played } from '../support/found-schedules.ts';

describe('schedules found by the campaign: a coordinator restored after its last answer', () => {
  // Invariant: one failover per failure (one-failover-per-failure, principle 4). Seed 2008930:
  // us-east-1 slow by 6 s from 238 s to 272 s; eu-west-1 fails it over at 272 s to itself and, named
  // by the cascade, goes down at 274 s (until 376 s); ap-south-1 takes the failover over and rolls it
  // back at 369 s, restoring us-east-1, 5 s after the last answers from us-east-1 (at 363 and 364 s)
  // said it was failed. A partition cuts ap-south-1 off from the other two from 388 s to 699 s:
  // us-east-1 fails eu-west-1 over at 391 s to itself, and ap-south-1, reading those older answers,
  // passed us-east-1 over and started the same failover at 393 s to itself.
  it('seed 2008930: only the restored natural coordinator starts the failover, to one target', async () => {
    const s = foundSchedule(2008930);
    const result = await simulate(DEFAULT, s, { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    const starts = result.log.filter((e) => /started failover-eu-west-1-e2$/.test(e.what)).map((e) => e.what);
    expect(starts).toEqual(['us-east-1 started failover-eu-west-1-e2']);

    // After the partition heals, every replica holds the one record, to us-east-1.
    const world = await played(DEFAULT, s, 720_000);
    for (const replica of ['us-east-1', 'eu-west-1', 'ap-south-1']) {
      const record = (await world.state(replica).getFailover('failover-eu-west-1-e2')) as FailoverRecord;
      expect(record, replica).toMatchObject({ coordinator: 'us-east-1', target_region: 'us-east-1' });
    }
  });
});
