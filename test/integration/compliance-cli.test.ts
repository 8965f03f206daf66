/**
 * `cortex audit` against the compliance API served over HTTP (the local HTTP bridge and route table,
 * against dynalite): it prints the report and exits 1 when the report has violations.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createComplianceHandler } from '../../functions/compliance-check/handler.ts';
import { DynamoComplianceAdapter } from '../../lib/adapters/aws/dynamodb-compliance.ts';
import { DynamoSelectiveStore } from '../../lib/adapters/aws/dynamodb-selective.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { createStateTable } from '../../lib/adapters/aws/state-table.ts';
import type { ComplianceDeps } from '../../lib/app/compliance/deps.ts';
import { AWS_DEPLOYMENT_FACTS, LOCAL_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import type { DeploymentFacts } from '../../lib/core/compliance/types.ts';
import { placeReplication } from '../../lib/core/replication/placement.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { type ServedRegion, serveHandlers } from '../support/served-region.ts';

let table: TestTable;
let facts: DeploymentFacts = LOCAL_DEPLOYMENT_FACTS;
let served: ServedRegion;
let endpoint: string;

beforeAll(async () => {
  table = await startTestTable();
  const topology = loadTopologyFile();
  const placement = placeReplication(topology);
  // The selective tables beside the state table: the audit reads this region's.
  for (const placed of placement.tables) {
    if (placed.role === 'selective') await createStateTable(table.client, placed.name);
  }
  const clock = { now: () => Date.parse('2026-11-26T12:00:00Z') };
  const base = {
    regionId: 'us-east-1',
    topology,
    state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
    clock,
    compliance: new DynamoComplianceAdapter({ client: table.doc, tableName: table.tableName }),
    selective: new DynamoSelectiveStore({ client: table.doc, regionId: 'us-east-1', placement, clock }),
    events: { publish: async () => undefined },
  };
  // The deployment facts are read per request, so a test can switch them.
  const deps = new Proxy(base, {
    get: (target, key) => (key === 'deployment' ? facts : Reflect.get(target, key)),
  }) as unknown as ComplianceDeps;
  const handler = createComplianceHandler(deps);
  served = await serveHandlers({ compliance: handler });
  endpoint = served.endpoint;
});
afterAll(async () => {
  await served.close();
  await table.close();
});

describe('cortex audit', () => {
  it('prints the report and exits 1 when the audit finds violations', async () => {
    facts = LOCAL_DEPLOYMENT_FACTS;
    const c = cli();
    expect(await c.run('audit', '--endpoint', endpoint)).toBe(1);
    const text = c.out.join('\n');
    expect(text).toMatch(/^audit-us-east-1-20261126t120000-[0-9a-f]{6} {2}manual audit by us-east-1/);
    expect(text).toMatch(/status non_compliant|status needs_attention/);
    expect(text).toMatch(/encryption +\d+ +[1-9]/);
    expect(text).toMatch(/\[encryption\] us-east-1: encryption at rest is required/);
  });

  it('exits 0 on a clean report, prints JSON with --json, and scopes with --region', async () => {
    facts = AWS_DEPLOYMENT_FACTS;
    const c = cli();
    expect(await c.run('audit', '--endpoint', endpoint, '--region', 'eu-west-1', '--json')).toBe(0);
    const report = JSON.parse(c.out.join('\n'));
    expect(report).toMatchObject({
      status: 'compliant',
      total_violations: 0,
      scope: { regions: ['eu-west-1'] },
    });

    const shown = cli();
    expect(await shown.run('audit', 'show', report.audit_id, '--endpoint', endpoint)).toBe(0);
    expect(shown.out.join('\n')).toMatch(/status compliant, score 100, 0 violation\(s\)/);

    const listed = cli();
    expect(await listed.run('audit', 'list', '--endpoint', endpoint)).toBe(0);
    expect(listed.out.join('\n')).toMatch(/audit success rate 50% \(target 100%\)/);
  });

  it('says plainly when the API refuses, and exits 2 on a wrong command line', async () => {
    const unknown = cli();
    expect(await unknown.run('audit', '--endpoint', endpoint, '--region', 'eu-central-1')).toBe(1);
    expect(unknown.err.join('\n')).toMatch(
      /HTTP 400 VALIDATION_FAILED: invalid audit request\n {2}regions\[0\]: unknown region/,
    );
    const missing = cli();
    expect(await missing.run('audit', 'show', 'audit-us-east-1-19990101', '--endpoint', endpoint)).toBe(1);
    expect(missing.err.join('\n')).toMatch(/HTTP 404 NOT_FOUND/);
    const usage = cli();
    expect(await usage.run('audit', 'everything', '--endpoint', endpoint)).toBe(2);
    expect(usage.err.join('\n')).toMatch(/Unexpected argument 'everything'/);
  });
});
