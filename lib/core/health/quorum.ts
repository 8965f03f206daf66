/**
 * What one region concludes from every observer's views (DESIGN principle 3): which members it
 * reaches, whether it is cut off (and must fence itself), which regions a majority of observers
 * declare failed, and who coordinates each failover. Pure: statuses and views are read, never changed.
 */
import { isServing, type RegionStatus, type RegionStatusRecord } from '../state/records.ts';
import type { Topology } from '../topology/types.ts';
import { HEALTH_ENDPOINT, healthPolicyOf, reachableOf, viewFreshForMs } from './evaluate.ts';
import type { Assessment, FailedRegion, HealthSignal, TargetHealth, Verdict } from './types.ts';

export interface AssessInput {
  readonly topology: Topology;
  /** The assessing region (or witness). */
  readonly observer: string;
  /** Status per region as this observer's replica holds it; a region without a record is healthy. */
  readonly statuses: ReadonlyMap<string, RegionStatusRecord>;
  /** Every observer's views, as this observer's replica holds them. */
  readonly views: readonly TargetHealth[];
  /** Epoch ms (simulated time locally). */
  readonly now: number;
}

/** The topology's regions in failover order (`failover_priority`, 0 = first; topology order after). */
export function failoverOrder(topology: Topology): string[] {
  // A frozen topology (validated) never changes: its order is sorted once (every assessment asks).
  if (!Object.isFrozen(topology)) return sortedFailoverOrder(topology);
  let order = failoverOrders.get(topology);
  if (!order) {
    order = Object.freeze(sortedFailoverOrder(topology));
    failoverOrders.set(topology, order);
  }
  return [...order];
}

const failoverOrders = new WeakMap<Topology, readonly string[]>();

function sortedFailoverOrder(topology: Topology): string[] {
  const priority = (id: string) =>
    topology.deployment.regions[id]?.failover_priority ?? Number.POSITIVE_INFINITY;
  return topology.regions
    .map((region, index) => ({ id: region.region_id, index }))
    .sort((a, b) => priority(a.id) - priority(b.id) || a.index - b.index)
    .map((entry) => entry.id);
}

/**
 * The region that starts the failover of `failed`: the first region in failover order that is not
 * `failed` and either serves, is in `reachable` (so when the natural coordinator is unreachable from
 * this observer, the next one takes over) and is not in `observing` (its own answer says it only
 * observes, see Assessment.observing), or is in `unheard` (it left service in this replica but may
 * not know it yet, or may have acted before it knew, unseen here: it still coordinates by its own,
 * see Assessment.unheard). Undefined when no such region exists.
 */
export function coordinatorFor(
  topology: Topology,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  failed: string,
  reachable: readonly string[],
  unheard: readonly string[] = [],
  observing: readonly string[] = [],
): string | undefined {
  return failoverOrder(topology).find(
    (id) =>
      id !== failed &&
      (unheard.includes(id) ||
        (isServing(statusOf(statuses, id)) && reachable.includes(id) && !observing.includes(id))),
  );
}

/**
 * coordinatorFor by an assessment: the region that starts the failover of `failed` as `assessment`'s
 * observer names it (what a majority reaches, who may still act unheard, who only observes).
 */
export function assessedCoordinator(
  topology: Topology,
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  failed: string,
  assessment: Pick<Assessment, 'reachable_by_majority' | 'unheard' | 'observing'>,
): string | undefined {
  return coordinatorFor(
    topology,
    statuses,
    failed,
    assessment.reachable_by_majority,
    assessment.unheard,
    assessment.observing,
  );
}

/**
 * Assesses quorum from `observer`'s replica.
 *
 * Members are the regions whose status is healthy, degraded or fenced, plus the witnesses. Failed and
 * draining regions leave the quorum (membership shrinks as regions are failed over); a fenced region
 * stays in it, so a fenced observer can see a majority again and unfence, and so regions that all
 * fenced during a probe-only partition (replication still flowing) do not each become a quorum of one.
 */
export function assess(input: AssessInput): Assessment {
  const { topology, observer, statuses, now } = input;
  const order = failoverOrder(topology);
  const witnesses = topology.witnesses.map((w) => w.witness_id);
  if (!order.includes(observer) && !witnesses.includes(observer)) {
    throw new RangeError(
      `assess: "${observer}" is neither a region nor a witness of topology ${topology.name}`,
    );
  }
  const policy = healthPolicyOf(topology);
  const regionMembers = order.filter((id) => isQuorumMember(statusOf(statuses, id)));
  const scene: Scene = {
    topology,
    observer,
    statuses,
    order,
    witnesses,
    regionMembers,
    members: [...regionMembers, ...witnesses],
    failureThreshold: policy.failure_threshold,
    // Three missed rounds: the observer is gone or cannot write here, so its view says nothing now.
    views: new LatestViews(input.views, now, viewFreshForMs(policy)),
  };
  const reaches = reachesFrom(scene);
  const reachable = scene.members.filter(reaches);
  const answering = scene.members.filter(answersNow(scene));
  const reachable_by_majority = reachableByMajority(scene, reaches);
  const unheard = unheardRegions(scene);
  const observing = observingRegions(scene);
  const quorum = holdsQuorum(reachable, scene.members, order, witnesses);
  const cut_off = !quorum.holds;
  const votes = tallyVotes(scene.views.newest(), scene.views.isFresh, order, scene.members);

  // Cut off, this side may not act: it declares nothing.
  const failed = cut_off ? [] : failedRegions(scene, reachable_by_majority, unheard, observing);
  return {
    observer,
    members: scene.members,
    reachable,
    reachable_by_majority,
    answering,
    unheard,
    observing,
    cut_off,
    cut_off_reason: quorum.reason,
    failed,
    saturated: cut_off ? [] : saturatedRegions(scene),
    component_failures: cut_off ? [] : componentFailures(scene, failed),
    votes,
  };
}

/** What every step of one assessment reads: the observer, the members and the newest views. */
interface Scene {
  readonly topology: Topology;
  readonly observer: string;
  readonly statuses: ReadonlyMap<string, RegionStatusRecord>;
  /** The topology's regions in failover order. */
  readonly order: readonly string[];
  readonly witnesses: readonly string[];
  /** The regions that stay in the quorum (serving or fenced), in failover order. */
  readonly regionMembers: readonly string[];
  /** regionMembers, then the witnesses. */
  readonly members: readonly string[];
  readonly failureThreshold: number;
  readonly views: LatestViews;
}

/** The newest view per (observer, target), and whether a view is fresh enough to count. */
class LatestViews {
  private readonly latest = new Map<string, Map<string, TargetHealth>>();
  private readonly now: number;
  private readonly freshForMs: number;

  constructor(views: readonly TargetHealth[], now: number, freshForMs: number) {
    this.now = now;
    this.freshForMs = freshForMs;
    for (const view of views) {
      let byTarget = this.latest.get(view.observer);
      if (!byTarget) {
        byTarget = new Map();
        this.latest.set(view.observer, byTarget);
      }
      const seen = byTarget.get(view.target);
      if (!seen || view.updated_at >= seen.updated_at) byTarget.set(view.target, view);
    }
  }

  /** Whether `view` was written within the last three rounds (bound: passed on as a function). */
  readonly isFresh = (view: TargetHealth): boolean => this.now - view.updated_at <= this.freshForMs;

  /** `from`'s newest view of `of`, fresh or not. */
  of(from: string, of: string): TargetHealth | undefined {
    return this.latest.get(from)?.get(of);
  }

  /** Whether `from` reaches `of` by its fresh view; undefined without one. */
  freshReach(from: string, of: string): boolean | undefined {
    const view = this.of(from, of);
    return view && this.isFresh(view) ? reachableOf(view) : undefined;
  }

  /**
   * Whether `of` answered `from`'s latest round, by a fresh view (no hysteresis: whether it is alive
   * now, not whether it counts for the quorum); undefined without one.
   */
  freshAnswer(from: string, of: string): boolean | undefined {
    const view = this.of(from, of);
    if (!view || !this.isFresh(view)) return undefined;
    return answered(view);
  }

  /**
   * `of`'s own status (`/coordination/status`) as the newest fresh view, of any observer's, whose
   * latest round got an answer reports it: every observer holding the same views reads the same, and
   * a region that changed its status is read anew from its next answer. Undefined without such a view,
   * and when `record`, this replica's status record of `of`, was written after that answer: the
   * answer then tells what `of` held before a change that is already here (a rollback restored it,
   * and its next answer comes a round later), and the replica is the newer word (seed 2008930).
   */
  reportedStatus(of: string, record?: RegionStatusRecord): RegionStatus | undefined {
    let newest: TargetHealth | undefined;
    for (const byTarget of this.latest.values()) {
      const view = byTarget.get(of);
      if (view?.reported_status === undefined || !this.isFresh(view) || !answered(view)) continue;
      if (newest === undefined || view.updated_at > newest.updated_at) newest = view;
    }
    if (newest && record && Date.parse(record.updated_at) > newest.updated_at) return undefined;
    return newest?.reported_status;
  }

  /** `from`'s verdict on `of` by its fresh view; undefined without one. */
  freshVerdict(from: string, of: string): Verdict | undefined {
    const view = this.of(from, of);
    return view && this.isFresh(view) ? view.verdict : undefined;
  }

  /** When `observer` wrote its newest view in this replica: its latest round heard here. */
  lastRound(observer: string): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const view of this.latest.get(observer)?.values() ?? []) last = Math.max(last, view.updated_at);
    return last;
  }

  /** Whether `observer`'s latest round heard here is fresh: its writes still reach this replica. */
  heardLately(observer: string): boolean {
    return this.now - this.lastRound(observer) <= this.freshForMs;
  }

  /** Every newest view, observer by observer. */
  newest(): TargetHealth[] {
    const newest: TargetHealth[] = [];
    for (const byTarget of this.latest.values()) for (const view of byTarget.values()) newest.push(view);
    return newest;
  }
}

/**
 * Whether the observer reaches a member. Reachability alone (DESIGN principle 3): a member that
 * answers anything (503, fenced, slow, erroring, saturated) is reachable. Verdicts never enter this
 * count, so no region's status or load can feed back into another region's quorum. Hysteresis both
 * ways: a serving observer counts a member that answered its latest round (so one just returned to
 * service by a failback, whose views are still recovering, does not make it fence); a fenced
 * observer needs the view's `reachable` (success_threshold rounds with an answer) before it counts
 * the member again, and an answer to its latest round: hysteresis keeps a serving region from
 * fencing on a blip, but unfencing is a decision to act again, taken on the present. Counted as
 * reached by the rounds before a fresh partition, two fenced regions cut off from each other both
 * unfenced, neither's new status could reach the other, so each held the other still fenced, passed
 * it over as coordinator and target, and both started the same failover with a target each
 * (simulator seed 2005990).
 */
function reachesFrom(scene: Scene): (member: string) => boolean {
  const { observer, witnesses, views } = scene;
  const observerFenced = statusOf(scene.statuses, observer) === 'fenced';
  const counts = (view: TargetHealth): boolean =>
    observerFenced ? reachableOf(view) && answered(view) : reachableOf(view) || answered(view);
  return (member) => {
    if (member === observer) return true;
    if (witnesses.includes(member)) {
      // A witness is never probed; it reaches this observer when its fresh view of the observer has
      // arrived in this replica (the write itself crossed the path) and it reaches the observer.
      const view = views.of(member, observer);
      return view !== undefined && views.isFresh(view) && counts(view);
    }
    const view = views.of(observer, member);
    // No view yet: a new observer has not probed. A stale own view is not evidence of a path.
    if (!view) return true;
    return views.isFresh(view) && counts(view);
  };
}

/**
 * Whether a member answered this observer's latest round (no hysteresis both ways): the observer
 * itself; a region whose fresh view here got an answer in its latest round (or that has no view yet,
 * as in reachesFrom); a witness whose fresh view of the observer did. What keeps a region unfenced
 * may lag a cut by the failure threshold's rounds; what starts a failover may not (Assessment.answering).
 */
function answersNow(scene: Scene): (member: string) => boolean {
  const { observer, witnesses, views } = scene;
  return (member) => {
    if (member === observer) return true;
    if (witnesses.includes(member)) return views.freshAnswer(member, observer) === true;
    if (!views.of(observer, member)) return true;
    return views.freshAnswer(observer, member) === true;
  };
}

/** The region members a majority of the observers with a fresh view reach (this observer by its own count). */
function reachableByMajority(scene: Scene, reaches: (member: string) => boolean): string[] {
  const { observer, members, views } = scene;
  return scene.regionMembers.filter((region) => {
    let seen = 0;
    let reached = 0;
    for (const m of members) {
      if (m === region) continue;
      const r = m === observer ? reaches(region) : views.freshReach(m, region);
      if (r === undefined) continue;
      seen += 1;
      if (r) reached += 1;
    }
    return seen === 0 || reached * 2 > seen;
  });
}

/**
 * The regions this replica holds out of service that may still coordinate by their own replica
 * (DESIGN principle 4). A failover writes its region's new status in its coordinator's replica; the
 * region learns it when that write, or a peer's answer, reaches it, and until then it goes on
 * coordinating the failures it comes first in failover order for. What it starts meanwhile travels
 * to this replica the way its rounds do. So a region that left service here is passed over only
 * once one of its rounds newer than its status has arrived (what it started is here too, within the
 * replication lag), or once a majority of the fresh views got no answer from it in their latest round
 * (it is down, or cut off and fencing; no hysteresis, so a dead coordinator is replaced as soon as
 * its failure is known). In between, alive for the majority but silent here (a cut between it and
 * this observer), the next region would start the failover it may already run: the same id with
 * another target (simulator seed 434163: us-east-1 fails ap-south-1 over to itself while eu-west-1,
 * across a cut, fails us-east-1 over on its p99 and then finds itself ap-south-1's coordinator).
 */
function unheardRegions(scene: Scene): string[] {
  const { statuses, observer, members, views } = scene;
  return scene.order.filter((region) => {
    const record = statuses.get(region);
    if (region === observer || !record || isServing(record.status)) return false;
    if (views.lastRound(region) >= Date.parse(record.updated_at)) return false;
    let seen = 0;
    let silent = 0;
    for (const m of members) {
      if (m === region) continue;
      const answered = views.freshAnswer(m, region);
      if (answered === undefined) continue;
      seen += 1;
      if (!answered) silent += 1;
    }
    return silent * 2 <= seen;
  });
}

/**
 * The own statuses under which a region only observes (runProbeRound): out of service until a
 * failback or a restore. A fenced region is not among them: it unfences by itself once it reaches a
 * majority and coordinates again at once, before what another region started meanwhile may reach it.
 */
const OBSERVING_ONLY: ReadonlySet<RegionStatus> = new Set(['failed', 'draining', 'shutdown']);

/**
 * The regions whose newest answer says they only observe by their own status (OBSERVING_ONLY),
 * whatever this replica holds of them unless it was written after that answer, while their rounds
 * still reach this replica. A region acts on its own replica: one that holds itself failed, draining
 * or shut down starts nothing, so naming it would leave a failure nobody fails over. Its answer is
 * the one word on this that does not wait for replication: the failover that took it out may have been written by a region that died before the
 * write reached this replica (simulator seed 904024: us-east-1 failed eu-west-1 over on its error
 * rate and went down; ap-south-1, back from its own outage, never received that write and named
 * eu-west-1 to fail us-east-1 over, and eu-west-1, failed by its own status, only observed: us-east-1
 * stayed down 391 s without a failover). What it started before it knew travels here the way its
 * rounds do: with its latest round here fresh, that is here too, within the replication lag. One whose
 * rounds no longer arrive (a cut) may have run a failover unseen before it learned it was failed over,
 * and a second coordinator would start the same failover again (seed 434163): it stays named, as an
 * unheard region does (coordinatorFor). A status written here after its answer is newer than it
 * (LatestViews.reportedStatus): a rollback that restored a region tells it it serves again, and it
 * coordinates at once, so passing it over on its stale answer starts its failovers twice (seed
 * 2008930: a rollback restored us-east-1 at 369 s, 5 s after the last answers from it said failed;
 * cut off from it at 388 s, ap-south-1 still read those answers, passed it over and at 393 s started
 * eu-west-1's failover, which us-east-1 had started at 391 s, to another target). The observer's own
 * status is its replica's.
 */
function observingRegions(scene: Scene): string[] {
  const { observer, views } = scene;
  return scene.order.filter((region) => {
    if (region === observer) return false;
    const reported = views.reportedStatus(region, scene.statuses.get(region));
    return reported !== undefined && OBSERVING_ONLY.has(reported) && views.heardLately(region);
  });
}

/**
 * Each region's own status as its newest answer reported it (LatestViews.reportedStatus), for the
 * regions that reported one after `statuses` (this replica's records) last changed theirs: what a
 * failover's plan reads beside its replica, so it neither names nor moves work to a region that says
 * it does not serve (lib/app/failover/plan.ts).
 */
export function reportedStatuses(
  topology: Topology,
  views: readonly TargetHealth[],
  now: number,
  statuses: ReadonlyMap<string, RegionStatusRecord> = new Map(),
): Map<string, RegionStatus> {
  const latest = new LatestViews(views, now, viewFreshForMs(healthPolicyOf(topology)));
  const reported = new Map<string, RegionStatus>();
  for (const region of failoverOrder(topology)) {
    const status = latest.reportedStatus(region, statuses.get(region));
    if (status !== undefined) reported.set(region, status);
  }
  return reported;
}

/** The regions a majority of the other members vote unhealthy, each with its failover coordinator. */
function failedRegions(
  scene: Scene,
  reachable_by_majority: readonly string[],
  unheard: readonly string[],
  observing: readonly string[],
): FailedRegion[] {
  const { topology, statuses, observer, members, order, views } = scene;
  const failed: FailedRegion[] = [];
  for (const target of scene.regionMembers) {
    // An observer never declares itself: from inside, a dead region and a cut-off one look alike.
    if (target === observer) continue;
    const voters = members.filter((m) => m !== target);
    const against = voters.filter((v) => views.freshVerdict(v, target) === 'unhealthy');
    if (against.length * 2 <= voters.length) continue;
    const reasons = unique(against.flatMap((v) => views.of(v, target)?.reasons ?? []));
    const cannotReach = voters.filter((v) => {
      const view = views.of(v, target);
      return view !== undefined && views.isFresh(view) && !reachableOf(view);
    });
    const signals = unique(
      against.flatMap((v) => views.of(v, target)?.signals ?? []).filter((s) => s !== 'saturated'),
    ) as HealthSignal[];
    failed.push({
      region: target,
      votes_unhealthy: against.length,
      voters: voters.length,
      reasons,
      unreachable: cannotReach.length * 2 > voters.length,
      signals,
      // A natural coordinator a majority cannot reach: the next one steps in (not merely one this
      // observer cannot reach: two sides of a cut would both coordinate). One that left service here
      // but may still act unheard stays (unheardRegions). Nobody qualifies: name the natural
      // coordinator anyway (it starts when it sees the failure), else the observer.
      coordinator:
        assessedCoordinator(topology, statuses, target, { reachable_by_majority, unheard, observing }) ??
        coordinatorFor(topology, statuses, target, order) ??
        observer,
    });
  }
  return failed;
}

/**
 * The regions not failed whose components a majority of the voters with fresh views report failing.
 * A restart is cheap and harmless, so that majority is enough; the observer's own region is
 * included (others see its components, it cannot).
 */
function componentFailures(
  scene: Scene,
  failed: readonly FailedRegion[],
): { region: string; endpoints: string[] }[] {
  const { members, views } = scene;
  const failedIds = new Set(failed.map((f) => f.region));
  const component_failures: { region: string; endpoints: string[] }[] = [];
  for (const target of scene.regionMembers) {
    if (failedIds.has(target)) continue;
    const freshVoters = members.filter((m) => m !== target && views.freshVerdict(m, target) !== undefined);
    const saying = freshVoters.filter((v) => views.freshVerdict(v, target) === 'component_failure');
    if (saying.length === 0 || saying.length * 2 <= freshVoters.length) continue;
    const endpoints = unique(
      saying.flatMap((v) =>
        Object.entries(views.of(v, target)?.endpoints ?? {})
          .filter(
            ([endpoint, h]) =>
              endpoint !== HEALTH_ENDPOINT && h.consecutive_failures >= scene.failureThreshold,
          )
          .map(([endpoint]) => endpoint),
      ),
    );
    component_failures.push({ region: target, endpoints });
  }
  return component_failures;
}

/** The region members a majority of the observers with fresh views report saturated. */
function saturatedRegions(scene: Scene): string[] {
  const { members, views } = scene;
  return scene.regionMembers.filter((target) => {
    let fresh = 0;
    let saying = 0;
    for (const m of members) {
      if (m === target) continue;
      const view = views.of(m, target);
      if (view === undefined || !views.isFresh(view)) continue;
      fresh += 1;
      if (view.saturated === true) saying += 1;
    }
    return fresh > 0 && saying * 2 > fresh;
  });
}

/** Whether the view's latest round got an answer (no hysteresis). */
function answered(view: TargetHealth): boolean {
  return (view.consecutive_answered ?? (reachableOf(view) ? 1 : 0)) > 0;
}

/** A region without a status record has not been written yet: it is a new, healthy region. */
function statusOf(statuses: ReadonlyMap<string, RegionStatusRecord>, id: string): RegionStatus {
  return statuses.get(id)?.status ?? 'healthy';
}

function isQuorumMember(status: RegionStatus): boolean {
  return isServing(status) || status === 'fenced';
}

/**
 * Whether the reached members form the one side that may act. A strict majority always does. With
 * exactly two members and one reached, the tie rule decides, the same way on both sides: a region
 * beats a witness (a witness never serves), and between two regions the lower failover_priority
 * number stays while the other fences.
 *
 * Trade-off of the tie rule: from inside, "my peer is dead" and "I am cut off from my peer" look the
 * same. If the higher-priority region is really dead, the survivor fences too: no split brain, but
 * an outage until an operator acts. That is why the default topology has a witness: with it, the last
 * two regions plus the witness are three members and a real majority tells the two cases apart.
 */
function holdsQuorum(
  reached: readonly string[],
  members: readonly string[],
  order: readonly string[],
  witnesses: readonly string[],
): { holds: boolean; reason: string } {
  const summary = `reaches ${reached.length} of ${members.length} members (${reached.join(', ') || 'none'})`;
  if (reached.length * 2 > members.length) return { holds: true, reason: `${summary}: a majority` };
  const [a, b] = members;
  const [only] = reached;
  if (members.length === 2 && reached.length === 1 && a !== undefined && b !== undefined && only) {
    const rank = (id: string) => (witnesses.includes(id) ? Number.POSITIVE_INFINITY : order.indexOf(id));
    const stays = rank(b) < rank(a) ? b : a;
    const why =
      witnesses.includes(a) || witnesses.includes(b)
        ? 'a region beats a witness'
        : 'lower failover_priority stays';
    return only === stays
      ? { holds: true, reason: `${summary}: two-member tie, ${stays} stays (${why})` }
      : {
          holds: false,
          reason: `${summary}: two-member tie, ${stays} stays (${why}), so ${only}'s side fences`,
        };
  }
  return {
    holds: false,
    reason: `${summary}: a majority needs ${Math.floor(members.length / 2) + 1}`,
  };
}

/** target -> observer -> verdict, or 'stale' for a view older than three rounds. */
function tallyVotes(
  latest: readonly TargetHealth[],
  isFresh: (view: TargetHealth) => boolean,
  order: readonly string[],
  members: readonly string[],
): Record<string, Record<string, Verdict | 'stale'>> {
  const rank = (list: readonly string[], id: string) => {
    const index = list.indexOf(id);
    return index === -1 ? list.length : index;
  };
  // Ranked once per view, not twice per comparison.
  const sorted = latest
    .map((view) => ({ view, target: rank(order, view.target), observer: rank(members, view.observer) }))
    .sort(
      (x, y) =>
        x.target - y.target ||
        compareText(x.view.target, y.view.target) ||
        x.observer - y.observer ||
        compareText(x.view.observer, y.view.observer),
    );
  const votes: Record<string, Record<string, Verdict | 'stale'>> = {};
  for (const { view } of sorted) {
    const byObserver = votes[view.target] ?? {};
    byObserver[view.observer] = isFresh(view) ? view.verdict : 'stale';
    votes[view.target] = byObserver;
  }
  return votes;
}

/** localeCompare, without asking ICU about equal strings (most comparisons of the sort above). */
function compareText(a: string, b: string): number {
  return a === b ? 0 : a.localeCompare(b);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
