import { type DynamoDBDocumentClient, GetCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { ComplianceApproval, ComplianceAuditReport } from '../../core/compliance/types.ts';
import { ConflictError } from '../../core/errors.ts';
import type { CompliancePort } from '../../ports.ts';
import { type Item, putIfAbsent, queryAll, strip } from './dynamo-items.ts';
import { keys, STATE_TABLE } from './state-keys.ts';

interface DynamoComplianceOptions {
  /** A document client for this region's replica (injected: STYLE 8). */
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** Compliance approvals and audit reports in the state table (layout: state-keys.ts). */
export class DynamoComplianceAdapter implements CompliancePort {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoComplianceOptions) {
    if (!options.tableName) throw new Error('DynamoComplianceAdapter: tableName is required');
    this.#client = options.client;
    this.#table = options.tableName;
  }

  async recordApproval(approval: ComplianceApproval): Promise<void> {
    // Written once per use: the first record of a use is the one that counts.
    await putIfAbsent(this.#client, this.#table, {
      ...keys.complianceApproval(approval.approval_ref, approval.use_id),
      gsi1pk: keys.complianceApprovalList,
      gsi1sk: `${approval.recorded_at}#${approval.approval_ref}#${approval.use_id}`,
      record_type: 'compliance_approval',
      ...approval,
    });
  }

  async listApprovals(): Promise<ComplianceApproval[]> {
    const items = await this.#queryAll(this.#list(keys.complianceApprovalList));
    return items.map((item) => strip<ComplianceApproval>(item));
  }

  async putAudit(report: ComplianceAuditReport): Promise<void> {
    if (
      !(await putIfAbsent(this.#client, this.#table, {
        ...keys.complianceAudit(report.audit_id),
        gsi1pk: keys.complianceAuditList,
        gsi1sk: `${report.audit_date}#${report.audit_id}`,
        record_type: 'compliance_audit',
        ...report,
      }))
    ) {
      const current = await this.getAudit(report.audit_id);
      throw new ConflictError('AUDIT_EXISTS', `audit ${report.audit_id} already exists`, current);
    }
  }

  async getAudit(auditId: string): Promise<ComplianceAuditReport | undefined> {
    const { Item } = await this.#client.send(
      new GetCommand({ TableName: this.#table, Key: keys.complianceAudit(auditId), ConsistentRead: true }),
    );
    return Item ? strip<ComplianceAuditReport>(Item) : undefined;
  }

  async listAudits(): Promise<ComplianceAuditReport[]> {
    const items = await this.#queryAll(this.#list(keys.complianceAuditList));
    return items.map((item) => strip<ComplianceAuditReport>(item));
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

  #queryAll(input: QueryCommandInput): Promise<Item[]> {
    return queryAll(this.#client, input);
  }
}
