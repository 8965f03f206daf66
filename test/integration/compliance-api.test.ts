/**
 * The compliance API, the router and the failover plan through their middy chains with API Gateway
 * events, against dynalite: the same rules answer the check, place the task and keep a failover
 * from moving data out of its jurisdiction; audits find what is wrong in stored data.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createComplianceAuditHandler } from '../../functions/compliance-audit/handler.ts';
import { createComplianceHandler } from '../../functions/compliance-check/handler.ts';
import { createFailoversHandler } from '../../functions/failovers/handler.ts';
import { createRouterHandler } from '../../functions/router/handler.ts';
import { DynamoComplianceAdapter } from '../../lib/adapters/aws/dynamodb-compliance.ts';
import { DynamoSelectiveStore } from '../../lib/adapters/aws/dynamodb-selective.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { createStateTable } from '../../lib/adapters/aws/state-table.ts';
import type { ComplianceDeps } from '../../lib/app/compliance/deps.ts';
import type { ControlDeps } from '../../lib/app/deps.ts';
import { AWS_DEPLOYMENT_FACTS, LOCAL_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import type { DeploymentFacts } from '../../lib/core/compliance/types.ts';
import { placeReplication } from '../../lib/core/replication/placement.ts';
import type { Handoff, RegionStatus } from '../../lib/core/state/records.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { httpEvent, lambdaContext } from '../support/events.ts';
import { setRegionStatus } from '../support/regional-deps.ts';

const NOW = Date.parse('2026-11-26T12:00:00Z');

let events: ControlPlaneEvent[];
beforeEach(() => {
  events = [];
});

/** The shipped topology's selective tables beside the state table: the audit reads this region's. */
async function startTables(): Promise<TestTable> {
  const table = await startTestTable();
  for (const placed of placeReplication(loadTopologyFile()).tables) {
    if (placed.role === 'selective') await createStateTable(table.client, placed.name);
  }
  return table;
}

function depsOn(
  table: TestTable,
  options: { topology?: Topology; deployment?: DeploymentFacts; regionId?: string; now?: number } = {},
): ControlDeps & ComplianceDeps {
  const state = new DynamoStateAdapter({ client: table.doc, tableName: table.tableName });
  const regionId = options.regionId ?? 'us-east-1';
  const topology = options.topology ?? loadTopologyFile();
  const clock = { now: () => options.now ?? NOW };
  return {
    regionId,
    topology,
    state,
    clock,
    selective: new DynamoSelectiveStore({
      client: table.doc,
      regionId,
      placement: placeReplication(topology),
      clock,
    }),
    deployment: options.deployment ?? AWS_DEPLOYMENT_FACTS,
    compliance: new DynamoComplianceAdapter({ client: table.doc, tableName: table.tableName }),
    events: { publish: async (batch) => void events.push(...batch) },
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
    workflow: { startFailover: async () => undefined, answerApproval: async () => undefined },
    replica: () => state,
  };
}

// biome-ignore lint/suspicious/noExplicitAny: answers are JSON read freely by each test.
type Answer = { status: number; body: any };

async function call(
  handler: (
    event: ReturnType<typeof httpEvent>,
    context: typeof lambdaContext,
  ) => Promise<{ statusCode?: number; body?: string }>,
  method: string,
  path: string,
  options: { body?: unknown; routePath?: string; id?: string; query?: Record<string, string> } = {},
): Promise<Answer> {
  const event = httpEvent({
    method,
    path,
    routePath: options.routePath ?? path,
    ...(options.body === undefined ? {} : { body: options.body }),
    ...(options.id ? { pathParameters: { id: options.id } } : {}),
  });
  if (options.query) event.queryStringParameters = options.query;
  const result = await handler(event, lambdaContext);
  return { status: result.statusCode ?? 0, body: JSON.parse(result.body ?? 'null') };
}

async function itemCount(table: TestTable): Promise<number> {
  const { Items } = await table.doc.send(new ScanCommand({ TableName: table.tableName }));
  return Items?.length ?? 0;
}

const setStatus = (deps: ControlDeps, region: string, status: RegionStatus) =>
  setRegionStatus(deps.state, region, status);

describe('POST /v1/compliance/check', () => {
  let table: TestTable;
  let deps: ControlDeps & ComplianceDeps;
  const check = (body: unknown, on: ComplianceDeps = deps) =>
    call(createComplianceHandler(on), 'POST', '/v1/compliance/check', { body });

  beforeAll(async () => {
    table = await startTables();
    deps = depsOn(table);
  });
  afterAll(() => table.close());

  it("answers the compliant regions, the target's verdict and every reason", async () => {
    const answer = await check({
      data_classification: 'pii',
      user_location: 'de',
      target_region: 'us-east-1',
    });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({
      check_id: expect.stringMatching(/^check-/),
      data_classification: 'pii',
      user_location: 'de',
      origin: { label: 'DE', countries: ['DE'], jurisdictions: ['european_union'] },
      deployment: 'aws',
      compliant: false,
      compliant_regions: ['eu-west-1'],
      target: {
        region: 'us-east-1',
        compliant: false,
        reasons: [{ type: 'data_residency', rule: 'data_localization' }],
      },
    });
    expect(
      answer.body.regions.map((r: { region: string; compliant: boolean }) => [r.region, r.compliant]),
    ).toEqual([
      ['us-east-1', false],
      ['eu-west-1', true],
      ['ap-south-1', false],
    ]);
    expect(answer.body.regions[1]).toEqual({
      region: 'eu-west-1',
      compliant: true,
      basis: 'in_jurisdiction',
      reasons: [],
    });
  });

  it("reads the spec's aliases: UK is GB, EEA a group, codes in any case", async () => {
    const uk = await check({ data_classification: 'sensitive', user_location: 'UK' });
    expect(uk.body.origin).toEqual({ label: 'GB', countries: ['GB'], jurisdictions: ['european_union'] });
    expect(uk.body.compliant_regions).toEqual(['eu-west-1']);
    const eea = await check({
      data_classification: 'pii',
      user_location: 'eea',
      frameworks: ['GDPR', 'iso_27001'],
    });
    expect(eea.body.origin.countries).toHaveLength(30);
    expect(eea.body.frameworks).toEqual(['gdpr', 'iso27001']);
    expect(eea.body.compliant_regions).toEqual(['eu-west-1']);
  });

  it('refuses a transfer that needs approval without one, and records the approval that allows it', async () => {
    const before = await itemCount(table);
    const without = await check({
      task_id: 'in-1',
      data_classification: 'sensitive',
      user_location: 'IN',
      target_region: 'us-east-1',
    });
    expect(without.body.compliant).toBe(false);
    expect(without.body.target.reasons[0].rule).toBe('transfer:approval_required');
    expect(await itemCount(table)).toBe(before);

    const body = {
      task_id: 'in-1',
      data_classification: 'sensitive',
      user_location: 'IN',
      target_region: 'us-east-1',
      approval_ref: 'MEITY-2026-17',
    };
    const approved = await check(body);
    expect(approved.body.compliant).toBe(true);
    expect(approved.body.target).toEqual({
      region: 'us-east-1',
      compliant: true,
      basis: 'approval',
      reasons: [],
      approval_for: ['india'],
    });
    expect(approved.body.approval).toEqual({
      approval_ref: 'MEITY-2026-17',
      needed_by: ['us-east-1', 'eu-west-1'],
      recorded: true,
      use_id: 'check:in-1->us-east-1',
    });
    await check(body);
    const recorded = await (deps.compliance as DynamoComplianceAdapter).listApprovals();
    expect(recorded.filter((a) => a.approval_ref === 'MEITY-2026-17')).toEqual([
      {
        approval_ref: 'MEITY-2026-17',
        use_id: 'check:in-1->us-east-1',
        task_id: 'in-1',
        data_classification: 'sensitive',
        user_location: 'IN',
        jurisdictions: ['india'],
        target_region: 'us-east-1',
        recorded_at: '2026-11-26T12:00:00Z',
        recorded_by: 'us-east-1',
      },
    ]);
    const home = await check({ ...body, target_region: 'ap-south-1', task_id: 'in-2' });
    expect(home.body.approval.recorded).toBe(false);
  });

  it('refuses pii and sensitive data on the local stores as they are', async () => {
    const local = await check(
      { data_classification: 'pii', user_location: 'US' },
      depsOn(table, { deployment: LOCAL_DEPLOYMENT_FACTS }),
    );
    expect(local.body).toMatchObject({ deployment: 'local', compliant: false, compliant_regions: [] });
    expect(local.body.regions[0].reasons.map((r: { type: string }) => r.type)).toEqual([
      'encryption',
      'encryption',
      'access_control',
      'access_control',
    ]);
  });

  it('answers 400 naming each bad field and writes nothing', async () => {
    const before = await itemCount(table);
    const cases: [unknown, string[]][] = [
      [{ user_location: 'DE' }, ['data_classification']],
      [{ data_classification: 'secret', user_location: 'DE' }, ['data_classification']],
      [{ data_classification: 'pii', user_location: 'Atlantis' }, ['user_location']],
      [{ data_classification: 'pii', user_location: 'DE', target_region: 'eu-central-1' }, ['target_region']],
      [
        { data_classification: 'pii', user_location: 'DE', frameworks: ['hipaa', 'fedramp'] },
        ['frameworks[1]'],
      ],
      [{ data_classification: 'pii', user_location: 'DE', approval_ref: 'x' }, ['approval_ref']],
      [{ data_classification: 'pii', user_location: 'DE', purpose: 'ads' }, ['purpose']],
      [
        {
          data_classification: 'pii',
          user_location: 'XX',
          target_region: 'eu-central-1',
          approval_ref: 'APR-1',
        },
        ['user_location', 'target_region'],
      ],
    ];
    for (const [body, fields] of cases) {
      const answer = await check(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error.code).toBe('VALIDATION_FAILED');
      expect(answer.body.error.details.map((d: { field: string }) => d.field)).toEqual(fields);
    }
    expect(await itemCount(table)).toBe(before);
  });
});

describe('POST /v1/route under the compliance rules', () => {
  let table: TestTable;
  let deps: ControlDeps & ComplianceDeps;
  const route = (body: unknown, on: ControlDeps = deps) =>
    call(createRouterHandler(on), 'POST', '/v1/route', { body });

  beforeAll(async () => {
    table = await startTables();
    deps = depsOn(table);
  });
  afterAll(() => table.close());

  it('places personal data inside its jurisdiction', async () => {
    const answer = await route({
      task_id: 'r-de',
      source: { country: 'DE' },
      requirements: { data_classification: 'pii' },
    });
    expect(answer.status).toBe(200);
    expect(answer.body.region).toBe('eu-west-1');
    expect(answer.body.excluded.map((e: { region: string }) => e.region)).toEqual([
      'us-east-1',
      'ap-south-1',
    ]);
  });

  it('answers 422 when only a transfer without its approval could take the task', async () => {
    await setStatus(deps, 'ap-south-1', 'failed');
    try {
      const answer = await route({
        task_id: 'r-in-1',
        source: { country: 'IN' },
        requirements: { data_classification: 'sensitive' },
      });
      expect(answer.status).toBe(422);
      expect(answer.body.excluded.find((e: { region: string }) => e.region === 'us-east-1').reasons).toEqual([
        'india requires an approval for cross-border transfers: sensitive data from IN to us-east-1 (US) needs an approval_ref, and none was given',
      ]);

      const approved = await route({
        task_id: 'r-in-2',
        source: { country: 'IN' },
        requirements: { data_classification: 'sensitive', approval_ref: 'MEITY-2026-18' },
      });
      expect(approved.status).toBe(200);
      expect(approved.body.candidates[0].factors.compliance).toBe(50);
      const approvals = await (deps.compliance as DynamoComplianceAdapter).listApprovals();
      expect(approvals).toEqual([
        expect.objectContaining({
          approval_ref: 'MEITY-2026-18',
          use_id: 'route:r-in-2',
          task_id: 'r-in-2',
          user_location: 'IN',
          target_region: approved.body.region,
          jurisdictions: ['india'],
        }),
      ]);
      // The same request again replays the decision and records nothing new.
      const again = await route({
        task_id: 'r-in-2',
        source: { country: 'IN' },
        requirements: { approval_ref: 'MEITY-2026-18', data_classification: 'sensitive' },
      });
      expect(again.body).toEqual(approved.body);
      expect(await (deps.compliance as DynamoComplianceAdapter).listApprovals()).toHaveLength(1);
    } finally {
      await setStatus(deps, 'ap-south-1', 'healthy');
    }
  });

  it('rejects a malformed approval reference with 400', async () => {
    const answer = await route({ task_id: 'r-bad', requirements: { approval_ref: 'no spaces allowed' } });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details[0].field).toBe('requirements.approval_ref');
  });
});

describe('failover planning under the compliance rules', () => {
  let table: TestTable;

  beforeAll(async () => {
    table = await startTestTable();
  });
  afterAll(() => table.close());

  it("keeps an EU region's pending personal data pending when the only targets are outside the EU, and says so", async () => {
    const json = defaultTopologyJson();
    for (const pool of Object.values<{ current_usage: object }>(
      json.global_resource_pool.regional_allocation,
    )) {
      pool.current_usage = { workers: 1, tokens_used: 0, compute_units: 0 };
    }
    const deps = depsOn(table, { topology: validateTopology(json), regionId: 'us-east-1' });
    const router = createRouterHandler(deps);
    for (const [id, requirements] of [
      // Latency-sensitive so it lands near its caller (active-active spreads unconstrained tasks by weight).
      ['f-de-pii', { data_classification: 'pii' }],
      ['f-de-internal', { data_classification: 'internal', data_residency: 'EU' }],
      ['f-de-public', { data_classification: 'public', latency_sensitive: true }],
    ] as const) {
      const routed = await call(router, 'POST', '/v1/route', {
        body: { task_id: id, source: { country: 'DE' }, requirements },
      });
      expect(routed.body.region, id).toBe('eu-west-1');
    }
    const plan = await call(createFailoversHandler(deps), 'POST', '/v1/failovers', {
      body: { failed_region: 'eu-west-1', reason: 'drill', dry_run: true },
    });
    expect(plan.status).toBe(200);
    expect(plan.body.target_region).toBe('us-east-1');
    expect(plan.body.plan.workloads_to_move.map((m: { task_id: string }) => m.task_id)).toEqual([
      'f-de-public',
    ]);
    expect(plan.body.plan.workloads_pending.map((p: { task_id: string }) => p.task_id).sort()).toEqual([
      'f-de-internal',
      'f-de-pii',
    ]);
    const pii = plan.body.plan.workloads_pending.find((p: { task_id: string }) => p.task_id === 'f-de-pii');
    expect(pii.reasons).toContain(
      'us-east-1: european_union localizes pii data from DE in EU, GB, EEA; it may go only to countries with an adequacy decision (GB, CH), not us-east-1 (US)',
    );
    expect(
      plan.body.plan.considered.find((c: { region: string }) => c.region === 'ap-south-1').reasons,
    ).toEqual(['would break data residency of 2 pending workload(s)']);
  });
});

describe('compliance audits', () => {
  let table: TestTable;
  let deps: ControlDeps & ComplianceDeps;
  const api = () => createComplianceHandler(deps);

  function handoff(
    id: string,
    target: string,
    task: Record<string, unknown>,
    createdAt = '2026-11-20T00:00:00Z',
  ): Handoff {
    return {
      handoff_id: `cross-region-${id}`,
      task_id: id,
      source_region: target,
      target_region: target,
      routing_score: 70,
      status: 'pending',
      created_at: createdAt,
      task: { task_id: id, ...task },
      request_hash: 'h',
      decision: { candidates: [], excluded: [] },
    };
  }

  beforeAll(async () => {
    table = await startTables();
    deps = depsOn(table, { deployment: LOCAL_DEPLOYMENT_FACTS });
    // Seeded directly, as if placed before the rules or by hand.
    await deps.state.createHandoff(
      handoff('a-de-in-us', 'us-east-1', {
        source: { country: 'DE' },
        requirements: { data_classification: 'pii' },
      }),
    );
    await deps.state.createHandoff(handoff('a-old', 'ap-south-1', {}, '2025-01-01T00:00:00Z'));
    await deps.state.createHandoff(
      handoff('a-ok', 'eu-west-1', {
        source: { country: 'FR' },
        requirements: { data_classification: 'internal' },
      }),
    );
  });
  afterAll(() => table.close());

  it('runs on request: 201 with the report, stored and emitted', async () => {
    const answer = await call(api(), 'POST', '/v1/compliance/audits');
    expect(answer.status).toBe(201);
    const report = answer.body;
    expect(report.audit_id).toMatch(/^audit-us-east-1-20261126t120000-[0-9a-f]{6}$/);
    expect(report).toMatchObject({
      region: 'us-east-1',
      trigger: 'manual',
      scope: { regions: ['us-east-1', 'eu-west-1', 'ap-south-1'], handoffs: 3 },
      deployment: { source: 'local' },
      status: 'non_compliant',
    });
    expect(report.violations_by_type.data_residency).toBe(1);
    expect(report.violations_by_type.encryption).toBeGreaterThan(0);
    expect(report.violations_by_type.access_control).toBeGreaterThan(0);
    expect(report.violations_by_type.retention).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['compliance.audit_completed', 'compliance.violations_found']);
    expect(events[0]?.detail).toMatchObject({
      audit_id: report.audit_id,
      total_violations: report.total_violations,
    });

    const stored = await call(api(), 'GET', `/v1/compliance/audits/${report.audit_id}`, {
      routePath: '/v1/compliance/audits/{id}',
      id: report.audit_id,
    });
    expect(stored).toEqual({ status: 200, body: report });
  });

  it('audits the regions asked for, and rejects unknown ones with 400 without writing', async () => {
    const scoped = await call(api(), 'POST', '/v1/compliance/audits', { body: { regions: ['eu-west-1'] } });
    expect(scoped.status).toBe(201);
    expect(scoped.body.scope).toMatchObject({ regions: ['eu-west-1'], handoffs: 1 });
    expect(scoped.body.violations_by_type.data_residency).toBe(0);
    const before = await itemCount(table);
    for (const [body, field] of [
      [{ regions: ['eu-central-1'] }, 'regions[0]'],
      [{ regions: [] }, 'regions'],
      [{ scope: 'all' }, 'scope'],
    ] as const) {
      const answer = await call(api(), 'POST', '/v1/compliance/audits', { body });
      expect(answer.status).toBe(400);
      expect(answer.body.error.details[0].field).toBe(field);
    }
    expect(await itemCount(table)).toBe(before);
  });

  it('lists reports newest first with the audit success rate, and answers 404 and 400 for ids', async () => {
    const list = await call(api(), 'GET', '/v1/compliance/audits');
    expect(list.status).toBe(200);
    expect(list.body.audits.length).toBeGreaterThanOrEqual(2);
    expect(list.body.audits[0]).not.toHaveProperty('violations');
    expect(list.body.audit_success_rate).toEqual({ value: expect.any(Number), target: 100, met: false });
    const compliant = await call(api(), 'GET', '/v1/compliance/audits', { query: { status: 'compliant' } });
    expect(compliant.body.audits.map((a: { scope: { regions: string[] } }) => a.scope.regions)).toEqual([
      ['eu-west-1'],
    ]);
    expect(compliant.body.audit_success_rate).toEqual({ value: 100, target: 100, met: true });
    const elsewhere = await call(api(), 'GET', '/v1/compliance/audits', { query: { region: 'ap-south-1' } });
    expect(elsewhere.body).toEqual({
      audits: [],
      audit_success_rate: { value: null, target: 100, met: true },
    });
    expect((await call(api(), 'GET', '/v1/compliance/audits', { query: { limit: '0' } })).status).toBe(400);
    expect((await call(api(), 'GET', '/v1/compliance/audits', { query: { order: 'asc' } })).status).toBe(400);
    const missing = await call(api(), 'GET', '/v1/compliance/audits/audit-us-east-1-19990101', {
      routePath: '/v1/compliance/audits/{id}',
      id: 'audit-us-east-1-19990101',
    });
    expect(missing.status).toBe(404);
    const malformed = await call(api(), 'GET', '/v1/compliance/audits/x', {
      routePath: '/v1/compliance/audits/{id}',
      id: 'x',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.details[0].field).toBe('audit_id');
  });

  it('copies the report to the archive first: a failed copy stores nothing and answers 500', async () => {
    const archived: string[] = [];
    const logged: string[] = [];
    const withArchive = (fail: boolean): ComplianceDeps => ({
      ...deps,
      log: (message, error) => logged.push(`${message}: ${String(error)}`),
      archive: {
        archive: async (report) => {
          if (fail) throw new Error('S3 PutObject answered 503');
          archived.push(report.audit_id);
          return `s3://audit-bucket/${report.audit_id}.json`;
        },
      },
    });
    const before = await itemCount(table);
    const failed = await call(createComplianceHandler(withArchive(true)), 'POST', '/v1/compliance/audits');
    expect(failed.status).toBe(500);
    // The unknown error goes to the runtime's log, not into the answer.
    expect(logged).toEqual([
      'unhandled error on POST /v1/compliance/audits: Error: S3 PutObject answered 503',
    ]);
    expect(failed.body).toEqual({ error: { code: 'INTERNAL', message: 'internal error', details: [] } });
    expect(await itemCount(table)).toBe(before);
    const ok = await call(createComplianceHandler(withArchive(false)), 'POST', '/v1/compliance/audits');
    expect(ok.status).toBe(201);
    expect(ok.body.archived_to).toBe(`s3://audit-bucket/${ok.body.audit_id}.json`);
    expect(archived).toEqual([ok.body.audit_id]);
  });

  it('runs daily per region: a retried invocation answers the stored report', async () => {
    const lines: string[] = [];
    const daily = createComplianceAuditHandler(deps, { log: (line) => lines.push(line) });
    const first = await daily({}, lambdaContext);
    const second = await daily(null, lambdaContext);
    expect(first.audit_id).toBe('audit-us-east-1-20261126');
    expect(second).toEqual(first);
    expect(first.violations_by_type.data_residency).toBe(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      level: 'warn',
      message: 'compliance audit',
      audit_id: first.audit_id,
    });
    const stored = await (deps.compliance as DynamoComplianceAdapter).listAudits();
    expect(stored.filter((a) => a.audit_id === 'audit-us-east-1-20261126')).toHaveLength(1);
    expect(stored.find((a) => a.audit_id === 'audit-us-east-1-20261126')?.scope.regions).toEqual([
      'us-east-1',
    ]);
    await expect(daily({ regions: ['nowhere'] }, lambdaContext)).rejects.toThrow(/invalid scheduled input/);
  });
});
