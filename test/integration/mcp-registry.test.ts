/**
 * The MCP registry's use cases on `topology/default.json` over dynalite (the registry and the
 * region statuses in one state table). Invariants: the registry is seeded once and never reseeds a
 * deregistered server; discovery follows a failover and refuses a move the residency or the data's
 * compliance forbids, naming each server it passed over; a failback undoes an MCP failover.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoMcpAdapter } from '../../lib/adapters/aws/dynamodb-mcp.ts';
import { DynamoStateAdapter } from '../../lib/adapters/aws/dynamodb-state.ts';
import {
  deregisterMcpServer,
  discoverMcp,
  failBackMcpServers,
  failOverMcpServers,
  listMcpServers,
  type McpDeps,
  registerMcpServer,
} from '../../lib/app/mcp/registry.ts';
import { AWS_DEPLOYMENT_FACTS } from '../../lib/core/compliance/facts.ts';
import { McpServerUnavailableError, NotFoundError } from '../../lib/core/errors.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { ControlPlaneEvent } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

const topology = validateTopology(defaultTopologyJson());
let table: TestTable | undefined;
let deps: McpDeps;
let events: ControlPlaneEvent[];
const now = Date.parse('2026-12-03T08:00:00Z');

beforeEach(async () => {
  await table?.close();
  table = await startTestTable();
  events = [];
  deps = {
    regionId: 'us-east-1',
    topology,
    state: new DynamoStateAdapter({ client: table.doc, tableName: table.tableName }),
    clock: { now: () => now },
    deployment: AWS_DEPLOYMENT_FACTS,
    mcp: new DynamoMcpAdapter({ client: table.doc, tableName: table.tableName }),
    events: { publish: async (batch) => void events.push(...batch) },
  };
});

afterAll(async () => {
  await table?.close();
});

async function setStatus(region: string, status: 'failed' | 'healthy', epoch: number): Promise<void> {
  await deps.state.putRegionStatus(
    {
      region_id: region,
      status,
      role: 'active',
      epoch,
      updated_at: new Date(now).toISOString(),
      updated_by: 'test',
    },
    epoch - 1 === 0 ? undefined : epoch - 1,
  );
}

describe('the MCP registry', () => {
  it('is seeded from the topology on first read, each server with its live state', async () => {
    const servers = await listMcpServers(deps);
    expect(servers).toHaveLength(14);
    expect(servers.every((s) => s.live.serving)).toBe(true);
    await setStatus('us-east-1', 'failed', 1);
    const after = await listMcpServers(deps, { region: 'us-east-1' });
    expect(after.map((s) => s.server)).toEqual(['filesystem', 'github', 'kubernetes', 'n8n', 'postgres']);
    expect(after[0]?.live).toEqual({
      serving: false,
      reasons: ['us-east-1 is not serving'],
      health: 'unknown',
      unhealthy_by: [],
      observed_by: [],
    });
    expect((await listMcpServers(deps, { capability: 'sql' })).map((s) => s.region)).toEqual([
      'ap-south-1',
      'eu-west-1',
      'us-east-1',
    ]);
  });

  it('registers and deregisters; a deregistered seeded server stays gone; unknown ones are 404', async () => {
    const record = await registerMcpServer(deps, 'eu-west-1', 'n8n', {
      scope: 'regional',
      endpoint: 'n8n-eu-west-1.cortex.internal',
      version: '2.3.0',
      failover: 'cross-region',
      data_residency: 'eu',
    });
    expect(record).toMatchObject({
      source: 'api',
      capabilities: ['n8n', 'workflows', 'automation'],
      data_residency: 'EU',
    });
    expect(events.map((e) => e.type)).toEqual(['mcp.server_registered']);
    await deregisterMcpServer(deps, 'us-east-1', 'kubernetes');
    expect(
      (await listMcpServers(deps)).some((s) => s.region === 'us-east-1' && s.server === 'kubernetes'),
    ).toBe(false);
    await expect(deregisterMcpServer(deps, 'us-east-1', 'kubernetes')).rejects.toThrow(NotFoundError);
    await expect(
      registerMcpServer(deps, 'mars-1', 'x', { scope: 'global', endpoint: 'x', version: '1.0.0' }),
    ).rejects.toThrow(/region mars-1 not found/);
  });

  it('follows a regional failover and its failback', async () => {
    await setStatus('us-east-1', 'failed', 1);
    const moves = await failOverMcpServers(deps, 'us-east-1', ['eu-west-1', 'ap-south-1'], 'fo-1');
    expect(moves.find((m) => m.server === 'n8n')).toEqual({
      server: 'n8n',
      from: 'us-east-1',
      to: 'ap-south-1',
      reasons: [],
    });
    expect(events.at(-1)).toMatchObject({
      type: 'mcp.failover',
      detail: { failed_region: 'us-east-1', failover_id: 'fo-1' },
    });
    expect(await discoverMcp(deps, { capability: 'workflows' })).toMatchObject({
      asked_from: 'us-east-1',
      basis: 'failover of us-east-1',
      server: { region: 'ap-south-1', server: 'n8n' },
    });
    const sql = discoverMcp(deps, { capability: 'sql' });
    await expect(sql).rejects.toThrow(McpServerUnavailableError);
    await expect(sql).rejects.toThrow(
      /postgres of us-east-1 cannot serve .* does not fail over \(failover: none\)/,
    );

    await setStatus('us-east-1', 'healthy', 2);
    expect(await failBackMcpServers(deps, 'us-east-1')).toBe(6);
    expect(await discoverMcp(deps, { capability: 'workflows' })).toMatchObject({
      basis: 'own region',
      server: { region: 'us-east-1' },
    });
    expect((await listMcpServers(deps)).every((s) => s.live.serving && s.serving_for === undefined)).toBe(
      true,
    );
  });

  it("refuses a global server where the data's compliance forbids it, naming each region passed over", async () => {
    await setStatus('eu-west-1', 'failed', 1);
    // Public data goes anywhere: the nearest serving github.
    expect(await discoverMcp(deps, { capability: 'git', region: 'eu-west-1' })).toMatchObject({
      server: { region: 'us-east-1' },
    });
    // Personal data from Ireland may not leave the EU without an approval: no serving region qualifies.
    const pii = discoverMcp(deps, { capability: 'git', region: 'eu-west-1', data_classification: 'pii' });
    await expect(pii).rejects.toThrow(McpServerUnavailableError);
    const error = (await pii.catch((e: unknown) => e)) as McpServerUnavailableError;
    expect(error.excluded.map((e) => e.region).sort()).toEqual(['ap-south-1', 'eu-west-1', 'us-east-1']);
    expect(error.excluded.find((e) => e.region === 'eu-west-1')?.reasons).toEqual([
      'github: eu-west-1 is not serving',
    ]);
  });
});
