import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHealthHandler } from '../../functions/health/handler.ts';
import { createRegionsHandler } from '../../functions/regions/handler.ts';
import { createRouterHandler } from '../../functions/router/handler.ts';
import type { RegionalDeps } from '../../lib/app/deps.ts';
import type { RegionStatus } from '../../lib/core/state/records.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { regionalDepsOn, setRegionStatus } from '../support/regional-deps.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');

let table: TestTable;
let deps: RegionalDeps;
let counter = 0;

beforeAll(async () => {
  table = await startTestTable();
  deps = regionalDepsOn(table, { now: () => NOW });
});
afterAll(() => table.close());

const router = () => createRouterHandler(deps);
const route = (body: unknown) =>
  router()(httpEvent({ method: 'POST', path: '/v1/route', body }), lambdaContext).then((r) => ({
    status: r.statusCode,
    body: JSON.parse(r.body ?? 'null'),
  }));
const newTaskId = () => `task-${++counter}`;

const setStatus = (regionId: string, status: RegionStatus) => setRegionStatus(deps.state, regionId, status);

async function itemCount(): Promise<number> {
  const { Items } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
  return Items?.length ?? 0;
}

describe('POST /v1/route', () => {
  beforeEach(async () => {
    for (const r of ['us-east-1', 'eu-west-1', 'ap-south-1']) {
      const current = await deps.state.getRegionStatus(r);
      if (current && current.status !== 'healthy') await setStatus(r, 'healthy');
    }
  });

  it('answers the decision and records a pending handoff', async () => {
    const taskId = newTaskId();
    const answer = await route({
      task_id: taskId,
      priority: 'high',
      source: { region: 'us-east-1' },
      requirements: {
        compliance: ['hipaa'],
        data_residency: 'US',
        latency_sensitive: true,
        max_latency_ms: 150,
      },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      task_id: taskId,
      region: 'us-east-1',
      handoff: {
        handoff_id: `cross-region-${taskId}`,
        task_id: taskId,
        source_region: 'us-east-1',
        target_region: 'us-east-1',
        status: 'pending',
        created_at: '2026-11-26T12:00:00Z',
      },
    });
    expect(answer.body.candidates[0].factors).toEqual({
      capacity: 24,
      latency: 99.9,
      compliance: 100,
      cost: 95,
    });
    expect(answer.body.excluded.map((e: { region: string }) => e.region).sort()).toEqual([
      'ap-south-1',
      'eu-west-1',
    ]);
    const stored = await deps.state.getHandoff(`cross-region-${taskId}`);
    expect(stored?.target_region).toBe('us-east-1');
    expect(stored?.routing_score).toBe(answer.body.score);
  });

  it('uses the region that serves the request as the source when none is given', async () => {
    const answer = await route({ task_id: newTaskId(), requirements: { latency_sensitive: true } });
    expect(answer.status).toBe(200);
    expect(answer.body.handoff.source_region).toBe('us-east-1');
    expect(answer.body.region).toBe('us-east-1');
  });

  it('routes a caller outside the platform by its country', async () => {
    const answer = await route({
      task_id: newTaskId(),
      source: { country: 'de' },
      requirements: { latency_sensitive: true },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.region).toBe('eu-west-1');
    expect(answer.body.candidates[0].latency_source).toBe('great_circle');
  });

  it('is idempotent per task_id: the same request answers the same decision and writes nothing', async () => {
    const body = { task_id: newTaskId(), requirements: { data_residency: 'EU' } };
    const first = await route(body);
    await setStatus('eu-west-1', 'degraded'); // even a changed world replays the recorded decision
    const items = await itemCount();
    const again = await route({ requirements: { data_residency: 'EU' }, task_id: body.task_id });
    expect(again).toEqual(first);
    expect(await itemCount()).toBe(items);
  });

  it('answers 409 when a task_id is reused with another request', async () => {
    const taskId = newTaskId();
    await route({ task_id: taskId, requirements: { data_residency: 'EU' } });
    const answer = await route({ task_id: taskId, requirements: { data_residency: 'US' } });
    expect(answer.status).toBe(409);
    expect(answer.body.error.code).toBe('TASK_ID_REUSED');
    expect((await deps.state.getHandoff(`cross-region-${taskId}`))?.target_region).toBe('eu-west-1');
  });

  it('answers 422 with every region and its reasons when no region qualifies', async () => {
    const taskId = newTaskId();
    const answer = await route({
      task_id: taskId,
      requirements: { compliance: ['hipaa'], data_residency: 'DE' },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.error.code).toBe('NO_ELIGIBLE_REGION');
    expect(answer.body.excluded).toHaveLength(3);
    expect(await deps.state.getHandoff(`cross-region-${taskId}`)).toBeUndefined();
  });

  it('avoids a failed region and routes nothing from a fenced one', async () => {
    await setStatus('eu-west-1', 'failed');
    const answer = await route({ task_id: newTaskId(), requirements: { data_residency: 'EU' } });
    expect(answer.status).toBe(422);
    expect(answer.body.excluded.find((e: { region: string }) => e.region === 'eu-west-1').reasons).toContain(
      'region is failed, not serving',
    );
    await setStatus('us-east-1', 'fenced');
    const fenced = await route({ task_id: newTaskId() });
    expect(fenced.status).toBe(503);
    expect(fenced.body.error.code).toBe('REGION_NOT_SERVING');
  });

  describe('rejects bad input with 400 naming the field, and writes nothing', () => {
    const cases: [string, unknown, string, RegExp][] = [
      ['malformed JSON', '{"task_id": ', '(body)', /JSON/],
      ['an empty body', '', '(body)', /missing/],
      ['a missing task_id', { requirements: {} }, 'task_id', /required/],
      ['a task_id of the wrong type', { task_id: 5 }, 'task_id', /expected a string, got 5/],
      ['a task_id with bad characters', { task_id: 'task 42/x' }, 'task_id', /must match/],
      ['a task_id over 128 characters', { task_id: 'a'.repeat(129) }, 'task_id', /must match/],
      ['an unknown top-level field', { task_id: 't-1', colour: 'red' }, 'colour', /unknown field/],
      [
        'an unknown requirement',
        { task_id: 't-1', requirements: { gpu: true } },
        'requirements.gpu',
        /unknown field/,
      ],
      [
        'a wrong type',
        { task_id: 't-1', requirements: { max_latency_ms: '150' } },
        'requirements.max_latency_ms',
        /number/,
      ],
      [
        'a negative latency',
        { task_id: 't-1', requirements: { max_latency_ms: -1 } },
        'requirements.max_latency_ms',
        /.+/,
      ],
      ['an unknown priority', { task_id: 't-1', priority: 'urgent' }, 'priority', /.+/],
      [
        'an unknown source region',
        { task_id: 't-1', source: { region: 'mars-1' } },
        'source.region',
        /unknown region/,
      ],
      ['a non-ISO country', { task_id: 't-1', source: { country: 'XX' } }, 'source.country', /ISO 3166-1/],
      [
        'both region and country',
        { task_id: 't-1', source: { region: 'us-east-1', country: 'DE' } },
        'source',
        /exactly one/,
      ],
      [
        'an unknown framework',
        { task_id: 't-1', requirements: { compliance: ['fedramp'] } },
        'requirements.compliance[0]',
        /unknown compliance framework/,
      ],
      [
        'an unknown residency',
        { task_id: 't-1', requirements: { data_residency: 'MARS' } },
        'requirements.data_residency',
        /neither/,
      ],
      [
        'an unknown capability',
        { task_id: 't-1', requirements: { capabilities: ['gpus'] } },
        'requirements.capabilities[0]',
        /unknown capability/,
      ],
      [
        'a fractional worker count',
        { task_id: 't-1', requirements: { workers: 1.5 } },
        'requirements.workers',
        /.+/,
      ],
      ['an array body', [1, 2], '(body)', /.+/],
      ['a malformed subject id', { task_id: 't-1', subject_id: 'a b' }, 'subject_id', /must match/],
      [
        'an unknown legal hold basis',
        { task_id: 't-1', legal_hold: { basis: 'vibes', reason: 'x' } },
        'legal_hold.basis',
        /.+/,
      ],
    ];
    it.each(cases)('%s', async (_name, body, field, reason) => {
      const before = await itemCount();
      const answer = await route(body);
      expect(answer.status).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      const detail = answer.body.error.details.find((d: { field: string }) => d.field === field);
      expect(detail, JSON.stringify(answer.body.error.details)).toBeDefined();
      expect(detail.reason).toMatch(reason);
      expect(await itemCount()).toBe(before);
    });
  });

  it('answers 413 for a body over 64 KiB', async () => {
    const answer = await route({ task_id: 't-big', padding: 'x'.repeat(70 * 1024) });
    expect(answer.status).toBe(413);
    expect(answer.body.error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects a non-JSON content type', async () => {
    const result = await router()(
      httpEvent({
        method: 'POST',
        path: '/v1/route',
        body: '{"task_id":"t-1"}',
        headers: { 'content-type': 'text/plain' },
      }),
      lambdaContext,
    );
    expect(result.statusCode).toBe(400);
  });

  it('never answers 500 to arbitrary client input', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ task_id: 'fuzz-1', requirements: v })),
        ),
        async (body) => {
          const result = await router()(
            httpEvent({ method: 'POST', path: '/v1/route', body }),
            lambdaContext,
          );
          expect(result.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('GET /v1/regions', () => {
  const regions = () => createRegionsHandler(deps);

  it('lists every region with live status, role, weight and capacity', async () => {
    await setStatus('ap-south-1', 'draining');
    const result = await regions()(httpEvent({ method: 'GET', path: '/v1/regions' }), lambdaContext);
    expect(result.statusCode).toBe(200);
    const body = JSON.parse(result.body ?? '{}');
    expect(body.observer).toBe('us-east-1');
    expect(body.regions.map((r: { region_id: string }) => r.region_id)).toEqual([
      'us-east-1',
      'eu-west-1',
      'ap-south-1',
    ]);
    const ap = body.regions[2];
    expect(ap).toMatchObject({ status: 'draining', serving: false, traffic_weight: 25, tier: 'tertiary' });
    expect(ap.capacity.available).toBeCloseTo(0.4);
  });

  it('shows what each observer last concluded about a region', async () => {
    await deps.state.putTargetHealth({
      observer: 'eu-west-1',
      target: 'ap-south-1',
      consecutive_failures: 3,
      consecutive_successes: 0,
      endpoints: {},
      window: [],
      error_rate: 1,
      p99_ms: 10_000,
      verdict: 'unhealthy',
      reasons: ['/health failed 3 rounds in a row (timeout)'],
      rounds: 3,
      updated_at: NOW,
    });
    const result = await regions()(httpEvent({ method: 'GET', path: '/v1/regions' }), lambdaContext);
    const ap = JSON.parse(result.body ?? '{}').regions[2];
    expect(ap.observers['eu-west-1']).toMatchObject({
      verdict: 'unhealthy',
      consecutive_failures: 3,
      reasons: ['/health failed 3 rounds in a row (timeout)'],
      updated_at: '2026-11-26T12:00:00.000Z',
    });
  });

  it('answers one region, and 404 for an unknown one', async () => {
    const one = await regions()(
      httpEvent({
        method: 'GET',
        path: '/v1/regions/eu-west-1',
        routePath: '/v1/regions/{id}',
        pathParameters: { id: 'eu-west-1' },
      }),
      lambdaContext,
    );
    expect(one.statusCode).toBe(200);
    expect(JSON.parse(one.body ?? '{}').region_id).toBe('eu-west-1');
    const missing = await regions()(
      httpEvent({
        method: 'GET',
        path: '/v1/regions/mars-1',
        routePath: '/v1/regions/{id}',
        pathParameters: { id: 'mars-1' },
      }),
      lambdaContext,
    );
    expect(missing.statusCode).toBe(404);
    expect(JSON.parse(missing.body ?? '{}').error.code).toBe('NOT_FOUND');
  });
});

describe('health endpoints', () => {
  const health = () => createHealthHandler(deps);
  const get = async (path: string) => {
    const r = await health()(httpEvent({ method: 'GET', path }), lambdaContext);
    return { status: r.statusCode, body: JSON.parse(r.body ?? '{}') };
  };

  it('answers 200 on /health while the region serves and 503 when it is draining, failed or fenced', async () => {
    await setStatus('us-east-1', 'healthy');
    expect((await get('/health')).status).toBe(200);
    for (const status of ['draining', 'failed', 'fenced'] as const) {
      await setStatus('us-east-1', status);
      const answer = await get('/health');
      expect(answer.status).toBe(503);
      expect(answer.body).toMatchObject({ region: 'us-east-1', status, serving: false });
    }
    await setStatus('us-east-1', 'degraded');
    expect((await get('/health')).status).toBe(200);
  });

  it('answers ping and the coordination status with what this region sees of the others', async () => {
    expect((await get('/api/v1/ping')).body).toMatchObject({ pong: true, region: 'us-east-1' });
    const status = await get('/coordination/status');
    expect(status.status).toBe(200);
    expect(status.body.region).toBe('us-east-1');
    expect(status.body.available_capacity).toBeCloseTo(0.24);
    expect(status.body.heartbeat).toEqual({ seq: 0, at: 0 });
    await deps.state.putHeartbeat({ region: 'us-east-1', seq: 4, at: NOW });
    expect((await get('/coordination/status')).body.heartbeat).toEqual({ seq: 4, at: NOW });
    expect(status.body.peers.map((p: { region: string }) => p.region).sort()).toEqual([
      'ap-south-1',
      'eu-west-1',
    ]);
  });
});
