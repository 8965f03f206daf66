/**
 * Schedules of the 10,000-schedule campaign from seed 2000000 (`cortex simulate --schedules 10000
 * --seed 2000000`) that broke `one-failover-per-failure` in the rounds right after a cut, replayed
 * from their files: a failover starts only on a majority that answered the latest round
 * (Assessment.answering), not on one that reachability's hysteresis still keeps.
 */
import { describe, expect, it } from 'vitest';
import { simulate } from '../../lib/sim/run.ts';
import { DEFAULT, foundSchedule } from '../support/found-schedules.ts';

const starts = (log: readonly { what: string }[], id: string) =>
  log.filter((e) => new RegExp(` started ${id}$`).test(e.what)).map((e) => e.what.split(' ')[0]);

describe('schedules found by the campaign: a failover started on reachability a cut made stale', () => {
  // Invariant: one failover per failure, one target (principle 4). Seed 2005285: eu-west-1 down from
  // 473 s; a partition [eu-west-1, us-east-1] | [ap-south-1] at 920 s. ap-south-1, alone on its side,
  // still counted us-east-1 and the witness reachable (their last rounds had answered) and started
  // failover-eu-west-1-e0 to itself at 933 s; us-east-1 started the same id to itself at 961 s.
  it('seed 2005285: neither side of a fresh partition starts the failover', async () => {
    const result = await simulate(DEFAULT, foundSchedule(2005285), { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    expect(starts(result.log, 'failover-eu-west-1-e0')).toEqual([]);
    // Nor does a fenced region unfence inside it on the rounds before it (found-staleview.test.ts).
    const unfenced = result.log.filter(
      (e) => e.at > 920_000 && e.at < 1_044_000 && / unfenced$/.test(e.what),
    );
    expect(unfenced).toEqual([]);
  });

  // Invariant: the same. Seed 2007848: us-east-1 <-> eu-west-1 cut at 622 s; us-east-1 starts
  // failover-ap-south-1-e0 at 631 s and goes down at 672 s before its record could cross the cut.
  // At 842 s eu-west-1, with ap-south-1 down too and the cut only lately joined, started the same id
  // to itself on members that no longer answered; it now fences instead, and us-east-1, back, goes
  // on with its own.
  it('seed 2007848: one region starts failover-ap-south-1-e0', async () => {
    const result = await simulate(DEFAULT, foundSchedule(2007848), { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    expect(starts(result.log, 'failover-ap-south-1-e0')).toEqual(['us-east-1']);
  });
});
