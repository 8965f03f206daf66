/**
 * The MCP health job's entry point as Lambda runs it (functions/mcp-probe bundled by esbuild with the
 * compiled topology baked in, configured only by environment, its table on dynalite), outside any
 * mesh VPC: the Lambda root wires the mesh probe (mcpProbePort) from the bundled topology alone. The
 * invariant: a round delivered as the minute driver's SQS message probes the topology's named
 * endpoints (which do not resolve here, outside the mesh: each a failed call, no verdict turned by
 * one of them), leaves the unnamed ones unprobed, and writes this region's probe record.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMcpAdapter } from '../../lib/adapters/aws/dynamodb-mcp.ts';
import { bundleEnvironment, bundleFunction } from '../support/bundle.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';
import { lambdaContext } from '../support/events.ts';

type Handler = (event: unknown, context: unknown) => Promise<Record<string, unknown>>;

describe('the bundled MCP health job', () => {
  let table: TestTable;
  let dir: string;
  let handler: Handler;
  // The suite shares one process between files: leave the environment as this file found it.
  const saved = { ...process.env };

  beforeAll(async () => {
    table = await startTestTable();
    dir = mkdtempSync(join(tmpdir(), 'cortex-mcp-bundle-'));
    Object.assign(process.env, bundleEnvironment(table));
    handler = (await import(pathToFileURL(await bundleFunction('mcp-probe', dir)).href)).handler;
  });
  afterAll(async () => {
    process.env = saved;
    await table.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs a driven round from its environment and writes its probe record', async () => {
    const body = JSON.stringify({
      minute: { started_at: new Date().toISOString(), budget_ms: 55_000, cursor: { started: 0 } },
    });
    const report = (await handler({ Records: [{ eventSource: 'aws:sqs', body }] }, lambdaContext)) as {
      rounds: { observer: string; probed: boolean; turned: unknown[]; unprobed: { server: string }[] }[];
      minute: { more: boolean };
    };
    const [round] = report.rounds;
    expect(round).toMatchObject({ observer: 'eu-west-1', probed: true, turned: [] });
    expect(round?.unprobed.map((u) => u.server)).toContain('eu-west-1/github');
    expect(report.minute.more).toBe(true);
    const records = await new DynamoMcpAdapter({
      client: table.doc,
      tableName: table.tableName,
    }).listMcpHealth();
    const own = records.find((r) => r.observer === 'eu-west-1');
    // The named servers of the three regions, each one failed call: still healthy (hysteresis).
    expect(own?.views.map((v) => `${v.region}/${v.server}`).sort()).toEqual([
      'ap-south-1/kubernetes',
      'ap-south-1/n8n',
      'ap-south-1/postgres',
      'eu-west-1/kubernetes',
      'eu-west-1/postgres',
      'us-east-1/kubernetes',
      'us-east-1/n8n',
      'us-east-1/postgres',
    ]);
    for (const view of own?.views ?? []) {
      expect(view).toMatchObject({ healthy: true, consecutive_failures: 1 });
      expect(view.last_error).toBeDefined();
    }
  }, 30_000);
});
