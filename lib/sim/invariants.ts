/**
 * What the control plane must never do, checked after every event of a simulation (and at the end
 * of the quiet tail). Each check reads the regions' replicas and the network's truth; each names the
 * event time and what it saw when it fails.
 */

import type { FailoverRecord } from '../core/failover/types.ts';
import { reservationAccounting } from '../core/replication/consistency.ts';
import { type Handoff, isServing, type RegionStatusRecord } from '../core/state/records.ts';
import { expandResidency } from '../core/topology/residency.ts';
import { criticalTableOf, SimStatePort } from './store/index.ts';
import { LISTINGS } from './store/state.ts';
import type { SimWorld } from './world.ts';

export const INVARIANTS = [
  'one-failover-per-failure',
  'epochs-never-go-backwards',
  'no-fence-while-reaching-majority',
  'fenced-regions-unfence',
  'load-never-fails-over',
  'dead-region-traffic-served',
  'cascade-survivor-serves',
  'acknowledged-handoffs-kept',
  'residency-kept',
  'never-serves-while-fenced',
  'ends-serving',
  'reservations-match-open-handoffs',
] as const;

export type InvariantName = (typeof INVARIANTS)[number];

/** What the network, the statuses and the crashes say of one region (InvariantChecker.#reachOf). */
interface RegionReach {
  readonly region: string;
  /** Some fault on the region or one of its links (load-never-fails-over's excuse). */
  readonly touched: boolean;
  readonly crashed: boolean;
  /** Up, and reaches a majority of the voting members its replica counts. */
  readonly majority: boolean;
  /** Down while every other region is up, running and on clean links. */
  readonly cleanDown: boolean;
}

/** The same records, one for one (the stores hand out frozen images: the same object, the same record). */
function sameRecords<T>(a: readonly T[], b: readonly T[] | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface Violation {
  readonly invariant: InvariantName;
  /** Virtual ms since the start. */
  readonly at_ms: number;
  readonly detail: string;
}

/** Tracks what the checks need across events: last epochs, network history, fence times. */
export class InvariantChecker {
  readonly #world: SimWorld;
  readonly #start: number;
  readonly #interval: number;
  readonly #failureThreshold: number;
  readonly #successThreshold: number;
  readonly #epochs = new Map<string, number>();
  readonly #targets = new Map<string, string>();
  /** Per region, the last virtual time it could not reach a majority of the voting members. */
  readonly #lastCut = new Map<string, number>();
  /** Per region, since when it reaches a majority without a break. */
  readonly #reachingSince = new Map<string, number>();
  /** Per region, the last time any network fault touched it (down, errors, slow, a cut, delayed or lossy link). */
  readonly #lastFault = new Map<string, number>();
  /** Per region, since when it is down without a break (and everything else is fault-free). */
  readonly #cleanDownSince = new Map<string, number>();
  readonly violations: Violation[] = [];
  #failoverSignature = '';

  /** The witnesses' ids, and every voting member (regions, then witnesses). */
  readonly #witnessIds: readonly string[];
  readonly #members: readonly string[];

  constructor(world: SimWorld) {
    this.#world = world;
    this.#witnessIds = world.topology.witnesses.map((w) => w.witness_id);
    this.#members = [...world.regionIds, ...this.#witnessIds];
    this.#start = world.kernel.now();
    const policy = world.topology.failover_policies.health_check;
    this.#interval = policy.interval_seconds * 1000;
    this.#failureThreshold = Math.max(
      policy.failure_threshold,
      world.topology.failover_policies.automatic_failover.conditions.health_check_failures,
    );
    this.#successThreshold = policy.success_threshold;
    for (const id of world.regionIds) {
      this.#lastCut.set(id, Number.NEGATIVE_INFINITY);
      this.#reachingSince.set(id, this.#start);
      this.#lastFault.set(id, Number.NEGATIVE_INFINITY);
    }
  }

  /** What the last check read: every replica's region statuses and failover records. */
  get seen(): {
    readonly statuses: ReadonlyMap<string, readonly RegionStatusRecord[]>;
    readonly failovers: ReadonlyMap<string, readonly FailoverRecord[]>;
  } {
    return this.#seen;
  }

  #seen: {
    readonly statuses: ReadonlyMap<string, readonly RegionStatusRecord[]>;
    readonly failovers: ReadonlyMap<string, readonly FailoverRecord[]>;
  } = { statuses: new Map(), failovers: new Map() };

  /**
   * After every event. Most events change no status and no failover record: the checks that read
   * only those records (and report each finding once) are skipped when every replica hands out the
   * same records as at the last check. The stores hand out their frozen images, so the same objects
   * mean the same content. Such an event is checked without a promise (undefined); one that changed a
   * listing reads them again, asynchronously.
   */
  check(): Promise<void> | undefined {
    if (!this.#listingsUnchanged()) return this.#checkChanged();
    const now = this.#world.kernel.now();
    // Nothing listed changed in any replica (most events): the same records as at the last check.
    const statuses = this.#seen.statuses as ReadonlyMap<string, RegionStatusRecord[]>;
    const failovers = this.#seen.failovers as ReadonlyMap<string, FailoverRecord[]>;
    this.#observeNetwork(now, statuses, false);
    this.#fencing(now, statuses);
    this.#deadRegionServed(now, statuses, failovers);
    this.#cascadeSurvivorServes(now, statuses, failovers);
    this.#servedWhileNotServing(now);
    return undefined;
  }

  /** `check` after an event that changed a status or failover listing in some replica. */
  async #checkChanged(): Promise<void> {
    const world = this.#world;
    const now = world.kernel.now();
    const before = this.#seen;
    let statusesChanged = false;
    let failoversChanged = false;
    const statuses = new Map<string, RegionStatusRecord[]>();
    const failovers = new Map<string, FailoverRecord[]>();
    for (const replica of world.regionIds) {
      const statusesNow = await world.state(replica).listRegionStatuses();
      const failoversNow = await world.state(replica).listFailovers();
      statuses.set(replica, statusesNow);
      failovers.set(replica, failoversNow);
      statusesChanged ||= !sameRecords(statusesNow, before.statuses.get(replica));
      failoversChanged ||= !sameRecords(failoversNow, before.failovers.get(replica));
    }
    this.#seen = { statuses, failovers };
    this.#observeNetwork(now, statuses, statusesChanged);
    if (statusesChanged) this.#epochsNeverGoBackwards(now, statuses);
    // A finding of these two is reported once (its detail names no time), and a failover judged by
    // load-never-fails-over cannot break it later: the region's last fault only moves to times after
    // the failover started. Unchanged records find nothing new.
    if (failoversChanged) this.#oneFailoverPerFailure(now, failovers);
    this.#fencing(now, statuses);
    if (failoversChanged) this.#loadNeverFailsOver(now, failovers);
    this.#deadRegionServed(now, statuses, failovers);
    this.#cascadeSurvivorServes(now, statuses, failovers);
    // Work moves only in failovers: scan the acknowledged handoffs when a failover record changed.
    if (failoversChanged) {
      const signature = [...failovers.values()]
        .map((records) => records.map((r) => `${r.failover_id}:${r.steps.length}:${r.status}`).join(','))
        .join('|');
      if (signature !== this.#failoverSignature) {
        this.#failoverSignature = signature;
        await this.#residencyKept(now);
      }
    }
    this.#servedWhileNotServing(now);
  }

  /** Routes a region answered while its own replica said it did not serve (SimWorld.servedWhileNotServing). */
  #servedWhileNotServing(now: number): void {
    const world = this.#world;
    if (world.servedWhileNotServing.length === 0) return;
    for (const line of world.servedWhileNotServing.splice(0)) {
      this.#fail('never-serves-while-fenced', now, line);
    }
  }

  /** Every replica's status and failover listing versions at the last check, in region order. */
  readonly #versions: number[] = [];

  /**
   * Whether no replica's status or failover listing changed since the last check (and notes their
   * versions now). Never, when a replica's port is not the store's own (a mutation under test wraps
   * it): then every check reads them all.
   */
  #listingsUnchanged(): boolean {
    const versions = this.#versions;
    let same = versions.length > 0;
    let i = 0;
    for (const replica of this.#world.regionIds) {
      const state = this.#world.state(replica);
      if (!(state instanceof SimStatePort)) {
        versions.length = 0;
        return false;
      }
      for (let part = 0; part < LISTINGS; part++) {
        const version = state.listingVersion(part);
        if (versions[i] !== version) {
          same = false;
          versions[i] = version;
        }
        i += 1;
      }
    }
    return same;
  }

  /** Per replica, the handoff records the residency scan judged (a record judged once is judged). */
  readonly #residencyJudged = new Map<string, Map<string, Handoff>>();
  /** Per replica, the version of its handoffs at its last residency scan (SimStatePort.handoffsVersion). */
  readonly #handoffsScanned = new Map<string, number>();
  /** Per residency rule, the countries it expands to; per region, the countries it may hold data of. */
  readonly #countries = new Map<string, readonly string[]>();
  readonly #allowed = new Map<string, ReadonlySet<string>>();

  /** Every acknowledged handoff with a residency is in a region its residency allows, in every replica. */
  async #residencyKept(now: number): Promise<void> {
    const world = this.#world;
    // A replica none of whose handoffs changed since its last scan holds the records judged then.
    const unchanged = world.regionIds.map((replica) => {
      const state = world.state(replica);
      if (!(state instanceof SimStatePort)) return false;
      const version = state.handoffsVersion(world.regionIds);
      const same = this.#handoffsScanned.get(replica) === version;
      this.#handoffsScanned.set(replica, version);
      return same;
    });
    for (const ack of world.acknowledged) {
      if (ack.residency === undefined) continue;
      let countries = this.#countries.get(ack.residency);
      if (countries === undefined) {
        countries = expandResidency(world.topology, ack.residency) ?? [];
        this.#countries.set(ack.residency, countries);
      }
      for (const [i, replica] of world.regionIds.entries()) {
        if (unchanged[i]) continue;
        const state = world.state(replica);
        // The store's own port is read in place (a scan reads every acknowledged handoff in every
        // replica each time a failover moves); a port a mutation wraps is asked as the plane asks it.
        const found =
          state instanceof SimStatePort
            ? state.peekHandoff(ack.handoff_id)
            : await state.getHandoff(ack.handoff_id);
        if (!found) continue;
        // The same frozen record as at the last scan: the same verdict, already reported if broken.
        let judged = this.#residencyJudged.get(replica);
        if (!judged) {
          judged = new Map();
          this.#residencyJudged.set(replica, judged);
        }
        if (judged.get(ack.handoff_id) === found) continue;
        judged.set(ack.handoff_id, found);
        let allowed = this.#allowed.get(found.target_region);
        if (allowed === undefined) {
          const region = world.topology.regions.find((r) => r.region_id === found.target_region);
          allowed = new Set(region?.residency_countries ?? []);
          this.#allowed.set(found.target_region, allowed);
        }
        const inRegion = allowed;
        if (countries.some((c) => !inRegion.has(c))) {
          this.#fail(
            'residency-kept',
            now,
            `${ack.handoff_id} (residency ${ack.residency}) is in ${found.target_region} in ${replica}'s replica`,
            ack.handoff_id,
          );
        }
      }
    }
  }

  /** At the end of the quiet tail: everything healed and settled for a while. */
  async finish(): Promise<void> {
    const world = this.#world;
    const now = world.kernel.now();
    await this.check();
    await this.#residencyKept(now);
    for (const replica of world.regionIds) {
      const state = world.state(replica);
      for (const ack of world.acknowledged) {
        const found = await state.getHandoff(ack.handoff_id);
        if (!found) {
          this.#fail(
            'acknowledged-handoffs-kept',
            now,
            `${ack.handoff_id} (acknowledged by ${ack.routed_by}) missing in ${replica}`,
          );
          continue;
        }
        if (found.task_id !== ack.task_id || found.request_hash !== ack.request_hash) {
          this.#fail(
            'acknowledged-handoffs-kept',
            now,
            `${ack.handoff_id} in ${replica} holds another task (${found.task_id})`,
          );
        }
      }
      for (const status of await state.listRegionStatuses()) {
        if (!isServing(status.status)) {
          this.#fail(
            'ends-serving',
            now,
            `${status.region_id} is ${status.status} in ${replica}'s replica after everything healed (${status.reason ?? status.updated_by})`,
          );
        }
      }
      if (world.accounting) await this.#reservationsMatch(now, replica);
      const primaries = (await state.listRegionStatuses()).filter(
        (s) => s.role === 'primary' && isServing(s.status),
      );
      if (primaries.length > 1) {
        this.#fail(
          'ends-serving',
          now,
          `${primaries.map((p) => p.region_id).join(' and ')} are both primary in ${replica}'s replica`,
        );
      }
    }
  }

  /**
   * Once settled, what each pool holds for reservations (every writer's held counters) is exactly what
   * the open handoffs reserved on it, and a hold is held exactly while an open handoff names it, in
   * every replica (lib/core/replication/consistency.ts reservationAccounting): no path that ends a
   * handoff keeps or gives back more than it reserved.
   */
  async #reservationsMatch(now: number, replica: string): Promise<void> {
    const world = this.#world;
    const resources = world.deps(replica).resources;
    if (!resources) return;
    const handoffs = new Map<string, Handoff>();
    for (const target of world.regionIds) {
      for (const h of await world.state(replica).listHandoffsByTarget(target)) handoffs.set(h.handoff_id, h);
    }
    const pools = await resources.listPools(new Date(now).toISOString().slice(0, 13));
    const holds = (await Promise.all(world.regionIds.map((by) => resources.listHolds(by)))).flat();
    for (const line of reservationAccounting(pools, [...handoffs.values()], holds)) {
      this.#fail('reservations-match-open-handoffs', now, `in ${replica}'s replica: ${line}`);
    }
  }

  readonly #reported = new Set<string>();

  /** One report per invariant and `key` (default the detail): a broken rule stays broken for many events. */
  #fail(invariant: InvariantName, now: number, detail: string, key = detail): void {
    if (this.#reported.has(`${invariant}|${key}`)) return;
    this.#reported.add(`${invariant}|${key}`);
    this.violations.push({ invariant, at_ms: now - this.#start, detail });
  }

  /** What #observeNetwork derived, and from what: the network's version, the statuses, the crashes. */
  #reach?: {
    readonly network: number;
    readonly crashed: string;
    readonly regions: readonly RegionReach[];
  };

  /** Transport-level reachability as the network stands now (regions and witnesses vote). */
  #observeNetwork(
    now: number,
    statuses: ReadonlyMap<string, RegionStatusRecord[]>,
    statusesChanged: boolean,
  ): void {
    const world = this.#world;
    const net = world.network;
    let crashed = '';
    for (const region of world.regionIds) crashed += world.isCrashed(region) ? '1' : '0';
    let reach = this.#reach;
    if (!reach || statusesChanged || reach.network !== net.version || reach.crashed !== crashed) {
      reach = { network: net.version, crashed, regions: this.#reachOf(statuses) };
      this.#reach = reach;
    }
    for (const { region, touched, crashed, majority, cleanDown } of reach.regions) {
      if (touched) this.#lastFault.set(region, now);
      if (crashed) {
        // Not running: it cannot unfence; the clock for unfencing starts when it runs again.
        this.#reachingSince.set(region, Number.POSITIVE_INFINITY);
      } else if (majority) {
        if (this.#reachingSince.get(region) === Number.POSITIVE_INFINITY)
          this.#reachingSince.set(region, now);
      } else {
        this.#lastCut.set(region, now);
        this.#reachingSince.set(region, Number.POSITIVE_INFINITY);
      }
      if (cleanDown) {
        if (!this.#cleanDownSince.has(region)) this.#cleanDownSince.set(region, now);
      } else {
        this.#cleanDownSince.delete(region);
      }
    }
  }

  /** Per region, what the network, the statuses and the crashes say of it now. */
  #reachOf(statuses: ReadonlyMap<string, RegionStatusRecord[]>): RegionReach[] {
    const world = this.#world;
    const net = world.network;
    const witnesses = this.#witnessIds;
    const everyone = this.#members;
    const timeout = world.topology.failover_policies.health_check.timeout_seconds * 1000;
    // No answer within the timeout is no answer: a region slower than that is unreachable too, and
    // so may be one behind a lossy link (any round's probes may all be lost).
    const cutOff = (from: string, to: string) => {
      if (net.blocked(from, to)) return true;
      if (from === to) return false;
      const link = net.linkOf(from, to);
      const answerMs = (net.faultOf(to).slowMs ?? 0) + 2 * (link.delayMs ?? 0);
      return answerMs >= timeout - 1_000 || (link.dropRate ?? 0) > 0;
    };
    const faulty = (r: string) => {
      const f = net.faultOf(r);
      return f.down === true || (f.errorRate ?? 0) > 0 || (f.slowMs ?? 0) > 0;
    };
    return world.regionIds.map((region): RegionReach => {
      // The voting members as this region's replica holds them (failed and draining regions left).
      const own = statuses.get(region) ?? [];
      const members = [
        ...world.regionIds.filter((r) => {
          const status = own.find((s) => s.region_id === r)?.status ?? 'healthy';
          return isServing(status) || status === 'fenced';
        }),
        ...witnesses,
      ];
      // A region counts another when it gets its answers; a witness counts when the witness gets the
      // region's answers (its view of the region is what the quorum reads).
      const reached = members.filter((m) =>
        m === region ? true : witnesses.includes(m) ? !cutOff(m, region) : !cutOff(region, m),
      ).length;
      // The survivors are up, running, and reach each other (their errors or slowness do not hide
      // a dead region from them). A survivor slower than the probes' timeout answers nobody: to
      // every observer it is as unreachable as one behind a cut (cutOff above), and with it and the
      // dead region gone the third region of three holds 2 of 4 members and must fence (principle
      // 3), so the plane may not fail anything over until it answers again (seed 428846).
      const othersClean = world.regionIds.every(
        (r) =>
          r === region ||
          (!net.isDown(r) &&
            !world.isCrashed(r) &&
            (net.faultOf(r).slowMs ?? 0) < timeout - 1_000 &&
            everyone.every((m) => m === region || !net.linkFaulty(r, m))),
      );
      return {
        region,
        touched: faulty(region) || everyone.some((m) => net.linkFaulty(region, m)),
        crashed: world.isCrashed(region),
        majority: reached * 2 > members.length && !net.isDown(region),
        cleanDown: net.isDown(region) && othersClean,
      };
    });
  }

  #epochsNeverGoBackwards(now: number, statuses: ReadonlyMap<string, RegionStatusRecord[]>): void {
    for (const [replica, records] of statuses) {
      for (const record of records) {
        const key = `${replica}|${record.region_id}`;
        const before = this.#epochs.get(key);
        if (before !== undefined && record.epoch < before) {
          this.#fail(
            'epochs-never-go-backwards',
            now,
            `${record.region_id}'s epoch went from ${before} to ${record.epoch} in ${replica}'s replica`,
          );
        }
        this.#epochs.set(key, Math.max(before ?? record.epoch, record.epoch));
      }
    }
  }

  #oneFailoverPerFailure(now: number, failovers: ReadonlyMap<string, FailoverRecord[]>): void {
    const perFailure = new Map<string, Set<string>>();
    for (const [replica, records] of failovers) {
      for (const record of records) {
        if (record.kind !== 'failover') continue;
        const failure = `${record.failed_region}@${record.epoch}`;
        const ids = perFailure.get(failure) ?? new Set<string>();
        ids.add(record.failover_id);
        perFailure.set(failure, ids);
        if (record.target_region === undefined) continue;
        const known = this.#targets.get(record.failover_id);
        if (known !== undefined && known !== record.target_region) {
          this.#fail(
            'one-failover-per-failure',
            now,
            `${record.failover_id} targets ${record.target_region} in ${replica}'s replica and ${known} elsewhere`,
          );
        }
        if (known === undefined) this.#targets.set(record.failover_id, record.target_region);
      }
    }
    for (const [failure, ids] of perFailure) {
      if (ids.size > 1)
        this.#fail('one-failover-per-failure', now, `${[...ids].join(', ')} for one failure (${failure})`);
    }
  }

  #fencing(now: number, statuses: ReadonlyMap<string, RegionStatusRecord[]>): void {
    const world = this.#world;
    // Detection (failure_threshold rounds), the round in progress, and replication.
    const slack = (this.#failureThreshold + 2) * this.#interval;
    const recovery = (this.#successThreshold + 4) * this.#interval;
    for (const region of world.regionIds) {
      if (world.network.isDown(region)) continue;
      const own = statuses.get(region)?.find((s) => s.region_id === region);
      if (own?.status !== 'fenced') continue;
      const fencedAt = Date.parse(own.updated_at);
      const lastCut = this.#lastCut.get(region) ?? Number.NEGATIVE_INFINITY;
      if (own.updated_by === `health-probe@${region}` && fencedAt - lastCut > slack) {
        this.#fail(
          'no-fence-while-reaching-majority',
          now,
          `${region} fenced at ${(fencedAt - this.#start) / 1000} s although it reached a majority since ${(lastCut - this.#start) / 1000} s`,
          `${region}@${own.epoch}`,
        );
      }
      const since = this.#reachingSince.get(region) ?? Number.POSITIVE_INFINITY;
      if (now - since > recovery && now - fencedAt > recovery) {
        this.#fail(
          'fenced-regions-unfence',
          now,
          `${region} still fenced ${(now - since) / 1000} s after it reached a majority again`,
          `${region}@${own.epoch}`,
        );
      }
    }
  }

  #loadNeverFailsOver(now: number, failovers: ReadonlyMap<string, FailoverRecord[]>): void {
    // A failover needs a failure: a network fault touching the region within its detection window.
    const window = (this.#failureThreshold + 3) * this.#interval;
    for (const records of failovers.values()) {
      for (const record of records) {
        if (record.kind !== 'failover' || record.trigger !== 'automatic') continue;
        const started = Date.parse(record.initiated_at);
        const lastFault = this.#lastFault.get(record.failed_region) ?? Number.NEGATIVE_INFINITY;
        if (started - lastFault > window) {
          this.#fail(
            'load-never-fails-over',
            now,
            `${record.failover_id} started at ${(started - this.#start) / 1000} s with no fault on ${record.failed_region} since ${(lastFault - this.#start) / 1000} s (${record.reason})`,
          );
        }
      }
    }
  }

  /** Per region down now, since when (the network's truth). */
  readonly #downSince = new Map<string, number>();
  /** Per region down now: the regions each live replica held out of service (draining, failed) as it fell. */
  readonly #outAtFall = new Map<string, ReadonlyMap<string, ReadonlySet<string>>>();
  /** The topology's MRSC table, if any (read once). */
  #critical: { readonly table: ReturnType<typeof criticalTableOf> } | undefined;
  /** The cascade being judged (`survivor|last down@since`) and since when it holds. */
  #cascade: { readonly key: string; readonly since: number } | undefined;

  /**
   * cascade-survivor-serves: regions fail one after another until one region S is left, up, running
   * and on clean links to every witness, with no fault of its own; each region that fell before the
   * last one (B) was already out of service (draining or failed) in S's replica when B fell, and S
   * itself was not (a failed-over region waits for its failback), so S and the witnesses are a
   * majority of the members left. Then, within the detection window plus the
   * orchestration budget of B's fall (the bound of dead-region-traffic-served), S serves in its own
   * replica and holds no down region serving: no global outage while a region and the witnesses live.
   * Counted on the network's truth, not on the members the plane itself counts. Excused as
   * dead-region-traffic-served excuses B: within the cooldown after B's last failover that changed
   * something, or while B's failover waits for an operator. Regions that fall together (the second
   * before S knew the first was out) are the quorum's tie, which it cannot tell from a cut, and are
   * not judged here.
   */
  #cascadeSurvivorServes(
    now: number,
    statuses: ReadonlyMap<string, RegionStatusRecord[]>,
    failovers: ReadonlyMap<string, FailoverRecord[]>,
  ): void {
    const world = this.#world;
    const net = world.network;
    const down: string[] = [];
    for (const region of world.regionIds) {
      if (!net.isDown(region)) {
        this.#downSince.delete(region);
        this.#outAtFall.delete(region);
        continue;
      }
      down.push(region);
      if (this.#downSince.has(region)) continue;
      this.#downSince.set(region, now);
      const out = new Map<string, ReadonlySet<string>>();
      for (const [replica, records] of statuses) {
        out.set(
          replica,
          new Set(
            records.filter((r) => r.status === 'draining' || r.status === 'failed').map((r) => r.region_id),
          ),
        );
      }
      this.#outAtFall.set(region, out);
    }
    // Nobody down (most events): no cascade to judge.
    if (down.length === 0) {
      this.#cascade = undefined;
      return;
    }
    const alive = world.regionIds.filter((r) => !net.isDown(r));
    // With the statuses in an MRSC table, one region is no majority of its replicas: nothing can
    // write a failover there, by design (the table refuses), so such a fall is not judged.
    this.#critical ??= { table: criticalTableOf(world.topology) };
    const critical = this.#critical.table;
    const mrscLost =
      critical !== undefined &&
      critical.regions.filter((r) => alive.includes(r)).length * 2 <= critical.regions.length;
    const survivor = alive.length === 1 && !mrscLost ? alive[0] : undefined;
    const last = down.reduce<string | undefined>(
      (latest, r) =>
        latest === undefined || (this.#downSince.get(r) ?? 0) >= (this.#downSince.get(latest) ?? 0)
          ? r
          : latest,
      undefined,
    );
    const fault = survivor === undefined ? undefined : net.faultOf(survivor);
    const clean =
      survivor !== undefined &&
      last !== undefined &&
      !world.isCrashed(survivor) &&
      !(fault?.errorRate ?? 0) &&
      !(fault?.slowMs ?? 0) &&
      this.#witnessIds.every((w) => !net.isDown(w) && !net.linkFaulty(survivor, w));
    const outBefore =
      last === undefined || survivor === undefined ? undefined : this.#outAtFall.get(last)?.get(survivor);
    const cascade =
      clean &&
      outBefore?.has(survivor as string) === false &&
      down.every((r) => r === last || outBefore.has(r))
        ? `${survivor}|${last}@${this.#downSince.get(last as string)}`
        : undefined;
    if (cascade === undefined) {
      this.#cascade = undefined;
      return;
    }
    if (this.#cascade?.key !== cascade) this.#cascade = { key: cascade, since: now };
    const s = survivor as string;
    const b = last as string;
    const promotion = Math.max(
      0,
      ...world.regionIds.map((r) =>
        (world.topology.deployment.regions[r]?.role ?? '').startsWith('passive') ? 600_000 : 0,
      ),
    );
    const bound = (this.#failureThreshold + 2) * this.#interval + 180_000 + promotion;
    const cooldown = world.topology.failover_policies.automatic_failover.cooldown_seconds * 1000;
    const ofB = (failovers.get(s) ?? []).filter((f) => f.failed_region === b && f.kind === 'failover');
    const lastChange = Math.max(
      Number.NEGATIVE_INFINITY,
      ...ofB
        .filter((f) => f.status !== 'rolled_back' && f.status !== 'cancelled' && f.status !== 'failed')
        .map((f) => Date.parse(f.initiated_at)),
    );
    if (now - Math.max(this.#cascade.since, lastChange + cooldown) < bound) return;
    if (ofB.some((f) => f.status === 'awaiting_approval')) return;
    const own = statuses.get(s) ?? [];
    const ownStatus = own.find((r) => r.region_id === s)?.status ?? 'healthy';
    const servingDead = down.filter((r) =>
      isServing(own.find((x) => x.region_id === r)?.status ?? 'healthy'),
    );
    if (isServing(ownStatus) && servingDead.length === 0) return;
    this.#fail(
      'cascade-survivor-serves',
      now,
      `${s} is left with the witnesses since ${(this.#cascade.since - this.#start) / 1000} s (${down.join(', ')} down, ${b} last) and is ${ownStatus}${servingDead.length ? `, holding ${servingDead.join(', ')} serving` : ''} in its own replica`,
      cascade,
    );
  }

  #deadRegionServed(
    now: number,
    statuses: ReadonlyMap<string, RegionStatusRecord[]>,
    failovers: ReadonlyMap<string, FailoverRecord[]>,
  ): void {
    const world = this.#world;
    // No region down with everything else fine (most events): nothing to judge.
    if (this.#cleanDownSince.size === 0) return;
    // Detection window plus a round, the orchestration (syncs and drains within their budgets) and a
    // promotion; then replication.
    const promotion = Math.max(
      0,
      ...world.regionIds.map((r) =>
        (world.topology.deployment.regions[r]?.role ?? '').startsWith('passive') ? 600_000 : 0,
      ),
    );
    const bound = (this.#failureThreshold + 2) * this.#interval + 180_000 + promotion;
    // The policy's anti-flapping cooldown: no automatic failover of a region within it of the last
    // one that changed something (lib/core/failover/retry.ts), so a region failed back and down again
    // at once is failed over when the cooldown ends.
    const cooldown = world.topology.failover_policies.automatic_failover.cooldown_seconds * 1000;
    for (const [region, since] of this.#cleanDownSince) {
      if (now - since < bound) continue;
      const survivors = world.regionIds.filter((r) => r !== region);
      const lastChange = Math.max(
        Number.NEGATIVE_INFINITY,
        ...survivors.flatMap((replica) =>
          (failovers.get(replica) ?? [])
            .filter(
              (f) =>
                f.failed_region === region &&
                f.kind === 'failover' &&
                f.status !== 'rolled_back' &&
                f.status !== 'cancelled' &&
                f.status !== 'failed',
            )
            .map((f) => Date.parse(f.initiated_at)),
        ),
      );
      if (now - Math.max(since, lastChange + cooldown) < bound) continue;
      // Only when some survivor can serve (serving in its own replica): else nothing can take it.
      const canServe = survivors.some((r) => {
        const own = statuses.get(r)?.find((s) => s.region_id === r);
        return own === undefined || isServing(own.status);
      });
      if (!canServe) continue;
      const handled = survivors.every((replica) => {
        const status = statuses.get(replica)?.find((s) => s.region_id === region);
        if (status && !isServing(status.status)) return true;
        return (failovers.get(replica) ?? []).some(
          (f) =>
            f.failed_region === region &&
            f.kind === 'failover' &&
            (f.status === 'awaiting_approval' ||
              ((f.status === 'rolled_back' || f.status === 'cancelled') &&
                now - Date.parse(f.completed_at ?? f.updated_at) < bound)),
        );
      });
      if (!handled) {
        this.#fail(
          'dead-region-traffic-served',
          now,
          `${region} down for ${(now - since) / 1000} s with every other region fine, and still serving in a survivor's replica`,
          `${region}@${since}`,
        );
      }
    }
  }
}
