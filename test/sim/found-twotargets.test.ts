/**
 * Found by a 10,000-schedule campaign from seed 900000 (seed 907017): a region back from an outage
 * inside a partition, on its side with the witness, continued its views and the witness's from
 * before the gap, held a quorum of that stale evidence and failed over a region the majority had
 * already failed over, under the same failover id with another target. A view older than three
 * rounds is no longer continued: its runs start over (continuedView in lib/core/health/evaluate.ts).
 * The schedule is kept as it was drawn (test/fixtures/schedules/seed-907017.json).
 */
import { describe, expect, it } from 'vitest';
import { applyRound, healthPolicyOf } from '../../lib/core/health/evaluate.ts';
import type { TargetHealth } from '../../lib/core/health/types.ts';
import { simulate } from '../../lib/sim/run.ts';
import { DEFAULT, foundSchedule, probeRound } from '../support/found-schedules.ts';

const SEED_907017 = foundSchedule(907017);
const POLICY = healthPolicyOf(DEFAULT);
const INTERVAL_MS = POLICY.interval_seconds * 1000;

/** eu-west-1's view of `target` after rounds 0 to 5, one interval apart, all answered or none. */
function sixRounds(target: string, answered: boolean): TargetHealth {
  let view = applyRound(undefined, probeRound('eu-west-1', target, 0, answered), POLICY);
  for (let n = 1; n < 6; n++)
    view = applyRound(view, probeRound('eu-west-1', target, n * INTERVAL_MS, answered), POLICY);
  return view;
}

describe('found by the simulator: a quorum of views continued across an outage (seed 907017)', () => {
  // Invariant: one-failover-per-failure (one target per failover id in every replica). Seed 907017:
  // us-east-1 down 128-411 s; eu-west-1 starts its failover (target eu-west-1), goes down at 331 s
  // (cascade) and ap-south-1 takes it over and rolls it back; ap-south-1 fails eu-west-1 over, and
  // us-east-1 again (failover-us-east-1-e3, target ap-south-1, 453 s) inside a three-way partition
  // from 446 s ([eu-west-1 + witness] | [ap-south-1] | [us-east-1]) that lasts until 904 s.
  // eu-west-1 comes back at 457 s inside it. Its views of ap-south-1 (reached) and us-east-1 (six
  // failed rounds), and the witness's, continued from before its outage: at 512 s it counted three of
  // four members and two of three votes and started failover-us-east-1-e3 too, targeting itself.
  it('holds every invariant; eu-west-1 fences instead of starting failover-us-east-1-e3', async () => {
    const result = await simulate(DEFAULT, SEED_907017, { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    const starts = result.log.filter((entry) => / started failover-us-east-1-e3$/.test(entry.what));
    expect(starts.map((entry) => entry.what)).toEqual(['ap-south-1 started failover-us-east-1-e3']);
    // Its first round that acts after its return (the one before it only observes) finds it cut off.
    const fenced = result.log.find((entry) => entry.what === 'eu-west-1 fenced itself');
    expect(fenced?.at).toBe(512_000);
  }, 60_000);

  // Invariant: failure_threshold failed rounds in a row are rounds in a row. A view three rounds old
  // or older (its observer was down) restarts its runs: the failures count from one and the target's
  // reachability must be earned again; a view one round old goes on counting.
  it('a view older than three rounds is not continued: its runs start over', () => {
    const failing = sixRounds('us-east-1', false);
    expect(failing).toMatchObject({ verdict: 'unhealthy', consecutive_failures: 6, reachable: false });
    expect(
      applyRound(failing, probeRound('eu-west-1', 'us-east-1', 6 * INTERVAL_MS, false), POLICY),
    ).toMatchObject({
      verdict: 'unhealthy',
      consecutive_failures: 7,
    });
    // Six rounds missed (eu-west-1 was down): one failed round, not seven.
    expect(
      applyRound(failing, probeRound('eu-west-1', 'us-east-1', 12 * INTERVAL_MS, false), POLICY),
    ).toMatchObject({
      verdict: 'suspect',
      consecutive_failures: 1,
      consecutive_unanswered: 1,
      rounds: 7,
    });

    const reached = sixRounds('ap-south-1', true);
    expect(reached).toMatchObject({ verdict: 'healthy', reachable: true });
    // One round without an answer keeps a peer reached (hysteresis) only when the round before was
    // one interval ago; after the gap nothing shows a path until the peer answers again.
    expect(
      applyRound(reached, probeRound('eu-west-1', 'ap-south-1', 6 * INTERVAL_MS, false), POLICY).reachable,
    ).toBe(true);
    expect(
      applyRound(reached, probeRound('eu-west-1', 'ap-south-1', 12 * INTERVAL_MS, false), POLICY).reachable,
    ).toBe(false);
  });
});
