import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { McpObserverHealth } from '../../core/mcp/health.ts';
import type { McpServerRecord } from '../../core/mcp/registry.ts';
import type { McpRegistryPort } from '../../ports.ts';
import { queryAll, strip } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoMcpOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

const RECORD = 'mcp-server';
const TOMBSTONE = 'mcp-deregistered';
const HEALTH = 'mcp-health';

/** An observer's views, beside the records in the same partition (no region id starts with `~`). */
function mcpHealthKey(observer: string): { pk: string; sk: string } {
  return { pk: keys.mcpPartition, sk: `~health#${observer}` };
}

/** The MCP registry in the state table (layout: state-keys.ts): one small partition, read whole. */
export class DynamoMcpAdapter implements McpRegistryPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoMcpOptions) {
    if (!options.tableName) throw new Error('DynamoMcpAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async listMcpServers(): Promise<McpServerRecord[]> {
    const items = await queryAll(this.#client, {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.mcpPartition },
    });
    return items.filter((item) => item.record_type === RECORD).map((item) => strip<McpServerRecord>(item));
  }

  async putMcpHealth(health: McpObserverHealth): Promise<void> {
    // Unconditional: only the observer writes its own record, and its latest round is its view.
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...mcpHealthKey(health.observer), record_type: HEALTH, ...health },
      }),
    );
  }

  async listMcpHealth(): Promise<McpObserverHealth[]> {
    const items = await queryAll(this.#client, {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :health)',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': keys.mcpPartition, ':health': '~health#' },
    });
    return items.filter((item) => item.record_type === HEALTH).map((item) => strip<McpObserverHealth>(item));
  }

  async putMcpServer(record: McpServerRecord): Promise<void> {
    // Unconditional: a server's record is written by its own region (registration, failback) or by the
    // failover that moved it; the newest write is the registry's state.
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...keys.mcpServer(record.region, record.server), record_type: RECORD, ...record },
      }),
    );
  }

  async seedMcpServers(records: readonly McpServerRecord[]): Promise<number> {
    let written = 0;
    for (const record of records) {
      try {
        await this.#client.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...keys.mcpServer(record.region, record.server), record_type: RECORD, ...record },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
          }),
        );
        written += 1;
      } catch (error) {
        // Registered, changed or deregistered since: seeding never overwrites.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return written;
  }

  async deleteMcpServer(region: string, server: string, at: string): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...keys.mcpServer(region, server),
            record_type: TOMBSTONE,
            region,
            server,
            deregistered_at: at,
          },
          ConditionExpression: 'record_type = :record',
          ExpressionAttributeValues: { ':record': RECORD },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
