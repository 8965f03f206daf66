/**
 * The whole control plane in one process on the virtual clock: every region's real use cases (probe
 * rounds, quorum, fencing, automatic failover start and take-over, the failover workflow's ASL with
 * the real task function, routing with reservations, settling, failback) wired to the in-memory
 * replicated stores (lib/sim/store), the simulated network (lib/sim/network.ts) and the kernel. What
 * happens to it comes from a schedule (lib/sim/schedule.ts); what it must never do is checked by
 * lib/sim/invariants.ts after every event.
 */
import type { ControlDeps } from '../app/deps.ts';
import { abortFailover, answerApproval, resumeFailovers } from '../app/failover/manage.ts';
import { startFailover } from '../app/failover/start.ts';
import { acceptHandoff } from '../app/handoffs/lifecycle.ts';
import { readStatuses } from '../app/live-state.ts';
import {
  type ProbeRoundReport,
  runProbeRound,
  runWitnessRound,
  type WitnessDeps,
} from '../app/probe-round.ts';
import { settleHandoff } from '../app/resources/accounting.ts';
import { readPools } from '../app/resources/pools.ts';
import { type RouteRequest, requestHash, routeTask } from '../app/route-task.ts';
import { AWS_DEPLOYMENT_FACTS } from '../core/compliance/facts.ts';
import type { DeploymentFacts } from '../core/compliance/types.ts';
import {
  CoordinatorUnreachableError,
  CortexError,
  messageOf,
  ReplicaUnreachableError,
} from '../core/errors.ts';
import type { Assessment } from '../core/health/types.ts';
import { isServing } from '../core/state/records.ts';
import type { Topology } from '../core/topology/types.ts';
import type { ControlPlaneEvent, StatePort } from '../ports.ts';
import { createKernel, type SimKernel } from './kernel.ts';
import { SimNetwork, SimProbe } from './network.ts';
import type { SimAction } from './schedule.ts';
import { createSimStores, criticalTableOf, SimStatePort, type SimStores } from './store/index.ts';
import { SimWorkflow } from './workflow.ts';

/** A handoff the platform acknowledged (200 to the caller): it must never be lost. */
export interface Acknowledged {
  readonly handoff_id: string;
  readonly task_id: string;
  readonly request_hash: string;
  readonly routed_by: string;
  readonly target_region: string;
  readonly residency?: string;
  readonly at: number;
}

/** A rule the simulation breaks on purpose, to show an invariant catches it (mutation tests). */
export type SimMutation =
  /** Every region writes one shared status item (no per-writer slots): last writer wins across regions. */
  | 'shared-status-item'
  /** Probes report a saturated region as unreachable (the old load cascade). */
  | 'saturation-is-unreachable'
  /** A fenced region never writes itself healthy again. */
  | 'never-unfence'
  /** The workflow never starts: a dead region is never failed over. */
  | 'workflow-never-starts'
  /** Handoffs are created only in the routing region's replica view and deleted from the others. */
  | 'lose-handoffs'
  /** Starting a failover that exists creates another record for the same failure. */
  | 'duplicate-failover-records'
  /** A region reads its own status as healthy, whatever it is (it serves while fenced). */
  | 'ignore-own-status'
  /** Redirects move work to the first region in the topology, whatever its residency. */
  | 'redirect-ignores-residency'
  /** The router reads its own region as healthy, whatever it is (it places work while fenced). */
  | 'route-while-not-serving'
  /** Releasing a reservation gives nothing back (a path that ends a handoff leaks what it held). */
  | 'leak-reservations'
  /**
   * A rollback restores a region it took out of the quorum even when a majority still cannot reach
   * it (it writes `healthy` where it would keep the region `failed`): a dead quorum member again.
   */
  | 'rollback-restores-unreachable';

export interface SimWorldOptions {
  readonly topology: Topology;
  readonly seed: number;
  /** Replication lag of every link; default 200 ms. */
  readonly lagMs?: number;
  readonly facts?: DeploymentFacts;
  readonly mutation?: SimMutation;
  /**
   * Check `reservations-match-open-handoffs` at the end of a run (default true). Off only for a run
   * that judges something else and leaves reservations half made on purpose.
   */
  readonly accounting?: boolean;
}

export interface SimLogEntry {
  readonly at: number;
  readonly what: string;
}

export class SimWorld {
  readonly topology: Topology;
  readonly kernel: SimKernel;
  readonly network = new SimNetwork();
  readonly stores: SimStores;
  readonly workflow: SimWorkflow;
  readonly events: ControlPlaneEvent[] = [];
  readonly acknowledged: Acknowledged[] = [];
  readonly settled = new Set<string>();
  readonly log: SimLogEntry[] = [];
  /** Routes that a region answered 200 while its own replica said it did not serve (invariant 9). */
  readonly servedWhileNotServing: string[] = [];
  readonly mutation: SimMutation | undefined;
  readonly accounting: boolean;
  readonly #deps = new Map<string, ControlDeps>();
  /** Per region, what the invariants read of its replica (and the MRSC copy): no quorum guard. */
  readonly #views = new Map<string, StatePort>();
  readonly #witnesses: WitnessDeps[];
  readonly #previous = new Map<string, Assessment>();
  readonly #busy = new Set<string>();
  readonly #crashed = new Set<string>();

  constructor(options: SimWorldOptions) {
    options = { ...options, topology: readableTopology(options.topology) };
    this.topology = options.topology;
    this.mutation = options.mutation;
    this.accounting = options.accounting ?? true;
    this.kernel = createKernel({ seed: options.seed });
    this.stores = createSimStores({
      topology: options.topology,
      kernel: this.kernel,
      // Stored items are frozen and handed out as they are: no copies, and a use case that mutated a
      // record it read would throw instead of silently changing the store.
      reads: 'frozen',
      ...(options.lagMs === undefined ? {} : { lagMs: options.lagMs }),
      // The MRSC table, when the topology's regions allow one: its records in one copy that a region
      // reaches only with a majority of the table's regions (as the local plane and AWS).
      critical: criticalTableOf(options.topology),
      reaches: (from, to) => (from === to ? !this.network.isDown(from) : !this.network.blocked(from, to)),
    });
    const probe = new SimProbe({
      kernel: this.kernel,
      network: this.network,
      depsOf: (id) => (this.network.isDown(id) ? undefined : this.#deps.get(id)),
      latencyMs: (from, to) => this.#latency(from, to),
    });
    const probePort =
      this.mutation === 'saturation-is-unreachable'
        ? {
            probe: async (observer: string, target: string, endpoint: string, timeoutMs: number) => {
              const seen = await probe.probe(observer, target, endpoint, timeoutMs);
              const deps = this.#deps.get(target);
              const pools = deps?.resources ? await deps.resources.listPools(hourOf(this.kernel.now())) : [];
              const pool = pools.find((p) => p.region === target);
              const free = pool ? Math.min(...freeShares(pool)) : 1;
              return free < 0.2 ? { ...seen, ok: false, status: undefined, error: 'unreachable' } : seen;
            },
          }
        : probe;
    this.workflow = new SimWorkflow({
      kernel: this.kernel,
      topology: options.topology,
      depsFor: (id) => this.deps(id),
    });
    const workflowPort =
      this.mutation === 'workflow-never-starts'
        ? {
            startFailover: async () => {},
            answerApproval: (t: string, a: boolean) => this.workflow.answerApproval(t, a),
          }
        : this.workflow;
    const facts = options.facts ?? AWS_DEPLOYMENT_FACTS;
    for (const region of this.stores.regions) {
      const id = region.regionId;
      const deps: ControlDeps = Object.freeze({
        regionId: id,
        topology: options.topology,
        state: this.#mutated(id, region.state),
        clock: this.kernel,
        probe: probePort,
        events: { publish: async (events: readonly ControlPlaneEvent[]) => void this.events.push(...events) },
        workflow: workflowPort,
        replica: (other: string) =>
          other === id ? this.#mutated(id, region.state) : this.#guarded(id, other),
        deployment: facts,
        mcp: region.mcp,
        resources:
          this.mutation === 'leak-reservations'
            ? new Proxy(region.resources, {
                get: (target, property) =>
                  property === 'release'
                    ? async () => undefined
                    : (Reflect.get(target, property) as (...a: unknown[]) => unknown).bind(target),
              })
            : region.resources,
      });
      this.#deps.set(id, deps);
      this.#views.set(id, this.#mutated(id, region.view));
    }
    this.#witnesses = options.topology.witnesses.map(
      (w): WitnessDeps => ({
        witnessId: w.witness_id,
        topology: options.topology,
        clock: this.kernel,
        probe: probePort,
        replica: (regionId) => this.#guarded(w.witness_id, regionId),
      }),
    );
  }

  deps(regionId: string): ControlDeps {
    const deps = this.#deps.get(regionId);
    if (!deps) throw new Error(`sim: unknown region ${regionId}`);
    return deps;
  }

  /** The topology's regions, in its order (read after every event: computed once). */
  get regionIds(): readonly string[] {
    // Not frozen: V8 filters and searches a frozen array on a slow path, and every event does both.
    this.#regionIds ??= this.topology.regions.map((r) => r.region_id);
    return this.#regionIds;
  }

  #regionIds?: readonly string[];

  /** Seeds the pools and starts every region's and witness's probe rounds (offset by a second each). */
  async start(): Promise<void> {
    // The pools are seeded from the topology's usage snapshot, in every region's replica.
    for (const id of this.regionIds) {
      const { resources } = this.deps(id);
      if (resources) await readPools(this.topology, resources, this.kernel.now());
    }
    const interval = this.topology.failover_policies.health_check.interval_seconds * 1000;
    const members = [...this.regionIds, ...this.#witnesses.map((w) => w.witnessId)];
    members.forEach((member, i) => {
      const tick = () => {
        this.kernel.at(interval, tick);
        void this.#round(member);
      };
      this.kernel.at(1_000 * (i + 1), tick);
    });
  }

  /** Applies one scheduled action. Operator and client errors are logged, never thrown. */
  async apply(action: SimAction): Promise<void> {
    this.#note(describe(action));
    switch (action.kind) {
      case 'down':
        this.#down(action.region);
        return;
      case 'up':
        await this.#up(action.region);
        return;
      case 'errors':
        this.network.setFault(action.region, { errorRate: action.rate });
        return;
      case 'slow':
        this.network.setFault(action.region, { slowMs: action.ms });
        return;
      case 'cut':
        this.#cut(action.a, action.b);
        return;
      case 'join':
        this.#join(action.a, action.b);
        return;
      case 'delay':
        this.network.setLink(action.a, action.b, { delayMs: action.ms });
        this.#relink(action.a, action.b);
        return;
      case 'drop':
        this.network.setLink(action.a, action.b, { dropRate: action.rate });
        this.#relink(action.a, action.b);
        return;
      case 'unpartition': {
        const witnesses = this.#witnesses.map((w) => w.witnessId);
        const groups = action.groups.map((g, i) => (i === 0 ? [...g, ...witnesses] : [...g]));
        for (const [i, g] of groups.entries()) {
          for (const h of groups.slice(i + 1)) for (const a of g) for (const b of h) this.#join(a, b);
        }
        return;
      }
      case 'partition': {
        const witnesses = this.#witnesses.map((w) => w.witnessId);
        const groups = action.groups.map((g, i) => (i === 0 ? [...g, ...witnesses] : [...g]));
        for (const [i, g] of groups.entries()) {
          for (const h of groups.slice(i + 1)) for (const a of g) for (const b of h) this.#cut(a, b);
        }
        return;
      }
      case 'heal':
        await this.heal();
        return;
      case 'route':
        await this.#route(action);
        return;
      case 'settle':
        await this.#settle(action.count, action.outcome);
        return;
      case 'crash':
        this.#crash(action.region);
        this.kernel.at(action.downMs, () => this.#restart(action.region));
        return;
      case 'abort':
        await this.#abort();
        return;
      case 'failback':
        await this.#failback();
        return;
      case 'accept':
        await this.#accept(action.region, action.count);
        return;
      case 'cascade':
        this.#cascade = {
          afterMs: action.afterMs,
          holdMs: action.holdMs,
          until: this.kernel.now() + 15 * 60_000,
        };
        return;
    }
  }

  /** An armed cascade (SimAction 'cascade'): strikes the target of the next failover that names one. */
  #cascade: { readonly afterMs: number; readonly holdMs: number; readonly until: number } | undefined;
  /** Counts heals: a cascade armed before a heal never strikes after it (a heal removes every fault). */
  #heals = 0;

  /** Whether some live replica still holds `failoverId` active. */
  async #stillRunning(failoverId: string): Promise<boolean> {
    for (const id of this.regionIds) {
      if (this.network.isDown(id)) continue;
      if ((await this.state(id).listActiveFailovers()).some((f) => f.failover_id === failoverId)) return true;
    }
    return false;
  }

  /** Checked each round: once a running failover names its target, schedules the target's fall. */
  async #armedCascade(): Promise<void> {
    const cascade = this.#cascade;
    if (!cascade) return;
    const now = this.kernel.now();
    if (now > cascade.until) {
      this.#cascade = undefined;
      this.#note('cascade: no failover named a target in 15 minutes');
      return;
    }
    for (const id of this.regionIds) {
      if (this.network.isDown(id)) continue;
      for (const record of await this.state(id).listActiveFailovers()) {
        const target = record.target_region;
        const named = record.steps.find(
          (s) => s.action === 'identify_target_region' && s.outcome === 'succeeded',
        );
        if (record.kind !== 'failover' || !target || !named || this.network.isDown(target)) continue;
        this.#cascade = undefined;
        const strikeIn = Math.max(0, Date.parse(named.ended_at) + cascade.afterMs - now);
        const heals = this.#heals;
        this.kernel.at(strikeIn, async () => {
          if (this.#heals !== heals) {
            this.#note(`cascade: healed before ${target} was struck`);
            return;
          }
          // A cascade strikes a failover while it runs: one that ended meanwhile is left alone.
          if (!(await this.#stillRunning(record.failover_id)) || this.network.isDown(target)) {
            this.#note(`cascade: ${record.failover_id} ended before ${target} was struck`);
            return;
          }
          await this.apply({ kind: 'down', region: target });
          this.kernel.at(cascade.holdMs, () => this.apply({ kind: 'up', region: target }));
        });
        this.#note(
          `cascade: ${target}, the target of ${record.failover_id}, goes down in ${strikeIn / 1000} s`,
        );
        return;
      }
    }
  }

  /** Every fault removed; down regions come back (their failovers resumed). */
  async heal(): Promise<void> {
    this.#heals += 1;
    this.#cascade = undefined;
    const wasDown = this.regionIds.filter((id) => this.network.isDown(id));
    this.network.heal();
    const lag = this.stores.replication.stats().lag_ms;
    for (const a of this.regionIds) {
      for (const b of this.regionIds) {
        if (a === b) continue;
        this.stores.replication.setLag(a, b, lag);
        this.stores.replication.resume(a, b);
      }
    }
    for (const id of wasDown) this.stores.replication.up(id);
    for (const id of wasDown) await this.#restart(id);
  }

  /** The region's process is down or crashed: it runs no rounds and no failovers. */
  isCrashed(regionId: string): boolean {
    return this.#crashed.has(regionId);
  }

  /**
   * The live state of one region's replica as its own use cases read it, without the MRSC table's
   * quorum guard: what an observer outside the network finds there (invariants read it).
   */
  state(regionId: string): StatePort {
    const view = this.#views.get(regionId);
    if (!view) throw new Error(`sim: unknown region ${regionId}`);
    return view;
  }

  async #round(member: string): Promise<void> {
    // Most rounds have no cascade armed: nothing to await.
    if (this.#cascade) await this.#armedCascade();
    if (this.network.isDown(member) || this.#crashed.has(member) || this.#busy.has(member)) return;
    this.#busy.add(member);
    try {
      const witness = this.#witnesses.find((w) => w.witnessId === member);
      if (witness) {
        await runWitnessRound(witness);
        return;
      }
      const previous = this.#previous.get(member);
      const report: ProbeRoundReport = await runProbeRound(this.deps(member), previous ? { previous } : {});
      this.#previous.set(member, report.assessment);
      if (report.actions.fenced) this.#note(`${member} fenced itself`);
      if (report.actions.unfenced) this.#note(`${member} unfenced`);
      for (const id of report.actions.failovers_started) this.#note(`${member} started ${id}`);
      for (const id of report.actions.failovers_taken_over) this.#note(`${member} took over ${id}`);
    } catch (error) {
      // A round that cannot reach its own store fails like a Lambda invocation: the next one retries.
      this.#note(`${member} round failed: ${messageOf(error)}`);
    } finally {
      this.#busy.delete(member);
    }
  }

  #down(region: string): void {
    this.network.setFault(region, { down: true });
    this.stores.replication.down(region);
    this.#crash(region);
  }

  async #up(region: string): Promise<void> {
    this.network.setFault(region, { down: false });
    this.stores.replication.up(region);
    await this.#restart(region);
  }

  /** The region's process dies: its failover executions stop where they are. */
  #crash(region: string): void {
    this.#crashed.add(region);
    this.workflow.abortCoordinatedBy(region);
  }

  /** It starts again: resumes the failovers it coordinates, from their records. */
  async #restart(region: string): Promise<void> {
    if (!this.#crashed.delete(region) || this.network.isDown(region)) return;
    try {
      const resumed = await resumeFailovers(this.deps(region));
      for (const id of resumed) this.#note(`${region} resumed ${id}`);
    } catch (error) {
      this.#note(`${region} could not resume its failovers: ${messageOf(error)}`);
    }
  }

  #cut(a: string, b: string): void {
    this.network.cut(a, b);
    if (this.regionIds.includes(a) && this.regionIds.includes(b)) {
      this.stores.replication.pause(a, b);
      this.stores.replication.pause(b, a);
    }
  }

  /**
   * Replication on a delayed or lossy link between two regions: its lag grows by the link's delay and
   * retries (lost changes are sent again, not lost); a link that loses everything stops it, as a cut.
   */
  #relink(a: string, b: string): void {
    if (!this.regionIds.includes(a) || !this.regionIds.includes(b)) return;
    const extra = this.network.replicationDelayMs(a, b);
    const lag = this.stores.replication.stats().lag_ms;
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      if (Number.isFinite(extra)) {
        this.stores.replication.setLag(from, to, lag + extra);
        if (!this.network.partitioned(a, b)) this.stores.replication.resume(from, to);
      } else {
        this.stores.replication.pause(from, to);
      }
    }
  }

  #join(a: string, b: string): void {
    this.network.join(a, b);
    // Replication resumes, unless the link still loses everything.
    this.#relink(a, b);
  }

  async #route(action: Extract<SimAction, { kind: 'route' }>): Promise<void> {
    if (this.network.isDown(action.region) || this.#crashed.has(action.region)) return;
    const deps =
      this.mutation === 'route-while-not-serving'
        ? this.#routerIgnoringOwnStatus(action.region)
        : this.deps(action.region);
    for (let i = 0; i < action.count; i++) {
      const taskId = `task-${this.kernel.now()}-${i}`;
      const request: RouteRequest = {
        task_id: taskId,
        priority: action.priority,
        source: { region: action.region },
        requirements: {
          workers: action.workers,
          compute_units: action.compute_units,
          ...(action.residency ? { data_residency: action.residency } : {}),
        },
      } as RouteRequest;
      const own = (await this.stores.region(action.region).view.getRegionStatus(action.region))?.status;
      try {
        const answer = await routeTask(deps, request);
        if (own !== undefined && !isServing(own)) {
          this.servedWhileNotServing.push(`${taskId} routed by ${action.region} while ${own}`);
        }
        this.acknowledged.push({
          handoff_id: answer.handoff.handoff_id,
          task_id: taskId,
          // The request's own digest: the record may live only in the task's owner region's replica yet.
          request_hash: requestHash(request),
          routed_by: action.region,
          target_region: answer.region,
          ...(action.residency ? { residency: action.residency } : {}),
          at: this.kernel.now(),
        });
      } catch (error) {
        if (!(error instanceof CortexError)) throw error;
      }
    }
  }

  /** The region's deps as its router sees them under 'route-while-not-serving': its own status healthy. */
  #routerIgnoringOwnStatus(regionId: string): ControlDeps {
    const deps = this.deps(regionId);
    const state = deps.state;
    return {
      ...deps,
      state: withOverrides(state, {
        listRegionStatuses: async () =>
          (await state.listRegionStatuses()).map((s) =>
            s.region_id === regionId ? { ...s, status: 'healthy' as const } : s,
          ),
      }),
    };
  }

  async #settle(count: number, outcome: 'completed' | 'failed'): Promise<void> {
    const open = this.acknowledged.filter((a) => !this.settled.has(a.handoff_id));
    for (const handoff of open.slice(0, count)) {
      // Settled by the region that runs it now, as its workers report (the handoff may have moved).
      const current = await this.#anyServingReplica()?.getHandoff(handoff.handoff_id);
      const region = current?.target_region ?? handoff.target_region;
      if (this.network.isDown(region) || this.#crashed.has(region)) continue;
      try {
        await settleHandoff(this.deps(region), handoff.handoff_id, outcome, {});
        this.settled.add(handoff.handoff_id);
      } catch (error) {
        if (!(error instanceof CortexError)) throw error;
      }
    }
  }

  /** Workers in `region` take up to `count` of the pending handoffs it holds (work in flight there). */
  async #accept(region: string, count: number): Promise<void> {
    if (this.network.isDown(region) || this.#crashed.has(region)) return;
    const pending = (await this.state(region).listHandoffsByTarget(region)).filter(
      (h) => h.status === 'pending' && h.target_region === region,
    );
    for (const handoff of pending.slice(0, count)) {
      try {
        await acceptHandoff(this.deps(region), handoff.handoff_id, { worker: `sim-worker@${region}` });
      } catch (error) {
        if (!(error instanceof CortexError)) throw error;
      }
    }
  }

  /**
   * The operator aborts an active failover through the first region that answers. One that cannot
   * reach the failover's coordinator, where the abort is written, answers COORDINATOR_UNREACHABLE
   * and the next is asked, as the CLI moves on to the next endpoint (lib/cli/client.ts).
   */
  async #abort(): Promise<void> {
    const replica = this.#anyServingReplica();
    if (!replica) return;
    const [active] = await replica.listActiveFailovers();
    if (!active) return;
    for (const by of this.regionIds) {
      if (this.network.isDown(by) || this.#crashed.has(by)) continue;
      try {
        await abortFailover(this.deps(by), active.failover_id, { by: 'sim-operator' });
        return;
      } catch (error) {
        if (!(error instanceof CortexError)) throw error;
        if (!(error instanceof CoordinatorUnreachableError)) return;
      }
    }
  }

  async #failback(): Promise<void> {
    const by = this.regionIds.find((id) => !this.network.isDown(id) && !this.#crashed.has(id));
    if (!by) return;
    const statuses = await readStatuses(this.topology, this.state(by));
    for (const [region, status] of statuses) {
      if (status.status !== 'failed' || this.network.isDown(region)) continue;
      // A failover of it still waiting for an operator (no survivor could take its work) is declined
      // first: the region answers again, and a failback is refused while that wait is open.
      for (const waiting of await this.state(by).listActiveFailovers()) {
        if (waiting.failed_region !== region || waiting.status !== 'awaiting_approval') continue;
        try {
          await answerApproval(this.deps(by), waiting.failover_id, false, {
            by: 'sim-operator',
            reason: `${region} answers again`,
          });
          this.#note(`${waiting.failover_id} declined by ${by}: ${region} answers again`);
        } catch (error) {
          if (!(error instanceof CortexError)) throw error;
        }
      }
      try {
        await startFailover(
          this.deps(by),
          { failed_region: region, action: 'failback', reason: 'sim' },
          'manual',
        );
        this.#note(`failback of ${region} started by ${by}`);
      } catch (error) {
        if (!(error instanceof CortexError)) throw error;
      }
    }
  }

  #anyServingReplica(): StatePort | undefined {
    const id = this.regionIds.find((r) => !this.network.isDown(r));
    return id === undefined ? undefined : this.state(id);
  }

  /** Per `from`, per `to`, the guarded port (#guarded): one per pair, asked for every round. */
  readonly #guards = new Map<string, Map<string, StatePort>>();

  /** Another region's replica as `from` reaches it: unreachable across a cut or to a down region. */
  #guarded(from: string, to: string): StatePort {
    let guards = this.#guards.get(from);
    if (!guards) {
      guards = new Map();
      this.#guards.set(from, guards);
    }
    let guarded = guards.get(to);
    if (!guarded) {
      guarded = this.#guard(from, to);
      guards.set(to, guarded);
    }
    return guarded;
  }

  #guard(from: string, to: string): StatePort {
    const port = this.stores.region(to).state;
    // An object of the port's guarded class (guardPrototypeOf) holding what it guards: a Proxy's
    // trap on every method read cost more than the call it guards, and so did a closure per method
    // and world (every witness round and route goes through one).
    const guarded = Object.create(guardPrototypeOf(port)) as Guarded;
    guarded[GUARDED] = { port, network: this.network, from, to };
    return guarded as unknown as StatePort;
  }

  /** The region's own state port, with the mutation under test applied. */
  #mutated(regionId: string, state: StatePort): StatePort {
    switch (this.mutation) {
      case 'shared-status-item': {
        const shared = new SimStatePort({ replica: this.stores.region(regionId).replica });
        return withOverrides(state, {
          putRegionStatus: (record, expected) => shared.putRegionStatus(record, expected),
          getRegionStatus: (id) => shared.getRegionStatus(id),
          listRegionStatuses: () => shared.listRegionStatuses(),
        });
      }
      case 'never-unfence':
        return withOverrides(state, {
          putRegionStatus: async (record, expected) => {
            if (
              record.region_id === regionId &&
              record.updated_by.startsWith('health-probe@') &&
              isServing(record.status)
            ) {
              return;
            }
            return state.putRegionStatus(record, expected);
          },
        });
      case 'ignore-own-status':
        return withOverrides(state, {
          getRegionStatus: async (id) => {
            const found = await state.getRegionStatus(id);
            return found && id === regionId ? { ...found, status: 'healthy' } : found;
          },
        });
      case 'duplicate-failover-records': {
        let copies = 0;
        return withOverrides(state, {
          createFailover: async (record) => {
            if (record.trigger !== 'automatic' || !(await state.getFailover(record.failover_id))) {
              return state.createFailover(record);
            }
            copies += 1;
            return state.createFailover({ ...record, failover_id: `${record.failover_id}-copy${copies}` });
          },
        });
      }
      case 'lose-handoffs':
        return withOverrides(state, {
          createHandoff: async (handoff) => {
            await state.createHandoff(handoff);
            // Gone again once it replicated: acknowledged, then lost.
            this.kernel.at(5_000, () => {
              for (const region of this.stores.regions)
                region.replica.delete(`HANDOFF#${handoff.handoff_id}`, 'HANDOFF');
            });
          },
        });
      case 'rollback-restores-unreachable':
        return withOverrides(state, {
          putRegionStatus: (record, expected) =>
            state.putRegionStatus(
              record.updated_by.endsWith('/rollback') && record.status === 'failed'
                ? { ...record, status: 'healthy' }
                : record,
              expected,
            ),
        });
      case 'redirect-ignores-residency':
        return withOverrides(state, {
          redirectHandoff: (id, change, expected) =>
            state.redirectHandoff(id, { ...change, target_region: this.regionIds[0] as string }, expected),
        });
      default:
        return state;
    }
  }

  #latency(from: string, to: string): number {
    const matrix = this.topology.latency?.matrix as Record<string, Record<string, number>> | undefined;
    const ms = matrix?.[from]?.[to] ?? matrix?.[to]?.[from];
    return typeof ms === 'number' ? ms / 2 : 20;
  }

  #note(what: string): void {
    this.log.push({ at: this.kernel.now(), what });
  }
}

/** Per frozen (validated) topology, the copy the simulation runs on (readableTopology). */
const readableTopologies = new WeakMap<Topology, Topology>();

/**
 * The topology with its objects frozen and its arrays not: V8 walks a frozen array's `map`, `filter`,
 * `find` and `some` on a slow generic path, 2 to 40 times slower than a plain array's, and the use
 * cases walk `regions` and `witnesses` many times a round. Its objects stay frozen, so the caches
 * kept per frozen topology (lib/core/health) still apply. One copy per topology, shared by every
 * schedule (the compiled workflow is kept per topology too).
 */
export function readableTopology(topology: Topology): Topology {
  // A topology that is not frozen may still change: a copy of it as it is now, kept by nobody.
  if (!Object.isFrozen(topology)) return frozenObjects(topology) as Topology;
  let readable = readableTopologies.get(topology);
  if (!readable) {
    readable = frozenObjects(topology) as Topology;
    readableTopologies.set(topology, readable);
    readableTopologies.set(readable, readable);
  }
  return readable;
}

function frozenObjects(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(frozenObjects);
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const key of Object.keys(copy)) copy[key] = frozenObjects(copy[key]);
  return Object.freeze(copy);
}

/** What a guarded port (SimWorld.#guard) calls through, when the network lets `from` reach `to`. */
const GUARDED = Symbol('guarded');

interface Guarded {
  [GUARDED]: {
    readonly port: object;
    readonly network: SimNetwork;
    readonly from: string;
    readonly to: string;
  };
}

/** Per port prototype, the prototype of its guarded ports: each method refused across a cut, made once. */
const guardPrototypes = new WeakMap<object, object>();

function guardPrototypeOf(port: object): object {
  const prototype = Object.getPrototypeOf(port) as object;
  let guard = guardPrototypes.get(prototype);
  if (guard) return guard;
  const made = Object.create(prototype) as Record<string, unknown>;
  const seen = new Set<string>();
  for (let proto = prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const method = Object.getOwnPropertyDescriptor(proto, name)?.value;
      if (name === 'constructor' || typeof method !== 'function' || seen.has(name)) continue;
      seen.add(name);
      made[name] = function (this: Guarded, ...args: unknown[]) {
        const { port: target, network, from, to } = this[GUARDED];
        return network.blocked(from, to)
          ? Promise.reject(new ReplicaUnreachableError(from, to))
          : method.apply(target, args);
      };
    }
  }
  guard = made;
  guardPrototypes.set(prototype, guard);
  return guard;
}

function withOverrides(state: StatePort, overrides: Partial<StatePort>): StatePort {
  return new Proxy(state, {
    get(target, property, receiver) {
      const own = (overrides as Record<string | symbol, unknown>)[property];
      if (own !== undefined) return own;
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function hourOf(now: number): string {
  return new Date(now).toISOString().slice(0, 13);
}

function freeShares(pool: {
  allocation: { workers: number; tokens_per_hour: number; compute_units: number };
  usage: { workers: number; tokens_used: number; compute_units: number };
}): number[] {
  const share = (total: number, used: number) => (total <= 0 ? 1 : (total - used) / total);
  return [
    share(pool.allocation.workers, pool.usage.workers),
    share(pool.allocation.tokens_per_hour, pool.usage.tokens_used),
    share(pool.allocation.compute_units, pool.usage.compute_units),
  ];
}

export function describe(action: SimAction): string {
  switch (action.kind) {
    case 'route':
      return `route ${action.count} ${action.priority} task(s) at ${action.region}${action.residency ? ` (${action.residency})` : ''}, ${action.workers} worker(s), ${action.compute_units} cu`;
    case 'settle':
      return `settle ${action.count} (${action.outcome})`;
    case 'accept':
      return `${action.region}'s workers accept up to ${action.count} pending task(s)`;
    case 'cut':
      return `cut ${action.a} <-> ${action.b}`;
    case 'join':
      return `join ${action.a} <-> ${action.b}`;
    case 'delay':
      return action.ms > 0
        ? `${action.a} <-> ${action.b} delayed by ${action.ms} ms each way`
        : `${action.a} <-> ${action.b} delay cleared`;
    case 'drop':
      return action.rate > 0
        ? `${action.a} <-> ${action.b} loses ${Math.round(action.rate * 100)} % of probes`
        : `${action.a} <-> ${action.b} loses nothing`;
    case 'partition':
    case 'unpartition':
      return `${action.kind} ${action.groups.map((g) => `[${g.join(', ')}]`).join(' | ')}`;
    case 'errors':
      return `${action.region} answers 500 at rate ${action.rate}`;
    case 'slow':
      return `${action.region} slow by ${action.ms} ms`;
    case 'crash':
      return `${action.region} crashes for ${action.downMs} ms`;
    case 'down':
    case 'up':
      return `${action.region} ${action.kind}`;
    case 'cascade':
      return `cascade: the next failover's target down ${action.afterMs / 1000} s after it is named, for ${action.holdMs / 1000} s`;
    default:
      return action.kind;
  }
}
