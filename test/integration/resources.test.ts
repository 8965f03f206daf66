import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRebalancerHandler } from '../../functions/rebalancer/handler.ts';
import { createResourcesHandler } from '../../functions/resources/handler.ts';
import { createRouterHandler } from '../../functions/router/handler.ts';
import { DynamoResourcesAdapter } from '../../lib/adapters/aws/dynamodb-resources.ts';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { regionalDepsOn } from '../support/regional-deps.ts';

const START = Date.parse('2026-11-26T12:10:00Z');

let table: TestTable;
let now = START;
let counter = 0;
const published: ControlPlaneEvent[] = [];
let deps: FunctionDeps<'rebalancer'>;

beforeAll(async () => {
  table = await startTestTable();
  deps = {
    ...regionalDepsOn(table, { now: () => now }),
    resources: new DynamoResourcesAdapter({ client: table.doc, tableName: table.tableName }),
    events: {
      publish: async (events) => {
        published.push(...events);
      },
    },
  };
});
afterAll(() => table.close());

async function call(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) {
  const handler = path === '/v1/route' ? createRouterHandler(deps) : createResourcesHandler(deps);
  const routeKey = `${method} ${path
    .replace(/^\/v1\/resources\/[^/]+\/usage$/, '/v1/resources/{region}/usage')
    .replace(/^\/v1\/handoffs\/[^/]+\/(complete|fail)$/, '/v1/handoffs/{handoff_id}/$1')}`;
  const pathParameters: Record<string, string> = {};
  const usage = /^\/v1\/resources\/([^/]+)\/usage$/.exec(path);
  if (usage?.[1]) pathParameters.region = usage[1];
  const settle = /^\/v1\/handoffs\/([^/]+)\//.exec(path);
  if (settle?.[1]) pathParameters.handoff_id = settle[1];
  const event = {
    ...httpEvent({ method, path, ...(body === undefined ? {} : { body }) }),
    routeKey,
    ...(Object.keys(pathParameters).length > 0 ? { pathParameters } : {}),
  };
  const result = await handler(event, lambdaContext);
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
}

const regionOf = async (region: string) => {
  const { body } = await call('GET', '/v1/resources');
  return body.regions.find((r: { region: string }) => r.region === region);
};

const taskId = () => `res-task-${++counter}`;

describe('the resource pool', () => {
  it('starts from the topology snapshot and shows allocation, usage, utilization and totals', async () => {
    const { status, body } = await call('GET', '/v1/resources');
    expect(status).toBe(200);
    expect(body.hour).toBe('2026-11-26T12');
    const us = body.regions.find((r: { region: string }) => r.region === 'us-east-1');
    expect(us).toMatchObject({
      allocation: { workers: 25, tokens_per_hour: 500000, compute_units: 500 },
      usage: { workers: 18, tokens_used: 320000, compute_units: 380 },
      available: { workers: 7, tokens_per_hour: 180000, compute_units: 120 },
      utilization: { workers: 0.72, tokens_per_hour: 0.64, compute_units: 0.76, overall: 0.76 },
      level: 'warning',
    });
    expect(body.totals.allocated).toEqual({ workers: 50, tokens_per_hour: 1000000, compute_units: 1000 });
    expect(body.totals.usage).toEqual({ workers: 33, tokens_used: 580000, compute_units: 720 });
  });

  it('reserves a routed task exactly once and releases it exactly once, even when completion is retried', async () => {
    const id = taskId();
    const before = await regionOf('ap-south-1');
    const routed = await call('POST', '/v1/route', {
      task_id: id,
      source: { region: 'ap-south-1' },
      requirements: {
        data_residency: 'IN',
        workers: 2,
        estimated_tokens: 10000,
        compute_units: 5,
      },
    });
    expect(routed.status).toBe(200);
    expect(routed.body.region).toBe('ap-south-1');
    // A replayed route answers the same decision and reserves nothing more.
    const replayed = await call('POST', '/v1/route', {
      task_id: id,
      source: { region: 'ap-south-1' },
      requirements: { data_residency: 'IN', workers: 2, estimated_tokens: 10000, compute_units: 5 },
    });
    expect(replayed.body.handoff).toEqual(routed.body.handoff);
    const held = await regionOf('ap-south-1');
    expect(held.usage).toEqual({
      workers: before.usage.workers + 2,
      tokens_used: before.usage.tokens_used + 10000,
      compute_units: before.usage.compute_units + 5,
    });

    const handoffId = routed.body.handoff.handoff_id;
    const first = await call('POST', `/v1/handoffs/${handoffId}/complete`, { actual_tokens: 7000 });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'completed', settled_now: true });
    const again = await call('POST', `/v1/handoffs/${handoffId}/complete`, { actual_tokens: 7000 });
    expect(again.status).toBe(200);
    expect(again.body.settled_now).toBe(false);
    const after = await regionOf('ap-south-1');
    // Workers and compute units back; the tokens actually used stay counted for the hour.
    expect(after.usage).toEqual({
      workers: before.usage.workers,
      tokens_used: before.usage.tokens_used + 7000,
      compute_units: before.usage.compute_units,
    });
    const stored = await deps.state.getHandoff(handoffId);
    expect(stored?.status).toBe('completed');
    // Failing a completed handoff is a conflict and changes nothing.
    const fail = await call('POST', `/v1/handoffs/${handoffId}/fail`);
    expect(fail.status).toBe(409);
    expect((await regionOf('ap-south-1')).usage).toEqual(after.usage);
  });

  it('concurrent identical routes of one task hold one reservation (the losers give theirs back)', async () => {
    const before = await regionOf('ap-south-1');
    const body = {
      task_id: taskId(),
      source: { region: 'ap-south-1' },
      requirements: { data_residency: 'IN', estimated_tokens: 1000, compute_units: 2 },
    };
    const answers = await Promise.all([1, 2, 3].map(() => call('POST', '/v1/route', body)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(new Set(answers.map((a) => a.body.handoff.handoff_id)).size).toBe(1);
    expect((await regionOf('ap-south-1')).usage).toEqual({
      workers: before.usage.workers + 1,
      tokens_used: before.usage.tokens_used + 1000,
      compute_units: before.usage.compute_units + 2,
    });
    await call('POST', `/v1/handoffs/${answers[0]?.body.handoff.handoff_id}/fail`);
    expect((await regionOf('ap-south-1')).usage).toEqual(before.usage);
  });

  it('a failed task gives its tokens back unless it says it used some', async () => {
    const before = await regionOf('ap-south-1');
    const routed = await call('POST', '/v1/route', {
      task_id: taskId(),
      source: { region: 'ap-south-1' },
      requirements: { data_residency: 'IN', estimated_tokens: 5000 },
    });
    const results = await Promise.all(
      [1, 2, 3].map(() => call('POST', `/v1/handoffs/${routed.body.handoff.handoff_id}/fail`, {})),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(results.filter((r) => r.body.settled_now)).toHaveLength(1);
    expect((await regionOf('ap-south-1')).usage).toEqual(before.usage);
  });

  it('excludes a region that cannot fit the task and scores capacity from live usage', async () => {
    const routed = await call('POST', '/v1/route', {
      task_id: taskId(),
      source: { region: 'ap-south-1' },
      requirements: { data_residency: 'IN', estimated_tokens: 150000 },
    });
    expect(routed.status).toBe(422);
    const ap = routed.body.excluded.find((e: { region: string }) => e.region === 'ap-south-1');
    expect(ap.reasons.join(' ')).toMatch(/insufficient tokens_per_hour: needs 150000, \d+ free of 200000/);
    const wide = await call('POST', '/v1/route', {
      task_id: taskId(),
      // Critical: the reserve near saturation is kept for it (lower priorities are shed first).
      priority: 'critical',
      source: { region: 'us-east-1' },
      requirements: { estimated_tokens: 150000 },
    });
    expect(wide.status).toBe(200);
    expect(wide.body.region).toBe('us-east-1');
    expect(wide.body.excluded.map((e: { region: string }) => e.region)).toContain('ap-south-1');
  });

  it('rolls token usage over at the hour', async () => {
    now = Date.parse('2026-11-26T13:00:05Z');
    const us = await regionOf('us-east-1');
    expect(us.usage.tokens_used).toBe(0);
    expect(us.usage.workers).toBeGreaterThanOrEqual(18);
    now = START;
  });

  it("takes a region's own usage report and rejects a bad one naming the field, writing nothing", async () => {
    const ok = await call('PUT', '/v1/resources/eu-west-1/usage', {
      workers: 14,
      tokens_used: 290000,
      compute_units: 295,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ region: 'eu-west-1', level: 'critical' });
    const bad = await call('PUT', '/v1/resources/eu-west-1/usage', { workers: -1, tokens_used: 1 });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.map((d: { field: string }) => d.field);
    expect(fields).toEqual(expect.arrayContaining(['workers', 'compute_units']));
    const unknown = await call('PUT', '/v1/resources/eu-west-1/usage', {
      workers: 1,
      tokens_used: 1,
      compute_units: 1,
      extra: true,
    });
    expect(unknown.status).toBe(400);
    expect((await regionOf('eu-west-1')).usage).toEqual({
      workers: 14,
      tokens_used: 290000,
      compute_units: 295,
    });
    expect((await call('PUT', '/v1/resources/xx-nowhere-1/usage', ok.body.usage)).status).toBe(404);
  });

  it('rebalances toward an overloaded region: a dry run plans, a run applies, records and emits', async () => {
    await call('PUT', '/v1/resources/eu-west-1/usage', {
      workers: 14,
      tokens_used: 290000,
      compute_units: 295,
    });
    await call('PUT', '/v1/resources/ap-south-1/usage', {
      workers: 2,
      tokens_used: 10000,
      compute_units: 20,
    });
    const before = await call('GET', '/v1/resources');
    const dry = await call('POST', '/v1/rebalance', { dry_run: true });
    expect(dry.status).toBe(200);
    expect(dry.body.moves.length).toBeGreaterThan(0);
    // ap-south-1 is the only region under 30 %: every move comes from it, eu-west-1 (over 85 %) gains.
    const moves: { to: string; from: string }[] = dry.body.moves;
    expect(new Set(moves.map((m) => m.from))).toEqual(new Set(['ap-south-1']));
    expect(moves.map((m) => m.to)).toContain('eu-west-1');
    expect((await call('GET', '/v1/resources')).body.regions).toEqual(before.body.regions);

    const run = await call('POST', '/v1/rebalance', {});
    expect(run.status).toBe(200);
    expect(run.body.applied).toEqual(dry.body.moves);
    const after = await call('GET', '/v1/resources');
    expect(after.body.totals.allocated).toEqual(before.body.totals.allocated);
    const eu = after.body.regions.find((r: { region: string }) => r.region === 'eu-west-1');
    expect(eu.allocation.workers).toBeGreaterThan(15);
    expect(published.map((e) => e.type)).toContain('resources.rebalanced');
    expect((await deps.resources?.listRebalances(5))?.[0]?.applied).toEqual(run.body.applied);
    expect((await call('POST', '/v1/rebalance', { dry_run: 'yes' })).status).toBe(400);
  });

  it('runs on schedule only in the first serving region in failover order, and not at all when disabled', async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    const other = await createRebalancerHandler({ ...deps, regionId: 'eu-west-1' }, { log })(
      {},
      lambdaContext,
    );
    expect(other).toEqual({ skipped: 'us-east-1 rebalances (first serving region in failover order)' });
    const own = await createRebalancerHandler(deps, { log })({}, lambdaContext);
    expect(own).toMatchObject({ dry_run: false, enabled: true });
    const json = structuredClone(deps.topology) as {
      global_resource_pool: { dynamic_rebalancing: { enabled: boolean } };
    };
    json.global_resource_pool.dynamic_rebalancing.enabled = false;
    const off = await createRebalancerHandler(
      { ...deps, topology: json as unknown as typeof deps.topology },
      { log },
    )({}, lambdaContext);
    expect(off).toEqual({ skipped: 'dynamic_rebalancing is disabled' });
    expect(lines).toHaveLength(3);
  });

  it('drops token counters of hours before the previous one on its scheduled run', async () => {
    const attributes = async () => {
      const { Item } = await table.doc.send(
        new GetCommand({ TableName: table.tableName, Key: { pk: 'RESOURCES', sk: 'POOL#ap-south-1' } }),
      );
      return Object.keys(Item ?? {}).filter((name) => name.startsWith('tokens@'));
    };
    expect(await attributes()).toContain('tokens@2026-11-26T12');
    now = Date.parse('2026-11-26T14:10:00Z');
    try {
      await createRebalancerHandler(deps, { log: () => undefined })({}, lambdaContext);
      expect(await attributes()).toEqual([]);
    } finally {
      now = START;
    }
  });
});
