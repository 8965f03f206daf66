/**
 * The MCP registry adapter against dynalite. Invariants: seeding never overwrites a registration, a
 * change or a deregistration; a deregistered server is gone from listings and stays gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoMcpAdapter } from '../../lib/adapters/aws/dynamodb-mcp.ts';
import { seedRecords } from '../../lib/core/mcp/registry.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { startTestTable, type TestTable } from '../support/dynalite.ts';

const NOW = Date.parse('2026-12-03T08:00:00Z');
const SEED = seedRecords(validateTopology(defaultTopologyJson()), NOW);

describe('DynamoMcpAdapter', () => {
  let table: TestTable;
  let store: DynamoMcpAdapter;

  beforeAll(async () => {
    table = await startTestTable();
    store = new DynamoMcpAdapter({ client: table.doc, tableName: table.tableName });
  });

  afterAll(async () => {
    await table.close();
  });

  it('seeds once, lists every record without the layout keys, and never overwrites on a second seed', async () => {
    expect(await store.seedMcpServers(SEED)).toBe(14);
    const changed = { ...(SEED[4] as (typeof SEED)[number]), version: '2.1.0' };
    await store.putMcpServer(changed);
    expect(await store.seedMcpServers(SEED)).toBe(0);
    const listed = await store.listMcpServers();
    expect(listed).toHaveLength(14);
    expect(listed.find((s) => s.region === changed.region && s.server === changed.server)?.version).toBe(
      '2.1.0',
    );
    expect(Object.keys(listed[0] ?? {})).not.toContain('pk');
    expect(Object.keys(listed[0] ?? {})).not.toContain('record_type');
  });

  it('deregisters into a tombstone that seeding does not bring back; a second delete answers false', async () => {
    expect(await store.deleteMcpServer('us-east-1', 'n8n', new Date(NOW).toISOString())).toBe(true);
    expect(await store.deleteMcpServer('us-east-1', 'n8n', new Date(NOW).toISOString())).toBe(false);
    expect(await store.deleteMcpServer('us-east-1', 'nothing', new Date(NOW).toISOString())).toBe(false);
    expect(await store.seedMcpServers(SEED)).toBe(0);
    expect((await store.listMcpServers()).some((s) => s.region === 'us-east-1' && s.server === 'n8n')).toBe(
      false,
    );
    // Registering again replaces the tombstone.
    await store.putMcpServer(
      SEED.find((s) => s.region === 'us-east-1' && s.server === 'n8n') as (typeof SEED)[number],
    );
    expect((await store.listMcpServers()).some((s) => s.region === 'us-east-1' && s.server === 'n8n')).toBe(
      true,
    );
  });
});
