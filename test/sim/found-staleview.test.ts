/**
 * Found by the 10,000-schedule campaign from seed 2000000 (seed 2005990): two fenced regions cut off
 * from each other both unfenced on reachability kept by the rounds before a fresh partition; neither
 * unfence could replicate to the other, so each passed the other over and both started the same
 * failover with a target each. A fenced region now unfences only on members that answered its
 * latest round (reachesFrom in lib/core/health/quorum.ts). The schedule is kept as it was drawn
 * (test/fixtures/schedules/seed-2005990.json).
 */
import { describe, expect, it } from 'vitest';
import { applyRound, healthPolicyOf } from '../../lib/core/health/evaluate.ts';
import { assess } from '../../lib/core/health/quorum.ts';
import type { TargetHealth } from '../../lib/core/health/types.ts';
import type { RegionStatus, RegionStatusRecord } from '../../lib/core/state/records.ts';
import { simulate } from '../../lib/sim/run.ts';
import { DEFAULT, foundSchedule, probeRound } from '../support/found-schedules.ts';

const SEED_2005990 = foundSchedule(2005990);
const POLICY = healthPolicyOf(DEFAULT);
const INTERVAL_MS = POLICY.interval_seconds * 1000;
const PARTITION = { from: 649_200, to: 761_300 };

/** `observer`'s view of `target` after `answered` rounds with an answer, then `missed` without. */
function viewOf(observer: string, target: string, answered: number, missed: number): TargetHealth {
  let view: TargetHealth | undefined;
  for (let n = 0; n < answered + missed; n++) {
    view = applyRound(view, probeRound(observer, target, n * INTERVAL_MS, n < answered), POLICY);
  }
  if (!view) throw new Error('viewOf: no round');
  return view;
}

function record(region: string, status: RegionStatus): RegionStatusRecord {
  return {
    region_id: region,
    status,
    role: 'active',
    epoch: 1,
    updated_at: new Date(0).toISOString(),
    updated_by: region,
  };
}

describe('found by the simulator: two fenced regions unfence across a fresh partition (seed 2005990)', () => {
  // Invariant: one-failover-per-failure (one target per failover id in every replica). Seed 2005990:
  // ap-south-1 down from 471 s; every region fenced in a three-way partition (349-592 s), us-east-1
  // and eu-west-1 reach each other again after it, but the witness's reach has to be earned anew (its
  // views were stale), and a second three-way partition starts at 649 s ([eu-west-1 + witness] |
  // [ap-south-1] | [us-east-1]) until 761 s. At 661 s and 662 s both unfenced on the other's
  // reachability carried by one round of hysteresis; neither's unfence reached the other, so each
  // held the other fenced, passed it over, and both started failover-ap-south-1-e0, each targeting
  // itself. Now both stay fenced through the partition and us-east-1 alone fails ap-south-1 over.
  it('holds every invariant; neither unfences inside the partition, one region starts the failover', async () => {
    const result = await simulate(DEFAULT, SEED_2005990, { stopAtFirst: false });
    expect(result.violations).toEqual([]);
    const unfencedInside = result.log.filter(
      (entry) => / unfenced$/.test(entry.what) && entry.at > PARTITION.from && entry.at < PARTITION.to,
    );
    expect(unfencedInside).toEqual([]);
    const starts = result.log.filter((entry) => / started failover-ap-south-1-e0$/.test(entry.what));
    expect(starts.map((entry) => entry.what)).toEqual(['us-east-1 started failover-ap-south-1-e0']);
  }, 60_000);

  // Invariant: a fenced region unfences on members that answered its latest round. Hysteresis keeps
  // a serving region from fencing on one missed round; it does not let a fenced one unfence on it.
  it('a fenced observer does not count a member its latest round did not reach', () => {
    const now = 3 * INTERVAL_MS;
    const views = [
      viewOf('us-east-1', 'eu-west-1', 2, 1), // reached, then one round without an answer
      viewOf('us-east-1', 'ap-south-1', 0, 3),
      viewOf('witness-us-west-2', 'us-east-1', 3, 0),
    ];
    expect(views[0]).toMatchObject({ reachable: true, consecutive_unanswered: 1 });
    const input = (own: RegionStatus) => ({
      topology: DEFAULT,
      observer: 'us-east-1',
      statuses: new Map([['us-east-1', record('us-east-1', own)]]),
      views,
      now,
    });
    const fenced = assess(input('fenced'));
    expect(fenced.reachable).toEqual(['us-east-1', 'witness-us-west-2']);
    expect(fenced.cut_off).toBe(true);
    // Serving, the same views keep it in service (no fencing on a blip).
    expect(assess(input('healthy')).cut_off).toBe(false);
  });
});
