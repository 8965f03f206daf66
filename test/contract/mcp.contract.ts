import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type McpServerRecord, seedRecords } from '../../lib/core/mcp/registry.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import type { McpRegistryPort } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';

/**
 * The MCP registry port (McpRegistryPort): every implementation keeps one record per server per
 * region, seeds without ever overwriting, and deregisters into a tombstone that seeding does not
 * bring back; each observer's health views are one record it replaces, kept apart from the servers.
 * Run by the DynamoDB adapter's test (dynalite) and the simulator's store.
 */
export interface McpFixture {
  readonly registry: McpRegistryPort;
  reset(): Promise<void>;
  close(): Promise<void>;
}

const SEED = seedRecords(validateTopology(defaultTopologyJson()), Date.parse('2026-12-03T08:00:00Z'));
const AT = '2026-12-03T09:00:00.000Z';
const key = (s: Pick<McpServerRecord, 'region' | 'server'>) => `${s.region}/${s.server}`;

export function mcpContract(name: string, make: () => Promise<McpFixture>): void {
  describe(`McpRegistryPort contract: ${name}`, () => {
    let fixture: McpFixture;
    beforeAll(async () => {
      fixture = await make();
    });
    beforeEach(async () => {
      await fixture.reset();
    });
    afterAll(async () => {
      await fixture.close();
    });

    it('seeds every record once and lists them as written', async () => {
      expect(await fixture.registry.seedMcpServers(SEED)).toBe(SEED.length);
      const listed = await fixture.registry.listMcpServers();
      expect(listed.map(key).sort()).toEqual(SEED.map(key).sort());
      const postgres = listed.find((s) => key(s) === 'eu-west-1/postgres');
      expect(postgres).toEqual(SEED.find((s) => key(s) === 'eu-west-1/postgres'));
    });

    it('never overwrites on a second seed: a registration or a change stays', async () => {
      await fixture.registry.seedMcpServers(SEED);
      const changed = { ...(SEED[0] as McpServerRecord), version: '3.0.0', source: 'api' as const };
      await fixture.registry.putMcpServer(changed);
      expect(await fixture.registry.seedMcpServers(SEED)).toBe(0);
      expect((await fixture.registry.listMcpServers()).find((s) => key(s) === key(changed))?.version).toBe(
        '3.0.0',
      );
    });

    it('deregisters into a tombstone: gone from the list, not seeded again, replaced by a new registration', async () => {
      await fixture.registry.seedMcpServers(SEED);
      const n8n = SEED.find((s) => key(s) === 'us-east-1/n8n') as McpServerRecord;
      expect(await fixture.registry.deleteMcpServer('us-east-1', 'n8n', AT)).toBe(true);
      expect(await fixture.registry.deleteMcpServer('us-east-1', 'n8n', AT)).toBe(false);
      expect(await fixture.registry.deleteMcpServer('us-east-1', 'absent', AT)).toBe(false);
      expect(await fixture.registry.seedMcpServers(SEED)).toBe(0);
      expect((await fixture.registry.listMcpServers()).map(key)).not.toContain('us-east-1/n8n');
      await fixture.registry.putMcpServer(n8n);
      expect((await fixture.registry.listMcpServers()).map(key)).toContain('us-east-1/n8n');
    });

    it('keeps one health record per observer, replaced by its next round and never listed as a server', async () => {
      await fixture.registry.seedMcpServers(SEED);
      const view = {
        region: 'us-east-1',
        server: 'github',
        healthy: false,
        consecutive_failures: 3,
        consecutive_successes: 0,
        latency_ms: 4,
        last_error: 'reset',
        at: 1_000,
      };
      await fixture.registry.putMcpHealth({ observer: 'eu-west-1', at: 1_000, views: [view] });
      await fixture.registry.putMcpHealth({ observer: 'ap-south-1', at: 1_000, views: [view] });
      const next = { ...view, healthy: true, consecutive_failures: 0, consecutive_successes: 2, at: 2_000 };
      const { last_error: _gone, ...answered } = next;
      await fixture.registry.putMcpHealth({ observer: 'eu-west-1', at: 2_000, views: [answered] });
      const held = await fixture.registry.listMcpHealth();
      expect(held.sort((a, b) => a.observer.localeCompare(b.observer))).toEqual([
        { observer: 'ap-south-1', at: 1_000, views: [view] },
        { observer: 'eu-west-1', at: 2_000, views: [answered] },
      ]);
      expect((await fixture.registry.listMcpServers()).map(key).sort()).toEqual(SEED.map(key).sort());
    });
  });
}
