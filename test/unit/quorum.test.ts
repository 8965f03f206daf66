import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assess, coordinatorFor, failoverOrder } from '../../lib/core/health/quorum.ts';
import type { Assessment, TargetHealth, Verdict } from '../../lib/core/health/types.ts';
import {
  isServing,
  REGION_STATUSES,
  type RegionStatus,
  type RegionStatusRecord,
} from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson, syntheticTopologyJson } from '../fixtures/topologies.ts';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const W = 'witness-us-west-2';

const WITH_WITNESS = validateTopology(defaultTopologyJson());
const NO_WITNESS = (() => {
  const json = defaultTopologyJson();
  json.witnesses = [];
  return validateTopology(json);
})();

const FIVE = validateTopology(syntheticTopologyJson(5));

const NOW = 1_000_000_000;
/** Older than three 30 s rounds. */
const STALE_AT = NOW - 10 * 60_000;

// --- builders ------------------------------------------------------------------------------------

function statuses(
  topology: Topology,
  overrides: Record<string, RegionStatus> = {},
): Map<string, RegionStatusRecord> {
  return new Map(
    topology.regions.map((r, i) => [
      r.region_id,
      {
        region_id: r.region_id,
        status: overrides[r.region_id] ?? 'healthy',
        role: i === 0 ? 'primary' : 'active',
        epoch: 3,
        updated_at: '2026-11-26T12:00:00Z',
        updated_by: r.region_id,
      },
    ]),
  );
}

function view(
  observer: string,
  target: string,
  verdict: Verdict,
  options: { at?: number; endpoints?: TargetHealth['endpoints']; reachable?: boolean } = {},
): TargetHealth {
  const failing = verdict === 'unhealthy' ? 3 : 0;
  // An unhealthy view here is a target that stopped answering (timeouts) unless told otherwise.
  const reachable = options.reachable ?? verdict !== 'unhealthy';
  return {
    observer,
    target,
    consecutive_failures: failing,
    consecutive_successes: failing ? 0 : 2,
    endpoints: options.endpoints ?? {
      '/health': {
        consecutive_failures: failing,
        last_ok: !failing,
        ...(failing ? { last_error: 'timeout' } : {}),
      },
    },
    window: [],
    error_rate: 0,
    p99_ms: 80,
    verdict,
    reasons: verdict === 'unhealthy' ? ['/health failed 3 rounds in a row (timeout)'] : [],
    reachable,
    signals: verdict === 'unhealthy' ? (reachable ? ['health_check'] : ['unreachable']) : [],
    rounds: 10,
    updated_at: options.at ?? NOW,
  };
}

/**
 * A small network model: `alive` nodes (regions and witnesses) and the links between them. Every
 * alive node probes every region: a view says healthy when the target is alive and linked, else
 * unhealthy. A view reaches `replica`'s copy fresh only over a working link (or when it is the
 * replica's own); otherwise the replica holds the last view from before the trouble: stale, healthy.
 */
interface Net {
  readonly topology: Topology;
  readonly alive: readonly string[];
  readonly cut?: readonly (readonly [string, string])[];
}

function nodes(topology: Topology): string[] {
  return [...topology.regions.map((r) => r.region_id), ...topology.witnesses.map((w) => w.witness_id)];
}

function linked(net: Net, a: string, b: string): boolean {
  if (a === b) return net.alive.includes(a);
  if (!net.alive.includes(a) || !net.alive.includes(b)) return false;
  return !(net.cut ?? []).some(([x, y]) => (x === a && y === b) || (x === b && y === a));
}

function replica(net: Net, holder: string): TargetHealth[] {
  const views: TargetHealth[] = [];
  for (const observer of nodes(net.topology)) {
    for (const { region_id: target } of net.topology.regions) {
      if (target === observer) continue;
      views.push(
        linked(net, observer, holder)
          ? view(observer, target, linked(net, observer, target) ? 'healthy' : 'unhealthy')
          : view(observer, target, 'healthy', { at: STALE_AT }),
      );
    }
  }
  return views;
}

function assessIn(net: Net, observer: string, status: Map<string, RegionStatusRecord>): Assessment {
  return assess({
    topology: net.topology,
    observer,
    statuses: status,
    views: replica(net, observer),
    now: NOW,
  });
}

const failedIds = (a: Assessment) => a.failed.map((f) => f.region);

// --- fixed scenarios -----------------------------------------------------------------------------

describe('assess: partitions and dead regions', () => {
  it('a single cut link (us-east-1 <-> eu-west-1) declares nothing and fences nobody', () => {
    const net: Net = { topology: WITH_WITNESS, alive: nodes(WITH_WITNESS), cut: [[US, EU]] };
    for (const observer of [US, EU, AP, W]) {
      const a = assessIn(net, observer, statuses(WITH_WITNESS));
      expect(a.cut_off, observer).toBe(false);
      expect(a.failed, observer).toEqual([]);
    }
    const us = assessIn(net, US, statuses(WITH_WITNESS));
    expect(us.reachable).toEqual([US, AP, W]);
    expect(us.votes[EU]?.[US]).toBe('unhealthy');
  });

  it('a region cut from all is cut off and the others (with the witness) fail it over, coordinator eu-west-1', () => {
    const net: Net = {
      topology: WITH_WITNESS,
      alive: nodes(WITH_WITNESS),
      cut: [
        [US, EU],
        [US, AP],
        [US, W],
      ],
    };
    const us = assessIn(net, US, statuses(WITH_WITNESS));
    expect(us.cut_off).toBe(true);
    expect(us.reachable).toEqual([US]);
    expect(us.cut_off_reason).toBe('reaches 1 of 4 members (us-east-1): a majority needs 3');
    expect(us.failed).toEqual([]);
    expect(us.component_failures).toEqual([]);

    for (const observer of [EU, AP, W]) {
      const a = assessIn(net, observer, statuses(WITH_WITNESS));
      expect(a.cut_off, observer).toBe(false);
      expect(a.failed, observer).toEqual([
        {
          region: US,
          votes_unhealthy: 3,
          voters: 3,
          reasons: ['/health failed 3 rounds in a row (timeout)'],
          unreachable: true,
          signals: ['unreachable'],
          coordinator: EU,
        },
      ]);
    }
  });

  it('the majority side also fails over a region that has already fenced itself', () => {
    const net: Net = {
      topology: WITH_WITNESS,
      alive: nodes(WITH_WITNESS),
      cut: [
        [US, EU],
        [US, AP],
        [US, W],
      ],
    };
    const a = assessIn(net, AP, statuses(WITH_WITNESS, { [US]: 'fenced' }));
    expect(failedIds(a)).toEqual([US]);
    expect(a.failed[0]?.coordinator).toBe(EU);
  });

  it('a fenced region sees a majority again when the partition heals', () => {
    const net: Net = { topology: WITH_WITNESS, alive: nodes(WITH_WITNESS) };
    const us = assessIn(net, US, statuses(WITH_WITNESS, { [US]: 'fenced' }));
    expect(us.members).toEqual([US, EU, AP, W]);
    expect(us.cut_off).toBe(false);
    expect(us.failed).toEqual([]);
  });

  it('a dead region (its views stale) is declared failed by the rest', () => {
    const net: Net = { topology: WITH_WITNESS, alive: [US, EU, W] };
    for (const observer of [US, EU]) {
      const a = assessIn(net, observer, statuses(WITH_WITNESS));
      expect(a.cut_off).toBe(false);
      expect(failedIds(a)).toEqual([AP]);
      expect(a.failed[0]).toMatchObject({ votes_unhealthy: 3, voters: 3, coordinator: US });
      expect(a.votes[US]?.[AP]).toBe('stale');
    }
  });

  it('regions that all fenced while replication still flows do not each become a quorum of one', () => {
    // Probes cut everywhere, replication working: every region sees every other's fenced status.
    const probesCut: Net = {
      topology: NO_WITNESS,
      alive: nodes(NO_WITNESS),
      cut: [
        [US, EU],
        [US, AP],
        [EU, AP],
      ],
    };
    const allFenced = statuses(NO_WITNESS, { [US]: 'fenced', [EU]: 'fenced', [AP]: 'fenced' });
    for (const observer of [US, EU, AP]) {
      const views = replica({ topology: NO_WITNESS, alive: nodes(NO_WITNESS) }, observer).map((v) =>
        linked(probesCut, v.observer, v.target)
          ? v
          : { ...v, verdict: 'unhealthy' as const, reasons: ['timeout'], reachable: false },
      );
      const a = assess({ topology: NO_WITNESS, observer, statuses: allFenced, views, now: NOW });
      expect(a.cut_off, observer).toBe(true);
      expect(a.failed).toEqual([]);
    }
  });
});

// Invariant: a failover starts on a majority that answers now. Reachability keeps hysteresis (a
// member missing one round still counts, so one lost probe fences nobody), and in the rounds right
// after a cut both sides still count each other: `answering` does not, and the probe round starts no
// failover unless it is a majority (simulator seeds 2005285 and 2007848).
describe('assess: answering', () => {
  const answered = (v: TargetHealth, n: number): TargetHealth => ({ ...v, consecutive_answered: n });
  it('counts only the members that answered the latest round, while reachable keeps the one that missed it', () => {
    const views = [
      // us-east-1 answered earlier rounds (reachable) but not the latest one: a cut a round old.
      answered(view(AP, US, 'healthy'), 0),
      answered(view(AP, EU, 'healthy'), 4),
      answered(view(W, AP, 'healthy'), 4),
    ];
    const a = assess({
      topology: WITH_WITNESS,
      observer: AP,
      statuses: statuses(WITH_WITNESS),
      views,
      now: NOW,
    });
    expect(a.reachable).toEqual([US, EU, AP, W]);
    expect(a.answering).toEqual([EU, AP, W]);
    const cut = assess({
      topology: WITH_WITNESS,
      observer: AP,
      statuses: statuses(WITH_WITNESS),
      views: [
        answered(view(AP, US, 'healthy'), 0),
        answered(view(AP, EU, 'healthy'), 0),
        answered(view(W, AP, 'healthy'), 4),
      ],
      now: NOW,
    });
    expect(cut.cut_off).toBe(false);
    expect(cut.answering).toEqual([AP, W]);
  });
});

describe('assess: the witness and the last two regions', () => {
  it('with the witness, losing two of three regions one after the other leaves the third serving', () => {
    const topology = WITH_WITNESS;
    // us-east-1 dies: eu-west-1 (first in order after it) coordinates.
    const first = assessIn({ topology, alive: [EU, AP, W] }, EU, statuses(topology));
    expect(first.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, EU]]);

    // It was failed over; then eu-west-1 dies too.
    const afterFailover = statuses(topology, { [US]: 'failed' });
    const ap = assessIn({ topology, alive: [AP, W] }, AP, afterFailover);
    expect(ap.members).toEqual([EU, AP, W]);
    expect(ap.reachable).toEqual([AP, W]);
    expect(ap.cut_off).toBe(false);
    expect(ap.failed).toEqual([
      expect.objectContaining({ region: EU, votes_unhealthy: 2, voters: 2, coordinator: AP }),
    ]);
  });

  it('with the witness, the last two regions cut from each other: the side with the witness stays', () => {
    const topology = WITH_WITNESS;
    const net: Net = { topology, alive: [EU, AP, W], cut: [[EU, AP]] };
    const afterFailover = statuses(topology, { [US]: 'failed' });
    // The witness sits with ap-south-1, not with eu-west-1.
    const split: Net = { ...net, cut: [...(net.cut ?? []), [EU, W]] };
    expect(assessIn(split, EU, afterFailover).cut_off).toBe(true);
    const ap = assessIn(split, AP, afterFailover);
    expect(ap.cut_off).toBe(false);
    expect(ap.failed.map((f) => f.region)).toEqual([EU]);
  });

  it('without a witness, the two-member tie: the lower failover_priority stays when its peer is dead', () => {
    const afterFailover = statuses(NO_WITNESS, { [US]: 'failed' });
    const eu = assessIn({ topology: NO_WITNESS, alive: [EU] }, EU, afterFailover);
    expect(eu.members).toEqual([EU, AP]);
    expect(eu.cut_off).toBe(false);
    expect(eu.cut_off_reason).toContain('two-member tie, eu-west-1 stays');
    expect(eu.failed).toEqual([
      expect.objectContaining({ region: AP, votes_unhealthy: 1, voters: 1, coordinator: EU }),
    ]);
  });

  it('without a witness, the higher priority number fences even when its peer is really dead (the trade-off)', () => {
    const afterFailover = statuses(NO_WITNESS, { [US]: 'failed' });
    const ap = assessIn({ topology: NO_WITNESS, alive: [AP] }, AP, afterFailover);
    expect(ap.cut_off).toBe(true);
    expect(ap.cut_off_reason).toContain(
      "two-member tie, eu-west-1 stays (lower failover_priority stays), so ap-south-1's side fences",
    );
    expect(ap.failed).toEqual([]);
  });

  it('without a witness, a cut between the last two leaves exactly one serving', () => {
    const net: Net = { topology: NO_WITNESS, alive: [EU, AP], cut: [[EU, AP]] };
    const afterFailover = statuses(NO_WITNESS, { [US]: 'failed' });
    expect(assessIn(net, EU, afterFailover).cut_off).toBe(false);
    expect(assessIn(net, AP, afterFailover).cut_off).toBe(true);
  });

  it('a lone region with only the witness left stays when the witness is unreachable', () => {
    const topology = WITH_WITNESS;
    const afterTwo = statuses(topology, { [US]: 'failed', [EU]: 'failed' });
    const ap = assessIn({ topology, alive: [AP] }, AP, afterTwo);
    expect(ap.members).toEqual([AP, W]);
    expect(ap.cut_off).toBe(false);
    expect(ap.cut_off_reason).toContain('a region beats a witness');
  });
});

describe('assess: coordinator', () => {
  // Invariant (principle 4, found by the simulator): a cut between two regions never makes both
  // coordinate one failover. The natural coordinator stays while a majority reaches it.
  it('keeps the natural coordinator when only this observer cannot reach it; all observers agree', () => {
    const topology = FIVE;
    // syn-05 is dead; syn-01 coordinates, though syn-02 cannot reach it.
    const net: Net = {
      topology,
      alive: nodes(topology).filter((id) => id !== 'syn-05'),
      cut: [['syn-01', 'syn-02']],
    };
    const coordinatorSeenBy = (observer: string) => {
      const a = assessIn(net, observer, statuses(topology));
      expect(a.cut_off, observer).toBe(false);
      return a.failed.map((f) => [f.region, f.coordinator]);
    };
    for (const observer of ['syn-01', 'syn-02', 'syn-03', 'syn-04']) {
      expect(coordinatorSeenBy(observer), observer).toEqual([['syn-05', 'syn-01']]);
    }
  });

  it('falls to the next region when a majority cannot reach the first', () => {
    const topology = FIVE;
    // syn-05 and syn-01 are dead: syn-02 coordinates syn-05's failover, as everyone sees it.
    const net: Net = { topology, alive: nodes(topology).filter((id) => id !== 'syn-05' && id !== 'syn-01') };
    for (const observer of ['syn-02', 'syn-03', 'syn-04']) {
      const a = assessIn(net, observer, statuses(topology));
      expect(a.failed.find((f) => f.region === 'syn-05')?.coordinator, observer).toBe('syn-02');
    }
  });

  describe('a natural coordinator that left service unheard', () => {
    // eu-west-1's replica: its failover took us-east-1 out 30 s ago, us-east-1's last round here is
    // 60 s old (a cut between the two since), ap-south-1 has stopped answering everyone.
    const TOOK_OUT_AT = NOW - 30_000;
    const took = statuses(WITH_WITNESS, { [US]: 'failed' });
    took.set(US, {
      ...(took.get(US) as RegionStatusRecord),
      updated_at: new Date(TOOK_OUT_AT).toISOString(),
    });
    const answers = (observer: string, target: string, answered: boolean, at = NOW): TargetHealth => ({
      ...view(observer, target, answered ? 'healthy' : 'suspect', { at }),
      consecutive_answered: answered ? 5 : 0,
      consecutive_unanswered: answered ? 0 : 1,
    });
    const replicaOfEu = (usAnswers: Record<string, boolean>, usLastRound = NOW - 60_000) => [
      view(US, EU, 'healthy', { at: usLastRound }),
      view(US, AP, 'unhealthy', { at: usLastRound }),
      ...[EU, AP, W].map((o) => answers(o, US, usAnswers[o] ?? true)),
      view(EU, AP, 'unhealthy'),
      view(W, AP, 'unhealthy'),
      view(W, EU, 'healthy'),
      view(AP, EU, 'healthy'),
    ];
    const euAssesses = (views: TargetHealth[]) =>
      assess({ topology: WITH_WITNESS, observer: EU, statuses: took, views, now: NOW });

    // Invariant (principle 4, simulator seed 434163): the next region does not start the failover the
    // natural coordinator may already run unseen (the same id with another target).
    it('stays the coordinator while a majority hears it answer and none of its rounds since arrived', () => {
      const a = euAssesses(replicaOfEu({ [EU]: false }));
      expect(a.cut_off).toBe(false);
      expect(a.unheard).toEqual([US]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[AP, US]]);
    });

    it('is passed over once one of its rounds newer than its status arrived: what it started is here', () => {
      const a = euAssesses(replicaOfEu({ [EU]: false }, TOOK_OUT_AT + 5_000));
      expect(a.unheard).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[AP, EU]]);
    });

    it('is passed over once a majority got no answer from it in their latest round (dead: no hysteresis)', () => {
      const a = euAssesses(replicaOfEu({ [EU]: false, [W]: false }));
      expect(a.unheard).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[AP, EU]]);
    });
  });

  describe('a natural coordinator that says it is out of service', () => {
    // ap-south-1's replica: it never received the write that failed eu-west-1 over (its writer,
    // us-east-1, went down before it replicated here), so it holds eu-west-1 healthy; us-east-1 is
    // dead, and eu-west-1 answers everyone with its own status, failed.
    const reports = (
      observer: string,
      status: RegionStatus,
      options: { at?: number; answered?: boolean } = {},
    ) => ({
      ...view(observer, EU, 'healthy', options.at === undefined ? {} : { at: options.at }),
      reported_status: status,
      consecutive_answered: options.answered === false ? 0 : 5,
    });
    const replicaOfAp = (euReports: TargetHealth[]) => [
      ...[EU, AP, W].map((o) => view(o, US, 'unhealthy')),
      view(US, EU, 'healthy', { at: STALE_AT }),
      view(EU, AP, 'healthy'),
      view(W, AP, 'healthy'),
      ...euReports,
    ];
    // Its records were written long before these rounds (eu-west-1's, healthy, before it was failed).
    const held = (writtenAt = STALE_AT) =>
      new Map(
        [...statuses(WITH_WITNESS)].map(([id, record]) => [
          id,
          { ...record, updated_at: new Date(writtenAt).toISOString() },
        ]),
      );
    const apAssesses = (views: TargetHealth[], records = held()) =>
      assess({ topology: WITH_WITNESS, observer: AP, statuses: records, views, now: NOW });

    // Invariant (principle 5, simulator seed 904024): a dead region is failed over by a region that
    // acts; one that holds itself failed only observes, whatever this replica holds of it.
    it('is passed over: the next region coordinates', () => {
      const a = apAssesses(replicaOfAp([reports(AP, 'failed'), reports(W, 'failed')]));
      expect(a.observing).toEqual([EU]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, AP]]);
    });

    it('coordinates again from its newest answer saying it serves (failed back)', () => {
      const a = apAssesses(replicaOfAp([reports(AP, 'healthy'), reports(W, 'failed', { at: NOW - 10_000 })]));
      expect(a.observing).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, EU]]);
    });

    it('is not passed over while fenced: it unfences by itself and coordinates again at once', () => {
      const a = apAssesses(replicaOfAp([reports(AP, 'fenced'), reports(W, 'fenced')]));
      expect(a.observing).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, EU]]);
    });

    it('is not passed over while its rounds no longer arrive here: it may have acted unseen before it knew', () => {
      const views = replicaOfAp([reports(AP, 'failed'), reports(W, 'failed')]).map((v) =>
        v.observer === EU ? { ...v, updated_at: STALE_AT } : v,
      );
      const a = apAssesses(views);
      expect(a.observing).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, EU]]);
    });

    // Invariant: one failover per failure (simulator seed 2008930). A status written here after its
    // answer is newer: a rollback restored it, it holds itself healthy and coordinates at once, and
    // naming the next region would start the same failover twice, to two targets.
    it('is not passed over on an answer older than the record this replica holds of it (restored since)', () => {
      const answers = [
        reports(AP, 'failed', { at: NOW - 10_000 }),
        reports(W, 'failed', { at: NOW - 10_000 }),
      ];
      const a = apAssesses(replicaOfAp(answers), held(NOW - 5_000));
      expect(a.observing).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, EU]]);
    });

    it('is not passed over on a report from a round it did not answer', () => {
      const a = apAssesses(replicaOfAp([reports(AP, 'failed', { answered: false }), view(W, EU, 'healthy')]));
      expect(a.observing).toEqual([]);
      expect(a.failed.map((f) => [f.region, f.coordinator])).toEqual([[US, EU]]);
    });
  });

  it('coordinatorFor takes the first serving, reachable region other than the failed one, in failover order', () => {
    const s = statuses(WITH_WITNESS);
    expect(failoverOrder(WITH_WITNESS)).toEqual([US, EU, AP]);
    expect(coordinatorFor(WITH_WITNESS, s, US, [US, EU, AP])).toBe(EU);
    expect(coordinatorFor(WITH_WITNESS, s, AP, [US, EU, AP])).toBe(US);
    expect(coordinatorFor(WITH_WITNESS, s, AP, [EU, AP])).toBe(EU);
    expect(coordinatorFor(WITH_WITNESS, statuses(WITH_WITNESS, { [US]: 'draining' }), AP, [US, EU])).toBe(EU);
    expect(coordinatorFor(WITH_WITNESS, s, AP, [AP, W])).toBeUndefined();
    // One that left service but may not know it yet still coordinates (Assessment.unheard).
    const draining = statuses(WITH_WITNESS, { [US]: 'draining' });
    expect(coordinatorFor(WITH_WITNESS, draining, AP, [US, EU], [US])).toBe(US);
    // One whose own answer says it only observes does not, whatever this replica holds.
    expect(coordinatorFor(WITH_WITNESS, s, AP, [US, EU], [], [US])).toBe(EU);
    // An unheard one still does: it may have acted before it knew, unseen here (seed 434163).
    expect(coordinatorFor(WITH_WITNESS, draining, AP, [US, EU], [US], [US])).toBe(US);
  });

  it('follows failover_priority, not the order the regions are listed in', () => {
    const json = defaultTopologyJson();
    json.deployment.regions[US].failover_priority = 2;
    json.deployment.regions[AP].failover_priority = 0;
    const topology = validateTopology(json);
    expect(failoverOrder(topology)).toEqual([AP, EU, US]);
    expect(coordinatorFor(topology, statuses(topology), EU, [US, EU, AP])).toBe(AP);
  });
});

describe('assess: votes and freshness', () => {
  const everyoneSees = (target: string, verdict: Verdict, at = NOW) =>
    [US, EU, AP, W].filter((o) => o !== target).map((o) => view(o, target, verdict, { at }));

  it('stale views never vote', () => {
    const views = everyoneSees(EU, 'unhealthy', STALE_AT);
    const a = assess({
      topology: WITH_WITNESS,
      observer: US,
      statuses: statuses(WITH_WITNESS),
      views,
      now: NOW,
    });
    expect(a.failed).toEqual([]);
    expect(a.votes[EU]).toEqual({ [US]: 'stale', [AP]: 'stale', [W]: 'stale' });
  });

  it('a view exactly three rounds old is still fresh', () => {
    const views = [...everyoneSees(EU, 'unhealthy', NOW - 90_000), view(W, AP, 'healthy')];
    const a = assess({
      topology: WITH_WITNESS,
      observer: AP,
      statuses: statuses(WITH_WITNESS),
      views,
      now: NOW,
    });
    expect(failedIds(a)).toEqual([EU]);
  });

  it('a minority of unhealthy votes declares nothing', () => {
    const witnessSeesUs = view(W, US, 'healthy');
    const views = [
      view(US, EU, 'unhealthy'),
      view(AP, EU, 'unhealthy'),
      view(W, EU, 'healthy'),
      witnessSeesUs,
    ];
    // 2 of 3 voters is a majority; 1 of 3 is not.
    const s = statuses(WITH_WITNESS);
    expect(failedIds(assess({ topology: WITH_WITNESS, observer: US, statuses: s, views, now: NOW }))).toEqual(
      [EU],
    );
    const one = [view(US, EU, 'unhealthy'), view(AP, EU, 'suspect'), view(W, EU, 'healthy'), witnessSeesUs];
    expect(
      assess({ topology: WITH_WITNESS, observer: US, statuses: s, views: one, now: NOW }).failed,
    ).toEqual([]);
  });

  it('a new observer without views of its own counts the others as reachable', () => {
    const a = assess({
      topology: WITH_WITNESS,
      observer: AP,
      statuses: statuses(WITH_WITNESS),
      views: [],
      now: NOW,
    });
    expect(a.reachable).toEqual([US, EU, AP]);
    expect(a.cut_off).toBe(false);
  });

  it('reaches the witness only through its fresh, not unhealthy view of the observer', () => {
    const s = statuses(WITH_WITNESS);
    const base = [view(US, EU, 'healthy'), view(US, AP, 'healthy')];
    const reach = (extra: TargetHealth[]) =>
      assess({ topology: WITH_WITNESS, observer: US, statuses: s, views: [...base, ...extra], now: NOW })
        .reachable;
    expect(reach([])).toEqual([US, EU, AP]);
    expect(reach([view(W, US, 'suspect')])).toEqual([US, EU, AP, W]);
    expect(reach([view(W, US, 'unhealthy')])).toEqual([US, EU, AP]);
    expect(reach([view(W, US, 'healthy', { at: STALE_AT })])).toEqual([US, EU, AP]);
  });

  it('failed and draining regions leave the quorum and are not declared again', () => {
    const s = statuses(WITH_WITNESS, { [US]: 'failed', [EU]: 'draining' });
    const views = [...everyoneSees(US, 'unhealthy'), ...everyoneSees(EU, 'unhealthy')];
    const a = assess({ topology: WITH_WITNESS, observer: AP, statuses: s, views, now: NOW });
    expect(a.members).toEqual([AP, W]);
    expect(a.failed).toEqual([]);
  });

  it('a majority of fresh voters saying component_failure is a component failure, not a failover', () => {
    const endpoints = {
      '/health': { consecutive_failures: 0, last_ok: true },
      '/api/v1/ping': { consecutive_failures: 4, last_ok: false, last_error: 'http 500' },
    };
    const s = statuses(WITH_WITNESS);
    const views = [
      view(US, EU, 'component_failure', { endpoints }),
      view(AP, EU, 'component_failure', { endpoints }),
      view(W, EU, 'suspect'),
    ];
    const a = assess({ topology: WITH_WITNESS, observer: US, statuses: s, views, now: NOW });
    expect(a.failed).toEqual([]);
    expect(a.component_failures).toEqual([{ region: EU, endpoints: ['/api/v1/ping'] }]);
    // Its own region too: eu-west-1 learns of its own failing component from the others.
    expect(
      assess({ topology: WITH_WITNESS, observer: EU, statuses: s, views, now: NOW }).component_failures,
    ).toEqual([{ region: EU, endpoints: ['/api/v1/ping'] }]);
    const lone = [
      view(US, EU, 'component_failure', { endpoints }),
      view(AP, EU, 'healthy'),
      view(W, EU, 'healthy'),
    ];
    expect(
      assess({ topology: WITH_WITNESS, observer: US, statuses: s, views: lone, now: NOW }).component_failures,
    ).toEqual([]);
  });

  it('refuses an observer that is neither a region nor a witness', () => {
    expect(() =>
      assess({
        topology: WITH_WITNESS,
        observer: 'mars-1',
        statuses: statuses(WITH_WITNESS),
        views: [],
        now: NOW,
      }),
    ).toThrow(RangeError);
  });
});

// --- properties ----------------------------------------------------------------------------------

const TOPOLOGIES: readonly Topology[] = [WITH_WITNESS, NO_WITNESS, FIVE];

const VERDICTS: readonly Verdict[] = ['healthy', 'suspect', 'unhealthy', 'component_failure'];

type ViewSpec = { kind: 'missing' } | { kind: 'view'; verdict: Verdict; fresh: boolean };

const viewSpec: fc.Arbitrary<ViewSpec> = fc.oneof(
  fc.constant<ViewSpec>({ kind: 'missing' }),
  fc.record({
    kind: fc.constant('view' as const),
    verdict: fc.constantFrom(...VERDICTS),
    fresh: fc.boolean(),
  }),
);

/** A topology, a status per region, and a view spec per (observer, region target) pair. */
const world = fc.constantFrom(...TOPOLOGIES).chain((topology) => {
  const all = nodes(topology);
  const pairs = all.flatMap((o) =>
    topology.regions.filter((r) => r.region_id !== o).map((r) => [o, r.region_id]),
  );
  return fc.record({
    topology: fc.constant(topology),
    status: fc.array(fc.constantFrom(...REGION_STATUSES), {
      minLength: topology.regions.length,
      maxLength: topology.regions.length,
    }),
    specs: fc.array(viewSpec, { minLength: pairs.length, maxLength: pairs.length }),
    side: fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }),
    pairs: fc.constant(pairs as [string, string][]),
  });
});

function statusMap(topology: Topology, status: readonly RegionStatus[]) {
  return statuses(
    topology,
    Object.fromEntries(topology.regions.map((r, i) => [r.region_id, status[i] ?? 'healthy'])),
  );
}

function buildViews(pairs: readonly [string, string][], specs: readonly ViewSpec[]): TargetHealth[] {
  return pairs.flatMap(([o, t], i) => {
    const spec = specs[i];
    if (!spec || spec.kind === 'missing') return [];
    return [view(o, t, spec.verdict, { at: spec.fresh ? NOW : STALE_AT })];
  });
}

describe('assess properties', () => {
  it('no two observers with disjoint reachable sets both hold a majority', () => {
    fc.assert(
      fc.property(world, ({ topology, status, specs, pairs }) => {
        const s = statusMap(topology, status);
        const views = buildViews(pairs, specs);
        const acting = nodes(topology)
          .map((observer) => assess({ topology, observer, statuses: s, views, now: NOW }))
          .filter((a) => !a.cut_off);
        for (const a of acting) {
          for (const b of acting) {
            if (a === b) continue;
            expect(
              a.reachable.some((m) => b.reachable.includes(m)),
              `${a.observer} / ${b.observer}`,
            ).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('across any partition, at most one side has an observer that is not cut off', () => {
    fc.assert(
      fc.property(world, ({ topology, status, specs, pairs, side }) => {
        const all = nodes(topology);
        const sideOf = (id: string) => side[all.indexOf(id)] ?? false;
        const s = statusMap(topology, status);
        // Across the partition nothing answers: every observer has probed the other side's regions
        // and holds an unhealthy view of them, or a stale one.
        const given = buildViews(pairs, specs);
        const views = pairs
          .map(([o, t]) => {
            const v = given.find((g) => g.observer === o && g.target === t);
            if (sideOf(o) === sideOf(t)) return v;
            return v && v.updated_at !== NOW ? v : view(o, t, 'unhealthy');
          })
          .filter((v): v is TargetHealth => v !== undefined);
        const sidesActing = new Set(
          all
            .map((observer) => assess({ topology, observer, statuses: s, views, now: NOW }))
            .filter((a) => !a.cut_off)
            .map((a) => sideOf(a.observer)),
        );
        expect(sidesActing.size).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('a cut-off assessment declares nothing, an observer never declares itself, coordinators serve (or left service unheard)', () => {
    fc.assert(
      fc.property(world, ({ topology, status, specs, pairs }) => {
        const s = statusMap(topology, status);
        const views = buildViews(pairs, specs);
        for (const observer of nodes(topology)) {
          const a = assess({ topology, observer, statuses: s, views, now: NOW });
          if (a.cut_off) {
            expect(a.failed).toEqual([]);
            expect(a.component_failures).toEqual([]);
          }
          for (const f of a.failed) {
            expect(f.region).not.toBe(observer);
            expect(f.votes_unhealthy * 2).toBeGreaterThan(f.voters);
            expect(f.coordinator).not.toBe(f.region);
            const coordinator = s.get(f.coordinator)?.status ?? 'healthy';
            expect(
              isServing(coordinator) || a.unheard.includes(f.coordinator) || f.coordinator === observer,
            ).toBe(true);
          }
          expect(a.reachable.every((m) => a.members.includes(m))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('statuses, epochs and views are not mutated', () => {
    fc.assert(
      fc.property(world, ({ topology, status, specs, pairs }) => {
        const s = statusMap(topology, status);
        const views = buildViews(pairs, specs);
        const before = structuredClone({ s: [...s.entries()], views });
        for (const observer of nodes(topology)) assess({ topology, observer, statuses: s, views, now: NOW });
        expect({ s: [...s.entries()], views }).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });
});

describe('assess: reachability alone decides quorum (answers of any kind count)', () => {
  const anyVerdict = fc.constantFrom<Verdict>('healthy', 'suspect', 'unhealthy', 'component_failure');

  // Invariant: whatever every observer thinks of every target (503, error rate, p99, saturation,
  // fenced), while every member answers nobody is cut off, so nobody fences.
  it('property: when every member answers, no observer is cut off, whatever the verdicts', () => {
    for (const topology of [WITH_WITNESS, NO_WITNESS, FIVE]) {
      const observers = [
        ...topology.regions.map((r) => r.region_id),
        ...topology.witnesses.map((w) => w.witness_id),
      ];
      const targets = topology.regions.map((r) => r.region_id);
      fc.assert(
        fc.property(
          fc.array(anyVerdict, {
            minLength: observers.length * targets.length,
            maxLength: observers.length * targets.length,
          }),
          fc.array(fc.constantFrom<RegionStatus>('healthy', 'degraded', 'fenced'), {
            minLength: targets.length,
            maxLength: targets.length,
          }),
          (verdicts, regionStatuses) => {
            const views: TargetHealth[] = [];
            observers.forEach((o, i) => {
              targets.forEach((t, j) => {
                if (o !== t)
                  views.push(view(o, t, verdicts[i * targets.length + j] ?? 'healthy', { reachable: true }));
              });
            });
            const overrides = Object.fromEntries(targets.map((t, j) => [t, regionStatuses[j] ?? 'healthy']));
            for (const observer of targets) {
              const a = assess({
                topology,
                observer,
                statuses: statuses(topology, overrides),
                views,
                now: NOW,
              });
              if (a.cut_off) return false;
              if (a.reachable.length !== a.members.length) return false;
            }
            return true;
          },
        ),
        { numRuns: 200 },
      );
    }
  });

  // The load cascade as the default topology produced it: every region saturated and answering 503
  // (fenced), every observer voting "unhealthy". Nothing fences and nothing unreachable is declared.
  it('every region unhealthy to every observer but answering: nobody is cut off', () => {
    const views: TargetHealth[] = [];
    for (const o of [US, EU, AP, W]) {
      for (const t of [US, EU, AP]) if (o !== t) views.push(view(o, t, 'unhealthy', { reachable: true }));
    }
    for (const observer of [US, EU, AP]) {
      const a = assess({
        topology: WITH_WITNESS,
        observer,
        statuses: statuses(WITH_WITNESS, { [US]: 'fenced', [EU]: 'fenced', [AP]: 'fenced' }),
        views,
        now: NOW,
      });
      expect(a.cut_off, observer).toBe(false);
      expect(a.failed.every((f) => !f.unreachable)).toBe(true);
    }
  });

  it('a witness whose view of the observer says it answers counts, whatever its verdict', () => {
    const views = [view(W, US, 'unhealthy', { reachable: true })];
    const a = assess({
      topology: WITH_WITNESS,
      observer: US,
      statuses: statuses(WITH_WITNESS),
      views,
      now: NOW,
    });
    expect(a.reachable).toContain(W);
  });
});
