/**
 * `cortex resources` and `cortex rebalance [--dry-run]` against the resources API served over HTTP
 * (the local HTTP bridge and route table, against dynalite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourcesHandler } from '../../functions/resources/handler.ts';
import { DynamoResourcesAdapter } from '../../lib/adapters/aws/dynamodb-resources.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { type ServedRegion, serveHandlers } from '../support/served-region.ts';

let table: TestTable;
let served: ServedRegion;
let endpoint: string;

beforeAll(async () => {
  table = await startTestTable();
  const handler = createResourcesHandler({
    regionId: 'us-east-1',
    topology: loadTopologyFile(),
    state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
    resources: new DynamoResourcesAdapter({ client: table.doc, tableName: table.tableName }),
    clock: { now: () => Date.parse('2026-11-26T12:00:00Z') },
    events: { publish: async () => undefined },
  });
  served = await serveHandlers({ resources: handler });
  endpoint = served.endpoint;
});
afterAll(async () => {
  await served.close();
  await table.close();
});

describe('cortex resources and rebalance', () => {
  it('prints each region with usage over allocation and utilization, and the totals', async () => {
    const c = cli();
    expect(await c.run('resources', '--endpoint', endpoint)).toBe(0);
    const text = c.out.join('\n');
    expect(text).toMatch(/REGION\s+WORKERS\s+TOKENS\/HOUR\s+COMPUTE\s+UTILIZATION/);
    expect(text).toMatch(/us-east-1\s+18\/25\s+320000\/500000\s+380\/500\s+76%/);
    expect(text).toMatch(/total\s+33\/50\s+580000\/1000000\s+720\/1000\s+72%/);
    expect(text).toMatch(/rebalancing every 300 s/);
  });

  it('rebalance --dry-run prints the plan and changes nothing; without it the moves are applied', async () => {
    const report = await fetch(`${endpoint}/v1/resources/eu-west-1/usage`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workers: 14, tokens_used: 100000, compute_units: 100 }),
    });
    expect(report.status).toBe(200);
    await fetch(`${endpoint}/v1/resources/ap-south-1/usage`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ workers: 1, tokens_used: 100000, compute_units: 100 }),
    });
    const dry = cli();
    expect(await dry.run('rebalance', '--dry-run', '--endpoint', endpoint)).toBe(0);
    expect(dry.out.join('\n')).toMatch(/workers\s+ap-south-1\s+eu-west-1\s+\d+\s+dry run/);
    const after = cli();
    await after.run('resources', '--endpoint', endpoint);
    expect(after.out.join('\n')).toMatch(/eu-west-1\s+14\/15/);
    const run = cli();
    expect(await run.run('rebalance', '--endpoint', endpoint)).toBe(0);
    expect(run.out.join('\n')).toMatch(/workers\s+ap-south-1\s+eu-west-1\s+\d+\s+applied/);
  });
});
