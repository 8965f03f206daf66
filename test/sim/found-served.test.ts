/**
 * Schedules of the 10,000-schedule campaign (`cortex simulate --schedules 10000 --seed 424242`) that
 * broke `dead-region-traffic-served`, replayed from their files: a dead region's failover must not
 * be given up on for a target's passing errors.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { simulate } from '../../lib/sim/run.ts';
import type { Schedule } from '../../lib/sim/schedule.ts';
import { SimWorld } from '../../lib/sim/world.ts';

const DEFAULT = validateTopology(
  JSON.parse(readFileSync(new URL('../../topology/default.json', import.meta.url), 'utf8')),
);

const schedule = (seed: number): Schedule =>
  JSON.parse(readFileSync(new URL(`../fixtures/schedules/seed-${seed}.json`, import.meta.url), 'utf8'));

/** Plays `schedule` on a world until `untilMs` (virtual ms from the start) and hands the world back. */
async function played(s: Schedule, untilMs: number): Promise<SimWorld> {
  const world = new SimWorld({ topology: DEFAULT, seed: s.seed });
  const start = world.kernel.now();
  await world.start();
  for (const { at, action } of s.actions) world.kernel.at(at, () => world.apply(action));
  await world.kernel.run(start + untilMs, async () => {});
  return world;
}

describe('schedules found by the campaign: dead-region-traffic-served', () => {
  // Invariant: a dead region's traffic is served (dead-region-traffic-served, principle 5). Seed
  // 425978: us-east-1 failed over for a 60 % error burst; eu-west-1 answers 500 at a rate of 0.3 from
  // 546 s to 908 s; ap-south-1 goes down at 665 s. eu-west-1, the only serving survivor, coordinates
  // its failover and is its target; the one probe of verify_target_capacity met a 500, the failover
  // rolled back at once, and the retry rule held the next one for a cooldown (nothing it depends on
  // had changed): ap-south-1 stayed serving in the survivors' replicas for 449 s.
  it('seed 425978: a target answering 500 now and then is asked again, and the dead region is failed over', async () => {
    const s = schedule(425978);
    const result = await simulate(DEFAULT, s, { stopAtFirst: false });
    expect(result.violations).toEqual([]);

    const world = await played(s, 1_000_000);
    const record = (await world.state('eu-west-1').getFailover('failover-ap-south-1-e0')) as FailoverRecord;
    expect(record).toMatchObject({ status: 'completed', target_region: 'eu-west-1' });
    const checks = record.steps.filter((step) => step.action === 'verify_target_capacity');
    // The 500s were retried as transient (no rollback), and a later attempt found the target.
    expect(checks.some((step) => step.outcome === 'failed' && /^TransientError/.test(step.detail))).toBe(
      true,
    );
    expect(checks.at(-1)?.outcome).toBe('succeeded');
    expect(record.steps.some((step) => step.action === 'rollback')).toBe(false);
    expect((await world.state('eu-west-1').getRegionStatus('ap-south-1'))?.status).toBe('failed');
  });
});
