import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError } from '../../core/errors.ts';
import type { DailyReport } from '../../core/ops/daily-report.ts';
import type { IncidentRecord } from '../../core/ops/shutdown.ts';
import type { OpsPort } from '../../ports.ts';
import { putIfAbsent, queryAll, strip } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoOpsOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Emergency shutdown incidents and daily operations reports in the state table (state-keys.ts). */
export class DynamoOpsAdapter implements OpsPort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoOpsOptions) {
    if (!options.tableName) throw new Error('DynamoOpsAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async createIncident(record: IncidentRecord): Promise<void> {
    if (!(await putIfAbsent(this.#client, this.#table, this.#incidentItem(record)))) {
      const current = await this.getIncident(record.incident_id);
      throw new ConflictError('INCIDENT_EXISTS', `incident ${record.incident_id} already exists`, current);
    }
  }

  async getIncident(incidentId: string): Promise<IncidentRecord | undefined> {
    return this.#get<IncidentRecord>(keys.opsIncident(incidentId));
  }

  async listIncidents(): Promise<IncidentRecord[]> {
    return (await queryAll(this.#client, this.#list(keys.opsIncidentList))).map((i) =>
      strip<IncidentRecord>(i),
    );
  }

  async replaceIncident(record: IncidentRecord, expectedStatus: IncidentRecord['status']): Promise<void> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: this.#incidentItem(record),
          ConditionExpression: 'attribute_exists(#pk) AND #status = :expected',
          ExpressionAttributeNames: { '#pk': 'pk', '#status': 'status' },
          ExpressionAttributeValues: { ':expected': expectedStatus },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.getIncident(record.incident_id);
      throw new ConflictError(
        'INCIDENT_CHANGED',
        `incident ${record.incident_id} is ${current?.status ?? 'missing'}, not ${expectedStatus}`,
        current,
      );
    }
  }

  async putReport(report: DailyReport): Promise<void> {
    const stored = await putIfAbsent(this.#client, this.#table, {
      ...keys.opsReport(report.report_id),
      gsi1pk: keys.opsReportList,
      gsi1sk: `${report.generated_at}#${report.report_id}`,
      record_type: 'ops_report',
      ...report,
    });
    if (!stored) throw new ConflictError('REPORT_EXISTS', `report ${report.report_id} already exists`);
  }

  async getReport(reportId: string): Promise<DailyReport | undefined> {
    return this.#get<DailyReport>(keys.opsReport(reportId));
  }

  async listReports(): Promise<DailyReport[]> {
    return (await queryAll(this.#client, this.#list(keys.opsReportList))).map((i) => strip<DailyReport>(i));
  }

  #incidentItem(record: IncidentRecord) {
    return {
      ...keys.opsIncident(record.incident_id),
      gsi1pk: keys.opsIncidentList,
      gsi1sk: `${record.opened_at}#${record.incident_id}`,
      record_type: 'ops_incident',
      ...record,
    };
  }

  async #get<T>(key: { pk: string; sk: string }): Promise<T | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }),
    );
    return Item ? strip<T>(Item) : undefined;
  }

  #list(partition: string): QueryCommandInput {
    const { gsi1 } = STATE_TABLE;
    return {
      TableName: this.#table,
      IndexName: gsi1.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': gsi1.partitionKey },
      ExpressionAttributeValues: { ':pk': partition },
      ScanIndexForward: false,
    };
  }
}
