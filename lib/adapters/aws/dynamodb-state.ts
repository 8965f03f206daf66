import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { Handoff, RegionStatusRecord } from '../../core/state/records.ts';
import type { StatePort } from '../../ports.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

export interface DynamoStateOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

type Item = Record<string, unknown>;

const KEY_ATTRIBUTES = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'record_type']);

/** Drops the layout's key attributes and replication metadata (`aws:rep:*`, as global tables write). */
function strip<T>(item: Item): T {
  const out: Item = {};
  for (const [name, value] of Object.entries(item)) {
    if (!KEY_ATTRIBUTES.has(name) && !name.startsWith('aws:rep:')) out[name] = value;
  }
  return out as T;
}

/** The state port on DynamoDB: every change is one conditional write (no transactions, see DESIGN). */
export class DynamoStateAdapter implements StatePort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoStateOptions) {
    if (!options.tableName) throw new Error('DynamoStateAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async getRegionStatus(regionId: string): Promise<RegionStatusRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: keys.regionStatus(regionId), ConsistentRead: true }),
    );
    return Item ? strip<RegionStatusRecord>(Item) : undefined;
  }

  async listRegionStatuses(): Promise<RegionStatusRecord[]> {
    const items = await this.#queryAll({
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.regionStatus('').pk },
      ConsistentRead: true,
    });
    return items.map((item) => strip<RegionStatusRecord>(item));
  }

  async putRegionStatus(record: RegionStatusRecord, expectedEpoch: number | undefined): Promise<void> {
    if (expectedEpoch !== undefined && record.epoch <= expectedEpoch) {
      throw new ConflictError(
        'EPOCH_NOT_INCREASING',
        `epoch ${record.epoch} of ${record.region_id} must be above ${expectedEpoch}`,
      );
    }
    const condition: {
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues?: Record<string, unknown>;
    } =
      expectedEpoch === undefined
        ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
        : {
            ConditionExpression: '#epoch = :expected',
            ExpressionAttributeNames: { '#epoch': 'epoch' },
            ExpressionAttributeValues: { ':expected': expectedEpoch },
          };
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...keys.regionStatus(record.region_id), record_type: 'region_status', ...record },
          ...condition,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        // dynalite and older endpoints do not return the item on a failed condition: read it.
        const current = error.Item
          ? strip<RegionStatusRecord>(error.Item)
          : await this.getRegionStatus(record.region_id);
        throw new ConflictError(
          'EPOCH_CONFLICT',
          `status of ${record.region_id} changed concurrently (stored epoch ${current?.epoch ?? 'none'}, expected ${
            expectedEpoch ?? 'none'
          })`,
          current,
        );
      }
      throw error;
    }
  }

  async createHandoff(handoff: Handoff): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...keys.handoff(handoff.handoff_id),
            gsi1pk: keys.handoffByTarget(handoff.target_region),
            gsi1sk: `${handoff.created_at}#${handoff.handoff_id}`,
            record_type: 'handoff',
            ...handoff,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = error.Item ? strip<Handoff>(error.Item) : await this.getHandoff(handoff.handoff_id);
        throw new ConflictError('HANDOFF_EXISTS', `handoff ${handoff.handoff_id} already exists`, current);
      }
      throw error;
    }
  }

  async getHandoff(handoffId: string): Promise<Handoff | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: keys.handoff(handoffId), ConsistentRead: true }),
    );
    return Item ? strip<Handoff>(Item) : undefined;
  }

  async listHandoffsByTarget(regionId: string): Promise<Handoff[]> {
    const { gsi1 } = STATE_TABLE;
    const items = await this.#queryAll({
      TableName: this.#table,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.handoffByTarget(regionId) },
    });
    return items.map((item) => strip<Handoff>(item));
  }

  async #queryAll(input: QueryCommandInput): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
