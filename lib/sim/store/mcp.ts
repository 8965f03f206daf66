/**
 * The MCP registry over one region's replica of the simulator's store, as
 * lib/adapters/aws/dynamodb-mcp.ts keeps it in the state table: one `MCP` partition, seeding that
 * never overwrites, and a deregistration that leaves a tombstone. Each method is one atomic write.
 */
import { keys } from '../../adapters/aws/state-keys.ts';
import type { McpObserverHealth } from '../../core/mcp/health.ts';
import type { McpServerRecord } from '../../core/mcp/registry.ts';
import type { McpRegistryPort } from '../../ports.ts';
import type { SimReplica } from './replicated.ts';

type Stored =
  | { readonly record_type: 'mcp-server'; readonly record: McpServerRecord }
  | { readonly record_type: 'mcp-deregistered'; readonly deregistered_at: string }
  | { readonly record_type: 'mcp-health'; readonly health: McpObserverHealth };

export class SimMcpPort implements McpRegistryPort {
  readonly #replica: SimReplica;

  constructor(replica: SimReplica) {
    this.#replica = replica;
  }

  async listMcpServers(): Promise<McpServerRecord[]> {
    return this.#replica
      .query<Stored>(keys.mcpPartition)
      .flatMap((row) => (row.value.record_type === 'mcp-server' ? [row.value.record] : []));
  }

  async putMcpServer(record: McpServerRecord): Promise<void> {
    const { pk, sk } = keys.mcpServer(record.region, record.server);
    this.#replica.put(pk, sk, { record_type: 'mcp-server', record }, null);
  }

  async seedMcpServers(records: readonly McpServerRecord[]): Promise<number> {
    let written = 0;
    for (const record of records) {
      const { pk, sk } = keys.mcpServer(record.region, record.server);
      if (this.#replica.get(pk, sk) !== undefined) continue;
      this.#replica.put(pk, sk, { record_type: 'mcp-server', record }, null);
      written += 1;
    }
    return written;
  }

  async deleteMcpServer(region: string, server: string, at: string): Promise<boolean> {
    const { pk, sk } = keys.mcpServer(region, server);
    if (this.#replica.get<Stored>(pk, sk)?.record_type !== 'mcp-server') return false;
    this.#replica.put(pk, sk, { record_type: 'mcp-deregistered', deregistered_at: at }, null);
    return true;
  }

  async putMcpHealth(health: McpObserverHealth): Promise<void> {
    // The key dynamodb-mcp.ts gives an observer's views: beside the records, in the same partition.
    this.#replica.put(
      keys.mcpPartition,
      `~health#${health.observer}`,
      { record_type: 'mcp-health', health },
      null,
    );
  }

  async listMcpHealth(): Promise<McpObserverHealth[]> {
    return this.#replica
      .query<Stored>(keys.mcpPartition)
      .flatMap((row) => (row.value.record_type === 'mcp-health' ? [row.value.health] : []));
  }
}
