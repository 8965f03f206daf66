import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { AvailabilitySample, MinuteState } from '../../core/health/availability.ts';
import type { AvailabilityPort } from '../../ports.ts';
import { queryAll } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

export interface DynamoAvailabilityOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/**
 * Availability samples in the state table (layout: state-keys.ts): a ring of one slot per minute of
 * the day per observer, so the samples of more than a day ago are overwritten, never accumulated.
 */
export class DynamoAvailabilityAdapter implements AvailabilityPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoAvailabilityOptions) {
    if (!options.tableName) throw new Error('DynamoAvailabilityAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async recordSample(sample: AvailabilitySample): Promise<void> {
    // Unconditional: only the observer writes its partition, one sample a minute.
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: {
          ...keys.availabilitySample(sample.observer, sample.minute),
          record_type: 'availability',
          observer: sample.observer,
          minute: sample.minute,
          regions: sample.regions,
        },
      }),
    );
  }

  async listSamples(observer: string, since: number): Promise<AvailabilitySample[]> {
    // The ring has no time order in its keys: read it whole (at most 1,440 small items).
    const items = await queryAll(this.#client, {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.availabilityPartition(observer) },
    });
    return items
      .map((item) => ({
        observer: String(item.observer),
        minute: Number(item.minute),
        regions: (item.regions ?? {}) as Record<string, MinuteState>,
      }))
      .filter((s) => s.minute >= since)
      .sort((a, b) => a.minute - b.minute);
  }
}
