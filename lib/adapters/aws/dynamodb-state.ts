import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { FailoverRecord, FailoverStatus, FailoverStepRecord } from '../../core/failover/types.ts';
import type { TargetHealth } from '../../core/health/types.ts';
import type { Handoff, HandoffStatus, RegionStatusRecord } from '../../core/state/records.ts';
import type { Heartbeat, StatePort } from '../../ports.ts';
import { type Item, queryAll, strip } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

export interface DynamoStateOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Drops the layout's key attributes and replication metadata (`aws:rep:*`, as global tables write). */
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
    const items = await this.#queryAll(this.#partition(keys.regionStatus('').pk));
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

  async redirectHandoff(
    handoffId: string,
    change: { target_region: string; status: HandoffStatus; routing_score: number; redirected_from: string },
    expectedStatus: HandoffStatus,
  ): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.handoff(handoffId),
          UpdateExpression:
            'SET #target = :target, #status = :status, #score = :score, #from = :from, #gpk = :gpk',
          ConditionExpression: 'attribute_exists(#pk) AND #status = :expected',
          ExpressionAttributeNames: {
            '#pk': 'pk',
            '#target': 'target_region',
            '#status': 'status',
            '#score': 'routing_score',
            '#from': 'redirected_from',
            '#gpk': 'gsi1pk',
          },
          ExpressionAttributeValues: {
            ':target': change.target_region,
            ':status': change.status,
            ':score': change.routing_score,
            ':from': change.redirected_from,
            ':gpk': keys.handoffByTarget(change.target_region),
            ':expected': expectedStatus,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getHandoff(handoffId);
        throw new ConflictError(
          'HANDOFF_CHANGED',
          `handoff ${handoffId} is ${current?.status ?? 'missing'}, not ${expectedStatus}`,
          current,
        );
      }
      throw error;
    }
  }

  async putTargetHealth(view: TargetHealth): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...keys.targetHealth(view.observer, view.target), record_type: 'target_health', ...view },
      }),
    );
  }

  async listTargetHealth(): Promise<TargetHealth[]> {
    const items = await this.#queryAll(this.#partition('HEALTH'));
    return items.map((item) => strip<TargetHealth>(item));
  }

  async putHeartbeat(heartbeat: Heartbeat): Promise<void> {
    await this.#client.send(
      new PutCommand({
        TableName: this.#table,
        Item: { ...keys.heartbeat(heartbeat.region), record_type: 'heartbeat', ...heartbeat },
      }),
    );
  }

  async listHeartbeats(): Promise<Heartbeat[]> {
    const items = await this.#queryAll(this.#partition('HEARTBEAT'));
    return items.map((item) => strip<Heartbeat>(item));
  }

  async createFailover(record: FailoverRecord): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...keys.failover(record.failover_id),
            gsi1pk: keys.failoverList,
            gsi1sk: `${record.initiated_at}#${record.failover_id}`,
            record_type: 'failover',
            ...record,
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getFailover(record.failover_id);
        throw new ConflictError('FAILOVER_EXISTS', `failover ${record.failover_id} already exists`, current);
      }
      throw error;
    }
  }

  async getFailover(failoverId: string): Promise<FailoverRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: keys.failover(failoverId), ConsistentRead: true }),
    );
    return Item ? strip<FailoverRecord>(Item) : undefined;
  }

  async listFailovers(failedRegion?: string): Promise<FailoverRecord[]> {
    const { gsi1 } = STATE_TABLE;
    const items = await this.#queryAll({
      TableName: this.#table,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.failoverList },
      ScanIndexForward: false,
    });
    const records = items.map((item) => strip<FailoverRecord>(item));
    return failedRegion === undefined ? records : records.filter((r) => r.failed_region === failedRegion);
  }

  async updateFailover(
    failoverId: string,
    patch: Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>,
    options: { readonly expectedStatuses: readonly FailoverStatus[]; readonly step?: FailoverStepRecord },
  ): Promise<FailoverRecord> {
    const names: Record<string, string> = { '#pk': 'pk', '#status': 'status' };
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    Object.entries(patch).forEach(([field, value], i) => {
      if (value === undefined) return;
      names[`#f${i}`] = field;
      values[`:v${i}`] = value;
      sets.push(`#f${i} = :v${i}`);
    });
    if (options.step) {
      names['#steps'] = 'steps';
      values[':step'] = [options.step];
      values[':empty'] = [];
      sets.push('#steps = list_append(if_not_exists(#steps, :empty), :step)');
    }
    const allowed = options.expectedStatuses.map((status, i) => {
      values[`:s${i}`] = status;
      return `:s${i}`;
    });
    if (sets.length === 0) throw new Error('updateFailover: nothing to change');
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.failover(failoverId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(#pk) AND #status IN (${allowed.join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<FailoverRecord>(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getFailover(failoverId);
        throw new ConflictError(
          'FAILOVER_CHANGED',
          current
            ? `failover ${failoverId} is ${current.status}, not ${options.expectedStatuses.join(' or ')}`
            : `failover ${failoverId} does not exist`,
          current,
        );
      }
      throw error;
    }
  }

  #partition(pk: string): QueryCommandInput {
    return {
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    };
  }

  #queryAll(input: QueryCommandInput): Promise<Item[]> {
    return queryAll(this.#client, input);
  }
}
