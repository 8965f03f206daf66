/**
 * The operations API through the regional dispatch (the same middy chains as the Lambdas) against
 * dynalite: an emergency shutdown needs its confirmation, takes the region out of routing and of
 * /health, blocks failovers of it, and is undone only by a confirmed restore of a region that still
 * answers; the daily report is stored and read back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoComplianceAdapter } from '../../lib/adapters/aws/dynamodb-compliance.ts';
import { DynamoOpsAdapter } from '../../lib/adapters/aws/dynamodb-ops.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import type { ControlDeps } from '../../lib/app/deps.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { callRegion } from '../support/regional-call.ts';

const NOW = Date.parse('2026-12-03T06:00:00Z');

let table: TestTable;
let events: ControlPlaneEvent[];
let now: number;
const topology: Topology = quietTopology();

function quietTopology(): Topology {
  const json = defaultTopologyJson();
  for (const pool of Object.values<{
    current_usage: { workers: number; tokens_used: number; compute_units: number };
  }>(json.global_resource_pool.regional_allocation)) {
    pool.current_usage = { workers: 1, tokens_used: 0, compute_units: 0 };
  }
  return validateTopology(json);
}

/** One region's deps on the shared table (one replica: enough for the API's own rules). */
function deps(regionId: string): ControlDeps {
  const state = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
  return {
    regionId,
    topology,
    state,
    clock: { now: () => now },
    probe: {
      probe: async (observer, target, endpoint) => ({
        observer,
        target,
        endpoint,
        ok: true,
        status: 200,
        latency_ms: 1,
        at: now,
      }),
    },
    events: { publish: async (batch) => void events.push(...batch) },
    workflow: { startFailover: async () => undefined, answerApproval: async () => undefined },
    replica: () => state,
    ops: new DynamoOpsAdapter({ client: table.doc, tableName: table.tableName }),
    compliance: new DynamoComplianceAdapter({ client: table.doc, tableName: table.tableName }),
  };
}

function call(regionId: string, method: string, path: string, body?: unknown) {
  return callRegion(deps(regionId), method, path, body);
}

const SHUTDOWN = '/v1/regions/us-east-1/emergency-shutdown';

beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => {
  await table.close();
});
beforeEach(async () => {
  await table.close();
  table = await startTestTable();
  events = [];
  now = NOW;
});

describe('emergency shutdown', () => {
  it('is refused without the confirmation, and changes nothing', async () => {
    const missing = await call('eu-west-1', 'POST', SHUTDOWN, { reason: 'credential leak' });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([
      {
        field: 'confirm',
        reason: 'required: send "confirm": "us-east-1" to an emergency shutdown us-east-1',
      },
    ]);
    const wrong = await call('eu-west-1', 'POST', SHUTDOWN, {
      reason: 'credential leak',
      confirm: 'eu-west-1',
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details[0].field).toBe('confirm');

    expect((await call('us-east-1', 'GET', '/health')).status).toBe(200);
    expect((await call('eu-west-1', 'GET', '/v1/ops/incidents')).body).toEqual({ incidents: [] });
    expect(events).toEqual([]);
  });

  it('takes the region out of service at epoch + 1: /health 503, and it gets no new task', async () => {
    const shut = await call('eu-west-1', 'POST', SHUTDOWN, {
      reason: 'credential leak',
      confirm: 'us-east-1',
      drain_timeout_seconds: 120,
    });
    expect(shut.status).toBe(202);
    expect(shut.body.status).toMatchObject({ region_id: 'us-east-1', status: 'shutdown', epoch: 1 });
    expect(shut.body.status.drain_until).toBe('2026-12-03T06:02:00.000Z');
    expect(shut.body.incident).toMatchObject({
      incident_id: 'incident-us-east-1-e1',
      status: 'open',
      reason: 'credential leak',
      opened_by: 'operator',
      notified: ['region.emergency_shutdown'],
      audit: [
        { action: 'shutdown', via: 'eu-west-1', from_status: 'healthy', to_status: 'shutdown', epoch: 1 },
      ],
    });
    expect(events.map((e) => e.type)).toEqual(['region.emergency_shutdown']);

    const health = await call('us-east-1', 'GET', '/health');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'shutdown', serving: false });

    // A task from us-east-1 itself, which it would otherwise keep (lowest latency): it goes elsewhere.
    const routed = await call('eu-west-1', 'POST', '/v1/route', {
      task_id: 'task-after-shutdown',
      source: { region: 'us-east-1' },
    });
    expect(routed.status).toBe(200);
    expect(routed.body.region).not.toBe('us-east-1');
    expect(routed.body.excluded).toContainEqual({
      region: 'us-east-1',
      reasons: expect.arrayContaining(['region is shut down by an operator, not serving']),
    });
    // The shut-down region's own API routes nothing either.
    const own = await call('us-east-1', 'POST', '/v1/route', { task_id: 'task-asked-there' });
    expect(own.status).toBe(503);

    const regions = await call('eu-west-1', 'GET', '/v1/regions/us-east-1');
    expect(regions.body.health.action).toContain('shut down by an operator');
  });

  it('blocks a failover of the shut-down region and a second shutdown', async () => {
    await call('eu-west-1', 'POST', SHUTDOWN, { reason: 'breach', confirm: 'us-east-1' });
    const again = await call('eu-west-1', 'POST', SHUTDOWN, { reason: 'breach', confirm: 'us-east-1' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('REGION_ALREADY_SHUT_DOWN');
    const failover = await call('eu-west-1', 'POST', '/v1/failovers', {
      failed_region: 'us-east-1',
      reason: 'test',
    });
    expect(failover.status).toBe(409);
    expect(failover.body.error.code).toBe('REGION_SHUT_DOWN');
    const failback = await call('eu-west-1', 'POST', '/v1/failovers', {
      failed_region: 'us-east-1',
      reason: 'test',
      action: 'failback',
    });
    expect(failback.status).toBe(409);
    expect(failback.body.error.code).toBe('REGION_NOT_FAILED');
  });

  it('answers 404 for an unknown region and 400 for a malformed one', async () => {
    const unknown = await call('eu-west-1', 'POST', '/v1/regions/sa-east-1/emergency-shutdown', {
      reason: 'x',
      confirm: 'sa-east-1',
    });
    expect(unknown.status).toBe(404);
    const malformed = await call('eu-west-1', 'POST', '/v1/regions/NOPE/emergency-shutdown', {
      reason: 'x',
      confirm: 'NOPE',
    });
    expect(malformed.status).toBe(400);
  });
});

describe('bringing a shut-down region back', () => {
  it('needs the confirmation and a region that still answers, then serves again at epoch + 1', async () => {
    await call('eu-west-1', 'POST', SHUTDOWN, { reason: 'breach', confirm: 'us-east-1' });
    now = NOW + 60_000;

    const unconfirmed = await call('eu-west-1', 'DELETE', SHUTDOWN);
    expect(unconfirmed.status).toBe(400);
    expect(unconfirmed.body.error.details[0].field).toBe('confirm');

    const silent = await call('eu-west-1', 'DELETE', SHUTDOWN, { confirm: 'us-east-1' });
    expect(silent.status).toBe(409);
    expect(silent.body.error.code).toBe('REGION_NOT_ANSWERING');
    expect((await call('us-east-1', 'GET', '/health')).status).toBe(503);

    // It keeps probing while shut down: its heartbeat arrives.
    await deps('us-east-1').state.putHeartbeat({ region: 'us-east-1', seq: 7, at: now - 5_000 });
    const restored = await call('eu-west-1', 'DELETE', SHUTDOWN, {
      confirm: 'us-east-1',
      reason: 'keys rotated',
    });
    expect(restored.status).toBe(200);
    expect(restored.body.status).toMatchObject({ status: 'healthy', epoch: 2 });
    expect(restored.body.incident).toMatchObject({ status: 'resolved', resolved_by: 'operator' });
    expect(restored.body.incident.audit.map((a: { action: string }) => a.action)).toEqual([
      'shutdown',
      'restore',
    ]);
    expect(events.map((e) => e.type)).toEqual(['region.emergency_shutdown', 'region.restored']);
    expect((await call('us-east-1', 'GET', '/health')).status).toBe(200);

    const twice = await call('eu-west-1', 'DELETE', SHUTDOWN, { confirm: 'us-east-1' });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('REGION_NOT_SHUT_DOWN');
  });
});

describe('the daily operations report', () => {
  it('is stored with every check and read back; the cost figure is carried with its date', async () => {
    const first = await call('eu-west-1', 'POST', '/v1/ops/reports');
    expect(first.status).toBe(201);
    expect(Object.keys(first.body.checks)).toEqual([
      'health',
      'replication',
      'latency',
      'capacity',
      'compliance',
      'cost',
    ]);
    expect(first.body.checks.health.status).toBe('ok');
    // No audit in the last day: the compliance check says which regions lack one.
    expect(first.body.checks.compliance).toMatchObject({
      status: 'warning',
      data: { audits: [], missing: ['us-east-1', 'eu-west-1', 'ap-south-1'] },
    });
    // Not wired here: the check says so, and the report is still written.
    expect(first.body.checks.replication.status).toBe('unknown');
    expect(first.body.checks.cost).toMatchObject({ status: 'unknown', data: { source: 'unavailable' } });

    now += 1000;
    const priced = await call('eu-west-1', 'POST', '/v1/ops/reports', {
      cost_estimate: { total_usd: 123.45, computed_at: '2026-12-03T05:59:00Z', price_book: 'aws-2025' },
    });
    expect(priced.body.checks.cost).toMatchObject({
      status: 'ok',
      data: { source: 'estimate', total_usd: 123.45 },
    });

    now += 1000;
    const carried = await call('eu-west-1', 'POST', '/v1/ops/reports');
    expect(carried.body.checks.cost.data).toMatchObject({
      source: 'carried',
      total_usd: 123.45,
      computed_at: '2026-12-03T05:59:00Z',
    });

    const list = await call('eu-west-1', 'GET', '/v1/ops/reports');
    expect(list.body.reports.map((r: { report_id: string }) => r.report_id)).toEqual([
      carried.body.report_id,
      priced.body.report_id,
      first.body.report_id,
    ]);
    expect(list.body.reports[0].checks.cost).toBe('ok');
    const one = await call('eu-west-1', 'GET', `/v1/ops/reports/${first.body.report_id}`);
    expect(one.body).toEqual(first.body);
    expect((await call('eu-west-1', 'GET', '/v1/ops/reports/ops-eu-west-1-20200101T000000Z')).status).toBe(
      404,
    );
    expect((await call('eu-west-1', 'GET', '/v1/ops/reports/nope')).status).toBe(400);
  });

  it('reports a shut-down region and its open incident', async () => {
    await call('eu-west-1', 'POST', SHUTDOWN, { reason: 'breach', confirm: 'us-east-1' });
    const report = await call('eu-west-1', 'POST', '/v1/ops/reports');
    expect(report.body.open_incidents).toEqual(['incident-us-east-1-e1']);
    expect(report.body.checks.health.status).toBe('warning');
    expect(report.body.checks.health.findings[0]).toMatch(/^us-east-1 is shut down by an operator/);
  });
});
