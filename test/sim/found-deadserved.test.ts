/**
 * A schedule of the 10,000-schedule campaign from seed 900000 (`cortex simulate --schedules 10000
 * --seed 900000`) that broke `dead-region-traffic-served`, replayed from its file: a dead region's
 * failover is coordinated, and targeted, by regions that act, whatever a replica that missed the
 * decision holds of them.
 */
import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { simulate } from '../../lib/sim/run.ts';
import { DEFAULT, foundSchedule, played } from '../support/found-schedules.ts';

describe('schedules found by the campaign: a dead region whose natural coordinator only observes', () => {
  // Invariant: a dead region's traffic is served (dead-region-traffic-served, principle 5). Seed
  // 904024: ap-south-1 down from 251 s to 373 s; eu-west-1 answers 500 at a rate of 0.3 until 453 s,
  // and us-east-1 fails it over on its error rate at 331 s, starts ap-south-1's failover at 361 s and
  // goes down at 362 s (until 754 s) before either write replicates to ap-south-1. Back up,
  // ap-south-1 held eu-west-1 healthy and named it to fail us-east-1 over, while eu-west-1, failed by
  // its own status, only observed: us-east-1 stayed serving in both survivors' replicas for the 391 s
  // it was down. eu-west-1's own answer (its reported status) now passes it over as coordinator and
  // as target.
  it('seed 904024: the region after a coordinator that reports itself failed fails the dead region over to a serving target', async () => {
    const s = foundSchedule(904024);
    const result = await simulate(DEFAULT, s, { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    expect(result.log.some((e) => e.what === 'ap-south-1 started failover-us-east-1-e0')).toBe(true);

    const world = await played(DEFAULT, s, 600_000);
    const record = (await world.state('ap-south-1').getFailover('failover-us-east-1-e0')) as FailoverRecord;
    // Not eu-west-1 (it says it is failed): no rollback for a target that reports itself out.
    expect(record).toMatchObject({
      status: 'completed',
      coordinator: 'ap-south-1',
      target_region: 'ap-south-1',
    });
    expect(record.steps.some((step) => step.action === 'rollback')).toBe(false);
    for (const replica of ['eu-west-1', 'ap-south-1']) {
      expect((await world.state(replica).getRegionStatus('us-east-1'))?.status, replica).toBe('failed');
    }
  });
});
