/**
 * The item sizes the cost model charges write units for (price book `item_bytes`), and the read
 * units it charges a round, against what the jobs really do: the real use cases (probe, witness,
 * replication and latency rounds, a route) run on the shipped default topology over the real
 * DynamoDB adapters and dynalite until every window and partition is full; each item they leave is
 * sized by DynamoDB's rules (dynalite's own sizing, which its ConsumedCapacity uses) and each read's
 * ConsumedCapacity summed. A write costs ceil(size / 1 KB) units: an assumption that disagrees with
 * the code under-prices (or over-prices) every write of that kind. The last describe holds the
 * compact health view item to the view it was written from.
 */
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
// @ts-expect-error dynalite ships no types for its sizing module (db/index.js itemSize).
import { itemSize } from 'dynalite/db/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouterHandler } from '../../functions/router/handler.ts';
import { DynamoAvailabilityAdapter } from '../../lib/adapters/aws/dynamodb-availability.ts';
import { DynamoComplianceAdapter } from '../../lib/adapters/aws/dynamodb-compliance.ts';
import { DynamoLatencyAdapter } from '../../lib/adapters/aws/dynamodb-latency.ts';
import { DynamoDocumentStore, DynamoReplicationStore } from '../../lib/adapters/aws/dynamodb-replication.ts';
import { DynamoResourcesAdapter } from '../../lib/adapters/aws/dynamodb-resources.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { runLatencySampler } from '../../lib/app/latency/sampler.ts';
import { runProbeRound, runWitnessRound } from '../../lib/app/probe-round.ts';
import { countingState } from '../../lib/app/replication/counting-state.ts';
import { runReplicationRound } from '../../lib/app/replication/monitor.ts';
import { AWS_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import { ITEM_KINDS, type ItemKind, writeUnits } from '../../lib/core/cost/item-size.ts';
import { PRICE_BOOK, type Scaled } from '../../lib/core/cost/price-book.ts';
import type { ProbeObservation, TargetHealth, WindowSample } from '../../lib/core/health/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ProbePort, StatePort } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const topology = validateTopology(defaultTopologyJson());
const REGIONS = topology.regions.map((r) => r.region_id);
const START = Date.parse('2026-11-26T12:00:00.000Z');
const INTERVAL_MS = topology.failover_policies.health_check.interval_seconds * 1000;
const WITNESSES = new Set(topology.witnesses.map((w) => w.witness_id));

/** A price book figure for the default topology, as the model scales it (a witness has no region of its own). */
function scaledFor(job: string, s: Scaled): number {
  const regions = REGIONS.length;
  return (
    (s.fixed ?? 0) +
    (s.per_peer ?? 0) * (job === 'witness-probe' ? regions : regions - 1) +
    (s.per_region ?? 0) * regions +
    (s.per_region_squared ?? 0) * regions ** 2
  );
}
/** Rounds enough to fill every window: 30 samples of three endpoints in ten rounds, the latency window in ten runs. */
const ROUNDS = 14;

/**
 * Every region answers as a live deployment's HttpProbe records it: a latency to a tenth of a
 * millisecond around the topology's matrix figure, and `/coordination/status`'s figures (capacity to
 * three places, a heartbeat of a region that has run for weeks, what its replica holds of the others).
 */
class LiveProbe implements ProbePort {
  #calls = 0;
  readonly #clock: { now(): number };

  constructor(clock: { now(): number }) {
    this.#clock = clock;
  }

  async probe(observer: string, target: string, endpoint: string): Promise<ProbeObservation> {
    this.#calls += 1;
    // The witness (us-west-2) is tens of ms from every region.
    const base = WITNESSES.has(observer) ? 70 : (topology.latency.matrix[observer]?.[target] ?? 100);
    // A spread of a few ms with tenths, as a real round trip's: 183.7, 186.2 ...
    const latency_ms = Math.round((base + 3 + ((this.#calls * 37) % 61) / 10) * 10) / 10;
    const at = this.#clock.now();
    const observation = { observer, target, endpoint, at, ok: true, status: 200, latency_ms };
    if (endpoint !== '/coordination/status') return observation;
    return {
      ...observation,
      reported_status: 'healthy',
      available_capacity: 0.286,
      reported_heartbeat: { seq: 1_051_200 + Math.floor((at - START) / INTERVAL_MS), at },
      reported_peers: REGIONS.filter((r) => r !== target).map((region) => ({
        region,
        status: 'healthy' as const,
        epoch: 12,
        role: 'active',
      })),
    };
  }
}

/** The kind of item a key of the state table's layout (lib/adapters/aws/state-keys.ts) holds. */
function itemKindOfKey(pk: string, sk: string): ItemKind | 'other' {
  if (pk === 'HEALTH') return WITNESSES.has(sk.split('#')[0] ?? '') ? 'witness_view' : 'probe_view';
  if (pk === 'HEARTBEAT') return 'heartbeat';
  if (pk.startsWith('AVAILABILITY_LEDGER#')) return 'availability_ledger';
  if (pk.startsWith('AVAILABILITY#')) return 'availability_sample';
  if (pk === 'REPLICATION' && sk.startsWith('MARK#')) return 'replication_mark';
  if (pk === 'LATENCY') return 'latency_entry';
  if (pk.startsWith('HANDOFF#')) return 'handoff';
  if (pk.startsWith('CLAIMS#')) return 'claim';
  if (pk.startsWith('HOLDS#')) return 'hold';
  if (pk === 'RESOURCES') return sk.startsWith('HELD#') ? 'held_counter' : 'resource_pool';
  return 'other';
}

/** The commands that read: each asks for its ConsumedCapacity (as dynalite computes it), which is summed. */
const READ_COMMANDS = /^(Get|Query|BatchGet)Command$/;

/**
 * The kinds of item each write command touched, in order (a Put's item, an Update's key), and the
 * read units every read consumed.
 */
function recording(
  doc: DynamoDBDocumentClient,
  written: (ItemKind | 'other')[],
  read: { units: number },
): DynamoDBDocumentClient {
  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const reading = READ_COMMANDS.test(command.constructor.name);
        if (reading) command.input.ReturnConsumedCapacity = 'TOTAL';
        const answer = (await target.send(command as never)) as {
          ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
        };
        if (reading) {
          const consumed = answer.ConsumedCapacity;
          for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) {
            read.units += c.CapacityUnits ?? 0;
          }
        }
        const key = (command.input.Item ?? command.input.Key) as { pk?: string; sk?: string } | undefined;
        if (/^(Put|Update)Command$/.test(command.constructor.name) && key?.pk !== undefined) {
          written.push(itemKindOfKey(String(key.pk), String(key.sk)));
        }
        return answer;
      };
    },
  });
}

describe('the item sizes and read units the cost model charges', () => {
  let table: TestTable;
  const clock = { t: START, now: () => clock.t };
  /** Write commands per job, over all its runs. */
  const writes: Record<string, (ItemKind | 'other')[]> = {};
  /** Runs (rounds) of each job. */
  const runs: Record<string, number> = {};
  /** Read units of each job, over all its runs. */
  const reads: Record<string, { units: number }> = {};
  /** Read units and runs of each job in the last minute of rounds (the route: its own). */
  const lastMinute: Record<string, { units: number; runs: number }> = {};
  const measured = new Map<ItemKind | 'other', number>();

  beforeAll(async () => {
    table = await startTestTable();
    const docFor = (job: string) => {
      writes[job] = [];
      runs[job] = 0;
      reads[job] = { units: 0 };
      return recording(table.doc, writes[job], reads[job]);
    };
    const probeDoc = docFor('health-probe');
    const witnessDoc = docFor('witness-probe');
    const monitorDoc = docFor('replication-monitor');
    const samplerDoc = docFor('latency-sampler');
    const routerDoc = docFor('router');
    const tableName = table.tableName;
    // As the Lambda root wires a replica: every state write counted on the region's mark.
    const stateOf = (doc: DynamoDBDocumentClient, region: string): StatePort =>
      countingState(
        new DynamoStateAdapter({ client: doc, tableName, writer: region }),
        new DynamoReplicationStore({ client: doc, tableName, regionId: region, clock }),
        clock,
      );
    const probe = new LiveProbe(clock);
    const quiet = { publish: async () => {} };
    const noWorkflow = { startFailover: async () => {}, answerApproval: async () => {} };

    for (let round = 0; round < ROUNDS; round++) {
      clock.t = START + round * INTERVAL_MS;
      // The reads of the last minute: every partition as full as a running deployment's.
      if (round === ROUNDS - 2) {
        for (const [job, r] of Object.entries(reads))
          lastMinute[job] = { units: -r.units, runs: -(runs[job] ?? 0) };
      }
      for (const regionId of REGIONS) {
        const state = stateOf(probeDoc, regionId);
        await runProbeRound({
          regionId,
          topology,
          state,
          clock,
          probe,
          events: quiet,
          workflow: noWorkflow,
          replica: () => state,
          availability: new DynamoAvailabilityAdapter({ client: probeDoc, tableName }),
        } as Parameters<typeof runProbeRound>[0]);
        runs['health-probe'] = (runs['health-probe'] ?? 0) + 1;
      }
      for (const witness of topology.witnesses) {
        await runWitnessRound({
          witnessId: witness.witness_id,
          topology,
          clock,
          probe,
          replica: () => new DynamoStateAdapter({ client: witnessDoc, tableName }),
        });
        runs['witness-probe'] = (runs['witness-probe'] ?? 0) + 1;
      }
      for (const regionId of REGIONS) {
        const replication = (region: string) =>
          new DynamoReplicationStore({ client: monitorDoc, tableName, regionId: region, clock });
        await runReplicationRound({
          regionId,
          topology,
          clock,
          events: quiet,
          replication,
          documents: new DynamoDocumentStore({
            client: monitorDoc,
            tableName,
            counter: replication(regionId),
            clock,
          }),
        });
        runs['replication-monitor'] = (runs['replication-monitor'] ?? 0) + 1;
        if (round % 2 === 0) {
          await runLatencySampler({
            regionId,
            topology,
            clock,
            probe,
            events: quiet,
            latency: new DynamoLatencyAdapter({ client: samplerDoc, tableName }),
          });
          runs['latency-sampler'] = (runs['latency-sampler'] ?? 0) + 1;
        }
      }
    }

    for (const [job, r] of Object.entries(reads)) {
      const m = lastMinute[job];
      if (m) lastMinute[job] = { units: m.units + r.units, runs: m.runs + (runs[job] ?? 0) };
    }

    // A task routed as the design's example asks (compliance, residency, classification, latency).
    const state = stateOf(routerDoc, 'us-east-1');
    const router = createRouterHandler({
      regionId: 'us-east-1',
      topology,
      state,
      clock,
      deployment: AWS_DEPLOYMENT_FACTS,
      compliance: new DynamoComplianceAdapter({ client: routerDoc, tableName }),
      latency: new DynamoLatencyAdapter({ client: routerDoc, tableName }),
      resources: new DynamoResourcesAdapter({
        client: routerDoc,
        tableName,
        handoffs: { client: routerDoc, tableName },
        writer: 'us-east-1',
        pools: { client: routerDoc, tableName },
        clock,
      }),
      replica: () => state,
    } as Parameters<typeof createRouterHandler>[0]);
    const before = writes.router?.length ?? 0;
    const answer = await router(
      httpEvent({
        method: 'POST',
        path: '/v1/route',
        body: {
          task_id: 'task-2026-11-26-000042',
          priority: 'high',
          source: { region: 'us-east-1' },
          requirements: {
            compliance: ['hipaa'],
            data_residency: 'US',
            data_classification: 'pii',
            latency_sensitive: true,
            max_latency_ms: 150,
            capabilities: ['workers'],
          },
        },
      }),
      lambdaContext,
    );
    expect(answer.statusCode).toBe(200);
    runs.router = 1;
    // Only the route's own writes (the pools it seeded on first use are not a route's).
    writes.router = (writes.router ?? []).slice(before).filter((k) => k !== 'resource_pool');

    const { Items = [] } = await table.client.send(new ScanCommand({ TableName: tableName }));
    for (const item of Items) {
      const kind = itemKindOfKey(String(item.pk?.S), String(item.sk?.S));
      measured.set(kind, Math.max(measured.get(kind) ?? 0, itemSize(item) as number));
    }
  }, 120_000);
  afterAll(() => table?.close());

  it('every kind of item the jobs and a route write is measured, and the price book sizes it within 3 % and in the same write units', () => {
    const assumed = PRICE_BOOK.assumptions.item_bytes;
    // Only the seldom records (failovers, reports, checks) are an estimate.
    expect([...measured.keys()].sort()).toEqual(ITEM_KINDS.filter((k) => k !== 'record').sort());
    for (const [kind, bytes] of measured) {
      const guess = assumed[kind as ItemKind];
      expect(writeUnits(guess), `${kind}: ${bytes} bytes measured, ${guess} assumed`).toBe(writeUnits(bytes));
      expect(
        Math.abs(guess - bytes),
        `${kind}: ${bytes} bytes measured, ${guess} assumed`,
      ).toBeLessThanOrEqual(Math.max(16, bytes * 0.03));
    }
  });

  it('each job reads per round, with full partitions, the read units its price book assumption charges', () => {
    const measuredReads: Record<string, number> = {
      ...Object.fromEntries(
        Object.entries(lastMinute).map(([job, m]) => [job, m.units / Math.max(1, m.runs)]),
      ),
      router: reads.router?.units ?? 0,
    };
    for (const job of ['health-probe', 'witness-probe', 'replication-monitor', 'latency-sampler', 'router']) {
      const assumption = PRICE_BOOK.assumptions.runs[job];
      const charged = assumption ? scaledFor(job, assumption.reads) : 0;
      const seen = measuredReads[job] ?? 0;
      expect(seen, `${job}: read units a round`).toBeGreaterThan(0);
      expect(
        Math.abs(charged - seen),
        `${job}: ${seen} read units a round measured, ${charged} charged`,
      ).toBeLessThanOrEqual(Math.max(0.5, seen * 0.1));
    }
  });

  it('each job writes per round the items its price book assumption charges', () => {
    const { runs: jobs } = PRICE_BOOK.assumptions;
    for (const job of ['health-probe', 'witness-probe', 'replication-monitor', 'latency-sampler', 'router']) {
      const assumption = jobs[job];
      expect(assumption, job).toBeDefined();
      const counted = new Map<string, number>();
      for (const kind of writes[job] ?? []) counted.set(kind, (counted.get(kind) ?? 0) + 1);
      const perRun = Object.fromEntries(
        [...counted].map(([kind, n]) => [kind, n / (runs[job] ?? 1)]),
      ) as Record<string, number>;
      const charged: Record<string, number> = {};
      const perMinute = 60_000 / INTERVAL_MS;
      for (const w of assumption?.writes ?? []) charged[w.item] = (charged[w.item] ?? 0) + scaledFor(job, w);
      for (const w of assumption?.writes_per_minute ?? []) {
        charged[w.item] =
          (charged[w.item] ?? 0) + ((w.fixed ?? 0) + (w.per_region ?? 0) * REGIONS.length) / perMinute;
      }
      for (const kind of new Set([...Object.keys(perRun), ...Object.keys(charged)])) {
        expect(charged[kind] ?? 0, `${job} writes of ${kind} a round`).toBeCloseTo(perRun[kind] ?? 0, 1);
      }
    }
  });
});

describe('a health view in its compact item', () => {
  let table: TestTable;
  let state: DynamoStateAdapter;
  beforeAll(async () => {
    table = await startTestTable();
    state = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
  });
  afterAll(() => table?.close());

  const sample = (
    at: number,
    endpoint: string | undefined,
    ok: boolean,
    answered?: boolean,
  ): WindowSample => ({
    at,
    ok,
    latency_ms: ok ? 183.7 : 10_000,
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(answered === undefined ? {} : { answered }),
  });
  const failing: TargetHealth = {
    observer: 'eu-west-1',
    target: 'us-east-1',
    consecutive_failures: 2,
    consecutive_successes: 0,
    endpoints: {
      '/health': { consecutive_failures: 2, last_ok: false, last_error: 'timeout' },
      '/api/v1/ping': { consecutive_failures: 0, last_ok: true },
      '/coordination/status': { consecutive_failures: 1, last_ok: false, last_error: 'http 503' },
    },
    window: [
      sample(START, '/health', true, true),
      sample(START, '/api/v1/ping', true),
      sample(START + 30_000, '/health', false, false),
      sample(START + 30_000, undefined, false, true),
      sample(START + 29_000, '/coordination/status', false, true),
    ],
    error_rate: 0.6,
    p99_ms: 10_000,
    verdict: 'suspect',
    reasons: ['/health failed 2 rounds in a row'],
    signals: ['health_check'],
    reachable: true,
    rounds: 40,
    updated_at: START + 30_000,
  };
  const raw = async (observer: string, target: string) =>
    (
      await table.doc.send(
        new GetCommand({ TableName: table.tableName, Key: { pk: 'HEALTH', sk: `${observer}#${target}` } }),
      )
    ).Item ?? {};

  it('reads back exactly the view written: failures, errors, absent fields and a time going back included', async () => {
    await state.putTargetHealth(failing);
    expect((await state.listTargetHealth()).find((v) => v.observer === 'eu-west-1')).toEqual(failing);
    const item = await raw('eu-west-1', 'us-east-1');
    expect(item.window).toBeUndefined();
    expect(item.endpoints).toBeUndefined();
    expect(typeof item.w).toBe('string');
  });

  it('writes as a list and a map what the strings cannot hold exactly, and reads it back the same', async () => {
    const odd: TargetHealth = {
      ...failing,
      observer: 'ap-south-1',
      endpoints: { '/a,b': { consecutive_failures: 0, last_ok: true } },
      window: [{ ...sample(START, '/a,b', true), at: START + 0.5 }],
    };
    await state.putTargetHealth(odd);
    expect((await state.listTargetHealth()).find((v) => v.observer === 'ap-south-1')).toEqual(odd);
    const item = await raw('ap-south-1', 'us-east-1');
    expect(item.w).toBeUndefined();
    expect(item.window).toEqual(odd.window);
  });

  it('reads a view an older version wrote (window a list of maps, endpoints a map): a rolling deployment has both', async () => {
    const old = { ...failing, observer: 'witness-us-west-2' };
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { pk: 'HEALTH', sk: 'witness-us-west-2#us-east-1', record_type: 'target_health', ...old },
      }),
    );
    expect((await state.listTargetHealth()).find((v) => v.observer === 'witness-us-west-2')).toEqual(old);
  });
});
