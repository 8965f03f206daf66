import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LatencyEntry } from '../../core/latency/stats.ts';
import type { LatencyPort } from '../../ports.ts';
import { type Item, strip } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoLatencyOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

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
      for (const item of page.Items ?? []) entries.push(toEntry(item));
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

const toEntry = (item: Item): LatencyEntry => strip<LatencyEntry>(item);
