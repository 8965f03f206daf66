/**
 * Schedules the simulator found breaking `one-failover-per-failure` through a coordinator that left
 * service unheard (Assessment.unheard in lib/core/health/quorum.ts), replayed from their saved
 * schedules on the shipped topology.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../../lib/sim/run.ts';
import { DEFAULT, foundSchedule } from '../support/found-schedules.ts';

describe('found by the simulator: a coordinator that left service unheard', () => {
  // Invariant: one failover per failure (one record, one target in every replica): a region does not
  // step in for a natural coordinator that left service in its replica while that coordinator may
  // still act unheard. Seed 434163: ap-south-1 slow 12 s from 645 s (past the probe timeout),
  // us-east-1 slow 6 s from 751 s (p99), eu-west-1 <-> us-east-1 cut at 756.9 s until the heal.
  // us-east-1 fails ap-south-1 over to itself (761 s); eu-west-1 fails us-east-1 over on its p99
  // (762 s) and, holding it failed while none of its rounds can arrive, used to start
  // failover-ap-south-1-e0 again at 792 s, targeting itself.
  it('seed 434163: eu-west-1 does not start a second failover of ap-south-1 across the cut', async () => {
    const result = await simulate(DEFAULT, foundSchedule(434163), { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    const starts = result.log.filter((entry) => / started failover-ap-south-1-e0$/.test(entry.what));
    expect(starts.map((entry) => entry.what)).toEqual(['us-east-1 started failover-ap-south-1-e0']);
    // eu-west-1's own failover of us-east-1 still ran: the rule holds back a step-in, not a failover.
    expect(result.log.map((entry) => entry.what)).toContain('eu-west-1 started failover-us-east-1-e0');
  });
});
