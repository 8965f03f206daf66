import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthProbeHandler, createWitnessProbeHandler } from '../../functions/health-probe/handler.ts';
import { DynamoAvailabilityAdapter } from '../../lib/adapters/aws/dynamodb-availability.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import type { ControlDeps } from '../../lib/app/deps.ts';
import { runProbeMinute } from '../../lib/app/probe-minute.ts';
import {
  type ProbeRoundReport,
  runProbeRound,
  runWitnessRound,
  startAutomaticFailover,
  type WitnessDeps,
} from '../../lib/app/probe-round.ts';
import { regionHealth } from '../../lib/app/regions.ts';
import { ValidationError } from '../../lib/core/errors.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { Assessment, ProbeObservation } from '../../lib/core/health/types.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ControlPlaneEvent, ProbePort, StatePort, WorkflowPort } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { lambdaContext } from '../support/events.ts';
import { setRegionStatus } from '../support/regional-deps.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');
const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-south-1';
const WITNESS = 'witness-us-west-2';
/** The default topology's interval. */
const INTERVAL_MS = 30_000;

/** How a scripted target answers one call: ok, a failure before any answer, or an HTTP status. */
type Answer = 'ok' | 'timeout' | 'refused' | number;

/** Answers scripted per (observer, target, endpoint); everything answers ok unless the script says otherwise. */
class ScriptedProbe implements ProbePort {
  script: (observer: string, target: string, endpoint: string) => Answer = () => 'ok';
  calls = 0;
  readonly #clock: { now(): number };

  constructor(clock: { now(): number }) {
    this.#clock = clock;
  }

  async probe(
    observer: string,
    target: string,
    endpoint: string,
    timeoutMs: number,
  ): Promise<ProbeObservation> {
    this.calls++;
    const answer = this.script(observer, target, endpoint);
    const base = { observer, target, endpoint, at: this.#clock.now() };
    if (answer === 'timeout' || answer === 'refused') {
      return { ...base, ok: false, error: answer, latency_ms: answer === 'timeout' ? timeoutMs : 1 };
    }
    if (answer !== 'ok' && (answer < 200 || answer > 299)) {
      return { ...base, ok: false, status: answer, error: `http ${answer}`, latency_ms: 20 };
    }
    if (endpoint !== '/coordination/status') return { ...base, ok: true, status: 200, latency_ms: 20 };
    return {
      ...base,
      ok: true,
      status: 200,
      latency_ms: 25,
      reported_status: 'healthy',
      available_capacity: 0.6,
      reported_heartbeat: { seq: 1, at: NOW },
    };
  }
}

/** A replica the witness cannot reach: every call fails like a partitioned endpoint. */
const unreachableReplica = (region: string): StatePort =>
  new Proxy({} as StatePort, {
    get: () => async () => {
      throw new Error(`replica ${region} unreachable`);
    },
  });

/**
 * Three regions, each with its own table (its replica), a scripted probe, a clock the test moves,
 * and recording event and workflow ports. `replicate` copies newer records between replicas the
 * way a global table would (last writer wins), except across a cut link.
 */
class World {
  readonly topology: Topology;
  readonly clock = { t: NOW, now: () => this.clock.t };
  readonly probe = new ScriptedProbe(this.clock);
  readonly events: ControlPlaneEvent[] = [];
  readonly starts: { failover_id: string; coordinator: string }[] = [];
  readonly tables = new Map<string, TestTable>();
  readonly states = new Map<string, StatePort>();
  /** Regions that are down: not probed for their own rounds, their replica unreachable for the witness. */
  readonly down = new Set<string>();
  /** Links (either direction) that neither probes nor replication cross. */
  readonly cut = new Set<string>();
  /** The last assessment per region, threaded into its next round like a long-lived scheduler does. */
  readonly previous = new Map<string, Assessment>();
  /** Executions that run (the scripted workflow never ends one), per coordinator and failover. */
  readonly #running = new Set<string>();
  /**
   * Like the real workflow, a started one soon records its first step in the coordinator's replica;
   * a start while an execution of the failover runs in that region is a no-op, as the port promises.
   */
  readonly workflow: WorkflowPort = {
    startFailover: async (input) => {
      const key = `${input.coordinator}|${input.failover_id}`;
      if (this.#running.has(key)) return;
      this.#running.add(key);
      this.starts.push({ ...input });
      const at = new Date(this.clock.now()).toISOString();
      await this.state(input.coordinator)
        .updateFailover(
          input.failover_id,
          { updated_at: at },
          {
            expectedStatuses: ['running'],
            step: {
              action: 'verify_failure',
              phase: 'detection',
              started_at: at,
              ended_at: at,
              outcome: 'succeeded',
              detail: 'scripted',
              attempt: 1,
            },
          },
        )
        .catch(() => {});
    },
    answerApproval: async () => {},
  };

  private constructor(topology: Topology) {
    this.topology = topology;
    this.probe.script = (observer, target) =>
      this.down.has(target) || this.isCut(observer, target) ? 'timeout' : 'ok';
  }

  static async start(topology: Topology = topologyWith()): Promise<World> {
    const world = new World(topology);
    for (const region of topology.regions) {
      const table = await startTestTable();
      world.tables.set(region.region_id, table);
      world.states.set(
        region.region_id,
        new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      );
    }
    return world;
  }

  isCut(a: string, b: string): boolean {
    return this.cut.has(`${a}|${b}`) || this.cut.has(`${b}|${a}`);
  }

  state(region: string): StatePort {
    const state = this.states.get(region);
    if (!state) throw new Error(`no replica for ${region}`);
    return state;
  }

  deps(regionId: string): ControlDeps {
    return {
      regionId,
      topology: this.topology,
      state: this.state(regionId),
      clock: this.clock,
      probe: this.probe,
      events: { publish: async (events) => void this.events.push(...events) },
      workflow: this.workflow,
      replica: (id) => this.state(id),
    };
  }

  witness(witnessId = WITNESS): WitnessDeps {
    return {
      witnessId,
      topology: this.topology,
      clock: this.clock,
      probe: this.probe,
      replica: (id) =>
        this.down.has(id) || this.isCut(witnessId, id) ? unreachableReplica(id) : this.state(id),
    };
  }

  /** One interval: every live region's round, every witness's round, replication, then time moves on. */
  async cycle(): Promise<Map<string, ProbeRoundReport>> {
    const reports = new Map<string, ProbeRoundReport>();
    for (const region of this.topology.regions) {
      const id = region.region_id;
      if (this.down.has(id)) continue;
      const previous = this.previous.get(id);
      const report = await runProbeRound(this.deps(id), previous ? { previous } : {});
      this.previous.set(id, report.assessment);
      reports.set(id, report);
    }
    for (const witness of this.topology.witnesses) await runWitnessRound(this.witness(witness.witness_id));
    await this.replicate();
    this.clock.t += INTERVAL_MS;
    return reports;
  }

  async cycles(n: number): Promise<Map<string, ProbeRoundReport>> {
    let last = new Map<string, ProbeRoundReport>();
    for (let i = 0; i < n; i++) last = await this.cycle();
    return last;
  }

  async replicate(): Promise<void> {
    const regions = [...this.tables.keys()];
    // Each replica is scanned once and its copy kept current as items are copied into it: the same
    // result as scanning both sides before each link, with a quarter of the scans.
    const replicas = new Map<string, Map<string, Record<string, unknown>>>();
    const replica = async (region: string) => {
      let items = replicas.get(region);
      if (!items) {
        items = new Map((await scanAll(this.table(region))).map((item) => [itemKey(item), item]));
        replicas.set(region, items);
      }
      return items;
    };
    for (const from of regions) {
      for (const to of regions) {
        if (from === to || this.down.has(from) || this.down.has(to) || this.isCut(from, to)) continue;
        await copyNewer(await replica(from), this.table(to), await replica(to));
      }
    }
  }

  table(region: string): TestTable {
    const table = this.tables.get(region);
    if (!table) throw new Error(`no table for ${region}`);
    return table;
  }

  async failovers(region: string): Promise<FailoverRecord[]> {
    return this.state(region).listFailovers();
  }

  eventsOf(type: string, source?: string): ControlPlaneEvent[] {
    return this.events.filter((e) => e.type === type && (source === undefined || e.source_region === source));
  }

  async setStatus(region: string, status: RegionStatus, everywhere = true): Promise<void> {
    const targets = everywhere ? [...this.states.keys()] : [region];
    for (const replica of targets) {
      await setRegionStatus(this.state(replica), region, status, new Date(this.clock.now()).toISOString());
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.tables.values()].map((t) => t.close()));
  }
}

/** Which version of a record is newer, per record type (global tables: last writer wins). */
const VERSION: Readonly<Record<string, (item: Record<string, unknown>) => number>> = {
  target_health: (item) => Number(item.updated_at),
  heartbeat: (item) => Number(item.seq),
  region_status: (item) => Number(item.epoch),
  failover: (item) => Date.parse(String(item.updated_at)),
};

async function scanAll(table: TestTable): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
  return Items;
}

const itemKey = (item: Record<string, unknown>) => `${item.pk}|${item.sk}`;

/** Copies each item of `source` that `to` lacks or holds an older version of; `held` is `to`'s items, kept current. */
async function copyNewer(
  source: ReadonlyMap<string, Record<string, unknown>>,
  to: TestTable,
  held: Map<string, Record<string, unknown>>,
): Promise<void> {
  for (const [key, item] of source) {
    const mine = held.get(key);
    const version = VERSION[String(item.record_type)];
    if (mine && (!version || version(mine) >= version(item))) continue;
    await to.doc.send(new PutCommand({ TableName: to.tableName, Item: item }));
    held.set(key, item);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: raw topology JSON, edited per test.
function topologyWith(edit: (raw: any) => void = () => {}): Topology {
  const raw = defaultTopologyJson();
  edit(raw);
  return validateTopology(raw);
}

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('a probe round', () => {
  it('writes one view per other region and a heartbeat whose seq grows by one each round', async () => {
    world = await World.start();
    const first = await runProbeRound(world.deps(US));
    expect(first.views.map((v) => [v.observer, v.target, v.verdict])).toEqual([
      [US, EU, 'healthy'],
      [US, AP, 'healthy'],
    ]);
    expect(first.heartbeat).toEqual({ region: US, seq: 1, at: NOW });
    expect(world.probe.calls).toBe(6);

    world.clock.t += INTERVAL_MS;
    const second = await runProbeRound(world.deps(US));
    expect(second.heartbeat.seq).toBe(2);
    const stored = await world.state(US).listTargetHealth();
    expect(stored.filter((v) => v.observer === US).map((v) => [v.target, v.rounds])).toEqual(
      expect.arrayContaining([
        [EU, 2],
        [AP, 2],
      ]),
    );
    expect((await world.state(US).listHeartbeats()).find((h) => h.region === US)?.seq).toBe(2);
    expect(first.actions.events).toEqual([]);
    expect(second.assessment).toMatchObject({ cut_off: false, failed: [] });
    expect(second.views[1]?.reported_heartbeat).toEqual({ seq: 1, at: NOW });
  });

  it('turns a target that fails three rounds in a row unhealthy, and back through suspect to recovered', async () => {
    world = await World.start();
    const w = world;
    w.probe.script = (observer, target) => (observer === US && target === AP ? 'timeout' : 'ok');
    const verdicts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const report = await runProbeRound(w.deps(US));
      verdicts.push(report.views.find((v) => v.target === AP)?.verdict ?? '?');
      w.clock.t += INTERVAL_MS;
    }
    expect(verdicts).toEqual(['suspect', 'suspect', 'unhealthy']);
    const view = (await w.state(US).listTargetHealth()).find((v) => v.observer === US && v.target === AP);
    expect(view).toMatchObject({ verdict: 'unhealthy', consecutive_failures: 3 });
    // One observer is not a majority: nothing is declared.
    expect(w.eventsOf('region.declared_failed')).toEqual([]);

    w.probe.script = () => 'ok';
    for (let i = 0; i < 2; i++) {
      await runProbeRound(w.deps(US));
      w.clock.t += INTERVAL_MS;
    }
    expect(
      w.events.filter((e) => e.detail.region === AP).map((e) => [e.type, e.detail.from, e.detail.to]),
    ).toEqual([
      ['region.suspect', null, 'suspect'],
      ['region.unhealthy', 'suspect', 'unhealthy'],
      ['region.suspect', 'unhealthy', 'suspect'],
      ['region.recovered', 'suspect', 'healthy'],
    ]);
  });
});

describe('automatic failover', () => {
  it('starts exactly one failover from the coordinator once a majority of observers agree', async () => {
    world = await World.start();
    world.down.add(AP);
    const early = await world.cycles(3);
    expect(early.get(US)?.assessment.failed).toEqual([]);

    const reports = await world.cycle();
    const us = reports.get(US);
    const eu = reports.get(EU);
    expect(us?.assessment.failed).toMatchObject([
      { region: AP, coordinator: US, votes_unhealthy: 3, voters: 3 },
    ]);
    expect(us?.actions.failovers_started).toEqual([`failover-${AP}-e0`]);
    expect(eu?.assessment.failed).toMatchObject([{ region: AP, coordinator: US }]);
    expect(eu?.actions.failovers_started).toEqual([]);
    expect(eu?.actions.failovers_skipped).toEqual([{ region: AP, reason: `coordinator is ${US}` }]);

    expect(world.starts).toEqual([{ failover_id: `failover-${AP}-e0`, coordinator: US }]);
    for (const region of [US, EU]) {
      const records = await world.failovers(region);
      expect(records).toHaveLength(1);
      expect(records[0]).toMatchObject({
        failover_id: `failover-${AP}-e0`,
        kind: 'failover',
        failed_region: AP,
        trigger: 'automatic',
        status: 'running',
        coordinator: US,
        epoch: 0,
        dry_run: false,
        previous_statuses: [],
        abort_requested: false,
        workloads_migrated: 0,
        workloads_pending: 0,
        initiated_at: new Date(NOW + 3 * INTERVAL_MS).toISOString(),
      });
      expect(records[0]?.reason).toMatch(/^3 of 3 observers declare ap-south-1 unhealthy: \/health failed/);
    }
    expect(world.eventsOf('region.declared_failed').map((e) => e.source_region)).toEqual([US, EU]);
    expect(world.eventsOf('failover.initiated')).toMatchObject([
      { source_region: US, detail: { failover_id: `failover-${AP}-e0`, failed_region: AP, coordinator: US } },
    ]);

    // Later rounds see the same failure: no second record, no second start, no repeated declaration.
    await world.cycles(2);
    expect(world.starts).toHaveLength(1);
    expect(await world.failovers(US)).toHaveLength(1);
    expect(world.eventsOf('region.declared_failed')).toHaveLength(2);
  });

  // Invariant: a failover whose coordinator is gone is never stranded: the region that would
  // coordinate it now takes it over from its record (the record's coordinator fences the old run).
  it('takes over a stalled failover whose coordinator died', async () => {
    world = await World.start();
    world.down.add(AP);
    await world.cycles(4);
    expect(world.starts).toEqual([{ failover_id: `failover-${AP}-e0`, coordinator: US }]);
    // The coordinator dies too, and is failed over: its execution is gone, the record stops moving.
    world.down.add(US);
    await world.setStatus(US, 'failed');
    const reports = await world.cycles(3);
    expect(world.starts.at(-1)).toEqual({ failover_id: `failover-${AP}-e0`, coordinator: EU });
    expect(world.eventsOf('failover.coordinator_changed')).toMatchObject([
      { source_region: EU, detail: { failover_id: `failover-${AP}-e0`, from: US, to: EU } },
    ]);
    expect((await world.state(EU).getFailover(`failover-${AP}-e0`))?.coordinator).toBe(EU);
    expect([...reports.values()].flatMap((r) => r.actions.failovers_taken_over)).toEqual([]);
    expect(reports.has(US)).toBe(false);
    // Once taken over, nobody takes it over again.
    await world.cycles(3);
    expect(world.starts.filter((x) => x.coordinator === EU)).toHaveLength(1);
  });

  it('is idempotent: the same round twice with the same inputs creates one failover and one start', async () => {
    world = await World.start();
    world.down.add(AP);
    await world.cycles(3);
    const round = async () => (await runProbeRound((world as World).deps(US))).actions;
    const first = await round();
    const second = await round();
    expect(first.failovers_started).toEqual([`failover-${AP}-e0`]);
    expect(second.failovers_started).toEqual([]);
    expect(second.failovers_skipped).toEqual([
      { region: AP, reason: `already initiated by ${US}`, failover_id: `failover-${AP}-e0` },
    ]);
    expect(world.starts).toHaveLength(1);
    expect(await world.failovers(US)).toHaveLength(1);
  });

  it('two detectors on one (replicated) table derive the same id: one record, one start', async () => {
    world = await World.start();
    const shared = world.state(US);
    const detector = (regionId: string): ControlDeps => ({
      ...(world as World).deps(regionId),
      state: shared,
    });
    const failed = {
      region: AP,
      votes_unhealthy: 2,
      voters: 3,
      reasons: ['down'],
      unreachable: true,
      signals: ['unreachable' as const],
      coordinator: US,
    };
    const results = await Promise.all([
      startAutomaticFailover(detector(US), failed, 'ap-south-1 down'),
      startAutomaticFailover(detector(US), failed, 'ap-south-1 down'),
      startAutomaticFailover(detector(EU), failed, 'ap-south-1 down'),
    ]);
    expect(results.map((r) => r.failover_id)).toEqual([
      `failover-${AP}-e0`,
      `failover-${AP}-e0`,
      `failover-${AP}-e0`,
    ]);
    expect(results.filter((r) => r.outcome === 'created')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'existing')).toHaveLength(2);
    expect(world.starts).toHaveLength(1);
    expect(await shared.listFailovers(AP)).toHaveLength(1);
  });

  it('re-issues a workflow start lost after the record was written, once an interval has passed', async () => {
    world = await World.start();
    const deps = world.deps(US);
    const failed = {
      region: AP,
      votes_unhealthy: 2,
      voters: 3,
      reasons: ['down'],
      unreachable: true,
      signals: ['unreachable' as const],
      coordinator: US,
    };
    const lost: ControlDeps = {
      ...deps,
      workflow: { ...world.workflow, startFailover: async () => Promise.reject(new Error('throttled')) },
    };
    await expect(startAutomaticFailover(lost, failed, 'down')).rejects.toThrow('throttled');
    expect((await startAutomaticFailover(deps, failed, 'down')).outcome).toBe('existing');
    world.clock.t += INTERVAL_MS;
    // Not ours (the record replicated to eu-west-1): never restarted from there.
    const fromEu = { ...world.deps(EU), state: world.state(US) };
    expect((await startAutomaticFailover(fromEu, failed, 'down')).outcome).toBe('existing');
    expect((await startAutomaticFailover(deps, failed, 'down')).outcome).toBe('resumed');
    expect(world.starts).toEqual([{ failover_id: `failover-${AP}-e0`, coordinator: US }]);
    // Its first step is recorded now: a later round leaves it alone.
    world.clock.t += INTERVAL_MS;
    expect((await startAutomaticFailover(deps, failed, 'down')).outcome).toBe('existing');
  });

  it('is started by the next region when the coordinator is unreachable', async () => {
    world = await World.start(
      topologyWith((raw) => {
        raw.witnesses.push({ witness_id: 'witness-ca-central-1', region: 'ca-central-1' });
      }),
    );
    world.down.add(US);
    world.down.add(AP);
    await world.cycles(4);
    const report = await runProbeRound(world.deps(EU));
    expect(report.assessment.cut_off).toBe(false);
    expect(report.assessment.reachable).not.toContain(US);
    const failed = new Map(report.assessment.failed.map((f) => [f.region, f.coordinator]));
    expect(failed.get(AP)).toBe(EU);
    expect(failed.get(US)).toBe(EU);
    expect(world.starts).toEqual(
      expect.arrayContaining([
        { failover_id: `failover-${AP}-e0`, coordinator: EU },
        { failover_id: `failover-${US}-e0`, coordinator: EU },
      ]),
    );
    expect(world.starts).toHaveLength(2);
  });

  it('is coordinated by the next region when the first one is itself failed (which only observes)', async () => {
    world = await World.start();
    await world.setStatus(US, 'failed');
    world.down.add(AP);
    const reports = await world.cycles(4);
    expect(reports.get(US)?.actions).toMatchObject({
      passive: 'own status is failed: observing only',
      failovers_started: [],
      events: [],
    });
    expect(reports.get(EU)?.assessment.failed).toMatchObject([{ region: AP, coordinator: EU }]);
    expect(world.starts).toEqual([{ failover_id: `failover-${AP}-e0`, coordinator: EU }]);
    expect(world.events.filter((e) => e.source_region === US)).toEqual([]);
  });

  it('waits out the cooldown since the last failover of the same region', async () => {
    world = await World.start();
    // ap-south-1 was failed over and failed back (epoch 2) 8.5 minutes before it fails again.
    await world.setStatus(AP, 'failed');
    await world.setStatus(AP, 'healthy');
    const earlier = new Date(NOW + 3 * INTERVAL_MS - 570_000).toISOString();
    for (const region of [US, EU, AP]) {
      await world
        .state(region)
        .createFailover(failoverRecord({ failover_id: `failover-${AP}-e0`, initiated_at: earlier }));
    }
    world.down.add(AP);
    const blocked = await world.cycles(4);
    expect(blocked.get(US)?.actions.failovers_skipped).toEqual([
      { region: AP, reason: `cooldown: failover-${AP}-e0 initiated at ${earlier} (cooldown 600 s)` },
    ]);
    expect(world.starts).toEqual([]);

    // 600 s after the last one, the same failure starts a failover with the region's current epoch.
    const after = await world.cycle();
    expect(after.get(US)?.actions.failovers_started).toEqual([`failover-${AP}-e2`]);
    expect(world.starts).toEqual([{ failover_id: `failover-${AP}-e2`, coordinator: US }]);
  });

  it('does not start when automatic failover is disabled, but still declares the failure', async () => {
    world = await World.start(
      topologyWith((raw) => {
        raw.failover_policies.automatic_failover.enabled = false;
      }),
    );
    world.down.add(AP);
    const reports = await world.cycles(4);
    expect(reports.get(US)?.actions.failovers_skipped).toEqual([
      { region: AP, reason: 'automatic failover is disabled (failover_policies.automatic_failover.enabled)' },
    ]);
    expect(world.starts).toEqual([]);
    expect(await world.failovers(US)).toEqual([]);
    expect(world.eventsOf('region.declared_failed', US)).toHaveLength(1);
  });
});

describe('fencing', () => {
  it('a cut-off observer fences itself (epoch + 1, /health 503) and unfences when it sees a majority again', async () => {
    world = await World.start();
    for (const other of [EU, AP, WITNESS]) world.cut.add(`${US}|${other}`);
    const fenceRound = async () => {
      const report = await runProbeRound((world as World).deps(US));
      await runWitnessRound((world as World).witness());
      (world as World).clock.t += INTERVAL_MS;
      return report;
    };
    const statuses: string[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fenceRound()).status);
    expect(statuses).toEqual(['healthy', 'healthy', 'fenced', 'fenced']);
    const fenced = await world.state(US).getRegionStatus(US);
    expect(fenced).toMatchObject({ status: 'fenced', epoch: 1, updated_by: `health-probe@${US}` });
    expect(fenced?.reason).toMatch(/^fenced: cut off from the majority \(reaches 1 of 4 members/);
    expect((await regionHealth(world.deps(US))).serving).toBe(false);
    expect(world.eventsOf('region.fenced', US)).toHaveLength(1);
    expect(world.eventsOf('region.declared_failed', US)).toEqual([]);

    world.cut.clear();
    await runWitnessRound(world.witness());
    // Hysteresis: peers are reachable again after success_threshold (2) rounds with an answer.
    const first = await fenceRound();
    expect(first.actions.unfenced).toBe(false);
    expect(first.status).toBe('fenced');
    const back = await fenceRound();
    expect(back.actions.unfenced).toBe(true);
    expect(await world.state(US).getRegionStatus(US)).toMatchObject({ status: 'healthy', epoch: 2 });
    expect(world.eventsOf('region.unfenced', US)).toMatchObject([{ detail: { region: US, epoch: 2 } }]);
    expect((await regionHealth(world.deps(US))).serving).toBe(true);
  });

  it('a conflicting write of its own status is reported, not thrown', async () => {
    world = await World.start();
    for (const other of [EU, AP, WITNESS]) world.cut.add(`${US}|${other}`);
    const real = world.state(US);
    const racing: StatePort = new Proxy(real, {
      get: (target, name) =>
        name === 'putRegionStatus'
          ? // Another writer bumps the epoch between this round's read and its write.
            async (...args: Parameters<StatePort['putRegionStatus']>) => {
              await (world as World).setStatus(US, 'healthy', false);
              return target.putRegionStatus(...args);
            }
          : Reflect.get(target, name, target).bind(target),
    });
    let report: ProbeRoundReport | undefined;
    for (let i = 0; i < 3; i++) {
      report = await runProbeRound({ ...world.deps(US), state: racing });
      world.clock.t += INTERVAL_MS;
    }
    expect(report?.actions.fenced).toBe(false);
    expect(report?.actions.status_conflict).toMatch(/changed concurrently/);
  });
});

describe('component failures', () => {
  it('ask for one restart per failure, from the coordinator only, and never fail the region over', async () => {
    world = await World.start();
    const w = world;
    w.probe.script = (_observer, target, endpoint) =>
      target === AP && endpoint === '/api/v1/ping' ? 503 : 'ok';
    await w.cycles(6);
    expect(w.eventsOf('component.restart_requested')).toMatchObject([
      { source_region: US, detail: { region: AP, endpoints: ['/api/v1/ping'], requested_by: US } },
    ]);
    expect(await w.failovers(US)).toEqual([]);
    expect(w.starts).toEqual([]);
    expect(w.eventsOf('region.component_failure').map((e) => e.source_region)).toEqual([US, EU]);

    // Healed and broken again: a new transition, a new request.
    w.probe.script = () => 'ok';
    await w.cycles(3);
    w.probe.script = (_observer, target, endpoint) =>
      target === AP && endpoint === '/api/v1/ping' ? 503 : 'ok';
    await w.cycles(4);
    expect(w.eventsOf('component.restart_requested')).toHaveLength(2);
  });
});

describe('a witness round', () => {
  it('writes its views into every reachable replica and skips an unreachable one', async () => {
    world = await World.start();
    world.cut.add(`${WITNESS}|${AP}`);
    const report = await runWitnessRound(world.witness());
    expect(report.views.map((v) => [v.observer, v.target])).toEqual([
      [WITNESS, US],
      [WITNESS, EU],
      [WITNESS, AP],
    ]);
    expect(report.written).toEqual([US, EU]);
    expect(report.skipped).toEqual([{ region: AP, error: `replica ${AP} unreachable` }]);
    for (const region of [US, EU]) {
      const views = (await world.state(region).listTargetHealth()).filter((v) => v.observer === WITNESS);
      expect(views).toHaveLength(3);
    }
    expect(await world.state(AP).listTargetHealth()).toEqual([]);

    // The next round continues from the newest copy any replica holds.
    world.clock.t += INTERVAL_MS;
    const next = await runWitnessRound(world.witness());
    expect(next.views.every((v) => v.rounds === 2)).toBe(true);
    expect(next.read_errors).toEqual([{ region: AP, error: `replica ${AP} unreachable` }]);
  });
});

describe('the probe minute and its handler', () => {
  const advancingSleep = (w: World) => async (ms: number) => {
    w.clock.t += ms;
  };

  it('runs floor(60 / interval) rounds an interval apart inside one invocation', async () => {
    world = await World.start();
    const waits: number[] = [];
    const minute = await runProbeMinute(world.deps(US), {
      sleep: async (ms) => {
        waits.push(ms);
        (world as World).clock.t += ms;
      },
      remainingMs: () => 60_000,
    });
    expect(minute.planned).toBe(2);
    expect(minute.rounds).toHaveLength(2);
    expect(waits).toEqual([INTERVAL_MS]);
    expect(minute.stopped_early).toBeUndefined();
  });

  it('stops early when the invocation has no room left for another round', async () => {
    world = await World.start();
    const minute = await runProbeMinute(world.deps(US), {
      sleep: advancingSleep(world),
      remainingMs: () => 20_000,
    });
    expect(minute.rounds).toHaveLength(1);
    expect(minute.stopped_early).toMatch(/20000 ms left/);
  });

  it('the handler runs the minute from a scheduled event and logs one summary line', async () => {
    world = await World.start();
    world.down.add(AP);
    const lines: string[] = [];
    const handler = createHealthProbeHandler(world.deps(US), {
      sleep: advancingSleep(world),
      log: (l) => lines.push(l),
    });
    const context = { ...lambdaContext, getRemainingTimeInMillis: () => 60_000 } as typeof lambdaContext;
    const first = await handler({ 'detail-type': 'Scheduled Event', source: 'aws.scheduler' }, context);
    expect(first.planned).toBe(2);
    expect(first.rounds.map((r) => r.status)).toEqual(['healthy', 'healthy']);
    expect(first.rounds[0]?.events).toEqual(['region.suspect']);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'info',
      message: 'health probe',
      planned: 2,
    });

    const one = await handler({ rounds: 1 }, context);
    expect(one.rounds).toHaveLength(1);
    await expect(handler({ rounds: 0 }, context)).rejects.toBeInstanceOf(ValidationError);
  });

  it('with the minute driver’s input the handler runs one round and says when the next starts', async () => {
    world = await World.start();
    world.down.add(AP);
    const handler = createHealthProbeHandler(world.deps(US), {
      sleep: async () => {
        throw new Error('a driven round never sleeps');
      },
      log: () => {},
    });
    const minute = { started_at: new Date(NOW).toISOString(), budget_ms: 75_000 };
    const first = await handler({ minute: { ...minute, cursor: { started: 0 } } }, lambdaContext);
    expect(first.planned).toBe(2);
    expect(first.rounds.map((r) => r.events)).toEqual([['region.suspect']]);
    expect(first.minute).toEqual({
      cursor: { started: 1 },
      more: true,
      next_at: new Date(NOW + INTERVAL_MS).toISOString(),
    });
    world.clock.t = NOW + INTERVAL_MS;
    const second = await handler({ minute: { ...minute, cursor: { started: 1 } } }, lambdaContext);
    // The assessment kept from the first round: the suspect verdict is not announced twice.
    expect(second.rounds.map((r) => r.events)).toEqual([[]]);
    expect(second.minute).toMatchObject({ cursor: { started: 2 }, more: false });
    await expect(
      handler({ minute: { ...minute, budget_ms: 0, cursor: { started: 0 } } }, lambdaContext),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('the witness handler reports the replicas it wrote', async () => {
    world = await World.start();
    world.down.add(EU);
    const handler = createWitnessProbeHandler(world.witness(), {
      sleep: advancingSleep(world),
      log: () => {},
    });
    const report = await handler({ rounds: 1 }, lambdaContext);
    expect(report.rounds).toEqual([
      {
        observer: WITNESS,
        at: new Date(NOW).toISOString(),
        written: [US, AP],
        skipped: [`${EU}: replica ${EU} unreachable`],
      },
    ]);
  });

  it('the witness handler runs one round from the minute driver’s input too', async () => {
    world = await World.start();
    const handler = createWitnessProbeHandler(world.witness(), { log: () => {} });
    const report = await handler(
      { minute: { started_at: new Date(NOW).toISOString(), budget_ms: 75_000, cursor: { started: 0 } } },
      lambdaContext,
    );
    expect(report.rounds).toHaveLength(1);
    expect(report.rounds[0]).toMatchObject({ observer: WITNESS, written: [US, EU, AP] });
    expect(report.minute).toMatchObject({ cursor: { started: 1 }, more: true });
  });
});

function failoverRecord(overrides: Partial<FailoverRecord>): FailoverRecord {
  return {
    failover_id: `failover-${AP}-e0`,
    kind: 'failover',
    failed_region: AP,
    trigger: 'automatic',
    reason: 'earlier failure',
    status: 'completed',
    coordinator: US,
    epoch: 0,
    dry_run: false,
    initiated_at: new Date(NOW).toISOString(),
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    updated_at: new Date(NOW).toISOString(),
    ...overrides,
  };
}

describe('availability samples', () => {
  it('the first round of each minute records the observer’s view of every region, once a minute', async () => {
    world = await World.start();
    const w = world;
    const table = w.tables.get(US);
    if (!table) throw new Error('no table for us-east-1');
    const availability = new DynamoAvailabilityAdapter({ client: table.doc, tableName: table.tableName });
    const round = async () => {
      const reports = new Map<string, ProbeRoundReport>();
      for (const region of w.topology.regions) {
        const id = region.region_id;
        if (w.down.has(id)) continue;
        const previous = w.previous.get(id);
        const deps = id === US ? { ...w.deps(id), availability } : w.deps(id);
        const report = await runProbeRound(deps, previous ? { previous } : {});
        w.previous.set(id, report.assessment);
        reports.set(id, report);
      }
      for (const witness of w.topology.witnesses) await runWitnessRound(w.witness(witness.witness_id));
      await w.replicate();
      w.clock.t += INTERVAL_MS;
      return reports.get(US);
    };

    // 12:00:00 records, 12:00:30 does not (same minute), 12:01:00 records the next minute.
    const first = await round();
    expect(first?.availability_sample).toEqual({
      observer: US,
      minute: NOW,
      regions: { [US]: 'up', [EU]: 'up', [AP]: 'up' },
    });
    expect((await round())?.availability_sample).toBeUndefined();
    expect((await round())?.availability_sample?.minute).toBe(NOW + 60_000);

    // eu-west-1 stops answering: once a majority cannot reach it, its minutes are unreachable.
    w.down.add(EU);
    for (let i = 0; i < 4; i++) await round();
    const samples = await availability.listSamples(US, 0);
    // Rounds at 12:01:30 to 12:03:00: two more minutes, 12:02 and 12:03.
    expect(samples.map((s) => s.minute)).toEqual([NOW, NOW + 60_000, NOW + 120_000, NOW + 180_000]);
    expect(samples.at(-1)?.regions).toMatchObject({ [US]: 'up', [EU]: 'unreachable', [AP]: 'up' });
  });
});
