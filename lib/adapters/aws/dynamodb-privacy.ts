import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { PrivacyRequestRecord, SubjectExportRecord } from '../../core/privacy/types.ts';
import type { Handoff } from '../../core/state/records.ts';
import type { PrivacyPort } from '../../ports.ts';
import { type Item, patchAssignments, putIfAbsent, queryAll, strip, type TableRef } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoPrivacyOptions {
  /** A document client for one region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Where handoffs live when not in `tableName` (the MRSC table of synchronous data). */
  readonly handoffs?: TableRef;
}

/**
 * Data-subject requests and the subject's records on the state table (same table, same layout as
 * DynamoStateAdapter: see state-keys.ts). Every change is one conditional write.
 *
 * Finding a subject's handoffs costs a read of every handoff in the replica: one Query per target
 * region on gsi1 with a filter on `task.subject_id` (DynamoDB bills what it reads, not what the
 * filter keeps). That is cheap while requests are rare and handoffs number in the thousands; a
 * subject index item written beside each handoff would make it one Query, at the price of a second
 * write the router cannot make atomic with the first (no transactions: see DESIGN), so a crash
 * between them would hide a handoff from its subject's requests. The scan does not have that gap.
 * The index is eventually consistent: a handoff written a moment ago may be missed by this search
 * (the sweeper searches again only regions that were unreachable).
 */
export class DynamoPrivacyAdapter implements PrivacyPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #handoffs: TableRef;

  constructor(options: DynamoPrivacyOptions) {
    if (!options.tableName) throw new Error('DynamoPrivacyAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
    this.#handoffs = options.handoffs ?? { client: options.client, tableName: options.tableName };
  }

  async createRequest(record: PrivacyRequestRecord): Promise<void> {
    if (
      !(await putIfAbsent(this.#client, this.#table, {
        ...keys.privacyRequest(record.request_id),
        gsi1pk: keys.privacyRequestList,
        gsi1sk: `${record.created_at}#${record.request_id}`,
        record_type: 'privacy_request',
        ...record,
      }))
    ) {
      const current = await this.getRequest(record.request_id);
      throw new ConflictError(
        'PRIVACY_REQUEST_EXISTS',
        `privacy request ${record.request_id} already exists`,
        current,
      );
    }
  }

  async getRequest(requestId: string): Promise<PrivacyRequestRecord | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: keys.privacyRequest(requestId), ConsistentRead: true }),
    );
    return Item ? strip<PrivacyRequestRecord>(Item) : undefined;
  }

  async listRequests(): Promise<PrivacyRequestRecord[]> {
    const { gsi1 } = STATE_TABLE;
    const items = await this.#queryAll({
      TableName: this.#table,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
      ExpressionAttributeValues: { ':pk': keys.privacyRequestList },
      ScanIndexForward: false,
    });
    return items.map((item) => strip<PrivacyRequestRecord>(item));
  }

  async updateRequest(
    requestId: string,
    patch: Partial<Omit<PrivacyRequestRecord, 'request_id' | 'version'>>,
    expectedVersion: number,
  ): Promise<PrivacyRequestRecord> {
    const names: Record<string, string> = { '#pk': 'pk', '#version': 'version' };
    const values: Record<string, unknown> = { ':expected': expectedVersion, ':next': expectedVersion + 1 };
    const sets = ['#version = :next', ...patchAssignments(patch, names, values)];
    try {
      const { Attributes } = await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.privacyRequest(requestId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(#pk) AND #version = :expected',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return strip<PrivacyRequestRecord>(Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        const current = await this.getRequest(requestId);
        throw new ConflictError(
          'PRIVACY_REQUEST_CHANGED',
          current
            ? `privacy request ${requestId} is at version ${current.version}, not ${expectedVersion}`
            : `privacy request ${requestId} does not exist`,
          current,
        );
      }
      throw error;
    }
  }

  async putExport(requestId: string, records: readonly SubjectExportRecord[]): Promise<void> {
    for (const record of records) {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...keys.privacyExport(requestId, record.record_id),
            record_type: 'privacy_export',
            request_id: requestId,
            ...record,
          },
        }),
      );
    }
  }

  async listExport(requestId: string): Promise<SubjectExportRecord[]> {
    const { pk } = keys.privacyExport(requestId, '');
    const items = await this.#queryAll({
      TableName: this.#table,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :export)',
      ExpressionAttributeNames: { '#pk': STATE_TABLE.partitionKey, '#sk': STATE_TABLE.sortKey },
      ExpressionAttributeValues: { ':pk': pk, ':export': 'EXPORT#' },
      ConsistentRead: true,
    });
    return items.map((item) => {
      const { request_id: _request, ...record } = strip<SubjectExportRecord & { request_id: string }>(item);
      return record;
    });
  }

  async deleteExportRecord(requestId: string, recordId: string): Promise<boolean> {
    const { Attributes } = await this.#client.send(
      new DeleteCommand({
        TableName: this.#table,
        Key: keys.privacyExport(requestId, recordId),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async findSubjectHandoffs(subjectId: string, targetRegions: readonly string[]): Promise<Handoff[]> {
    const { client, tableName } = this.#handoffs;
    const { gsi1 } = STATE_TABLE;
    const found = new Map<string, Handoff>();
    for (const region of new Set(targetRegions)) {
      const items = await queryAll(client, {
        TableName: tableName,
        IndexName: gsi1.indexName,
        KeyConditionExpression: '#pk = :pk',
        FilterExpression: '#task.#subject = :subject',
        ExpressionAttributeNames: { '#pk': gsi1.partitionKey, '#task': 'task', '#subject': 'subject_id' },
        ExpressionAttributeValues: { ':pk': keys.handoffByTarget(region), ':subject': subjectId },
      });
      for (const item of items) {
        const handoff = strip<Handoff>(item);
        found.set(handoff.handoff_id, handoff);
      }
    }
    return [...found.values()].sort((a, b) => a.handoff_id.localeCompare(b.handoff_id));
  }

  async eraseHandoff(handoffId: string, subjectId: string): Promise<boolean> {
    const { client, tableName } = this.#handoffs;
    try {
      await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: keys.handoff(handoffId),
          // Never delete a record that is not the subject's (a reused id, a concurrent rewrite).
          ConditionExpression: '#task.#subject = :subject',
          ExpressionAttributeNames: { '#task': 'task', '#subject': 'subject_id' },
          ExpressionAttributeValues: { ':subject': subjectId },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  #queryAll(input: QueryCommandInput): Promise<Item[]> {
    return queryAll(this.#client, input);
  }
}
