/**
 * `cortex region shutdown|restore` and `cortex ops daily|reports` against the operations API served
 * over HTTP (the local HTTP bridge and route table, against dynalite).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOpsHandler } from '../../functions/ops/handler.ts';
import { DynamoAvailabilityAdapter } from '../../lib/adapters/aws/dynamodb-availability.ts';
import { DynamoComplianceAdapter } from '../../lib/adapters/aws/dynamodb-compliance.ts';
import { DynamoLatencyAdapter } from '../../lib/adapters/aws/dynamodb-latency.ts';
import { DynamoOpsAdapter } from '../../lib/adapters/aws/dynamodb-ops.ts';
import { DynamoDocumentStore, DynamoReplicationStore } from '../../lib/adapters/aws/dynamodb-replication.ts';
import { DynamoResourcesAdapter } from '../../lib/adapters/aws/dynamodb-resources.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import { AWS_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { cli } from '../support/cli.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { type ServedRegion, serveHandlers } from '../support/served-region.ts';

const NOW = Date.parse('2026-12-03T06:00:00Z');
let table: TestTable;
let served: ServedRegion;
let endpoint: string;
const events: ControlPlaneEvent[] = [];

beforeAll(async () => {
  table = await startTestTable();
  const on = { client: table.doc, tableName: table.tableName };
  const clock = { now: () => NOW };
  const replication = (regionId: string) => new DynamoReplicationStore({ ...on, regionId, clock });
  const handler = createOpsHandler({
    regionId: 'eu-west-1',
    topology: loadTopologyFile(),
    state: new DynamoStateAdapter(on),
    ops: new DynamoOpsAdapter(on),
    compliance: new DynamoComplianceAdapter(on),
    deployment: AWS_DEPLOYMENT_FACTS,
    latency: new DynamoLatencyAdapter(on),
    resources: new DynamoResourcesAdapter(on),
    availability: new DynamoAvailabilityAdapter(on),
    replication,
    documents: new DynamoDocumentStore({ ...on, counter: replication('eu-west-1'), clock }),
    clock,
    events: { publish: async (batch) => void events.push(...batch) },
  });
  served = await serveHandlers({ ops: handler });
  endpoint = served.endpoint;
});
afterAll(async () => {
  await served.close();
  await table.close();
});

describe('cortex region shutdown and restore', () => {
  it('refuses a shutdown without --confirm before asking anything, and the API refuses a wrong one', async () => {
    const missing = cli();
    expect(
      await missing.run('region', 'shutdown', 'us-east-1', '--reason', 'leak', '--endpoint', endpoint),
    ).toBe(2);
    expect(missing.err.join('\n')).toMatch(/--confirm us-east-1/);
    const wrong = cli();
    expect(
      await wrong.run(
        'region',
        'shutdown',
        'us-east-1',
        '--reason',
        'leak',
        '--confirm',
        'eu-west-1',
        '--endpoint',
        endpoint,
      ),
    ).toBe(1);
    expect(wrong.err.join('\n')).toMatch(/confirm/);
    expect(events).toEqual([]);
  });

  it('shuts a region down and says what happens to its work; a restore of a silent region is refused', async () => {
    const shut = cli();
    expect(
      await shut.run(
        'region',
        'shutdown',
        'us-east-1',
        '--reason',
        'credential leak',
        '--confirm',
        'us-east-1',
        '--drain-timeout',
        '60',
        '--endpoint',
        endpoint,
      ),
    ).toBe(0);
    expect(shut.out.join('\n')).toMatch(/us-east-1 is shut down \(epoch 1\); incident-us-east-1-e1 opened/);
    expect(shut.out.join('\n')).toMatch(/may finish until 2026-12-03T06:01:00.000Z/);

    const incidents = cli();
    expect(await incidents.run('ops', 'incidents', '--endpoint', endpoint)).toBe(0);
    expect(incidents.out.join('\n')).toMatch(
      /incident-us-east-1-e1\s+us-east-1\s+open\s+2026-12-03T06:00:00.000Z\s+operator\s+2026-12-03T06:01:00.000Z\s+credential leak/,
    );

    const restore = cli();
    expect(
      await restore.run('region', 'restore', 'us-east-1', '--confirm', 'us-east-1', '--endpoint', endpoint),
    ).toBe(1);
    expect(restore.err.join('\n')).toMatch(/REGION_NOT_ANSWERING/);
  });
});

describe('cortex ops daily and reports', () => {
  it('runs the report, prints each check and its findings, and lists it', async () => {
    const daily = cli();
    const code = await daily.run('ops', 'daily', '--endpoint', endpoint);
    const text = daily.out.join('\n');
    // us-east-1 was shut down above (a warning, not critical): exit 0.
    expect(code).toBe(0);
    expect(text).toMatch(/CHECK\s+STATUS\s+FINDINGS/);
    expect(text).toMatch(/open incidents: incident-us-east-1-e1/);
    expect(text).toMatch(/\[health\] us-east-1 is shut down by an operator/);
    expect(text).toMatch(/\[cost\] not available at run time/);

    const list = cli();
    expect(await list.run('ops', 'reports', '--endpoint', endpoint)).toBe(0);
    expect(list.out.join('\n')).toMatch(/ops-eu-west-1-20261203T060000Z\s+eu-west-1/);
  });
});
