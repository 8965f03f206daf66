/**
 * The failover API through its middy chain with API Gateway events, against dynalite, with the
 * workflow and events recorded (the workflow itself is tested in test/statemachine).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFailoversHandler } from '../../functions/failovers/handler.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import type { ControlDeps } from '../../lib/app/deps.ts';
import { ReplicaUnreachableError } from '../../lib/core/errors.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ControlPlaneEvent, StatePort } from '../../lib/ports.ts';
import { failover } from '../contract/state-fixture.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');

function quietTopology(): Topology {
  const json = defaultTopologyJson();
  for (const pool of Object.values<{
    workers: number;
    current_usage: { workers: number; tokens_used: number; compute_units: number };
  }>(json.global_resource_pool.regional_allocation)) {
    pool.current_usage = { workers: 1, tokens_used: 0, compute_units: 0 };
  }
  return validateTopology(json);
}

let table: TestTable;
let started: { failover_id: string; coordinator: string }[];
let answered: { token: string; approved: boolean }[];
let events: ControlPlaneEvent[];

/** `unreachable`: regions whose replica this region (eu-west-1) cannot reach; every other is the one table. */
function deps(topology: Topology, unreachable: readonly string[] = []): ControlDeps {
  const state: StatePort = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
  return {
    regionId: 'eu-west-1',
    topology,
    state,
    clock: { now: () => NOW },
    probe: {
      probe: async (observer, target, endpoint) => ({
        observer,
        target,
        endpoint,
        ok: true,
        status: 200,
        latency_ms: 1,
        at: NOW,
      }),
    },
    events: { publish: async (batch) => void events.push(...batch) },
    workflow: {
      startFailover: async (input) => void started.push(input),
      answerApproval: async (token, approved) => void answered.push({ token, approved }),
    },
    replica: (region) =>
      unreachable.includes(region)
        ? new Proxy(state, {
            get: () => () => Promise.reject(new ReplicaUnreachableError('eu-west-1', region)),
          })
        : state,
  };
}

async function call(
  topology: Topology,
  method: string,
  path: string,
  options: {
    body?: unknown;
    routePath?: string;
    id?: string;
    query?: Record<string, string>;
    unreachable?: readonly string[];
  } = {},
) {
  const event = httpEvent({
    method,
    path,
    routePath: options.routePath ?? path,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.id ? { pathParameters: { id: options.id } } : {}),
  });
  if (options.query) event.queryStringParameters = options.query;
  const result = await createFailoversHandler(deps(topology, options.unreachable))(event, lambdaContext);
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
}

beforeAll(async () => {
  table = await startTestTable();
});
afterAll(() => table.close());
beforeEach(() => {
  started = [];
  answered = [];
  events = [];
});

describe('POST /v1/failovers', () => {
  it('starts a failover: 202 with the id derived from the region and its epoch, workflow started once', async () => {
    const t = quietTopology();
    const answer = await call(t, 'POST', '/v1/failovers', {
      body: { failed_region: 'ap-south-1', reason: 'drill' },
    });
    expect(answer.status).toBe(202);
    expect(answer.body).toMatchObject({
      failover_id: 'failover-ap-south-1-e0',
      status: 'running',
      trigger: 'manual',
    });
    expect(started).toEqual([
      { failover_id: 'failover-ap-south-1-e0', coordinator: answer.body.coordinator },
    ]);
    const again = await call(t, 'POST', '/v1/failovers', {
      body: { failed_region: 'ap-south-1', reason: 'drill again' },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('FAILOVER_IN_PROGRESS');
    expect(started).toHaveLength(1);
  });

  it('answers a dry run with the plan and writes nothing', async () => {
    const t = quietTopology();
    const answer = await call(t, 'POST', '/v1/failovers', {
      body: { failed_region: 'us-east-1', reason: 'what if', dry_run: true },
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'planned', target_region: 'eu-west-1', dry_run: true });
    expect(started).toEqual([]);
    const list = await call(t, 'GET', '/v1/failovers', { query: { failed_region: 'us-east-1' } });
    expect(list.body.failovers).toEqual([]);
  });

  it('answers 422 with every region and why when no survivor has any room', async () => {
    const raw = defaultTopologyJson();
    for (const id of ['eu-west-1', 'ap-south-1']) {
      const pool = raw.global_resource_pool.regional_allocation[id];
      pool.current_usage.workers = pool.workers;
    }
    const t = validateTopology(raw);
    const answer = await call(t, 'POST', '/v1/failovers', {
      body: { failed_region: 'us-east-1', reason: 'drill' },
    });
    expect(answer.status).toBe(422);
    expect(answer.body.excluded.map((e: { region: string }) => e.region).sort()).toEqual([
      'ap-south-1',
      'eu-west-1',
    ]);
    expect(JSON.stringify(answer.body.excluded)).toMatch(/capacity/);
    expect(started).toEqual([]);
  });

  it('starts on the spec snapshot (no target at 50 %: the work is spread over the survivors with room)', async () => {
    const answer = await call(validateTopology(defaultTopologyJson()), 'POST', '/v1/failovers', {
      body: { failed_region: 'us-east-1', reason: 'drill' },
    });
    expect(answer.status).toBe(202);
  });

  it.each([
    ['an unknown field', { failed_region: 'us-east-1', reason: 'x', force: true }, 'force'],
    ['a missing reason', { failed_region: 'us-east-1' }, 'reason'],
    ['a malformed region', { failed_region: 'US East', reason: 'x' }, 'failed_region'],
    ['an unknown region', { failed_region: 'mars-east-1', reason: 'x' }, 'failed_region'],
    [
      'the same target as the failed region',
      { failed_region: 'us-east-1', target_region: 'us-east-1', reason: 'x' },
      'target_region',
    ],
    ['an unknown action', { failed_region: 'us-east-1', reason: 'x', action: 'explode' }, 'action'],
  ])('rejects %s with 400 naming the field', async (_name, body, field) => {
    const answer = await call(quietTopology(), 'POST', '/v1/failovers', { body });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    expect(started).toEqual([]);
  });
});

describe('reading and steering failovers', () => {
  it('lists, reads one, and answers 404 / 400 for unknown and malformed ids', async () => {
    const t = quietTopology();
    const list = await call(t, 'GET', '/v1/failovers');
    expect(list.status).toBe(200);
    expect(list.body.failovers.map((f: { failover_id: string }) => f.failover_id)).toContain(
      'failover-ap-south-1-e0',
    );
    const one = await call(t, 'GET', '/v1/failovers/failover-ap-south-1-e0', {
      routePath: '/v1/failovers/{id}',
      id: 'failover-ap-south-1-e0',
    });
    expect(one.status).toBe(200);
    expect(one.body.approval_token).toBeUndefined();
    const missing = await call(t, 'GET', '/v1/failovers/failover-eu-west-1-e9', {
      routePath: '/v1/failovers/{id}',
      id: 'failover-eu-west-1-e9',
    });
    expect(missing.status).toBe(404);
    const malformed = await call(t, 'GET', '/v1/failovers/x', {
      routePath: '/v1/failovers/{id}',
      id: '../x',
    });
    expect(malformed.status).toBe(400);
    const badQuery = await call(t, 'GET', '/v1/failovers', { query: { status: 'exploded' } });
    expect(badQuery.status).toBe(400);
    expect(badQuery.body.error.details[0].field).toBe('status');
  });

  it('aborts a running failover once, then answers 409', async () => {
    const t = quietTopology();
    const path = '/v1/failovers/failover-ap-south-1-e0/abort';
    const abort = await call(t, 'POST', path, {
      routePath: '/v1/failovers/{id}/abort',
      id: 'failover-ap-south-1-e0',
      body: { by: 'oncall' },
    });
    expect(abort.status).toBe(200);
    expect(abort.body.abort_requested).toBe(true);
    expect(events.map((e) => e.type)).toContain('failover.abort_requested');
    const approve = await call(t, 'POST', '/v1/failovers/failover-ap-south-1-e0/approve', {
      routePath: '/v1/failovers/{id}/approve',
      id: 'failover-ap-south-1-e0',
    });
    expect(approve.status).toBe(409);
    expect(approve.body.error.code).toBe('FAILOVER_NOT_AWAITING_APPROVAL');
    const badBody = await call(t, 'POST', path, {
      routePath: '/v1/failovers/{id}/abort',
      id: 'failover-ap-south-1-e0',
      body: { by: 'x', sudo: true },
    });
    expect(badBody.status).toBe(400);
  });

  // An abort is decided in the coordinator's replica (principle 4: a write on a stale replica would
  // replace its newer record everywhere): out of reach, a 503 naming it, and nothing written here.
  it("answers 503 COORDINATOR_UNREACHABLE when the coordinator's replica is out of reach, and writes nothing", async () => {
    const t = quietTopology();
    const at = new Date(NOW).toISOString();
    const record = failover({
      failover_id: 'failover-ap-south-1-e7',
      failed_region: 'ap-south-1',
      reason: 'unreachable',
      coordinator: 'us-east-1',
      epoch: 7,
      initiated_at: at,
      updated_at: at,
    });
    const state = deps(t).state;
    await state.createFailover(record);
    for (const action of ['abort', 'approve', 'decline']) {
      const answer = await call(t, 'POST', `/v1/failovers/${record.failover_id}/${action}`, {
        routePath: `/v1/failovers/{id}/${action}`,
        id: record.failover_id,
        body: { by: 'oncall' },
        unreachable: ['us-east-1'],
      });
      expect(answer.status).toBe(503);
      expect(answer.body.error).toMatchObject({
        code: 'COORDINATOR_UNREACHABLE',
        failover_id: record.failover_id,
        coordinator: 'us-east-1',
        region: 'eu-west-1',
      });
      expect(answer.body.error.message).toContain('may be stale');
    }
    expect(await state.getFailover(record.failover_id)).toEqual(record);
    expect(events).toEqual([]);
    expect(answered).toEqual([]);
  });
});
