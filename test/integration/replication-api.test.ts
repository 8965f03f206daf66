/**
 * The replication API and the replication monitor's Lambda handler through their middy chains, with
 * API Gateway-shaped events, against dynalite (one table stands in for every replica here; the
 * replication itself is tested on the local runtime).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplicationHandler } from '../../functions/replication/handler.ts';
import { createReplicationMonitorHandler } from '../../functions/replication-monitor/handler.ts';
import { DynamoDocumentStore, DynamoReplicationStore } from '../../lib/adapters/aws/dynamodb-replication.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { countingState } from '../../lib/app/replication/counting-state.ts';
import type { ReplicationDeps } from '../../lib/app/replication/deps.ts';
import { DEFAULT_BEAT_INTERVAL_MS } from '../../lib/core/replication/lag.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { createRegionalApi, type RegionalApiDeps } from '../../lib/local/regional-api.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const US = 'us-east-1';
const T0 = Date.parse('2026-11-26T12:00:00Z');
const topology = validateTopology(defaultTopologyJson());

let table: TestTable;
let events: ControlPlaneEvent[];
let deps: ReplicationDeps;
let now = T0;

beforeAll(async () => {
  table = await startTestTable('replication-api-test');
  events = [];
  const clock = { now: () => now };
  const stores = new Map(
    topology.regions.map((r) => [
      r.region_id,
      new DynamoReplicationStore({
        client: table.doc,
        tableName: table.tableName,
        regionId: r.region_id,
        clock,
      }),
    ]),
  );
  const own = stores.get(US) as DynamoReplicationStore;
  deps = {
    regionId: US,
    topology,
    clock,
    state: countingState(
      new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
      own,
      clock,
    ),
    events: { publish: async (batch) => void events.push(...batch) },
    replication: (region) => stores.get(region) as DynamoReplicationStore,
    documents: new DynamoDocumentStore({
      client: table.doc,
      tableName: table.tableName,
      counter: own,
      clock,
    }),
  };
  await deps.state.putHeartbeat({ region: US, seq: 1, at: T0 });
});
afterAll(async () => {
  await table?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON checked by shape with expect()
async function call(options: Parameters<typeof httpEvent>[0]): Promise<{ status: number; body: any }> {
  const result = await createReplicationHandler(deps)(httpEvent(options), lambdaContext);
  return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') };
}

async function checkRecords(): Promise<number> {
  const keys = await deps.replication(US).sampleKeys(10_000, 0);
  return keys.filter((k) => k.startsWith('CHECK#')).length;
}

describe('GET /v1/replication', () => {
  it('answers every ordered pair with sequences, lag, age and status', async () => {
    await deps.replication(US).beat(T0, 5_000);
    now = T0 + 2_000;
    const { status, body } = await call({ method: 'GET', path: '/v1/replication' });
    expect(status).toBe(200);
    expect(body.observer).toBe(US);
    expect(body.thresholds).toEqual({
      synchronous_seconds: 1,
      asynchronous_seconds: 30,
      alert_records: 10_000,
      alert_seconds: 300,
    });
    expect(body.pairs).toHaveLength(6);
    expect(body.pairs[0]).toEqual(
      expect.objectContaining({
        source: US,
        replica: 'eu-west-1',
        source_seq: 1,
        replica_seq: 1,
        lag_records: 0,
        lag_seconds: 0,
        age_seconds: 2,
        status: 'ok',
      }),
    );
    expect(body.pairs.find((p: { source: string }) => p.source === 'eu-west-1').status).toBe('unknown');
    // Where the data lives, and which tables the pairs measure.
    expect(body.tables[0]).toMatchObject({
      name: 'cortex-state',
      role: 'global',
      consistency: 'MREC',
      lag: 'pairs',
    });
    expect(body.tables.map((t: { name: string; lag: string }) => `${t.name}:${t.lag}`)).toEqual([
      'cortex-state:pairs',
      'cortex-sel-knowledge_base_replication:not_measured',
      'cortex-sel-compliance_data_replication-united_states:single_replica',
      'cortex-sel-compliance_data_replication-european_union:single_replica',
      'cortex-sel-compliance_data_replication-india:single_replica',
    ]);
  });

  it('rejects query parameters it does not know, naming them', async () => {
    const event = httpEvent({ method: 'GET', path: '/v1/replication' });
    const result = await createReplicationHandler(deps)(
      { ...event, queryStringParameters: { region: 'x' } },
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body ?? '{}').error.details).toEqual([
      { field: 'region', reason: 'unknown field "region"' },
    ]);
  });
});

describe('consistency checks over HTTP', () => {
  it('creates a check (201) with defaults and reads it back; 404 and 400 for unknown and malformed ids', async () => {
    const created = await call({ method: 'POST', path: '/v1/replication/consistency-checks' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ observer: US, trigger: 'api', reconcile: false, sample_size: 100 });
    expect(created.body.check_id).toMatch(/^check-us-east-1-[a-z0-9]+-[0-9a-f]{8}$/);
    const read = await call({
      method: 'GET',
      path: `/v1/replication/consistency-checks/${created.body.check_id}`,
      routePath: '/v1/replication/consistency-checks/{id}',
      pathParameters: { id: created.body.check_id },
    });
    expect(read).toEqual({ status: 200, body: created.body });
    const missing = await call({
      method: 'GET',
      path: '/v1/replication/consistency-checks/check-none',
      routePath: '/v1/replication/consistency-checks/{id}',
      pathParameters: { id: 'check-none' },
    });
    expect(missing.status).toBe(404);
    const malformed = await call({
      method: 'GET',
      path: '/v1/replication/consistency-checks/x',
      routePath: '/v1/replication/consistency-checks/{id}',
      pathParameters: { id: 'NOPE' },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details[0].field).toBe('check_id');
  });

  it('rejects a bad body with 400 naming the field, and writes nothing', async () => {
    const before = await checkRecords();
    const cases: [unknown, string][] = [
      [{ sample_size: 0 }, 'sample_size'],
      [{ sample_size: 10_001 }, 'sample_size'],
      [{ sample_size: 2.5 }, 'sample_size'],
      [{ reconcile: 'yes' }, 'reconcile'],
      [{ regions: ['us-east-1'] }, 'regions'],
      ['{"sample_size": 1', '(body)'],
    ];
    for (const [body, field] of cases) {
      const answer = await call({ method: 'POST', path: '/v1/replication/consistency-checks', body });
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect(await checkRecords()).toBe(before);
  });
});

describe('versioned documents over HTTP', () => {
  const doc = (method: string, key: string, body?: unknown, merge = false) =>
    call({
      method,
      path: `/v1/documents/${key}${merge ? '/merge' : ''}`,
      routePath: `/v1/documents/{key}${merge ? '/merge' : ''}`,
      pathParameters: { key },
      ...(body === undefined ? {} : { body }),
    });

  it('writes, reads, refuses a stale merge with 409 and merges', async () => {
    expect((await doc('GET', 'notes')).status).toBe(404);
    const put = await doc('PUT', 'notes', { content: { text: 'hello' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      stale: false,
      document: { key: 'notes', conflict: false, version: { [US]: 1 } },
    });
    const read = await doc('GET', 'notes');
    expect(read.body).toMatchObject({ content: { text: 'hello' }, version: { [US]: 1 } });
    const stale = await doc('PUT', 'notes', { content: { text: 'other' }, version: {} });
    expect(stale.body).toMatchObject({ stale: true, document: { conflict: true } });
    expect(events.map((e) => e.type)).toContain('replication.conflict_detected');
    const refused = await doc('POST', 'notes', { content: 'x', version: { [US]: 1 } }, true);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('MERGE_CONTEXT_STALE');
    const merged = await doc(
      'POST',
      'notes',
      { content: { text: 'both' }, version: stale.body.document.version },
      true,
    );
    expect(merged.status).toBe(200);
    expect(merged.body).toMatchObject({ conflict: false, content: { text: 'both' } });
  });

  it('rejects bad documents with 400 naming the field, and writes nothing', async () => {
    const cases: [string, unknown, string, boolean][] = [
      ['valid-key', {}, 'content', false],
      ['valid-key', { content: 1, version: { mars: 1 } }, 'version', false],
      ['valid-key', { content: 1, version: { [US]: -1 } }, 'version', false],
      ['valid-key', { content: 1, owner: 'me' }, 'owner', false],
      ['bad key!', { content: 1 }, 'key', false],
      ['valid-key', { content: 'x'.repeat(40_000) }, 'content', false],
      ['valid-key', { content: 1 }, 'version', true],
    ];
    for (const [key, body, field, merge] of cases) {
      const answer = await doc(merge ? 'POST' : 'PUT', key, body, merge);
      expect(answer.status, `${key} ${JSON.stringify(body).slice(0, 80)}`).toBe(400);
      expect(answer.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
    expect((await doc('GET', 'valid-key')).status).toBe(404);
  });
});

describe('the regional API and the runtime wiring', () => {
  it('routes the replication concern by method and path', async () => {
    const api = createRegionalApi(deps as unknown as RegionalApiDeps);
    const merge = await api(
      httpEvent({ method: 'POST', path: '/v1/documents/notes/merge', body: { content: 1 } }),
    );
    expect(merge.statusCode).toBe(400);
    expect((await api(httpEvent({ method: 'DELETE', path: '/v1/replication' }))).statusCode).toBe(405);
  });

  // Invariant: a root that leaves out the replication ports does not compile (the type check fails
  // here if it would), so no wiring mistake reaches a request as a 500.
  it('takes the replication ports as required: a handler cannot be built without them', () => {
    const { replication: _r, documents: _d, ...bare } = deps;
    // @ts-expect-error replication and documents are required ports of the replication API
    const unwired = () => createReplicationHandler(bare);
    expect(createReplicationHandler(deps).routeKeys).toContain('GET /v1/replication');
    expect(unwired).toBeTypeOf('function');
  });
});

describe('the replication monitor Lambda handler', () => {
  it('runs the rounds of a minute and logs one line; a consistency check on the hourly input', async () => {
    const lines: string[] = [];
    const slept: number[] = [];
    const handler = createReplicationMonitorHandler(deps, {
      log: (line) => lines.push(line),
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    });
    // Time for three rounds a beat apart (the shared context says 10 s remain).
    const report = await handler({ rounds: 3 }, { ...lambdaContext, getRemainingTimeInMillis: () => 60_000 });
    expect(report.task).toBe('monitor');
    expect(report.rounds).toHaveLength(3);
    expect(slept).toEqual([DEFAULT_BEAT_INTERVAL_MS, DEFAULT_BEAT_INTERVAL_MS]);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'info', message: 'replication monitor' });
    const check = await handler({ task: 'consistency_check', sample_size: 10 }, lambdaContext);
    expect(check).toMatchObject({ task: 'consistency_check', check: { inconsistent: 0 } });
    // Every key of this small table (marks never sampled), at most the 10 asked for.
    const sampled = (check.check as { sampled: number }).sampled;
    expect(sampled).toBe(Math.min(10, (await deps.replication(US).sampleKeys(10_000, 0)).length - 1));
    await expect(handler({ rounds: 0 } as never, lambdaContext)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ field: 'rounds', reason: expect.stringMatching(/at least 1/) }],
    });
  });

  it('with the minute driver’s input runs one round and says when the next starts, never sleeping', async () => {
    const handler = createReplicationMonitorHandler(deps, {
      log: () => {},
      sleep: async () => {
        throw new Error('a driven round never sleeps');
      },
    });
    const startedAt = now;
    const minute = { started_at: new Date(startedAt).toISOString(), budget_ms: 75_000 };
    const first = await handler({ minute: { ...minute, cursor: { started: 0 } } }, lambdaContext);
    expect(first.rounds).toHaveLength(1);
    expect(first.minute).toEqual({
      cursor: { started: 1 },
      more: true,
      next_at: new Date(Math.ceil((startedAt + DEFAULT_BEAT_INTERVAL_MS) / 1000) * 1000).toISOString(),
    });
    // The minute holds 60 s / beat rounds (4 at 15 s); the last says there is no next.
    const rounds = 60_000 / DEFAULT_BEAT_INTERVAL_MS;
    const last = await handler({ minute: { ...minute, cursor: { started: rounds - 1 } } }, lambdaContext);
    expect(last.minute).toMatchObject({ cursor: { started: rounds }, more: false });
  });
});
