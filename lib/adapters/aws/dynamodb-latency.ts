import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LatencyEntry } from '../../core/latency/stats.ts';
import type { LatencyPort } from '../../ports.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

export interface DynamoLatencyOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

type Item = Record<string, unknown>;

const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'record_type']);

/** The measured latency matrix in the state table (layout: state-keys.ts): one partition, read whole. */
export class DynamoLatencyAdapter implements LatencyPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoLatencyOptions) {
    if (!options.tableName) throw new Error('DynamoLatencyAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async listLatency(): Promise<LatencyEntry[]> {
    const entries: LatencyEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
          ExpressionAttributeValues: { ':pk': keys.latencyPartition },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) entries.push(strip(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return entries;
  }

  async putLatency(entry: LatencyEntry): Promise<void> {
    // Unconditional: only the `from` region's sampler writes its pairs, so there is no race to lose.
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...keys.latency(entry.from, entry.to), record_type: 'latency', ...entry },
      }),
    );
  }
}

function strip(item: Item): LatencyEntry {
  const out: Item = {};
  for (const [name, value] of Object.entries(item)) {
    if (!KEY_ATTRIBUTES.has(name) && !name.startsWith('aws:rep:')) out[name] = value;
  }
  return out as unknown as LatencyEntry;
}
