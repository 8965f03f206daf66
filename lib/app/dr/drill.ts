/**
 * A DR drill: a steady workload against the plane, a scenario's faults, detection and the runbook
 * left to run, and the figures measured from the outside (what a client of the platform saw) and
 * judged against the spec's objectives.
 *
 * The drill talks to the plane through a harness: the local control plane (real HTTP, `--speed`)
 * for `cortex dr drill`, or the simulator on its virtual clock for the tests. Times are the plane's
 * own (simulated) epoch ms, so the figures are the same whichever speed the plane runs at.
 *
 * What it measures:
 * - time to detect: the fault until the plane acted on it (a failover record for the region, its
 *   observed health `unreachable`, or a consistency check reporting the corrupted copy);
 * - RTO per tier: per service, the fault until the last sample in which it failed was followed by
 *   one that passed, sampled every tick from a client of the failed region; tier 3 (analytics,
 *   reporting, archival) is what the runbook's documentation phase produces, restored when it ends;
 * - RPO: every acknowledged write (handoff created, accepted, completed) is checked in every
 *   survivor at the end; the window of those lost, per data class, and the failover's own window;
 * - integrity: each acknowledged write present, not gone back, and equal in every survivor;
 * - residency: each handoff with a residency is in a region whose residency holds its country.
 */
import { judgeDr, lossWindowSeconds, rpoByClass, rtoByTier } from '../../core/dr/metrics.ts';
import { type DataType, DR_OBJECTIVES, type DrillScenario, type Service } from '../../core/dr/objectives.ts';
import type { Topology } from '../../core/topology/types.ts';
import type { DrRun, Runbook } from './actions.ts';
import type { DrillReport, DrillWrite } from './report.ts';

// biome-ignore lint/suspicious/noExplicitAny: API answers are JSON read by field.
export type Answer = { readonly status: number; readonly body: any };

export type DrillFault =
  | { readonly kind: 'down'; readonly region: string }
  | { readonly kind: 'partition'; readonly groups: readonly (readonly string[])[] }
  | { readonly kind: 'corrupt'; readonly region: string; readonly handoff_id: string }
  | { readonly kind: 'heal' };

interface DrillRunbookOutcome {
  readonly status: 'succeeded' | 'failed';
  readonly error?: string;
  readonly cause?: string;
  readonly output?: unknown;
  readonly path: readonly string[];
}

/** How a drill reaches the plane under test. */
export interface DrillHarness {
  readonly topology: Topology;
  /** The plane's clock, epoch ms. */
  now(): number;
  /** Lets `ms` of the plane's time pass. */
  sleep(ms: number): Promise<void>;
  /** One request to a region's API; throws when the region answers nothing (down, cut off). */
  call(region: string, method: string, path: string, body?: unknown): Promise<Answer>;
  /** The region the service name answers for a client in `client` (DNS, following /health). */
  serviceRegion(client: string): Promise<string>;
  fault(fault: DrillFault): Promise<void>;
  /** Runs a runbook's state machine in `coordinator`; resolves when the execution ends. */
  runbook(runbook: Runbook, coordinator: string, run: DrRun): Promise<DrillRunbookOutcome>;
}

export interface DrillOptions {
  readonly scenario: DrillScenario;
  /** The region the scenario strikes; default by scenario (see docs/dr.md). */
  readonly region?: string;
  /**
   * Plane ms between workload rounds and service samples; default 10,000 (a round is about a dozen
   * requests: more often, and the drill itself loads a plane at a high --speed).
   */
  readonly tickMs?: number;
  /** Plane ms of workload before the fault; default 3 ticks. */
  readonly warmupMs?: number;
  /** Plane ms from the fault until the drill gives up waiting for recovery; default 45 minutes. */
  readonly deadlineMs?: number;
  /** How long a partition lasts after it was detected, plane ms; default 3 minutes. */
  readonly partitionMs?: number;
  /** Breaks one runbook action on purpose (the drill must then fail and name what it missed). */
  readonly breakAction?: string;
  /**
   * cascading_failure: plane ms after the drill sees the first failover name its target until it
   * takes the target down; default 0 (at once).
   */
  readonly cascadeAfterMs?: number;
  readonly progress?: (line: string) => void;
}

const SERVICE_CHECKS = [
  'global_coordinator',
  'authentication',
  'critical_masters',
  'worker_execution',
  'data_services',
  'mcp_servers',
] as const satisfies readonly Service[];
type CheckedService = (typeof SERVICE_CHECKS)[number];

interface FailoverListed {
  readonly failed_region: string;
  readonly kind: string;
  readonly initiated_at: string;
  readonly reason: string;
}

const STATUS_RANK: Readonly<Record<string, number>> = { pending: 0, accepted: 1, completed: 2, failed: 2 };
const WRITE_RANK: Readonly<Record<DrillWrite['kind'], number>> = { created: 0, accepted: 1, completed: 2 };

function priorityOrder(topology: Topology): string[] {
  return topology.regions
    .map((r) => r.region_id)
    .sort(
      (a, b) =>
        (topology.deployment.regions[a]?.failover_priority ?? 99) -
        (topology.deployment.regions[b]?.failover_priority ?? 99),
    );
}

/** The region a scenario strikes by default: the primary (first by failover priority), or for a partition the last. */
function defaultDrillRegion(topology: Topology, scenario: DrillScenario): string {
  const order = priorityOrder(topology);
  return (scenario === 'network_partition' ? order.at(-1) : order[0]) as string;
}

async function safe(call: Promise<Answer>): Promise<Answer | undefined> {
  try {
    return await call;
  } catch {
    return undefined;
  }
}

export async function runDrill(h: DrillHarness, options: DrillOptions): Promise<DrillReport> {
  const drill = new Drill(h, options);
  await drill.warmUp();
  await drill.strike();
  await drill.observe();
  drill.closeRunbook();
  const survivors = await drill.settle();
  const checked = await drill.checkWrites(survivors);
  return drill.report(survivors, checked);
}

/** What the end of the drill found of the acknowledged writes in the survivors. */
interface CheckedWrites {
  readonly lost: readonly DrillWrite[];
  readonly unequal: readonly string[];
  readonly residencyViolations: number;
}

/** One drill's state across its phases: the workload's writes, the faults, and what the plane did. */
class Drill {
  readonly h: DrillHarness;
  readonly options: DrillOptions;
  readonly topology: Topology;
  readonly scenario: DrillScenario;
  readonly tick: number;
  readonly struck: string;
  readonly regions: readonly string[];
  readonly startedAt: number;
  readonly runbookKind: Runbook | undefined;
  readonly down = new Set<string>();
  readonly writes = new Map<string, DrillWrite>();
  readonly residencyOf = new Map<string, string>();
  readonly failures: string[] = [];
  readonly failingSince: Partial<Record<CheckedService, number>> = {};
  readonly restoredAt: Partial<Record<Service, number | null>> = {};
  refused = 0;
  seq = 0;
  accepted: { id: string; region: string }[] = [];
  lastId: string | undefined;
  mcpDeployed = true;
  // Set by the strike.
  faultAt = 0;
  faultAtOf = new Map<string, number>();
  unhealthyBefore = false;
  deadline = 0;
  drId = '';
  // What the plane did after the fault.
  detectedAt: number | undefined;
  failoverId: string | undefined;
  runbook: Promise<DrillRunbookOutcome> | undefined;
  outcome: DrillRunbookOutcome | undefined;
  runbookEndedAt: number | undefined;
  runbookCoordinator: string | undefined;
  runbookAttempt = 0;
  healedAt: number | undefined;
  repairedAt: number | undefined;
  secondFault: string | undefined;
  targetSeenAt: number | undefined;

  constructor(h: DrillHarness, options: DrillOptions) {
    this.h = h;
    this.options = options;
    this.topology = h.topology;
    this.scenario = options.scenario;
    this.tick = options.tickMs ?? 10_000;
    const struck = options.region ?? defaultDrillRegion(this.topology, this.scenario);
    if (!this.topology.regions.some((r) => r.region_id === struck))
      throw new RangeError(`unknown region ${struck}`);
    this.struck = struck;
    this.regions = this.topology.regions.map((r) => r.region_id);
    this.startedAt = h.now();
    this.runbookKind =
      this.scenario === 'network_partition'
        ? 'network_partition'
        : this.scenario === 'data_corruption'
          ? undefined
          : 'regional_failure';
  }

  /** A progress line, tagged with the scenario. */
  say(line: string): void {
    this.options.progress?.(`[${this.scenario}] ${line}`);
  }

  /** Warm-up: the workload runs with every service up; a service that never works is a failure. */
  async warmUp(): Promise<void> {
    const { h, tick } = this;
    this.say(`warm-up: workload against ${this.regions.join(', ')}`);
    // At least three rounds: on a busy machine one round of the local plane can outlast the warm-up.
    const warmupEnd = h.now() + (this.options.warmupMs ?? 3 * tick);
    // A service counts as working before the fault when its last warm-up round worked; one that has
    // not yet gets up to WARMUP_RETRY_ROUNDS more rounds (a slow machine can fail one round's calls).
    const WARMUP_RETRY_ROUNDS = 3;
    for (let rounds = 1; ; rounds++) {
      const sample = await this.round();
      await h.sleep(tick);
      if (h.now() < warmupEnd || rounds < 3) continue;
      const notWorking = SERVICE_CHECKS.filter((service) => service !== 'mcp_servers' && !sample[service]);
      if (notWorking.length > 0 && rounds < 3 + WARMUP_RETRY_ROUNDS) continue;
      // A service that did not answer before the fault is not deployed here (no MCP registry).
      if (!sample.mcp_servers) this.mcpDeployed = false;
      for (const service of notWorking)
        this.failures.push(`warm-up: ${service} did not work before the fault`);
      break;
    }
  }

  /** The scenario's fault on the struck region (none when the plane did not work before it). */
  async strike(): Promise<void> {
    const { h, struck, scenario } = this;
    this.faultAt = h.now();
    this.faultAtOf.set(struck, this.faultAt);
    this.deadline = this.faultAt + (this.options.deadlineMs ?? 45 * 60_000);
    this.drId = `dr-${scenario.replaceAll('_', '-')}-${this.faultAt}`;
    // A plane that does not work before the fault cannot be measured: the drill ends here, naming why,
    // rather than waiting out its deadline.
    this.unhealthyBefore = this.failures.length > 0;
    if (this.unhealthyBefore) {
      this.say('the plane did not work before the fault: no fault injected');
    } else if (scenario === 'complete_regional_failure' || scenario === 'cascading_failure') {
      await h.fault({ kind: 'down', region: struck });
      this.down.add(struck);
      this.say(`fault: ${struck} down`);
    } else if (scenario === 'network_partition') {
      const others = [
        ...this.regions.filter((r) => r !== struck),
        ...this.topology.witnesses.map((w) => w.witness_id),
      ];
      await h.fault({ kind: 'partition', groups: [others, [struck]] });
      this.say(`fault: ${struck} cut off from every other member`);
    } else {
      const victim =
        [...this.writes.values()].find((w) => w.kind === 'completed') ?? [...this.writes.values()][0];
      if (!victim) throw new Error('data_corruption: no acknowledged write to corrupt');
      const corrupted = victim.handoff_id;
      await h.fault({ kind: 'corrupt', region: struck, handoff_id: corrupted });
      this.say(`fault: ${struck}'s copy of ${corrupted} corrupted`);
    }
  }

  /** Detection, the runbook, recovery: a round per tick until every service is back or the deadline. */
  async observe(): Promise<void> {
    const { h } = this;
    for (;;) {
      if (this.unhealthyBefore) break;
      if (this.scenario === 'cascading_failure' && this.secondFault === undefined) await this.cascadeIfDue();
      const sample = await this.round();
      const now = h.now();
      this.recordSample(sample, now);
      const coordinator = this.coordinatorFor();
      if (this.detectedAt === undefined) this.detectedAt = await this.detect(coordinator);
      this.startRunbookIfDue(coordinator);
      if (this.scenario === 'network_partition') await this.healIfDue(now);
      if (this.scenario === 'data_corruption') await this.repairIfDue(coordinator, now);
      // A plane that failed over a live region cannot be measured any more: the drill ends now, naming
      // it, rather than waiting out its deadline (the end of the drill names every such failover).
      if ((await this.misjudged()).length > 0) {
        this.say('the plane failed over a region the drill had not struck: stopping');
        break;
      }
      if (this.finished(sample)) break;
      if (now >= this.deadline) {
        this.failures.push(
          this.detectedAt === undefined
            ? `not detected within ${(this.deadline - this.faultAt) / 1000} s`
            : `not recovered within ${(this.deadline - this.faultAt) / 1000} s`,
        );
        break;
      }
      await h.sleep(this.tick);
    }
  }

  /** cascading_failure: takes the first failover's target down once it is named and its delay is up. */
  async cascadeIfDue(): Promise<void> {
    const { h } = this;
    // A second fault strikes between workload rounds, as the first did: a write the drill had
    // acknowledged a moment before is then as old as a tick, not the same instant.
    const target = await this.targetChosen(this.coordinatorFor());
    if (target && target !== this.struck) this.targetSeenAt ??= h.now();
    const due = (this.targetSeenAt ?? 0) + (this.options.cascadeAfterMs ?? 0);
    // Within the next tick: wait for the very moment, so the strike lands when it was asked.
    if (target && target !== this.struck && due > h.now() && due - h.now() < this.tick)
      await h.sleep(due - h.now());
    if (target && target !== this.struck && h.now() >= due) {
      this.secondFault = target;
      await h.fault({ kind: 'down', region: target });
      this.down.add(target);
      this.faultAtOf.set(target, h.now());
      this.say(
        `fault: the failover's target ${target} down too, ${Math.round((h.now() - (this.targetSeenAt ?? h.now())) / 1000)} s after the drill saw it named`,
      );
    }
  }

  /** Each service's first failure and its restoration after the last one (RTO). */
  recordSample(sample: Record<CheckedService, boolean>, now: number): void {
    for (const service of SERVICE_CHECKS) {
      if (!sample[service]) {
        this.failingSince[service] ??= now;
        this.restoredAt[service] = null;
      } else if (this.failingSince[service] !== undefined) {
        if (this.restoredAt[service] === null) this.restoredAt[service] = now;
      }
    }
  }

  /**
   * Starts the runbook once the fault is detected. It runs in a survivor; one whose region fails under
   * it is started again in the next (on Step Functions the execution would die with its region).
   */
  startRunbookIfDue(coordinator: string): void {
    const { h, runbookKind, detectedAt } = this;
    const lostCoordinator =
      this.runbookCoordinator !== undefined && this.down.has(this.runbookCoordinator) && !this.outcome;
    if (detectedAt === undefined || !runbookKind || (this.runbook && !lostCoordinator)) return;
    if (!this.runbook)
      this.say(
        `detected after ${Math.round((detectedAt - this.faultAt) / 100) / 10} s; runbook ${runbookKind} in ${coordinator}`,
      );
    else
      this.say(
        `runbook's region ${this.runbookCoordinator} lost: runbook ${runbookKind} again in ${coordinator}`,
      );
    this.runbookAttempt += 1;
    this.runbookCoordinator = coordinator;
    const attempt = this.runbookAttempt;
    this.runbook = h
      .runbook(runbookKind, coordinator, {
        runbook: runbookKind,
        dr_id: attempt === 1 ? this.drId : `${this.drId}-r${attempt}`,
        ...(runbookKind === 'regional_failure' ? { failed_region: this.struck } : {}),
        dry_run: false,
        failure_at: this.faultAt,
        ...(this.options.breakAction ? { break_action: this.options.breakAction } : {}),
      })
      .then((o) => {
        if (attempt !== this.runbookAttempt) return o;
        this.outcome = o;
        this.runbookEndedAt = h.now();
        this.say(`runbook ${runbookKind} ${o.status}${o.error ? ` (${o.cause ?? o.error})` : ''}`);
        return o;
      });
  }

  /** network_partition: heals the partition once it has lasted its time after detection. */
  async healIfDue(now: number): Promise<void> {
    if (this.detectedAt === undefined || this.healedAt !== undefined) return;
    if (now - this.detectedAt >= (this.options.partitionMs ?? 3 * 60_000)) {
      await this.h.fault({ kind: 'heal' });
      this.healedAt = now;
      this.say('partition healed');
    }
  }

  /** data_corruption: asks the coordinator to reconcile after detection, until a copy was repaired. */
  async repairIfDue(coordinator: string, now: number): Promise<void> {
    if (this.detectedAt === undefined || this.repairedAt !== undefined) return;
    const repair = await safe(
      this.h.call(coordinator, 'POST', '/v1/replication/consistency-checks', {
        sample_size: 1_000,
        reconcile: true,
      }),
    );
    // A copy written within the asynchronous target is not reconciled yet: ask again next round.
    const fixed = (repair?.body?.reconciled ?? 0) > 0 || repair?.body?.inconsistent === 0;
    if ((repair?.status === 200 || repair?.status === 201) && fixed) {
      this.repairedAt = now;
      this.say(`repaired: ${repair.body.reconciled} copy(ies) reconciled`);
    }
  }

  /** Detected, every service up, and the runbook ended (or, without one, the copy repaired). */
  finished(sample: Record<CheckedService, boolean>): boolean {
    const servicesUp = SERVICE_CHECKS.every((s) => sample[s]);
    return (
      this.detectedAt !== undefined &&
      servicesUp &&
      (this.runbookKind === undefined ? this.repairedAt !== undefined : this.outcome !== undefined)
    );
  }

  /** The runbook's failures, and tier 3's restoration: what its documentation phase produces. */
  closeRunbook(): void {
    const { runbookKind, outcome } = this;
    if (this.runbook && !outcome) this.failures.push(`runbook ${runbookKind} still running at the deadline`);
    if (outcome?.status === 'failed') {
      this.failures.push(
        `runbook ${runbookKind} failed at ${outcome.path.at(-2) ?? '?'}: ${outcome.cause ?? outcome.error}`,
      );
    }
    // Tier 3 is what the runbook's documentation phase produces (incident report, DR metrics).
    const documented =
      runbookKind === undefined || this.unhealthyBefore
        ? undefined
        : outcome?.status === 'succeeded'
          ? this.runbookEndedAt
          : null;
    if (documented !== undefined)
      for (const s of ['analytics', 'reporting', 'archival'] as const)
        this.restoredAt[s] = documented ?? null;
  }

  /** Lets replication settle; answers the regions not struck that answer /health. */
  async settle(): Promise<string[]> {
    const { h } = this;
    this.say('settling, then checking every acknowledged write in the survivors');
    await h.sleep(3 * this.tick);
    const survivors: string[] = [];
    for (const region of this.regions) {
      if (this.down.has(region)) continue;
      const health = await safe(h.call(region, 'GET', '/health'));
      if (health?.status === 200) survivors.push(region);
    }
    return survivors;
  }

  /** Every acknowledged write in every survivor: present, not gone back, equal, and where its residency allows. */
  async checkWrites(survivors: readonly string[]): Promise<CheckedWrites> {
    const lost: DrillWrite[] = [];
    const unequal: string[] = [];
    let residencyViolations = 0;
    for (const write of this.writes.values()) {
      const copies: { status: string; target: string; interrupted: boolean }[] = [];
      let missing = false;
      for (const region of survivors) {
        const got = await safe(this.h.call(region, 'GET', `/v1/handoffs/${write.handoff_id}`));
        if (got?.status !== 200) {
          missing = true;
          continue;
        }
        copies.push({
          status: got.body.status,
          target: got.body.target_region,
          interrupted: (got.body.interruptions ?? []).length > 0,
        });
      }
      const regressed = copies.some(
        (c) =>
          (STATUS_RANK[c.status] ?? 0) < WRITE_RANK[write.kind] &&
          !(c.interrupted && write.kind === 'accepted'),
      );
      if (missing || regressed) lost.push(write);
      else if (copies.some((c) => c.status !== copies[0]?.status || c.target !== copies[0]?.target))
        unequal.push(write.handoff_id);
      const residency = this.residencyOf.get(write.handoff_id);
      if (residency) {
        for (const copy of copies) {
          const held =
            this.topology.regions.find((r) => r.region_id === copy.target)?.residency_countries ?? [];
          if (!held.includes(residency)) residencyViolations += 1;
        }
      }
    }
    return { lost, unequal, residencyViolations };
  }

  /** The figures against the objectives, and the report. */
  async report(survivors: string[], checked: CheckedWrites): Promise<DrillReport> {
    const { h, faultAt, failoverId, runbookKind, outcome, startedAt, detectedAt } = this;
    const { lost, unequal, residencyViolations } = checked;
    // Each lost write's window runs to the fault of the region that acknowledged it.
    const window = (types: DrillWrite['kind'][]) =>
      Math.max(
        0,
        ...lost
          .filter((w) => types.includes(w.kind))
          .map((w) => lossWindowSeconds(this.faultAtOf.get(w.region) ?? faultAt, [w.acknowledged_at])),
      );
    const failover = failoverId
      ? await safe(h.call(this.coordinatorFor(), 'GET', `/v1/failovers/${failoverId}`))
      : undefined;
    const masterWindow = (failover?.body?.data_loss_window_seconds as number | undefined) ?? 0;
    const loss: Partial<Record<DataType, number | null>> = {
      master_state: masterWindow,
      active_tasks: window(['created']),
      worker_state: window(['accepted', 'completed']),
    };
    for (const record of await this.misjudged(survivors[0])) {
      this.failures.push(
        `${record.failed_region} was failed over while the drill had not struck it (${record.reason}): the plane is too slow for this speed, or it misjudged a live region`,
      );
    }
    const rto = rtoByTier(faultAt, this.restoredAt);
    const rpo = rpoByClass(loss);
    const acknowledged = this.writes.size;
    const intact = acknowledged - lost.length - unequal.length;
    const verdict = judgeDr({
      rto,
      rpo,
      integrity: { acknowledged, intact },
      residency_violations: residencyViolations,
      failures: this.failures,
    });
    const endedAt = h.now();
    this.say(verdict.met ? 'every objective met' : `missed: ${verdict.misses.join('; ')}`);
    return {
      scenario: this.scenario,
      region: this.struck,
      ...(this.secondFault ? { second_region: this.secondFault } : {}),
      started_at: new Date(startedAt).toISOString(),
      fault_at: new Date(faultAt).toISOString(),
      ended_at: new Date(endedAt).toISOString(),
      simulated_seconds: Math.round(endedAt - startedAt) / 1000,
      time_to_detect_seconds:
        detectedAt === undefined ? null : Math.round(Math.max(0, detectedAt - faultAt)) / 1000,
      ...(failoverId ? { failover_id: failoverId } : {}),
      ...(runbookKind
        ? {
            runbook: {
              kind: runbookKind,
              dr_id: this.drId,
              status: outcome?.status ?? 'running',
              ...(outcome?.cause || outcome?.error ? { error: outcome.cause ?? outcome.error } : {}),
              ...(runbookMetrics(outcome) ? { metrics: runbookMetrics(outcome) } : {}),
            },
          }
        : {}),
      rto,
      rpo,
      writes: {
        acknowledged,
        lost: lost.length,
        unequal: unequal.length,
        refused: this.refused,
        data_loss_window_seconds: Math.max(window(['created', 'accepted', 'completed']), masterWindow),
        lost_ids: lost.slice(0, 10).map((w) => w.handoff_id),
      },
      survivors,
      residency: { held: residencyViolations === 0, violations: residencyViolations },
      verdict,
      objectives: DR_OBJECTIVES,
    };
  }

  /** The runbook's region: the first survivor by failover priority. */
  coordinatorFor(): string {
    return priorityOrder(this.topology).find((r) => r !== this.struck && !this.down.has(r)) as string;
  }

  /** The country of a region's geographic location. */
  countryOf(region: string): string {
    return this.topology.regions.find((r) => r.region_id === region)?.geographic_location.country as string;
  }

  /** Records an acknowledged write, keeping only its furthest step. */
  ack(id: string, kind: DrillWrite['kind'], region: string): void {
    const before = this.writes.get(id);
    if (before && WRITE_RANK[before.kind] >= WRITE_RANK[kind]) return;
    this.writes.set(id, { handoff_id: id, kind, region, acknowledged_at: this.h.now() });
  }

  /** One task routed from `client`, accepted where it landed; whether each step was acknowledged. */
  async oneTask(client: string): Promise<{ routed: boolean; accepted: boolean; id?: string }> {
    const { h } = this;
    this.seq += 1;
    const service = await h.serviceRegion(client);
    const residency = this.seq % 3 === 0 ? this.countryOf(client) : undefined;
    const routed = await safe(
      h.call(service, 'POST', '/v1/route', {
        task_id: `drill-${this.scenario}-${Math.round(this.startedAt)}-${this.seq}`,
        priority: 'normal',
        source: { region: client },
        ...(residency ? { requirements: { data_residency: residency } } : {}),
      }),
    );
    if (routed?.status !== 200) {
      this.refused += 1;
      return { routed: false, accepted: false };
    }
    const handoff = routed.body.handoff as { handoff_id: string; target_region: string };
    this.ack(handoff.handoff_id, 'created', service);
    if (residency) this.residencyOf.set(handoff.handoff_id, residency);
    const took = await safe(
      h.call(handoff.target_region, 'POST', `/v1/handoffs/${handoff.handoff_id}/accept`, {
        worker: 'drill-worker',
      }),
    );
    if (took?.status !== 200) return { routed: true, accepted: false, id: handoff.handoff_id };
    this.ack(handoff.handoff_id, 'accepted', handoff.target_region);
    this.accepted.push({ id: handoff.handoff_id, region: handoff.target_region });
    return { routed: true, accepted: true, id: handoff.handoff_id };
  }

  /** One workload round; answers each service's sample. */
  async round(): Promise<Record<CheckedService, boolean>> {
    const { h } = this;
    const finishing = this.accepted;
    this.accepted = [];
    for (const task of finishing) {
      const done = await safe(h.call(task.region, 'POST', `/v1/handoffs/${task.id}/complete`, {}));
      if (done?.status === 200) this.ack(task.id, 'completed', task.region);
    }
    const fromStruck = await this.oneTask(this.struck);
    const other = this.regions[this.seq % this.regions.length] as string;
    const fromOther = await this.oneTask(other);
    const service = await h.serviceRegion(this.struck);
    const health = await safe(h.call(service, 'GET', '/health'));
    const ping = await safe(h.call(service, 'GET', '/api/v1/ping'));
    // A handoff of the previous round: this round's may not have replicated to `service` yet.
    const lastRead = this.lastId;
    const read = lastRead ? await safe(h.call(service, 'GET', `/v1/handoffs/${lastRead}`)) : undefined;
    this.lastId = fromOther.id ?? fromStruck.id ?? this.lastId;
    const mcp = this.mcpDeployed ? await safe(h.call(service, 'GET', '/v1/mcp/servers')) : undefined;
    return {
      global_coordinator: health?.status === 200,
      authentication: ping?.status === 200,
      critical_masters: await this.primaryServes(service),
      worker_execution: fromStruck.accepted,
      data_services: lastRead === undefined || read?.status === 200,
      mcp_servers: !this.mcpDeployed || mcp?.status === 200,
    };
  }

  /** The primary role is held by a serving region that answers (the masters live there). */
  async primaryServes(service: string): Promise<boolean> {
    const listed = await safe(this.h.call(service, 'GET', '/v1/regions'));
    // Active-active deployments name no primary role: the masters are then the first serving
    // region by failover priority.
    type Listed = { region_id: string; role: string; serving: boolean; failover_priority: number };
    const serving = ((listed?.body?.regions ?? []) as Listed[])
      .filter((r) => r.serving)
      .sort((x, y) => x.failover_priority - y.failover_priority);
    const primary = serving.find((r) => r.role === 'primary') ?? serving[0];
    if (!primary) return false;
    return (await safe(this.h.call(primary.region_id, 'GET', '/health')))?.status === 200;
  }

  /**
   * Failovers of a region the drill did not strike (or before it struck it): the plane misjudged a
   * live region (on a busy machine a local plane at a high --speed turns real latency into simulated
   * seconds: p99 breaches, timeouts). As `judge` (default the coordinator) records them.
   */
  async misjudged(judge?: string): Promise<{ failed_region: string; reason: string }[]> {
    const struckRegions = new Set([this.struck, ...(this.secondFault ? [this.secondFault] : [])]);
    const listed = await safe(this.h.call(judge ?? this.coordinatorFor(), 'GET', '/v1/failovers'));
    return ((listed?.body?.failovers ?? []) as FailoverListed[]).filter((record) => {
      const at = Date.parse(record.initiated_at);
      if (record.kind !== 'failover' || at < this.startedAt) return false;
      // The struck regions may be failed over, but only once struck.
      return !(
        struckRegions.has(record.failed_region) &&
        at >= (this.faultAtOf.get(record.failed_region) ?? this.faultAt)
      );
    });
  }

  /** When the plane acted on the fault, as the coordinator shows it; undefined while it has not. */
  async detect(coordinator: string): Promise<number | undefined> {
    const { h, struck } = this;
    if (this.scenario === 'data_corruption') {
      const check = await safe(
        h.call(coordinator, 'POST', '/v1/replication/consistency-checks', {
          sample_size: 1_000,
          reconcile: false,
        }),
      );
      return check && check.status < 300 && (check.body.inconsistent ?? 0) > 0 ? h.now() : undefined;
    }
    const listed = await safe(h.call(coordinator, 'GET', `/v1/failovers?failed_region=${struck}`));
    const record = (listed?.body?.failovers ?? []).find(
      (f: { kind: string; initiated_at: string }) =>
        f.kind === 'failover' && Date.parse(f.initiated_at) >= this.faultAt,
    ) as { failover_id: string; initiated_at: string } | undefined;
    if (record) {
      this.failoverId = record.failover_id;
      return Date.parse(record.initiated_at);
    }
    if (this.scenario === 'network_partition') {
      const region = await safe(h.call(coordinator, 'GET', `/v1/regions/${struck}`));
      if (region?.body?.health?.state === 'unreachable') return h.now();
    }
    return undefined;
  }

  /** The target the failover of the struck region names, once there is one. */
  async targetChosen(coordinator: string): Promise<string | undefined> {
    if (!this.failoverId) await this.detect(coordinator);
    if (!this.failoverId) return undefined;
    const record = await safe(this.h.call(coordinator, 'GET', `/v1/failovers/${this.failoverId}`));
    return record?.body?.target_region as string | undefined;
  }
}

function runbookMetrics(outcome: DrillRunbookOutcome | undefined): Record<string, unknown> | undefined {
  const steps = (
    outcome?.output as { steps?: Record<string, { data?: Record<string, unknown> }> } | undefined
  )?.steps;
  return steps?.update_dr_metrics?.data;
}
